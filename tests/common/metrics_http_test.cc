// MetricsServer on port 0: GET /metrics answers the registry's text with Prometheus's content
// type, on a kept-alive connection; other paths are 404 and other methods 405.
#include "common/metrics_http.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/http1_socket.h"

namespace rinha::metrics {
namespace {

using testing::Http1Socket;

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    requests_ = &registry_.AddCounter("rinha_requests_total", "Requests.", {{"route", "/x"}});
    auto server = MetricsServer::Start("127.0.0.1", 0, registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
  }

  Registry registry_;  // outlives the server
  Counter* requests_ = nullptr;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, GetMetricsAnswersTheRenderedRegistryAsPrometheusText) {
  requests_->Add(3);
  Http1Socket socket(server_->port());
  ASSERT_TRUE(socket.connected());
  ASSERT_TRUE(socket.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  const Http1Socket::Response response = socket.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.at("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response.body,
            "# HELP rinha_requests_total Requests.\n"
            "# TYPE rinha_requests_total counter\n"
            "rinha_requests_total{route=\"/x\"} 3\n");
}

TEST_F(MetricsServerTest, EachScrapeOnAKeptAliveConnectionSeesCurrentValues) {
  Http1Socket socket(server_->port());
  ASSERT_TRUE(socket.connected());
  for (int scrape = 1; scrape <= 3; ++scrape) {
    requests_->Increment();
    // A query string, as some scrapers add, does not change the path.
    ASSERT_TRUE(socket.Send("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
    const Http1Socket::Response response = socket.Read();
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.headers.count("Connection"), 0u);
    EXPECT_EQ(response.body, registry_.Render());
  }
}

TEST_F(MetricsServerTest, OtherPathsAreNotFound) {
  Http1Socket socket(server_->port());
  for (const char* path : {"/", "/metrics/", "/metricsx", "/payments"}) {
    ASSERT_TRUE(socket.Send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const Http1Socket::Response response = socket.Read();
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body, "") << path;
  }
}

TEST_F(MetricsServerTest, OtherMethodsAreNotAllowed) {
  Http1Socket socket(server_->port());
  for (const char* method : {"POST", "PUT", "DELETE", "HEAD"}) {
    ASSERT_TRUE(socket.Send(std::string(method) +
                            " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
    const Http1Socket::Response response = socket.Read();
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(response.headers.at("Allow"), "GET") << method;
  }
}

TEST_F(MetricsServerTest, ConnectionCloseIsHonoured) {
  Http1Socket socket(server_->port());
  ASSERT_TRUE(socket.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const Http1Socket::Response response = socket.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.at("Connection"), "close");
  EXPECT_TRUE(socket.ClosedByServer());
}

TEST_F(MetricsServerTest, StopIsIdempotentAndRefusesNewConnections) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();
  Http1Socket socket(port);
  EXPECT_FALSE(socket.connected());
}

TEST_F(MetricsServerTest, APortAlreadyTakenIsAnError) {
  EXPECT_FALSE(MetricsServer::Start("127.0.0.1", server_->port(), registry_).ok());
}

}  // namespace
}  // namespace rinha::metrics
