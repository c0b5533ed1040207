#include "contest/report/json_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"

namespace rinha::report {

Json Json::Bool(bool value) {
  Json json;
  json.type_ = Type::kBool;
  json.bool_ = value;
  return json;
}

Json Json::Number(double value) {
  Json json;
  json.type_ = Type::kNumber;
  json.number_ = value;
  return json;
}

Json Json::String(std::string value) {
  Json json;
  json.type_ = Type::kString;
  json.string_ = std::move(value);
  return json;
}

Json Json::Array(std::vector<Json> items) {
  Json json;
  json.type_ = Type::kArray;
  json.items_ = std::move(items);
  return json;
}

Json Json::Object(std::vector<Member> members) {
  Json json;
  json.type_ = Type::kObject;
  json.members_ = std::move(members);
  return json;
}

const Json* Json::Find(absl::string_view key) const {
  for (const Member& member : members_) {
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Recursive descent over the text; depth is bounded, so recursion is too.
class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<Json> ParseDocument() {
    SkipWhitespace();
    absl::StatusOr<Json> value = ParseValue(0);
    if (!value.ok()) return value;
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("trailing characters after the JSON value");
    return value;
  }

 private:
  absl::Status Error(absl::string_view reason) const {
    return absl::InvalidArgumentError(absl::StrCat("JSON at byte ", pos_, ": ", reason));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }

  bool ConsumeLiteral(absl::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  absl::StatusOr<Json> ParseValue(int depth) {
    if (AtEnd()) return Error("unexpected end of input, expected a value");
    switch (Peek()) {
      case '{':
        return ParseObject(depth + 1);
      case '[':
        return ParseArray(depth + 1);
      case '"': {
        std::string s;
        if (absl::Status status = ParseString(&s); !status.ok()) return status;
        return Json::String(std::move(s));
      }
      case 't':
        if (ConsumeLiteral("true")) return Json::Bool(true);
        return Error("invalid literal");
      case 'f':
        if (ConsumeLiteral("false")) return Json::Bool(false);
        return Error("invalid literal");
      case 'n':
        if (ConsumeLiteral("null")) return Json::Null();
        return Error("invalid literal");
      default:
        if (Peek() == '-' || IsDigit(Peek())) return ParseNumber();
        return Error("unexpected character, expected a value");
    }
  }

  absl::StatusOr<Json> ParseObject(int depth) {
    if (depth > kJsonReaderMaxDepth) return Error("nesting too deep");
    ++pos_;  // '{'
    std::vector<Json::Member> members;
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return Json::Object(std::move(members));
    }
    while (true) {
      SkipWhitespace();
      if (AtEnd() || Peek() != '"') return Error("expected a string key");
      std::string key;
      if (absl::Status status = ParseString(&key); !status.ok()) return status;
      for (const Json::Member& member : members) {
        if (member.key == key) return Error(absl::StrCat("duplicate key \"", key, "\""));
      }
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') return Error("expected ':' after a key");
      ++pos_;
      SkipWhitespace();
      absl::StatusOr<Json> value = ParseValue(depth);
      if (!value.ok()) return value.status();
      members.push_back({std::move(key), *std::move(value)});
      SkipWhitespace();
      if (AtEnd()) return Error("unterminated object");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return Json::Object(std::move(members));
      }
      return Error("expected ',' or '}' in an object");
    }
  }

  absl::StatusOr<Json> ParseArray(int depth) {
    if (depth > kJsonReaderMaxDepth) return Error("nesting too deep");
    ++pos_;  // '['
    std::vector<Json> items;
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return Json::Array(std::move(items));
    }
    while (true) {
      SkipWhitespace();
      absl::StatusOr<Json> value = ParseValue(depth);
      if (!value.ok()) return value.status();
      items.push_back(*std::move(value));
      SkipWhitespace();
      if (AtEnd()) return Error("unterminated array");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return Json::Array(std::move(items));
      }
      return Error("expected ',' or ']' in an array");
    }
  }

  // RFC 8259 number grammar, then std::from_chars (locale-independent, exact rounding).
  absl::StatusOr<Json> ParseNumber() {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    if (AtEnd() || !IsDigit(Peek())) return Error("expected a digit");
    if (Peek() == '0') {
      ++pos_;
      if (!AtEnd() && IsDigit(Peek())) return Error("leading zero in a number");
    } else {
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Error("expected a digit after '.'");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Error("expected a digit in the exponent");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    const std::from_chars_result result = std::from_chars(first, last, value);
    if (result.ec == std::errc::result_out_of_range) {
      // from_chars reports underflow (1e-999, 0.000...1) and overflow alike and leaves `value`
      // unset; strtod tells them apart: underflow is a tiny number or 0, overflow infinite.
      value = std::strtod(std::string(first, last).c_str(), nullptr);
      if (std::isinf(value)) return Error("number out of range");
    } else if (result.ec != std::errc() || result.ptr != last) {
      return Error("invalid number");
    }
    return Json::Number(value);
  }

  // The string grammar and its words are common/json's, but for two faults this reader has always
  // named more precisely.
  static const char* StringErrorReason(JsonStringError error) {
    if (error == JsonStringError::kInvalidHexDigit) return "invalid hex digit in \\u escape";
    if (error == JsonStringError::kLoneHighSurrogate) return "lone high surrogate";
    return JsonStringErrorReason(error);
  }

  // At the opening quote: appends the unescaped string to `out` and moves past its closing quote.
  absl::Status ParseString(std::string* out) {
    const std::string_view rest(text_.data() + pos_, text_.size() - pos_);
    const JsonStringScan scan = ScanJsonString(rest);
    pos_ += scan.length;
    if (scan.error != JsonStringError::kNone) return Error(StringErrorReason(scan.error));
    const std::string_view contents = rest.substr(1, scan.length - 2);
    if (scan.escaped) {
      UnescapeJsonString(contents, out);
    } else {
      out->append(contents);
    }
    return absl::OkStatus();
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Json> ParseJson(absl::string_view text) { return Parser(text).ParseDocument(); }

}  // namespace rinha::report
