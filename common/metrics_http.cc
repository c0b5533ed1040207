#include "common/metrics_http.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rinha::metrics {
namespace {

// Written here rather than by FormatHttp1Response, which labels every body JSON and has no
// reason phrase for 405.
Http1Answer Answer(std::string_view status, std::string_view headers, std::string_view body,
                   bool close) {
  std::string response = "HTTP/1.1 ";
  response.append(status).append("\r\n").append(headers);
  response.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  if (close) response += "Connection: close\r\n";
  response.append("\r\n").append(body);
  return {std::move(response), close};
}

}  // namespace

Http1Answer AnswerMetricsRequest(const Registry& registry, const Http1Request& request) {
  const bool close = !request.keep_alive;
  if (request.path != "/metrics") return Answer("404 Not Found", "", "", close);
  if (request.method != "GET") return Answer("405 Method Not Allowed", "Allow: GET\r\n", "", close);
  return Answer("200 OK", absl::StrCat("Content-Type: ", kContentType, "\r\n"), registry.Render(),
                close);
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& host,
                                                                    int port,
                                                                    const Registry& registry) {
  Http1ServerOptions options;
  options.host = host;
  options.port = port;
  options.listen_backlog = 16;  // a scraper or two
  options.limits.max_body_bytes = 1024;
  absl::StatusOr<std::unique_ptr<Http1Server>> server =
      Http1Server::Start(options,
                         [&registry](Http1Server&, Http1Server::ConnectionId,
                                     const Http1Request& request) -> std::optional<Http1Answer> {
                           return AnswerMetricsRequest(registry, request);
                         });
  if (!server.ok()) return server.status();
  return std::unique_ptr<MetricsServer>(new MetricsServer(*std::move(server)));
}

MetricsServer::~MetricsServer() { Stop(); }

// Http1Server::Stop() leaves the port open until destruction; a stopped metrics port refuses.
void MetricsServer::Stop() { server_.reset(); }

}  // namespace rinha::metrics
