#include "contest/runner/yaml_subset.h"

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

const YamlNode& At(const YamlNode& node, const char* key) {
  const YamlNode* child = node.Find(key);
  EXPECT_NE(child, nullptr) << key;
  static const YamlNode kNull;
  return child == nullptr ? kNull : *child;
}

TEST(YamlSubsetTest, ReadsNestedMapsListsAndScalars) {
  auto doc = ParseYamlSubset(R"(# leading comment
top:
  plain: hello world   # trailing comment
  double: "a \"quoted\" # not a comment"
  single: 'it''s'
  number: 0.35
  list:
    - one
    - "two"
  same_indent_list:
  - x
  - key: v
    other: w
  flow: ["edge", "--listen=0.0.0.0:8080",
         "--router=unix:/run/rinha/router.sock"]
  flow_map: {a: 1, "b": two}
  empty:
)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const YamlNode& top = At(**doc, "top");
  EXPECT_EQ(At(top, "plain").scalar, "hello world");
  EXPECT_EQ(At(top, "double").scalar, "a \"quoted\" # not a comment");
  EXPECT_EQ(At(top, "single").scalar, "it's");
  EXPECT_EQ(At(top, "number").scalar, "0.35");
  ASSERT_EQ(At(top, "list").list.size(), 2u);
  EXPECT_EQ(At(top, "list").list[1]->scalar, "two");
  const YamlNode& same = At(top, "same_indent_list");
  ASSERT_EQ(same.list.size(), 2u);
  EXPECT_EQ(same.list[0]->scalar, "x");
  EXPECT_EQ(At(*same.list[1], "other").scalar, "w");
  const YamlNode& flow = At(top, "flow");
  ASSERT_EQ(flow.list.size(), 3u);
  EXPECT_EQ(flow.list[2]->scalar, "--router=unix:/run/rinha/router.sock");
  EXPECT_EQ(At(At(top, "flow_map"), "b").scalar, "two");
  EXPECT_EQ(At(top, "empty").kind, YamlNode::Kind::kNull);
}

TEST(YamlSubsetTest, MergeKeyCopiesAnchoredMapAndExplicitKeysWin) {
  auto doc = ParseYamlSubset(R"(
base: &base
  image: app
  deploy:
    cpus: "0.5"
copy:
  <<: *base
  image: other
alias: *base
)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const YamlNode& copy = At(**doc, "copy");
  EXPECT_EQ(At(copy, "image").scalar, "other");
  EXPECT_EQ(At(At(copy, "deploy"), "cpus").scalar, "0.5");
  EXPECT_EQ(At(At(**doc, "alias"), "image").scalar, "app");
}

TEST(YamlSubsetTest, EscapesInDoubleQuotes) {
  auto doc = ParseYamlSubset(R"(test: ["CMD", "printf 'GET / HTTP/1.0\\r\\n' >&3", "\u00e9\x41"])");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const YamlNode& test = At(**doc, "test");
  ASSERT_EQ(test.list.size(), 3u);
  EXPECT_EQ(test.list[1]->scalar, "printf 'GET / HTTP/1.0\\r\\n' >&3");
  EXPECT_EQ(test.list[2]->scalar,
            "\xc3\xa9"
            "A");
}

TEST(YamlSubsetTest, ErrorsNameTheLine) {
  auto unknown_alias = ParseYamlSubset("a: 1\nb: *missing\n");
  ASSERT_FALSE(unknown_alias.ok());
  EXPECT_NE(unknown_alias.status().message().find("line 2"), absl::string_view::npos);
  EXPECT_FALSE(ParseYamlSubset("a:\n  b: 1\n    c: 2\n").ok());
  EXPECT_FALSE(ParseYamlSubset("a: [1, 2\n").ok());
  EXPECT_FALSE(ParseYamlSubset("a: |\n  text\n").ok());
  EXPECT_FALSE(ParseYamlSubset("a: 1\na: 2\n").ok());
  EXPECT_FALSE(ParseYamlSubset("just text\n").ok());
}

}  // namespace
}  // namespace rinha::contest
