#include "contest/runner/null_responder.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rinha::contest {
namespace {

constexpr absl::string_view kAccepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
constexpr absl::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
constexpr absl::string_view kNotFound = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
#define RINHA_ZERO_SUMMARY                                \
  "{\"default\":{\"totalRequests\":0,\"totalAmount\":0}," \
  "\"fallback\":{\"totalRequests\":0,\"totalAmount\":0}}"
constexpr absl::string_view kSummaryBody = RINHA_ZERO_SUMMARY;
const std::string& SummaryResponse() {
  static const std::string response = absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ", kSummaryBody.size(),
      "\r\n\r\n", kSummaryBody);
  return response;
}
#undef RINHA_ZERO_SUMMARY

}  // namespace

absl::string_view NullResponse(absl::string_view method, absl::string_view target) {
  const absl::string_view path = target.substr(0, target.find('?'));
  if (method == "POST" && path == "/payments") return kAccepted;
  if (method == "GET" && path == "/payments-summary") return SummaryResponse();
  if (method == "POST" && path == "/purge-payments") return kOk;
  return kNotFound;
}

absl::StatusOr<std::unique_ptr<NullResponder>> NullResponder::Start(const std::string& host,
                                                                    int port) {
  auto responder = std::unique_ptr<NullResponder>(new NullResponder());
  Http1ServerOptions options;
  options.host = host;
  options.port = port;
  options.idle_timeout = std::chrono::hours(24);  // idle connections cost nothing: keep them
  options.limits = {.max_head_bytes = 16 * 1024, .max_body_bytes = 1 << 20};
  absl::StatusOr<std::unique_ptr<Http1Server>> server =
      Http1Server::Start(options,
                         [](Http1Server&, Http1Server::ConnectionId,
                            Http1Request request) -> std::optional<Http1Answer> {
                           const absl::string_view response = NullResponse(
                               absl::string_view(request.method.data(), request.method.size()),
                               absl::string_view(request.path.data(), request.path.size()));
                           return Http1Answer{std::string(response), !request.keep_alive};
                         });
  if (!server.ok()) return server.status();
  responder->server_ = *std::move(server);
  responder->port_ = responder->server_->port();
  return responder;
}

NullResponder::~NullResponder() { Shutdown(); }

void NullResponder::Shutdown() {
  if (server_ != nullptr) server_->Stop();
}

}  // namespace rinha::contest
