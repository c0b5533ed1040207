// The payment-processor emulator as a real process on port 0, with the admin calls the
// integration tests make, and the totals of a summary's JSON. PAYMENT_PROCESSOR_BINARY is the
// emulator's path (a compile definition of the test).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/money.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace rinha::edge::testing {

struct Totals {
  int64_t requests = -1;
  int64_t cents = -1;
};

// Reads {"totalRequests":N,"totalAmount":X} members (a processor's admin summary or one side of
// ours).
Totals ReadTotals(std::string_view json) {
  Totals t;
  (void)ParseJsonObject(json, [&](std::string_view key, const JsonValue& v) {
    if (key == "totalRequests") t.requests = std::strtoll(std::string(v.raw).c_str(), nullptr, 10);
    if (key == "totalAmount") {
      auto c = ParseDecimalCents(v.raw, CentsRounding::kHalfEven);
      if (c.ok()) t.cents = *c;
    }
    return absl::OkStatus();
  });
  return t;
}

class Processor {
 public:
  static std::unique_ptr<Processor> Start(const std::string& fee) {
    auto p = std::make_unique<Processor>();
    ::rinha::testing::Subprocess::Options o;
    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--fee=", fee), "--token=123",
              "--threads=1200"};  // the router opens hundreds of connections
    auto child = ::rinha::testing::Subprocess::Spawn(PAYMENT_PROCESSOR_BINARY, o);
    if (!child.ok()) return nullptr;
    p->child_ = *std::move(child);
    auto line = p->child_->ReadLineContaining("payment-processor listening");
    if (!line.ok()) return nullptr;
    p->port_ = *::rinha::testing::IntFieldAfter(*line, "port=");
    p->http_ = std::make_unique<httplib::Client>("127.0.0.1", p->port_);
    p->http_->set_keep_alive(true);
    return p;
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  void SetFailing(bool failing) {
    auto r =
        http_->Put("/admin/configurations/failure", {{"X-Rinha-Token", "123"}},
                   failing ? R"({"failure":true})" : R"({"failure":false})", "application/json");
    ASSERT_TRUE(r && r->status == 200);
  }
  void SetDelay(int ms) {
    auto r = http_->Put("/admin/configurations/delay", {{"X-Rinha-Token", "123"}},
                        absl::StrCat(R"({"delay":)", ms, "}"), "application/json");
    ASSERT_TRUE(r && r->status == 200);
  }

  Totals Summary() {
    auto r = http_->Get("/admin/payments-summary", {{"X-Rinha-Token", "123"}});
    if (!r || r->status != 200) return {};
    return ReadTotals(r->body);
  }
  // 200 -> true, 404 -> false; anything else fails the test.
  bool Holds(const std::string& id) {
    auto r = http_->Get(absl::StrCat("/payments/", id).c_str());
    EXPECT_TRUE(r && (r->status == 200 || r->status == 404)) << id;
    return r && r->status == 200;
  }

  // GET /admin/health-calls: {"calls":...,"queued":...,"rejected":...,"maxPerWindow":...}.
  struct HealthCalls {
    int64_t calls = -1, queued = -1, rejected = -1, max_per_window = -1;
  };
  HealthCalls HealthCallsSoFar() {
    HealthCalls out;
    auto r = http_->Get("/admin/health-calls", {{"X-Rinha-Token", "123"}});
    if (!r || r->status != 200) return out;
    (void)ParseJsonObject(r->body, [&](std::string_view key, const JsonValue& v) {
      const int64_t n = std::strtoll(std::string(v.raw).c_str(), nullptr, 10);
      if (key == "calls") out.calls = n;
      if (key == "queued") out.queued = n;
      if (key == "rejected") out.rejected = n;
      if (key == "maxPerWindow") out.max_per_window = n;
      return absl::OkStatus();
    });
    return out;
  }

 private:
  std::unique_ptr<::rinha::testing::Subprocess> child_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace rinha::edge::testing
