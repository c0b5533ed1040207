// The emulator's fault modes: ways real processors misbehave beyond the contest's delay and 500,
// so that a client can be tested against each. Set through PUT /admin/configurations/fault or
// --fault with the same JSON; what each does is described on FaultMode.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rinha::processor {

// Every mode but refuse and lookups_503 acts on POST /payments only, and every such mode but 429
// only once the payment has passed the limiter, the delay and the failure check and is stored (or
// was stored before: a duplicate), so that a faulty answer never hides a payment that was not
// kept. lookups_503 acts on GET /payments/{id} only.
enum class FaultMode {
  kNone,
  kReset,         // "reset": the first 9 bytes of the 200/422 ("HTTP/1.1 "), then a TCP reset
  kGarbage,       // "garbage": 200 with a body that is not JSON
  kTruncated,     // "truncated": the head (of the 200/422) and half its one body chunk, then a
                  // clean close (bodies go chunked, as Kestrel sends them: the body never ends)
  kSlowHeaders,   // "slow_headers": the head one byte per interval, then the body
  kTooMany,       // "429": 429 with Retry-After: 5 at once (before limiter and delay); not stored
  kRefuse,        // "refuse": no listener (connects refused) and no connection, for a duration
  kStoreThen500,  // "store_then_500": 500 with an empty body although the payment is stored
  kLookups503,    // "lookups_503": GET /payments/{id} answers 503 (empty body); POSTs unaffected
};

struct Fault {
  FaultMode mode = FaultMode::kNone;
  // Share of POST /payments that get the fault, drawn per request (all modes but refuse).
  double probability = 1.0;
  // slow_headers: time between two bytes of the head.
  absl::Duration interval = absl::Milliseconds(100);
  // refuse: how long connects are refused; then the same port listens again and the mode is none.
  absl::Duration duration = absl::ZeroDuration();
};

// Reads {"mode": "<name>", ...}: "probability" (0..1, default 1) for every mode but none and
// refuse, "interval_ms" (1..60000, default 100) for slow_headers, "duration_ms" (1..3600000,
// required) for refuse. InvalidArgument on an unknown mode, a member the mode does not take, or a
// value out of range.
absl::StatusOr<Fault> ParseFault(std::string_view json);

// The ranges ParseFault enforces, for faults built in code.
absl::Status ValidateFault(const Fault& fault);

// The JSON ParseFault reads, with every member the mode takes (the admin answer's was/is).
std::string FaultJson(const Fault& fault);

std::string_view FaultModeName(FaultMode mode);

// True with `probability` (always for >= 1, never for <= 0). Thread-safe.
bool DrawFault(double probability);

}  // namespace rinha::processor
