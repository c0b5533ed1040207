// Strict, DOM-free JSON for the small flat objects this system exchanges over HTTP.
//
// Reading: ParseJsonObject validates one complete JSON object (RFC 8259, nesting depth limited)
// and calls a visitor for each top-level member, with the value's exact source text. Nested
// objects and arrays are validated and passed as raw text. Duplicate top-level keys, trailing
// garbage, invalid UTF-8 and lone surrogates are errors.
//
// Writing: JsonWriter appends to a caller-owned string, escaping strings.
//
// The string grammar alone (ScanJsonString, UnescapeJsonString) serves readers of other document
// shapes (contest/report reads whole trees), so that JSON strings are decoded in one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace rinha {

// Deepest accepted nesting, counting the top-level object as 1: `{"a":[{}]}` has depth 3.
inline constexpr int kJsonMaxDepth = 64;

enum class JsonType { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray };

struct JsonValue {
  JsonType type;
  // Exact source text of the value (for strings: including the quotes).
  std::string_view raw;
  // For kString: the unescaped contents (points into raw when there was nothing to unescape,
  // otherwise into parser-owned storage valid during the visitor call). Empty for other types.
  std::string_view string;
};

// Returns InvalidArgument with a short human-readable reason on malformed input, or the first
// non-OK status returned by the visitor (parsing stops there).
//
// The whole text is validated before the visitor is first called, so a visitor never sees
// members of a document that is then rejected. Members are visited in source order; `key` is
// unescaped (same lifetime rules as JsonValue::string). Duplicate keys are detected after
// unescaping ("a" and "\u0061" collide); nested objects may repeat keys (they are raw text here).
// Strictness beyond the grammar: the text must be exactly one object, optionally surrounded by
// JSON whitespace (no byte-order mark). Strings must be valid UTF-8; "\u0000" is accepted.
// Work is linear in the text size and recursion-free; no heap allocation unless a string has
// escapes or the object has more than 16 members.
absl::Status ParseJsonObject(
    std::string_view text,
    absl::FunctionRef<absl::Status(std::string_view key, const JsonValue& value)> visit);

// Why ScanJsonString rejected a string.
enum class JsonStringError {
  kNone,
  kUnterminated,            // no closing quote (or a lone backslash at the end)
  kControlCharacter,        // an unescaped byte below 0x20
  kInvalidUtf8,             // not well-formed UTF-8 (RFC 3629)
  kInvalidEscape,           // a backslash followed by anything but " \ / b f n r t u
  kTruncatedUnicodeEscape,  // the text ends within "\uXXXX"
  kInvalidHexDigit,         // "\uXXXX" with an X that is not a hex digit
  kLoneLowSurrogate,        // "\uDC00".."\uDFFF" without a high surrogate before it
  kLoneHighSurrogate,       // "\uD800".."\uDBFF" not followed by "\u" and a low surrogate
};

struct JsonStringScan {
  JsonStringError error = JsonStringError::kNone;
  // kNone: bytes of the string, both quotes included. Otherwise: offset of the fault in the text.
  size_t length = 0;
  // kNone: the string has backslash escapes, so its contents need UnescapeJsonString.
  bool escaped = false;
};

// Validates the JSON string that starts at `text` (text[0] must be '"') and ends at its closing
// quote, as ParseJsonObject validates strings: escapes, surrogate pairs, well-formed UTF-8, no
// unescaped control characters. "\u0000" is accepted. No allocation.
JsonStringScan ScanJsonString(std::string_view text);

// ParseJsonObject's words for a fault, e.g. "invalid escape in string" (the edge answers them in
// its 400s). "" for kNone.
const char* JsonStringErrorReason(JsonStringError error);

// Appends the unescaped form of `contents`: the text between the quotes of a string that
// ScanJsonString accepted (anything else is undefined behaviour).
void UnescapeJsonString(std::string_view contents, std::string* out);

// Appends JSON text. The caller is responsible for structure (keys inside objects, commas are
// handled by the writer).
//
// Strings are escaped minimally: '"' and '\' with a backslash, control characters below 0x20 as
// \u00XX; everything else is copied. Bytes that are not valid UTF-8 are written as U+FFFD, so
// the output is always valid JSON text whatever bytes the caller passes.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  // Already-valid JSON (e.g. a number formatted by FormatCents).
  JsonWriter& Raw(std::string_view json);
  // The system's two formatted values, written in place without a temporary string:
  // Cents(1990) -> 19.90 (a JSON number, as AppendCents) and
  // IsoMillis(ms) -> "2025-07-15T12:34:56.000Z" (a JSON string, as AppendIsoMillis).
  JsonWriter& Cents(int64_t cents);
  JsonWriter& IsoMillis(int64_t unix_ms);

 private:
  void Separate();

  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace rinha
