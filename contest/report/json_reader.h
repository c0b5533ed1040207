// A small strict recursive JSON reader for the report's input files (run.json,
// final-results.json, resources.json), which nest arrays of objects; common/json.h reads only
// flat objects, by design, for the hot path. Strings are decoded by common/json.h's string
// grammar (ScanJsonString, UnescapeJsonString), so both readers accept the same strings.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rinha::report {

// Deepest accepted nesting, counting the outermost array or object as 1.
inline constexpr int kJsonReaderMaxDepth = 64;

// One parsed JSON value (a tree that owns its children). Objects keep their members in source
// order; duplicate keys are rejected by the parser, so Find is unambiguous.
class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  struct Member;

  Json() = default;
  static Json Null();
  static Json Bool(bool value);
  static Json Number(double value);
  static Json String(std::string value);
  static Json Array(std::vector<Json> items);
  static Json Object(std::vector<Member> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors of the other types return false / 0 / empty.
  bool bool_value() const { return bool_; }
  double number() const { return number_; }
  const std::string& string() const { return string_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }

  // The member named `key` of an object; nullptr when absent or when this is not an object.
  const Json* Find(absl::string_view key) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<Member> members_;
};

struct Json::Member {
  std::string key;
  Json value;
};

// Here, not in the class: returning a Json needs its destructor, which needs Member complete.
inline Json Json::Null() { return Json(); }

// Parses exactly one JSON text (RFC 8259), optionally surrounded by whitespace. InvalidArgument
// with the byte offset and a short reason on: grammar errors, trailing garbage, depth over
// kJsonReaderMaxDepth, duplicate object keys (after unescaping), invalid UTF-8, lone surrogates,
// control characters in strings, and numbers outside double's range (1e999).
absl::StatusOr<Json> ParseJson(absl::string_view text);

}  // namespace rinha::report
