// The YAML subset compose files use (block maps and lists by indentation, flow lists and maps,
// quoted and plain scalars, comments, anchors `&a`, aliases `*a` and merge keys `<<: *a`), read
// into a small tree. Enough for compose_limits; not a general YAML parser (no multi-document
// streams, block scalars `|`/`>`, tags or complex keys: those are reported as errors).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rinha::contest {

struct YamlNode {
  enum class Kind { kNull, kScalar, kMap, kList };
  Kind kind = Kind::kNull;
  std::string scalar;  // kScalar: the text with quotes removed and escapes resolved
  std::vector<std::pair<std::string, std::shared_ptr<const YamlNode>>> map;  // in file order
  std::vector<std::shared_ptr<const YamlNode>> list;

  // kMap: the value of `key`, or nullptr when absent (or when this is not a map).
  const YamlNode* Find(absl::string_view key) const;
};

// Parses one YAML document. Errors name the 1-based line.
absl::StatusOr<std::shared_ptr<const YamlNode>> ParseYamlSubset(absl::string_view text);

}  // namespace rinha::contest
