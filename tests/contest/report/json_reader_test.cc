#include "contest/report/json_reader.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

using ::testing::HasSubstr;

Json ParseOrDie(absl::string_view text) {
  absl::StatusOr<Json> json = ParseJson(text);
  EXPECT_TRUE(json.ok()) << json.status() << " for " << text;
  return json.ok() ? *std::move(json) : Json();
}

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<Json> json = ParseJson(text);
  EXPECT_FALSE(json.ok()) << "accepted: " << text;
  return json.ok() ? "" : std::string(json.status().message());
}

TEST(JsonReaderTest, ReadsScalarsAtTopLevel) {
  EXPECT_TRUE(ParseOrDie("null").is_null());
  EXPECT_TRUE(ParseOrDie(" true ").bool_value());
  EXPECT_FALSE(ParseOrDie("false").bool_value());
  EXPECT_TRUE(ParseOrDie("false").is_bool());
  EXPECT_EQ(ParseOrDie("\"x\"").string(), "x");
  EXPECT_EQ(ParseOrDie("\t\r\n42\n").number(), 42);
}

TEST(JsonReaderTest, ReadsNestedObjectsAndArraysInSourceOrder) {
  const Json json = ParseOrDie(
      R"({"series": [{"t_s": 1, "p50_ms": null}, {"t_s": 2}], "b": {"c": [[], {}]}, "a": 1})");
  ASSERT_TRUE(json.is_object());
  ASSERT_EQ(json.members().size(), 3u);
  EXPECT_EQ(json.members()[0].key, "series");
  EXPECT_EQ(json.members()[2].key, "a");
  const Json* series = json.Find("series");
  ASSERT_NE(series, nullptr);
  ASSERT_TRUE(series->is_array());
  ASSERT_EQ(series->items().size(), 2u);
  EXPECT_EQ(series->items()[1].Find("t_s")->number(), 2);
  EXPECT_TRUE(series->items()[0].Find("p50_ms")->is_null());
  EXPECT_EQ(series->items()[0].Find("absent"), nullptr);
  const Json* c = json.Find("b")->Find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->items()[0].is_array());
  EXPECT_TRUE(c->items()[1].is_object());
  EXPECT_EQ(json.Find("a")->Find("x"), nullptr);  // not an object
}

TEST(JsonReaderTest, ReadsNumbersOfEveryShape) {
  EXPECT_EQ(ParseOrDie("0").number(), 0);
  EXPECT_EQ(ParseOrDie("-0").number(), 0);
  EXPECT_EQ(ParseOrDie("-12").number(), -12);
  EXPECT_DOUBLE_EQ(ParseOrDie("2.55").number(), 2.55);
  EXPECT_DOUBLE_EQ(ParseOrDie("1e3").number(), 1000);
  EXPECT_DOUBLE_EQ(ParseOrDie("1E+3").number(), 1000);
  EXPECT_DOUBLE_EQ(ParseOrDie("-2.5e-3").number(), -0.0025);
  EXPECT_EQ(ParseOrDie("1795636800000").number(), 1795636800000.0);
  // Underflow is a tiny number, not an error.
  EXPECT_EQ(ParseOrDie("1e-999").number(), 0);
  EXPECT_EQ(ParseOrDie(absl::StrCat("0.", std::string(400, '0'), "1")).number(), 0);
}

TEST(JsonReaderTest, RejectsMalformedNumbers) {
  for (const char* text : {"01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "1.2.3", "--1", "NaN",
                           "Infinity", "-Infinity"}) {
    EXPECT_FALSE(ParseJson(text).ok()) << text;
  }
  EXPECT_THAT(ErrorOf("1e999"), HasSubstr("out of range"));
  EXPECT_THAT(ErrorOf("-1e999"), HasSubstr("out of range"));
}

TEST(JsonReaderTest, UnescapesStrings) {
  EXPECT_EQ(ParseOrDie(R"("a\"b\\c\/d\b\f\n\r\t")").string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(ParseOrDie(R"("\u00e9\u20AC")").string(), "\xC3\xA9\xE2\x82\xAC");  // é €
  EXPECT_EQ(ParseOrDie(R"("\ud83d\ude00")").string(), "\xF0\x9F\x98\x80");      // U+1F600
  EXPECT_EQ(ParseOrDie(R"("\u0000")").string(), std::string(1, '\0'));
  EXPECT_EQ(ParseOrDie("\"Inconsistências\"").string(), "Inconsistências");  // raw UTF-8
}

TEST(JsonReaderTest, RejectsBadStrings) {
  EXPECT_THAT(ErrorOf(R"("\x")"), HasSubstr("invalid escape"));
  EXPECT_THAT(ErrorOf(R"("\u12")"), HasSubstr("\\u"));
  EXPECT_THAT(ErrorOf(R"("\u12G4")"), HasSubstr("hex"));
  EXPECT_THAT(ErrorOf(R"("\ud83d")"), HasSubstr("lone high surrogate"));
  EXPECT_THAT(ErrorOf(R"("\ud83d\u0041")"), HasSubstr("lone high surrogate"));
  EXPECT_THAT(ErrorOf(R"("\ude00")"), HasSubstr("lone low surrogate"));
  EXPECT_THAT(ErrorOf("\"a\nb\""), HasSubstr("control character"));
  EXPECT_THAT(ErrorOf("\"abc"), HasSubstr("unterminated string"));
  EXPECT_THAT(ErrorOf("\"\\"), HasSubstr("unterminated"));
  // Invalid UTF-8: a lone continuation byte, an overlong '/', a UTF-8 surrogate, a truncated
  // sequence, a code point above U+10FFFF.
  for (const char* text : {"\"\x80\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xE2\x82\"",
                           "\"\xF4\x90\x80\x80\"", "\"\xFF\""}) {
    EXPECT_THAT(ErrorOf(text), HasSubstr("UTF-8")) << text;
  }
}

TEST(JsonReaderTest, RejectsMalformedStructure) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("unexpected end"));
  EXPECT_THAT(ErrorOf("   "), HasSubstr("unexpected end"));
  EXPECT_THAT(ErrorOf("{} {}"), HasSubstr("trailing"));
  EXPECT_THAT(ErrorOf("[1,]"), HasSubstr("expected a value"));
  EXPECT_THAT(ErrorOf(R"({"a":1,})"), HasSubstr("expected a string key"));
  EXPECT_THAT(ErrorOf(R"({"a" 1})"), HasSubstr("':'"));
  EXPECT_THAT(ErrorOf(R"({"a":1 "b":2})"), HasSubstr("',' or '}'"));
  EXPECT_THAT(ErrorOf("[1 2]"), HasSubstr("',' or ']'"));
  EXPECT_THAT(ErrorOf("[1"), HasSubstr("unterminated array"));
  EXPECT_THAT(ErrorOf(R"({"a":1)"), HasSubstr("unterminated object"));
  EXPECT_THAT(ErrorOf("{a:1}"), HasSubstr("expected a string key"));
  EXPECT_THAT(ErrorOf("tru"), HasSubstr("invalid literal"));
  EXPECT_THAT(ErrorOf("nul"), HasSubstr("invalid literal"));
  EXPECT_THAT(ErrorOf("'a'"), HasSubstr("unexpected character"));
  EXPECT_THAT(ErrorOf("\xEF\xBB\xBF{}"), HasSubstr("unexpected character"));  // BOM
}

TEST(JsonReaderTest, ErrorsGiveTheByteOffset) {
  EXPECT_THAT(ErrorOf("[1, 2, x]"), HasSubstr("byte 7"));
}

TEST(JsonReaderTest, RejectsDuplicateKeysAfterUnescaping) {
  EXPECT_THAT(ErrorOf(R"({"a":1,"a":2})"), HasSubstr("duplicate key \"a\""));
  EXPECT_THAT(ErrorOf(R"({"a":1,"\u0061":2})"), HasSubstr("duplicate key"));
  // The same key in sibling objects is fine.
  EXPECT_TRUE(ParseJson(R"([{"a":1},{"a":2}])").ok());
}

TEST(JsonReaderTest, LimitsNestingDepth) {
  const auto nested = [](int depth) {
    return absl::StrCat(std::string(depth, '['), std::string(depth, ']'));
  };
  EXPECT_TRUE(ParseJson(nested(kJsonReaderMaxDepth)).ok());
  EXPECT_THAT(ErrorOf(nested(kJsonReaderMaxDepth + 1)), HasSubstr("nesting too deep"));
  std::string objects;
  for (int i = 0; i < kJsonReaderMaxDepth + 1; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kJsonReaderMaxDepth + 1, '}');
  EXPECT_THAT(ErrorOf(objects), HasSubstr("nesting too deep"));
  // Far deeper input fails cleanly too (no stack exhaustion).
  EXPECT_FALSE(ParseJson(std::string(100000, '[')).ok());
}

}  // namespace
}  // namespace rinha::report
