#include "contest/load/contest_http.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/http_url.h"
#include "common/iso_time.h"

namespace rinha::contest {
namespace {

std::unique_ptr<httplib::Client> MakeClient(const HttpEndpoint& e, int64_t timeout_ms) {
  auto client = std::make_unique<httplib::Client>(e.host, e.port);
  const time_t sec = static_cast<time_t>(timeout_ms / 1000);
  const time_t usec = static_cast<time_t>((timeout_ms % 1000) * 1000);
  client->set_connection_timeout(sec, usec);
  client->set_read_timeout(sec, usec);
  client->set_write_timeout(sec, usec);
  client->set_keep_alive(false);
  client->set_tcp_nodelay(true);
  return client;
}

std::string WindowQuery(int64_t from_ms, int64_t to_ms) {
  return absl::StrCat("?from=", FormatIsoMillis(from_ms), "&to=", FormatIsoMillis(to_ms));
}

}  // namespace

const char* ProcessorName(Processor p) { return p == Processor::kDefault ? "default" : "fallback"; }

absl::StatusOr<HttpEndpoint> ParseEndpoint(const std::string& url) {
  HttpEndpoint e;
  if (absl::Status s = ParseHttpUrl(url, &e.host, &e.port); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(url, ": ", std::string(s.message())));
  }
  return e;
}

ContestHttp::ContestHttp(HttpEndpoint target, HttpEndpoint default_processor,
                         HttpEndpoint fallback_processor, std::string admin_token,
                         int64_t timeout_ms, int64_t admin_timeout_ms)
    : target_(std::move(target)),
      default_(std::move(default_processor)),
      fallback_(std::move(fallback_processor)),
      token_(std::move(admin_token)),
      timeout_ms_(timeout_ms),
      admin_timeout_ms_(admin_timeout_ms) {}

const HttpEndpoint& ContestHttp::Of(Processor p) const {
  return p == Processor::kDefault ? default_ : fallback_;
}

void ContestHttp::PurgeTarget() const {
  auto client = MakeClient(target_, admin_timeout_ms_);
  client->Post("/purge-payments", "", "application/json");
}

absl::Status ContestHttp::WaitTargetReady(int64_t timeout_ms) const {
  const int64_t deadline = SteadyMillis() + timeout_ms;
  std::string last = "no answer";
  for (;;) {
    auto client = MakeClient(target_, std::min<int64_t>(timeout_ms, 1500));
    if (httplib::Result res = client->Get("/payments-summary")) {
      if (res->status < 400) return absl::OkStatus();
      last = absl::StrCat("HTTP ", res->status);
    } else {
      last = httplib::to_string(res.error());
    }
    if (SteadyMillis() >= deadline) break;
    // Retry pacing against a real server that is still starting (not a test synchronisation).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError(absl::StrCat("target ", target_.host, ":", target_.port,
                                             " GET /payments-summary not ready within ", timeout_ms,
                                             " ms (", last, ")"));
}

absl::Status ContestHttp::AdminCall(Processor p, const char* method, const std::string& path,
                                    const std::string& body, int expected_status) const {
  auto client = MakeClient(Of(p), admin_timeout_ms_);
  const httplib::Headers headers = {{"X-Rinha-Token", token_}};
  httplib::Result res = std::string(method) == "PUT"
                            ? client->Put(path.c_str(), headers, body, "application/json")
                            : client->Post(path.c_str(), headers, body, "application/json");
  const std::string what =
      absl::StrCat(method, " ", path, body.empty() ? "" : " ", body, " on the ", ProcessorName(p),
                   " processor (", Of(p).host, ":", Of(p).port, ")");
  if (!res) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " failed: ", httplib::to_string(res.error())));
  }
  if (res->status != expected_status) {
    return absl::FailedPreconditionError(absl::StrCat(what, " answered HTTP ", res->status,
                                                      ", the contest expects ", expected_status));
  }
  return absl::OkStatus();
}

absl::Status ContestHttp::PurgeProcessor(Processor p) const {
  return AdminCall(p, "POST", "/admin/purge-payments", "", 200);
}

absl::Status ContestHttp::SetDelay(Processor p, int delay_ms) const {
  return AdminCall(p, "PUT", "/admin/configurations/delay",
                   absl::StrCat(R"({"delay":)", delay_ms, "}"), 200);
}

absl::Status ContestHttp::SetFailure(Processor p, bool failure) const {
  return AdminCall(p, "PUT", "/admin/configurations/failure",
                   absl::StrCat(R"({"failure":)", failure ? "true" : "false", "}"), 200);
}

absl::StatusOr<ProcessorTotals> ContestHttp::ProcessorSummary(Processor p, int64_t from_ms,
                                                              int64_t to_ms) const {
  auto client = MakeClient(Of(p), timeout_ms_);
  const httplib::Headers headers = {{"X-Rinha-Token", token_}};
  const std::string path = "/admin/payments-summary" + WindowQuery(from_ms, to_ms);
  const int64_t started = SteadyMillis();
  httplib::Result res = client->Get(path.c_str(), headers);
  if (!res) return absl::UnavailableError(httplib::to_string(res.error()));
  // httplib's timeouts are per read; the contest's is for the whole answer.
  if (SteadyMillis() - started > timeout_ms_)
    return absl::DeadlineExceededError("summary too slow");
  if (res->status != 200) return absl::UnavailableError(absl::StrCat("HTTP ", res->status));
  return ParseProcessorSummary(res->body);
}

absl::StatusOr<BackendSummary> ContestHttp::TargetSummary(int64_t from_ms, int64_t to_ms) const {
  auto client = MakeClient(target_, timeout_ms_);
  const std::string path = "/payments-summary" + WindowQuery(from_ms, to_ms);
  const int64_t started = SteadyMillis();
  httplib::Result res = client->Get(path.c_str());
  if (!res) return absl::UnavailableError(httplib::to_string(res.error()));
  if (SteadyMillis() - started > timeout_ms_)
    return absl::DeadlineExceededError("summary too slow");
  if (res->status != 200) return absl::UnavailableError(absl::StrCat("HTTP ", res->status));
  return ParseBackendSummary(res->body);
}

absl::StatusOr<std::string> ContestHttp::ProcessorIdsJson(Processor p) const {
  auto client = MakeClient(Of(p), admin_timeout_ms_);
  const httplib::Headers headers = {{"X-Rinha-Token", token_}};
  httplib::Result res = client->Get("/admin/payments/ids?with=inserted_at", headers);
  if (!res) return absl::UnavailableError(httplib::to_string(res.error()));
  if (res->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET /admin/payments/ids on the ", ProcessorName(p),
                                               " processor: HTTP ", res->status));
  }
  return res->body;
}

}  // namespace rinha::contest
