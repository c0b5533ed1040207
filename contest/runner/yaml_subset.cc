#include "contest/runner/yaml_subset.h"

#include <cstdint>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rinha::contest {
namespace {

using NodePtr = std::shared_ptr<const YamlNode>;

// One logical line: comment stripped, flow collections spanning several lines joined.
struct Line {
  int number = 0;  // 1-based, of the first physical line
  int indent = 0;
  std::string text;  // without the indentation
};

// A quote opens a scalar only at the start of a token, so apostrophes inside plain scalars
// ("don't") are not mistaken for quotes.
bool OpensToken(absl::string_view s, size_t i) {
  if (i == 0) return true;
  const char prev = s[i - 1];
  return prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',';
}

// Calls visit(i) for every character of `s` outside quoted scalars; stops when it returns false.
template <typename Visit>
void ForEachUnquoted(absl::string_view s, Visit visit) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote == '"') {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quote = 0;
      }
      continue;
    }
    if (quote == '\'') {
      if (c == '\'') quote = 0;  // '' (an escaped quote) closes and reopens: same result
      continue;
    }
    if ((c == '"' || c == '\'') && OpensToken(s, i)) {
      quote = c;
      continue;
    }
    if (!visit(i)) return;
  }
}

std::string StripComment(absl::string_view s) {
  size_t end = s.size();
  ForEachUnquoted(s, [&](size_t i) {
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
      end = i;
      return false;
    }
    return true;
  });
  return std::string(absl::StripTrailingAsciiWhitespace(s.substr(0, end)));
}

int FlowDepthChange(absl::string_view s) {
  int depth = 0;
  ForEachUnquoted(s, [&](size_t i) {
    if (s[i] == '[' || s[i] == '{') ++depth;
    if (s[i] == ']' || s[i] == '}') --depth;
    return true;
  });
  return depth;
}

absl::StatusOr<std::vector<Line>> SplitLines(absl::string_view text) {
  std::vector<std::string> raw;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    absl::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    raw.emplace_back(line);
    start = end + 1;
  }
  std::vector<Line> lines;
  for (size_t i = 0; i < raw.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    std::string stripped = StripComment(raw[i]);
    const size_t indent = stripped.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    if (stripped[indent] == '\t') {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": tab in indentation"));
    }
    std::string body = stripped.substr(indent);
    if (lines.empty() && body == "---") continue;
    if (body == "---" || body == "...") {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": only one YAML document is supported"));
    }
    int depth = FlowDepthChange(body);
    while (depth > 0 && i + 1 < raw.size()) {
      std::string next = StripComment(raw[++i]);
      absl::StripLeadingAsciiWhitespace(&next);
      depth += FlowDepthChange(next);
      absl::StrAppend(&body, " ", next);
    }
    if (depth != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": unbalanced brackets in a flow collection"));
    }
    lines.push_back(Line{number, static_cast<int>(indent), std::move(body)});
  }
  return lines;
}

bool IsListItem(absl::string_view text) { return text == "-" || absl::StartsWith(text, "- "); }

// Position of the ':' that ends a mapping key (followed by a space or the end, outside quotes
// and flow brackets), or npos.
size_t FindKeyColon(absl::string_view s) {
  size_t found = absl::string_view::npos;
  int depth = 0;
  ForEachUnquoted(s, [&](size_t i) {
    const char c = s[i];
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ':' && depth == 0 && (i + 1 == s.size() || s[i + 1] == ' ')) {
      found = i;
      return false;
    }
    return true;
  });
  return found;
}

void AppendUtf8(uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// Reads a quoted scalar starting at s[*i] (the opening quote); leaves *i after the closing one.
absl::StatusOr<std::string> ReadQuoted(absl::string_view s, size_t* i) {
  const char quote = s[*i];
  std::string out;
  for (size_t j = *i + 1; j < s.size(); ++j) {
    const char c = s[j];
    if (quote == '\'') {
      if (c != '\'') {
        out.push_back(c);
      } else if (j + 1 < s.size() && s[j + 1] == '\'') {
        out.push_back('\'');
        ++j;
      } else {
        *i = j + 1;
        return out;
      }
      continue;
    }
    if (c == '"') {
      *i = j + 1;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++j >= s.size()) break;
    switch (s[j]) {
      case '\\':
        out.push_back('\\');
        break;
      case '"':
        out.push_back('"');
        break;
      case '/':
        out.push_back('/');
        break;
      case ' ':
        out.push_back(' ');
        break;
      case '0':
        out.push_back('\0');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'e':
        out.push_back('\x1b');
        break;
      case 'x':
      case 'u': {
        const size_t digits = s[j] == 'x' ? 2 : 4;
        if (j + digits >= s.size()) {
          return absl::InvalidArgumentError("truncated escape in a double-quoted scalar");
        }
        uint32_t code = 0;
        for (size_t k = 1; k <= digits; ++k) {
          const char h = s[j + k];
          if (!absl::ascii_isxdigit(static_cast<unsigned char>(h))) {
            return absl::InvalidArgumentError("bad hex escape in a double-quoted scalar");
          }
          code =
              code * 16 + static_cast<uint32_t>(absl::ascii_isdigit(static_cast<unsigned char>(h))
                                                    ? h - '0'
                                                    : absl::ascii_tolower(h) - 'a' + 10);
        }
        AppendUtf8(code, &out);
        j += digits;
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported escape \\", std::string(1, s[j]), " in a quoted scalar"));
    }
  }
  return absl::InvalidArgumentError("unterminated quoted scalar");
}

NodePtr Scalar(std::string text) {
  auto node = std::make_shared<YamlNode>();
  node->kind = YamlNode::Kind::kScalar;
  node->scalar = std::move(text);
  return node;
}

NodePtr Null() { return std::make_shared<YamlNode>(); }

class Parser {
 public:
  explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

  absl::StatusOr<NodePtr> ParseDocument() {
    if (lines_.empty()) return Null();
    if (lines_[0].indent != 0) return Error(lines_[0], "the document must start at column 1");
    auto root = ParseBlock();
    if (!root.ok()) return root.status();
    if (pos_ < lines_.size()) return Error(lines_[pos_], "unexpected indentation");
    return root;
  }

 private:
  static absl::Status Error(const Line& line, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("line ", line.number, ": ", what));
  }
  static absl::Status Error(int number, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", what));
  }

  // A block map or list whose first line is lines_[pos_].
  absl::StatusOr<NodePtr> ParseBlock() {
    const Line& first = lines_[pos_];
    return IsListItem(first.text) ? ParseList(first.indent) : ParseMap(first.indent);
  }

  absl::StatusOr<NodePtr> ParseMap(int indent) {
    auto node = std::make_shared<YamlNode>();
    node->kind = YamlNode::Kind::kMap;
    std::set<std::string> explicit_keys;  // merged keys may be overridden, explicit ones not
    while (pos_ < lines_.size()) {
      const Line line = lines_[pos_];
      if (line.indent < indent || (line.indent == indent && IsListItem(line.text))) break;
      if (line.indent > indent) return Error(line, "unexpected indentation");
      const size_t colon = FindKeyColon(line.text);
      if (colon == std::string::npos) return Error(line, "expected `key: value`");
      absl::string_view key_text =
          absl::StripAsciiWhitespace(absl::string_view(line.text).substr(0, colon));
      std::string key;
      if (!key_text.empty() && (key_text[0] == '"' || key_text[0] == '\'')) {
        size_t i = 0;
        auto quoted = ReadQuoted(key_text, &i);
        if (!quoted.ok()) return Error(line, quoted.status().message());
        if (i != key_text.size()) return Error(line, "text after a quoted key");
        key = *std::move(quoted);
      } else {
        key = std::string(key_text);
      }
      ++pos_;
      auto value = ParseValue(absl::string_view(line.text).substr(colon + 1), indent, line.number,
                              /*list_may_share_indent=*/true);
      if (!value.ok()) return value.status();
      if (key == "<<") {
        auto merged = Merge(*node, **value, explicit_keys, line);
        if (!merged.ok()) return merged;
        continue;
      }
      if (!explicit_keys.insert(key).second) return Error(line, "duplicate key `" + key + "`");
      bool replaced = false;
      for (auto& [existing_key, existing_value] : node->map) {
        if (existing_key == key) {
          existing_value = *value;
          replaced = true;
        }
      }
      if (!replaced) node->map.emplace_back(key, *std::move(value));
    }
    return node;
  }

  // `<<: *alias` (or a list of aliases): copies the keys not set yet.
  absl::Status Merge(YamlNode& into, const YamlNode& from,
                     const std::set<std::string>& explicit_keys, const Line& line) {
    if (from.kind == YamlNode::Kind::kList) {
      for (const auto& item : from.list) {
        if (auto status = Merge(into, *item, explicit_keys, line); !status.ok()) return status;
      }
      return absl::OkStatus();
    }
    if (from.kind != YamlNode::Kind::kMap) return Error(line, "`<<` merges a map only");
    for (const auto& [key, value] : from.map) {
      if (explicit_keys.contains(key) || into.Find(key) != nullptr) continue;
      into.map.emplace_back(key, value);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<NodePtr> ParseList(int indent) {
    auto node = std::make_shared<YamlNode>();
    node->kind = YamlNode::Kind::kList;
    while (pos_ < lines_.size()) {
      const Line line = lines_[pos_];
      if (line.indent < indent || !IsListItem(line.text)) break;
      if (line.indent > indent) return Error(line, "unexpected indentation");
      absl::string_view content = absl::string_view(line.text).substr(1);
      const size_t skip = content.find_first_not_of(' ');
      if (skip == absl::string_view::npos) {
        ++pos_;
        auto value = ParseValue("", indent, line.number, /*list_may_share_indent=*/false);
        if (!value.ok()) return value.status();
        node->list.push_back(*std::move(value));
        continue;
      }
      content.remove_prefix(skip);
      if (content[0] != '&' &&
          (IsListItem(content) || FindKeyColon(content) != std::string::npos)) {
        // "- key: value" or "- - x": the item is a block starting at the content's column.
        lines_[pos_] =
            Line{line.number, line.indent + 1 + static_cast<int>(skip), std::string(content)};
        auto value = ParseBlock();
        if (!value.ok()) return value.status();
        node->list.push_back(*std::move(value));
        continue;
      }
      ++pos_;
      auto value = ParseValue(content, indent, line.number, /*list_may_share_indent=*/false);
      if (!value.ok()) return value.status();
      node->list.push_back(*std::move(value));
    }
    return node;
  }

  // The value after `key:` or `-`: inline text, or a nested block on the following lines.
  absl::StatusOr<NodePtr> ParseValue(absl::string_view text, int parent_indent, int number,
                                     bool list_may_share_indent) {
    text = absl::StripAsciiWhitespace(text);
    std::string anchor;
    if (!text.empty() && text[0] == '&') {
      const size_t end = text.find(' ');
      anchor = std::string(text.substr(1, end == absl::string_view::npos ? end : end - 1));
      if (anchor.empty()) return Error(number, "empty anchor name");
      text = end == absl::string_view::npos ? absl::string_view()
                                            : absl::StripAsciiWhitespace(text.substr(end));
    }
    NodePtr value;
    if (text.empty()) {
      if (pos_ < lines_.size() && (lines_[pos_].indent > parent_indent ||
                                   (list_may_share_indent && lines_[pos_].indent == parent_indent &&
                                    IsListItem(lines_[pos_].text)))) {
        auto block = ParseBlock();
        if (!block.ok()) return block.status();
        value = *std::move(block);
      } else {
        value = Null();
      }
    } else {
      if (!anchor.empty() && FindKeyColon(text) != absl::string_view::npos && text[0] != '[' &&
          text[0] != '{') {
        return Error(number, "an anchored map must start on the next line");
      }
      size_t i = 0;
      auto inline_value = ParseFlow(text, &i, /*in_flow=*/false, number);
      if (!inline_value.ok()) return inline_value.status();
      while (i < text.size() && text[i] == ' ') ++i;
      if (i != text.size()) return Error(number, "unexpected text after a value");
      value = *std::move(inline_value);
    }
    if (!anchor.empty()) anchors_[anchor] = value;
    return value;
  }

  // An inline value: alias, quoted or plain scalar, or a flow list / map. `in_flow`: inside
  // brackets, where ',', ']' and '}' end a plain scalar.
  absl::StatusOr<NodePtr> ParseFlow(absl::string_view s, size_t* i, bool in_flow, int number) {
    while (*i < s.size() && s[*i] == ' ') ++*i;
    if (*i >= s.size()) return Null();
    const char c = s[*i];
    if (c == '*') {
      size_t end = *i + 1;
      while (end < s.size() && s[end] != ' ' && s[end] != ',' && s[end] != ']' && s[end] != '}') {
        ++end;
      }
      const std::string name(s.substr(*i + 1, end - *i - 1));
      auto it = anchors_.find(name);
      if (it == anchors_.end()) return Error(number, "unknown alias *" + name);
      *i = end;
      return it->second;
    }
    if (c == '"' || c == '\'') {
      auto quoted = ReadQuoted(s, i);
      if (!quoted.ok()) return Error(number, quoted.status().message());
      return Scalar(*std::move(quoted));
    }
    if (c == '|' || c == '>') return Error(number, "block scalars (| and >) are not supported");
    if (c == '!') return Error(number, "tags are not supported");
    if (c == '[') {
      auto node = std::make_shared<YamlNode>();
      node->kind = YamlNode::Kind::kList;
      ++*i;
      while (true) {
        while (*i < s.size() && s[*i] == ' ') ++*i;
        if (*i >= s.size()) return Error(number, "unterminated flow list");
        if (s[*i] == ']') {
          ++*i;
          return node;
        }
        auto item = ParseFlow(s, i, /*in_flow=*/true, number);
        if (!item.ok()) return item.status();
        node->list.push_back(*std::move(item));
        while (*i < s.size() && s[*i] == ' ') ++*i;
        if (*i < s.size() && s[*i] == ',') {
          ++*i;
        } else if (*i >= s.size() || s[*i] != ']') {
          return Error(number, "expected `,` or `]` in a flow list");
        }
      }
    }
    if (c == '{') {
      auto node = std::make_shared<YamlNode>();
      node->kind = YamlNode::Kind::kMap;
      ++*i;
      while (true) {
        while (*i < s.size() && s[*i] == ' ') ++*i;
        if (*i >= s.size()) return Error(number, "unterminated flow map");
        if (s[*i] == '}') {
          ++*i;
          return node;
        }
        std::string key;
        if (s[*i] == '"' || s[*i] == '\'') {
          auto quoted = ReadQuoted(s, i);
          if (!quoted.ok()) return Error(number, quoted.status().message());
          key = *std::move(quoted);
        } else {
          const size_t start = *i;
          while (*i < s.size() && s[*i] != ':' && s[*i] != ',' && s[*i] != '}') ++*i;
          key = std::string(absl::StripAsciiWhitespace(s.substr(start, *i - start)));
        }
        while (*i < s.size() && s[*i] == ' ') ++*i;
        NodePtr value = Null();
        if (*i < s.size() && s[*i] == ':') {
          ++*i;
          auto parsed = ParseFlow(s, i, /*in_flow=*/true, number);
          if (!parsed.ok()) return parsed.status();
          value = *std::move(parsed);
        }
        node->map.emplace_back(std::move(key), std::move(value));
        while (*i < s.size() && s[*i] == ' ') ++*i;
        if (*i < s.size() && s[*i] == ',') {
          ++*i;
        } else if (*i >= s.size() || s[*i] != '}') {
          return Error(number, "expected `,` or `}` in a flow map");
        }
      }
    }
    const size_t start = *i;
    if (in_flow) {
      while (*i < s.size() && s[*i] != ',' && s[*i] != ']' && s[*i] != '}') ++*i;
    } else {
      *i = s.size();
    }
    absl::string_view plain = absl::StripAsciiWhitespace(s.substr(start, *i - start));
    if (plain == "~" || plain == "null" || plain.empty()) return Null();
    return Scalar(std::string(plain));
  }

  std::vector<Line> lines_;
  size_t pos_ = 0;
  std::map<std::string, NodePtr> anchors_;
};

}  // namespace

const YamlNode* YamlNode::Find(absl::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& [k, v] : map) {
    if (k == key) return v.get();
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const YamlNode>> ParseYamlSubset(absl::string_view text) {
  auto lines = SplitLines(text);
  if (!lines.ok()) return lines.status();
  return Parser(*std::move(lines)).ParseDocument();
}

}  // namespace rinha::contest
