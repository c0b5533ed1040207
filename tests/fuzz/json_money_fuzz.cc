// libFuzzer target for the edge's text parsers: ParseJsonObject, ParseDecimalCents, ParseIsoTime
// and CanonicalUuid. Beyond "no crash, no sanitizer report", it checks invariants that tie the
// parsers and their writers together; any violation aborts so libFuzzer keeps the input.
// Built and run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/money.h"
#include "common/uuid.h"
#include "tests/common/decimal_reference.h"
#include "tests/fuzz/fuzz_check.h"

namespace rinha {
namespace {

struct Member {
  std::string key;
  JsonType type;
  std::string raw;
  std::string string;
  bool operator==(const Member& o) const {
    return key == o.key && type == o.type && raw == o.raw && string == o.string;
  }
};

bool IsAllowedCode(absl::StatusCode code) {
  return code == absl::StatusCode::kOk || code == absl::StatusCode::kInvalidArgument ||
         code == absl::StatusCode::kOutOfRange;
}

void CheckMoney(std::string_view text) {
  const absl::StatusOr<int64_t> exact = ParseDecimalCents(text, CentsRounding::kExact);
  const absl::StatusOr<int64_t> half_even = ParseDecimalCents(text, CentsRounding::kHalfEven);
  FUZZ_CHECK(IsAllowedCode(exact.status().code()));
  FUZZ_CHECK(IsAllowedCode(half_even.status().code()));
  if (exact.ok()) {
    FUZZ_CHECK(half_even.ok() && *half_even == *exact);
  }
  if (half_even.ok()) {
    // The text was a number; formatting the rounded cents gives an exact number back.
    const std::string formatted = FormatCents(*half_even);
    const absl::StatusOr<int64_t> again = ParseDecimalCents(formatted, CentsRounding::kExact);
    FUZZ_CHECK(again.ok() && *again == *half_even);
    std::string json;
    JsonWriter(&json).BeginObject().Key("amount").Cents(*half_even).EndObject();
    FUZZ_CHECK(json == "{\"amount\":" + formatted + "}");
  }
  // Grammar errors do not depend on the rounding mode.
  if (half_even.status().code() == absl::StatusCode::kInvalidArgument) {
    FUZZ_CHECK(exact.status().code() == absl::StatusCode::kInvalidArgument);
  }
  for (CentsRounding rounding : {CentsRounding::kExact, CentsRounding::kHalfEven}) {
    const std::optional<testing::ReferenceCents> reference =
        testing::ReferenceParseCents(text, rounding);
    if (!reference.has_value()) continue;
    const absl::StatusOr<int64_t>& actual = rounding == CentsRounding::kExact ? exact : half_even;
    FUZZ_CHECK(actual.status().code() == reference->code);
    if (actual.ok()) {
      FUZZ_CHECK(*actual == reference->cents);
    }
  }
}

void CheckTime(std::string_view text) {
  const absl::StatusOr<absl::Time> t = ParseIsoTime(text);
  FUZZ_CHECK(t.ok() || t.status().code() == absl::StatusCode::kInvalidArgument);
  if (!t.ok()) return;
  const int64_t floor = FloorMillis(*t);
  const int64_t ceil = CeilMillis(*t);
  FUZZ_CHECK(floor <= ceil && ceil - floor <= 1);
  FUZZ_CHECK(absl::FromUnixMillis(floor) <= *t && *t <= absl::FromUnixMillis(ceil));
  FUZZ_CHECK((floor == ceil) == (absl::FromUnixMillis(floor) == *t));
  const std::string formatted = FormatIsoMillis(floor);
  std::string json;
  JsonWriter(&json).IsoMillis(floor);
  FUZZ_CHECK(json == "\"" + formatted + "\"");
  // Offsets can move a parsed time just outside years 0000-9999, where the expanded form differs
  // from absl's; inside, both must agree and the text must parse back.
  if (formatted[0] != '+' && formatted[0] != '-') {
    FUZZ_CHECK(formatted == absl::FormatTime("%E4Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(floor),
                                             absl::UTCTimeZone()));
    const absl::StatusOr<absl::Time> again = ParseIsoTime(formatted);
    FUZZ_CHECK(again.ok() && *again == absl::FromUnixMillis(floor));
  }
}

void CheckUuid(std::string_view text) {
  const absl::StatusOr<std::string> canonical = CanonicalUuid(text);
  FUZZ_CHECK(IsCanonicalUuid(text) == (canonical.ok() && *canonical == text));
  if (canonical.ok()) FUZZ_CHECK(IsCanonicalUuid(*canonical));
}

void CheckScalars(std::string_view text) {
  CheckMoney(text);
  CheckTime(text);
  CheckUuid(text);
}

absl::StatusOr<std::vector<Member>> Collect(std::string_view text, bool check_values) {
  std::vector<Member> members;
  const absl::Status status =
      ParseJsonObject(text, [&](std::string_view key, const JsonValue& value) {
        FUZZ_CHECK(value.raw.data() >= text.data() &&
                   value.raw.data() + value.raw.size() <= text.data() + text.size());
        if (value.type == JsonType::kString) {
          FUZZ_CHECK(value.raw.size() >= 2 && value.raw.front() == '"' && value.raw.back() == '"');
        } else {
          FUZZ_CHECK(value.string.empty());
        }
        if (check_values) {
          CheckScalars(value.type == JsonType::kString ? value.string : value.raw);
        }
        members.push_back(
            {std::string(key), value.type, std::string(value.raw), std::string(value.string)});
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return members;
}

void CheckJson(std::string_view text) {
  const absl::StatusOr<std::vector<Member>> members = Collect(text, /*check_values=*/true);
  FUZZ_CHECK(members.ok() || members.status().code() == absl::StatusCode::kInvalidArgument);

  // JSON whitespace around the document changes nothing.
  const std::string padded = " \n" + std::string(text) + "\t\r";
  FUZZ_CHECK(Collect(padded, false).ok() == members.ok());
  if (!members.ok()) return;

  // Removing the closing brace (and anything after the last non-space) breaks any document.
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\n' ||
                     text[end - 1] == '\r')) {
    --end;
  }
  FUZZ_CHECK(end > 0 && text[end - 1] == '}');
  FUZZ_CHECK(!Collect(text.substr(0, end - 1), false).ok());

  // Re-serialising with JsonWriter reads back to the same members.
  std::string out;
  JsonWriter writer(&out);
  writer.BeginObject();
  for (const Member& m : *members) {
    writer.Key(m.key);
    if (m.type == JsonType::kString) {
      writer.String(m.string);
    } else {
      writer.Raw(m.raw);
    }
  }
  writer.EndObject();
  absl::StatusOr<std::vector<Member>> again = Collect(out, false);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->size() == members->size());
  for (size_t i = 0; i < members->size(); ++i) {
    const Member& a = (*members)[i];
    const Member& b = (*again)[i];
    FUZZ_CHECK(a.key == b.key && a.type == b.type && a.string == b.string);
    if (a.type != JsonType::kString) FUZZ_CHECK(a.raw == b.raw);
  }
}

}  // namespace
}  // namespace rinha

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rinha::CheckScalars(text);
  rinha::CheckJson(text);
  return 0;
}
