#include "common/json.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/iso_time.h"
#include "common/money.h"

namespace rinha {
namespace {

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads four hex digits at p (the caller guarantees four bytes are there).
bool ReadHex4(const char* p, uint32_t* value) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = HexValue(p[i]);
    if (digit < 0) return false;
    v = v << 4 | static_cast<uint32_t>(digit);
  }
  *value = v;
  return true;
}

// Length of the well-formed UTF-8 sequence starting at p (whose first byte is >= 0x80), or 0 when
// it is not one: no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629).
size_t Utf8SequenceLength(const char* p, const char* end) {
  const auto byte = [p](size_t i) { return static_cast<unsigned char>(p[i]); };
  const auto continuation = [&byte](size_t i) { return (byte(i) & 0xC0) == 0x80; };
  const size_t available = static_cast<size_t>(end - p);
  const unsigned lead = byte(0);
  if (lead < 0xC2) return 0;  // Continuation byte, or a lead that could only be overlong.
  if (lead < 0xE0) return available >= 2 && continuation(1) ? 2 : 0;
  if (lead < 0xF0) {
    if (available < 3 || !continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // Overlong.
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // UTF-16 surrogate.
    return 3;
  }
  if (lead < 0xF5) {
    if (available < 4 || !continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // Overlong.
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // Above U+10FFFF.
    return 4;
  }
  return 0;
}

void AppendUtf8(std::string* out, uint32_t code_point) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | code_point >> 6));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | code_point >> 12));
    out->push_back(static_cast<char>(0x80 | (code_point >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | code_point >> 18));
    out->push_back(static_cast<char>(0x80 | (code_point >> 12 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace

JsonStringScan ScanJsonString(std::string_view text) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin + 1;  // Past the opening quote.
  bool escaped = false;
  const auto fail = [begin, &p](JsonStringError error) {
    return JsonStringScan{error, static_cast<size_t>(p - begin), false};
  };
  for (;;) {
    while (p < end) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++p;
    }
    if (p == end) return fail(JsonStringError::kUnterminated);
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') {
      ++p;
      return JsonStringScan{JsonStringError::kNone, static_cast<size_t>(p - begin), escaped};
    }
    if (c < 0x20) return fail(JsonStringError::kControlCharacter);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(p, end);
      if (length == 0) return fail(JsonStringError::kInvalidUtf8);
      p += length;
      continue;
    }
    escaped = true;
    if (end - p < 2) return fail(JsonStringError::kUnterminated);
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        p += 2;
        continue;
      case 'u':
        break;
      default:
        return fail(JsonStringError::kInvalidEscape);
    }
    uint32_t code_point;
    if (end - p < 6) return fail(JsonStringError::kTruncatedUnicodeEscape);
    if (!ReadHex4(p + 2, &code_point)) return fail(JsonStringError::kInvalidHexDigit);
    if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
      return fail(JsonStringError::kLoneLowSurrogate);
    }
    if (code_point >= 0xD800 && code_point <= 0xDBFF) {
      p += 6;
      uint32_t low;
      if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !ReadHex4(p + 2, &low) || low < 0xDC00 ||
          low > 0xDFFF) {
        return fail(JsonStringError::kLoneHighSurrogate);
      }
    }
    p += 6;
  }
}

void UnescapeJsonString(std::string_view contents, std::string* out) {
  size_t i = 0;
  while (i < contents.size()) {
    const size_t backslash = contents.find('\\', i);
    if (backslash == std::string_view::npos) {
      out->append(contents.substr(i));
      return;
    }
    out->append(contents.substr(i, backslash - i));
    const char escape = contents[backslash + 1];
    i = backslash + 2;
    switch (escape) {
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        uint32_t code_point = 0;
        ReadHex4(contents.data() + i, &code_point);
        i += 4;
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          uint32_t low = 0;
          ReadHex4(contents.data() + i + 2, &low);  // Skips the validated "\u".
          i += 6;
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(out, code_point);
        break;
      }
      default:  // '"', '\\' and '/' stand for themselves.
        out->push_back(escape);
        break;
    }
  }
}

const char* JsonStringErrorReason(JsonStringError error) {
  switch (error) {
    case JsonStringError::kNone:
      break;
    case JsonStringError::kUnterminated:
      return "unterminated string";
    case JsonStringError::kControlCharacter:
      return "unescaped control character in string";
    case JsonStringError::kInvalidUtf8:
      return "invalid UTF-8 in string";
    case JsonStringError::kInvalidEscape:
      return "invalid escape in string";
    case JsonStringError::kTruncatedUnicodeEscape:
    case JsonStringError::kInvalidHexDigit:
      return "invalid \\u escape";
    case JsonStringError::kLoneLowSurrogate:
      return "lone low surrogate";
    case JsonStringError::kLoneHighSurrogate:
      return "high surrogate not followed by a low surrogate";
  }
  return "";
}

namespace {

// A vector whose first N elements live inline, so the common small object costs no allocation.
template <typename T, size_t N>
class SmallVector {
 public:
  void push_back(const T& value) {
    if (heap_.empty() && size_ < N) {
      inline_[size_++] = value;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_, inline_ + size_);
    heap_.push_back(value);
    ++size_;
  }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return heap_.empty() ? inline_[i] : heap_[i]; }

 private:
  T inline_[N];
  std::vector<T> heap_;
  size_t size_ = 0;
};

struct Member {
  std::string_view key_raw;  // Including the quotes.
  std::string_view value_raw;
  JsonType type = JsonType::kNull;
  bool key_escaped = false;
  bool value_escaped = false;
  // Unescaped key; for escaped keys first an offset into the key arena, resolved afterwards.
  size_t key_offset = 0;
  std::string_view key;
};

std::string_view Contents(std::string_view quoted) { return quoted.substr(1, quoted.size() - 2); }

// Validating cursor over the text. Scan* functions advance past one token or fail, recording the
// first failure's position and reason (a string literal, so success paths never allocate).
class Scanner {
 public:
  explicit Scanner(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  const char* position() const { return p_; }
  bool AtEnd() const { return p_ == end_; }
  // The current byte, or '\0' at the end (never a valid token start, so comparisons just fail).
  char Peek() const { return p_ < end_ ? *p_ : '\0'; }
  void Advance() { ++p_; }

  void SkipWhitespace() {
    while (p_ < end_ && IsWhitespace(*p_)) ++p_;
  }

  bool Fail(const char* reason) {
    reason_ = reason;
    return false;
  }

  absl::Status Error() const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at byte ", p_ - begin_, ": ", reason_));
  }

  bool Expect(char c, const char* reason) {
    if (Peek() != c) return Fail(reason);
    ++p_;
    return true;
  }

  // At '"'. Sets *escaped when the string contains a backslash escape.
  bool ScanString(bool* escaped) {
    const JsonStringScan scan =
        ScanJsonString(std::string_view(p_, static_cast<size_t>(end_ - p_)));
    p_ += scan.length;
    if (scan.error != JsonStringError::kNone) return Fail(JsonStringErrorReason(scan.error));
    *escaped = scan.escaped;
    return true;
  }

  // '-'? ('0' | [1-9][0-9]*) ('.' [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool ScanNumber() {
    if (Peek() == '-') ++p_;
    if (!IsDigit(Peek())) return Fail("invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      SkipDigits();
    }
    if (Peek() == '.') {
      ++p_;
      if (!IsDigit(Peek())) return Fail("invalid number: no digit after '.'");
      SkipDigits();
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++p_;
      if (Peek() == '+' || Peek() == '-') ++p_;
      if (!IsDigit(Peek())) return Fail("invalid number: no digit in exponent");
      SkipDigits();
    }
    return true;
  }

  bool ScanLiteral(std::string_view literal) {
    if (static_cast<size_t>(end_ - p_) < literal.size() ||
        std::string_view(p_, literal.size()) != literal) {
      return Fail("invalid literal");
    }
    p_ += literal.size();
    return true;
  }

  // A value that is not an object or array. *escaped is set for strings with escapes.
  bool ScanScalar(JsonType* type, bool* escaped) {
    switch (Peek()) {
      case '"':
        *type = JsonType::kString;
        return ScanString(escaped);
      case 't':
        *type = JsonType::kTrue;
        return ScanLiteral("true");
      case 'f':
        *type = JsonType::kFalse;
        return ScanLiteral("false");
      case 'n':
        *type = JsonType::kNull;
        return ScanLiteral("null");
      default:
        *type = JsonType::kNumber;
        if (Peek() == '-' || IsDigit(Peek())) return ScanNumber();
        return Fail(AtEnd() ? "unexpected end of input, expected a value" : "expected a value");
    }
  }

  // At '{' or '[' of a container nested inside containers `outer_depth` deep. Validates it
  // iteratively: one bit per open level says whether it is an object, which the depth limit
  // keeps within 64 bits.
  bool ScanContainer(int outer_depth) {
    static_assert(kJsonMaxDepth <= 64, "open levels are tracked in a uint64_t");
    uint64_t object_levels = 0;
    int depth = 0;  // Levels opened by this call and not closed yet.
    const auto in_object = [&] { return (object_levels >> (depth - 1) & 1) != 0; };
    enum class Next { kOpen, kElement, kAfterElement } next = Next::kOpen;
    for (;;) {
      switch (next) {
        case Next::kOpen: {
          if (outer_depth + depth >= kJsonMaxDepth) return Fail("nesting deeper than 64 levels");
          const bool object = *p_ == '{';
          const uint64_t bit = uint64_t{1} << depth;
          object_levels = object ? object_levels | bit : object_levels & ~bit;
          ++depth;
          ++p_;
          SkipWhitespace();
          if (Peek() == (object ? '}' : ']')) {
            ++p_;
            if (--depth == 0) return true;
            next = Next::kAfterElement;
          } else {
            next = Next::kElement;
          }
          break;
        }
        case Next::kElement: {
          if (in_object()) {
            if (Peek() != '"') return Fail("expected a string key");
            bool escaped;
            if (!ScanString(&escaped)) return false;
            SkipWhitespace();
            if (!Expect(':', "expected ':' after key")) return false;
            SkipWhitespace();
          }
          if (Peek() == '{' || Peek() == '[') {
            next = Next::kOpen;
            break;
          }
          JsonType type;
          bool escaped;
          if (!ScanScalar(&type, &escaped)) return false;
          next = Next::kAfterElement;
          break;
        }
        case Next::kAfterElement: {
          SkipWhitespace();
          if (Peek() == ',') {
            ++p_;
            SkipWhitespace();
            next = Next::kElement;
            break;
          }
          if (in_object() ? !Expect('}', "expected ',' or '}' in object")
                          : !Expect(']', "expected ',' or ']' in array")) {
            return false;
          }
          if (--depth == 0) return true;
          break;
        }
      }
    }
  }

 private:
  void SkipDigits() {
    while (p_ < end_ && IsDigit(*p_)) ++p_;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const char* reason_ = "";
};

// Validates the document and fills `members`; on failure the scanner holds the reason.
bool ScanTopLevelObject(Scanner& s, SmallVector<Member, 16>& members) {
  s.SkipWhitespace();
  if (s.AtEnd()) return s.Fail("empty input");
  if (!s.Expect('{', "expected '{'")) return false;
  s.SkipWhitespace();
  if (s.Peek() == '}') {
    s.Advance();
  } else {
    for (;;) {
      Member member;
      if (s.Peek() != '"') return s.Fail("expected a string key");
      const char* key_begin = s.position();
      if (!s.ScanString(&member.key_escaped)) return false;
      member.key_raw = std::string_view(key_begin, static_cast<size_t>(s.position() - key_begin));
      s.SkipWhitespace();
      if (!s.Expect(':', "expected ':' after key")) return false;
      s.SkipWhitespace();
      const char* value_begin = s.position();
      if (s.Peek() == '{' || s.Peek() == '[') {
        member.type = s.Peek() == '{' ? JsonType::kObject : JsonType::kArray;
        if (!s.ScanContainer(1)) return false;
      } else if (!s.ScanScalar(&member.type, &member.value_escaped)) {
        return false;
      }
      member.value_raw =
          std::string_view(value_begin, static_cast<size_t>(s.position() - value_begin));
      members.push_back(member);
      s.SkipWhitespace();
      if (s.Peek() == ',') {
        s.Advance();
        s.SkipWhitespace();
        continue;
      }
      if (!s.Expect('}', "expected ',' or '}' in object")) return false;
      break;
    }
  }
  s.SkipWhitespace();
  if (!s.AtEnd()) return s.Fail("trailing characters after the object");
  return true;
}

// Resolves every member's unescaped key (escaped ones into `arena`) and rejects duplicates.
absl::Status ResolveKeys(std::string_view text, SmallVector<Member, 16>& members,
                         std::string& arena) {
  const size_t count = members.size();
  bool any_escaped = false;
  for (size_t i = 0; i < count; ++i) {
    Member& m = members[i];
    if (!m.key_escaped) {
      m.key = Contents(m.key_raw);
      continue;
    }
    any_escaped = true;
    m.key_offset = arena.size();
    UnescapeJsonString(Contents(m.key_raw), &arena);
    m.key = std::string_view(nullptr, arena.size() - m.key_offset);
  }
  if (any_escaped) {  // The arena has stopped growing: its addresses are final now.
    for (size_t i = 0; i < count; ++i) {
      Member& m = members[i];
      if (m.key_escaped) m.key = std::string_view(arena.data() + m.key_offset, m.key.size());
    }
  }

  // The key itself stays out of the message: it is untrusted text that may end up in logs.
  const auto duplicate = [text](const Member& m) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at byte ", m.key_raw.data() - text.data(), ": duplicate key"));
  };
  constexpr size_t kQuadraticLimit = 16;
  if (count <= kQuadraticLimit) {
    for (size_t i = 1; i < count; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (members[i].key == members[j].key) return duplicate(members[i]);
      }
    }
    return absl::OkStatus();
  }
  // Many members: sort instead, so that a hostile object costs O(n log n), not O(n^2).
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&members](size_t a, size_t b) { return members[a].key < members[b].key; });
  for (size_t i = 1; i < count; ++i) {
    if (members[order[i]].key == members[order[i - 1]].key) return duplicate(members[order[i]]);
  }
  return absl::OkStatus();
}

void AppendQuoted(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run_begin = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(s.data() + i, s.data() + s.size());
      if (length != 0) {
        i += length;
        continue;
      }
    }
    out->append(s.substr(run_begin, i - run_begin));
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(escape, sizeof(escape));
    } else {
      out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER for an invalid byte.
    }
    run_begin = ++i;
  }
  out->append(s.substr(run_begin));
  out->push_back('"');
}

}  // namespace

absl::Status ParseJsonObject(
    std::string_view text,
    absl::FunctionRef<absl::Status(std::string_view key, const JsonValue& value)> visit) {
  Scanner scanner(text);
  SmallVector<Member, 16> members;
  if (!ScanTopLevelObject(scanner, members)) return scanner.Error();

  std::string key_arena;
  if (absl::Status status = ResolveKeys(text, members, key_arena); !status.ok()) return status;

  std::string value_scratch;
  for (size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    JsonValue value{m.type, m.value_raw, {}};
    if (m.type == JsonType::kString) {
      if (m.value_escaped) {
        value_scratch.clear();
        UnescapeJsonString(Contents(m.value_raw), &value_scratch);
        value.string = value_scratch;
      } else {
        value.string = Contents(m.value_raw);
      }
    }
    if (absl::Status status = visit(m.key, value); !status.ok()) return status;
  }
  return absl::OkStatus();
}

void JsonWriter::Separate() {
  if (need_comma_) out_->push_back(',');
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_->push_back('{');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_->push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  AppendQuoted(out_, key);
  out_->push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  AppendQuoted(out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  absl::StrAppend(out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_->append(value ? "true" : "false");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_->append(json);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Cents(int64_t cents) {
  Separate();
  AppendCents(out_, cents);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::IsoMillis(int64_t unix_ms) {
  Separate();
  out_->push_back('"');
  AppendIsoMillis(out_, unix_ms);  // Digits and punctuation only: nothing to escape.
  out_->push_back('"');
  need_comma_ = true;
  return *this;
}

}  // namespace rinha
