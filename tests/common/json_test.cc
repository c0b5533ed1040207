#include "common/json.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha {
namespace {

using ::testing::HasSubstr;

struct Member {
  std::string key;
  JsonType type;
  std::string raw;
  std::string string;

  bool operator==(const Member& other) const {
    return key == other.key && type == other.type && raw == other.raw && string == other.string;
  }
};

std::ostream& operator<<(std::ostream& os, const Member& m) {
  return os << "{key=" << m.key << " type=" << static_cast<int>(m.type) << " raw=" << m.raw
            << " string=" << m.string << "}";
}

absl::StatusOr<std::vector<Member>> Collect(std::string_view text) {
  std::vector<Member> members;
  absl::Status status = ParseJsonObject(text, [&](std::string_view key, const JsonValue& value) {
    members.push_back(
        {std::string(key), value.type, std::string(value.raw), std::string(value.string)});
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return members;
}

std::vector<Member> Valid(std::string_view text) {
  absl::StatusOr<std::vector<Member>> members = Collect(text);
  EXPECT_TRUE(members.ok()) << text << ": " << members.status();
  return members.ok() ? *members : std::vector<Member>{};
}

bool Invalid(std::string_view text) {
  return Collect(text).status().code() == absl::StatusCode::kInvalidArgument;
}

std::string Nested(int depth_inside_top_level, char open) {
  const char close = open == '[' ? ']' : '}';
  std::string text = "{\"a\":";
  for (int i = 0; i < depth_inside_top_level; ++i) text += open == '[' ? "[" : "{\"k\":";
  text += "1";
  for (int i = 0; i < depth_inside_top_level; ++i) text += close;
  text += "}";
  return text;
}

// ---------------------------------------------------------------------------------------------
// Valid documents.

TEST(ParseJsonObject, ReadsThePaymentBody) {
  const std::vector<Member> members =
      Valid(R"({"correlationId": "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", "amount": 19.90})");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0],
            (Member{"correlationId", JsonType::kString, "\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"",
                    "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3"}));
  EXPECT_EQ(members[1], (Member{"amount", JsonType::kNumber, "19.90", ""}));
}

TEST(ParseJsonObject, AcceptsEmptyObjectsAndJsonWhitespace) {
  EXPECT_TRUE(Valid("{}").empty());
  EXPECT_TRUE(Valid(" \t\r\n{ \t\r\n} \t\r\n").empty());
  const std::vector<Member> members = Valid("\n{\n\t\"a\"\r\n:\t1 ,\n \"b\" :\"x\"\n}\n");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].raw, "1");
  EXPECT_EQ(members[1].string, "x");
}

TEST(ParseJsonObject, ReportsEveryValueTypeWithItsExactSourceText) {
  const std::vector<Member> members = Valid(
      R"({"s":"x","n":-1.5e+3,"t":true,"f":false,"z":null,"o":{ "k" : [1, {}] },"a":[ ],"e":""})");
  ASSERT_EQ(members.size(), 8u);
  EXPECT_EQ(members[0], (Member{"s", JsonType::kString, "\"x\"", "x"}));
  EXPECT_EQ(members[1], (Member{"n", JsonType::kNumber, "-1.5e+3", ""}));
  EXPECT_EQ(members[2], (Member{"t", JsonType::kTrue, "true", ""}));
  EXPECT_EQ(members[3], (Member{"f", JsonType::kFalse, "false", ""}));
  EXPECT_EQ(members[4], (Member{"z", JsonType::kNull, "null", ""}));
  EXPECT_EQ(members[5], (Member{"o", JsonType::kObject, R"({ "k" : [1, {}] })", ""}));
  EXPECT_EQ(members[6], (Member{"a", JsonType::kArray, "[ ]", ""}));
  EXPECT_EQ(members[7], (Member{"e", JsonType::kString, "\"\"", ""}));
}

TEST(ParseJsonObject, AcceptsEveryNumberShapeOfTheGrammar) {
  for (const char* number : {"0", "-0", "1", "-1", "10", "1234567890", "0.5", "-0.0", "1.25", "1e5",
                             "1E5", "1e+5", "1e-5", "1.5e10", "0e0", "-0.0E-0", "2005e-2",
                             "123456789012345678901234567890", "1e999999999999999999999"}) {
    const std::vector<Member> members = Valid(std::string("{\"n\":") + number + "}");
    ASSERT_EQ(members.size(), 1u) << number;
    EXPECT_EQ(members[0].type, JsonType::kNumber);
    EXPECT_EQ(members[0].raw, number);
  }
}

TEST(ParseJsonObject, UnescapesStringValuesAndKeys) {
  const std::vector<Member> members = Valid(
      R"({"q":"\"\\\/\b\f\n\r\t","e":"caf\u00e9 \u20AC","p":"\uD83D\uDE00","k\nk":"\u0041"})");
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[0].string, "\"\\/\b\f\n\r\t");
  EXPECT_EQ(members[1].string, "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(members[2].string, "\xf0\x9f\x98\x80");
  EXPECT_EQ(members[3].key, "k\nk");
  EXPECT_EQ(members[3].string, "A");
  EXPECT_EQ(members[3].raw, R"("\u0041")");
}

TEST(ParseJsonObject, UnescapesTheWholeUnicodeRange) {
  EXPECT_EQ(Valid(R"({"a":"\u0000"})")[0].string, std::string("\0", 1));
  EXPECT_EQ(Valid(R"({"a":"\u007f\u0080"})")[0].string, "\x7f\xc2\x80");
  EXPECT_EQ(Valid(R"({"a":"\u07FF\u0800"})")[0].string, "\xdf\xbf\xe0\xa0\x80");
  EXPECT_EQ(Valid(R"({"a":"\uFFFF"})")[0].string, "\xef\xbf\xbf");
  EXPECT_EQ(Valid(R"({"a":"\uD800\uDC00"})")[0].string, "\xf0\x90\x80\x80");
  EXPECT_EQ(Valid(R"({"a":"\uDBFF\uDFFF"})")[0].string, "\xf4\x8f\xbf\xbf");
  EXPECT_EQ(Valid(R"({"a":"x\uD83D\uDE00y\\z"})")[0].string, "x\xf0\x9f\x98\x80y\\z");
}

TEST(ParseJsonObject, PassesUnescapedStringsAsViewsIntoTheText) {
  const std::string text = R"({"id":"abc"})";
  ASSERT_TRUE(ParseJsonObject(text, [&](std::string_view key, const JsonValue& value) {
                EXPECT_EQ(key.data(), text.data() + 2);
                EXPECT_EQ(value.raw.data(), text.data() + 6);
                EXPECT_EQ(value.string.data(), text.data() + 7);
                return absl::OkStatus();
              }).ok());
}

TEST(ParseJsonObject, AcceptsValidUtf8InStrings) {
  const std::string text =
      "{\"\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80 \xed\x9f\xbf \xee\x80\x80 "
      "\xf4\x8f\xbf\xbf \x7f\"}";
  const std::vector<Member> members = Valid(text);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].key, "\xc3\xa9");
  EXPECT_EQ(members[0].string,
            "\xe2\x82\xac \xf0\x9f\x98\x80 \xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf \x7f");
}

TEST(ParseJsonObject, VisitsManyMembersInSourceOrder) {
  std::string text = "{";
  for (int i = 0; i < 100; ++i)
    text += (i ? "," : "") + ("\"k" + std::to_string(i) + "\":" + std::to_string(i));
  text += "}";
  const std::vector<Member> members = Valid(text);
  ASSERT_EQ(members.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(members[static_cast<size_t>(i)].key, "k" + std::to_string(i));
    EXPECT_EQ(members[static_cast<size_t>(i)].raw, std::to_string(i));
  }
}

TEST(ParseJsonObject, AllowsRepeatedKeysInsideNestedObjects) {
  EXPECT_EQ(Valid(R"({"a":{"x":1,"x":2},"b":[{"x":1,"x":1}]})").size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Nesting.

TEST(ParseJsonObject, AcceptsNestingUpToTheDepthLimit) {
  for (char open : {'[', '{'}) {
    const std::string text = Nested(kJsonMaxDepth - 1, open);
    const std::vector<Member> members = Valid(text);
    ASSERT_EQ(members.size(), 1u);
    EXPECT_EQ(members[0].raw, text.substr(5, text.size() - 6));
  }
}

TEST(ParseJsonObject, RejectsNestingBeyondTheDepthLimit) {
  for (char open : {'[', '{'}) {
    absl::Status status = Collect(Nested(kJsonMaxDepth, open)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("nesting"));
  }
}

TEST(ParseJsonObject, RejectsAMillionOpenBracketsWithoutRecursing) {
  EXPECT_TRUE(Invalid("{\"a\":" + std::string(1'000'000, '[')));
  std::string objects = "{\"a\":";
  for (int i = 0; i < 200'000; ++i) objects += "{\"a\":";
  EXPECT_TRUE(Invalid(objects));
}

TEST(ParseJsonObject, TracksObjectAndArrayLevelsSeparately) {
  // Alternating containers: each level must close with its own bracket and use its own syntax.
  std::string text = "{\"a\":";
  for (int i = 0; i < 30; ++i) text += i % 2 ? "{\"k\":" : "[0,";
  text += "null";
  for (int i = 29; i >= 0; --i) text += i % 2 ? "}" : "]";
  text += "}";
  EXPECT_EQ(Valid(text).size(), 1u);
  // Swap one closing bracket deep inside.
  std::string wrong = text;
  const size_t pos = wrong.find("null") + 4 + 10;
  wrong[pos] = wrong[pos] == '}' ? ']' : '}';
  EXPECT_TRUE(Invalid(wrong)) << wrong;
  EXPECT_TRUE(Invalid(R"({"a":[1:2]})"));
  EXPECT_TRUE(Invalid(R"({"a":{"k",1}})"));
  EXPECT_TRUE(Invalid(R"({"a":{1:1}})"));
  EXPECT_TRUE(Invalid(R"({"a":[{]}]})"));
  EXPECT_TRUE(Invalid(R"({"a":{"k":[}]})"));
}

// ---------------------------------------------------------------------------------------------
// Malformed documents.

TEST(ParseJsonObject, RejectsEmptyAndNonObjectDocuments) {
  for (const std::string& text : std::vector<std::string>{"",
                                                          " ",
                                                          "\n\t",
                                                          "[]",
                                                          "[{}]",
                                                          "1",
                                                          "\"{}\"",
                                                          "true",
                                                          "null",
                                                          "{",
                                                          "}",
                                                          "{{}}",
                                                          "\"a\":1",
                                                          "x{}",
                                                          "{}x",
                                                          "{} {}",
                                                          "{}}",
                                                          "{}{",
                                                          "{},",
                                                          std::string("{}\0", 3),
                                                          std::string("\0{}", 3),
                                                          "/*c*/{}",
                                                          "{}//c",
                                                          "{}#",
                                                          "\xef\xbb\xbf{}",
                                                          "\v{}",
                                                          "\f{}",
                                                          "{}\v",
                                                          "\xc2\xa0{}",
                                                          "{\xc2\xa0}"}) {
    EXPECT_TRUE(Invalid(text)) << text;
  }
}

TEST(ParseJsonObject, RejectsMalformedMembers) {
  for (const char* text :
       {R"({"a":1,})",      R"({,"a":1})",       R"({"a":1,,"b":2})",  R"({"a" 1})",
        R"({"a"::1})",      R"({"a":})",         R"({"a"})",           R"({"a":1 "b":2})",
        R"({a:1})",         R"({1:1})",          R"({'a':1})",         R"({"a":'x'})",
        R"({"a":1;"b":2})", R"({"a":[1,]})",     R"({"a":[,1]})",      R"({"a":[1 2]})",
        R"({"a":[1,,2]})",  R"({"a":{"b":1,}})", R"({"a":{"b"}})",     R"({"a":{"b":}})",
        R"({"a":1}])",      R"({"a":[}})",       R"({"a":undefined})", R"({"a":+1})",
        R"({null:1})",      R"({"a":1)"}) {
    EXPECT_TRUE(Invalid(text)) << text;
  }
}

TEST(ParseJsonObject, RejectsNumbersOutsideTheGrammar) {
  for (const char* number :
       {"01",        "-01",   "00",    "-",    "+1",  ".5",       "-.5", "1.",
        "1.e5",      "1e",    "1e+",   "1E-",  "--1", "0x10",     "NaN", "Infinity",
        "-Infinity", "1e5.5", "1.5.5", "0.5f", "1_0", "\xd9\xa1", "-a",  "1e+-1"}) {
    EXPECT_TRUE(Invalid(std::string("{\"n\":") + number + "}")) << number;
    EXPECT_TRUE(Invalid(std::string("{\"n\":[") + number + "]}")) << number;
  }
}

TEST(ParseJsonObject, RejectsMisspelledLiterals) {
  for (const char* literal : {"tru", "truee", "True", "TRUE", "fals", "falsey", "nul", "nulll",
                              "NULL", "None", "nil", "t", "f", "n"}) {
    EXPECT_TRUE(Invalid(std::string("{\"v\":") + literal + "}")) << literal;
    EXPECT_TRUE(Invalid(std::string("{\"v\":[") + literal + "]}")) << literal;
  }
}

TEST(ParseJsonObject, RejectsInvalidEscapes) {
  for (const char* text :
       {R"({"a":"\x41"})", R"({"a":"\'"})", R"({"a":"\U0041"})", R"({"a":"\u12"})",
        R"({"a":"\u12G4"})", R"({"a":"\u"})", R"({"a":"\ "})", R"({"a":"\0"})", R"({"a":"\a"})",
        R"({"a":"\v"})", R"({"a":"\)", R"({"a":"\"})", R"({"\q":1})", R"({"a":["\x"]})",
        "{\"a\":\"\\\xc3\xa9\"}"}) {
    EXPECT_TRUE(Invalid(text)) << text;
  }
}

TEST(ParseJsonObject, RejectsLoneSurrogates) {
  for (const char* text :
       {R"({"a":"\uD800"})", R"({"a":"\uDBFF"})", R"({"a":"\uDC00"})", R"({"a":"\uDFFF"})",
        R"({"a":"\uD800\u0041"})", R"({"a":"\uD800\uD800"})", R"({"a":"\uDC00\uD800"})",
        R"({"a":"\uD83Dx"})", R"({"a":"\uD83D\n"})", R"({"a":"\uD83D\u"})",
        R"({"a":"\uD83D\uDE0"})", R"({"\uD800":1})", R"({"a":["\uDE00"]})"}) {
    EXPECT_TRUE(Invalid(text)) << text;
  }
}

TEST(ParseJsonObject, RejectsUnescapedControlCharacters) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string text = std::string("{\"a\":\"x") + static_cast<char>(c) + "\"}";
    EXPECT_TRUE(Invalid(text)) << c;
    const std::string in_key = std::string("{\"") + static_cast<char>(c) + "\":1}";
    EXPECT_TRUE(Invalid(in_key)) << c;
  }
  EXPECT_EQ(Valid("{\"a\":\"\x7f\"}")[0].string, "\x7f");
}

TEST(ParseJsonObject, RejectsInvalidUtf8) {
  for (const char* bytes : {
           "\x80",  // Lone continuation byte.
           "\xbf",
           "\xc0\xaf",          // Overlong '/'.
           "\xc1\xbf",          // Overlong.
           "\xe0\x80\xaf",      // Overlong 3-byte.
           "\xe0\x9f\xbf",      // Overlong 3-byte, highest.
           "\xed\xa0\x80",      // Encoded surrogate U+D800.
           "\xed\xbf\xbf",      // Encoded surrogate U+DFFF.
           "\xf0\x80\x80\xaf",  // Overlong 4-byte.
           "\xf0\x8f\xbf\xbf",  // Overlong 4-byte, highest.
           "\xf4\x90\x80\x80",  // Above U+10FFFF.
           "\xf5\x80\x80\x80",
           "\xf8\x88\x80\x80\x80",
           "\xfe",
           "\xff",
           "\xc3",  // Truncated sequences.
           "\xe2\x82",
           "\xf0\x9f\x98",
           "\xc3\x28",  // Bad continuation.
           "\xe2\x28\xa1",
           "\xe2\x82\x28",
           "\xf0\x28\x8c\xbc",
           "\xf0\x90\x28\xbc",
           "\xf0\x90\x8c\x28",
       }) {
    EXPECT_TRUE(Invalid(std::string("{\"a\":\"") + bytes + "\"}")) << bytes;
    EXPECT_TRUE(Invalid(std::string("{\"") + bytes + "\":1}")) << bytes;
    EXPECT_TRUE(Invalid(std::string("{\"a\":[\"") + bytes + "\"]}")) << bytes;
    EXPECT_TRUE(Invalid(std::string("{\"a\":") + bytes + "}")) << bytes;
  }
}

TEST(ParseJsonObject, RejectsDuplicateTopLevelKeys) {
  EXPECT_THAT(Collect(R"({"a":1,"a":2})").status().message(), HasSubstr("at byte 7: duplicate"));
  EXPECT_TRUE(Invalid(R"({"a":1,"b":2,"a":3})"));
  EXPECT_TRUE(Invalid(R"({"amount":1,"amount":1})"));
  // Compared after unescaping.
  EXPECT_TRUE(Invalid(R"({"a":1,"\u0061":2})"));
  EXPECT_TRUE(Invalid(R"({"\u00e9":1,"\u00E9":2})"));
  EXPECT_TRUE(Invalid("{\"\xc3\xa9\":1,\"\\u00e9\":2}"));
  EXPECT_TRUE(Invalid(R"({"\/":1,"/":2})"));
  EXPECT_TRUE(Invalid(R"({"":1,"":2})"));
  // Distinct keys that only look alike are fine.
  EXPECT_EQ(Valid(R"({"a":1,"A":2,"a ":3,"\u0000":4,"":5})").size(), 5u);
}

TEST(ParseJsonObject, RejectsDuplicatesAmongManyKeys) {
  for (int duplicate_of : {0, 17, 98}) {
    std::string text = "{";
    for (int i = 0; i < 100; ++i)
      text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    text += "\"k" + std::to_string(duplicate_of) + "\":0}";
    absl::Status status = Collect(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << duplicate_of;
    // Reported at the later occurrence: the last member.
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("at byte ", text.rfind(",\"k") + 1)))
        << duplicate_of;
  }
  std::string escaped = "{";
  for (int i = 0; i < 40; ++i) escaped += "\"\\u006b" + std::to_string(i) + "\":1,";
  EXPECT_EQ(Valid(escaped + "\"x\":1}").size(), 41u);
  EXPECT_TRUE(Invalid(escaped + "\"k39\":1}"));
}

TEST(ParseJsonObject, RejectsEveryTruncationOfAValidDocument) {
  const std::string text =
      R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":-20.05e+0,)"
      R"("s":"caf\u00e9 \uD83D\uDE00 \"q\" )"
      "\xe2\x82\xac"
      R"(","t":true,"f":false,)"
      R"("z":null,"o":{"a":[1,2.5,{"b":[]},"x"],"c":{}},"e":[],"n":0})";
  ASSERT_EQ(Valid(text).size(), 9u);
  for (size_t length = 0; length < text.size(); ++length) {
    EXPECT_TRUE(Invalid(text.substr(0, length))) << length << ": " << text.substr(0, length);
  }
}

TEST(ParseJsonObject, RejectsTrailingGarbageOfAnyKind) {
  const std::string text = R"({"a":1})";
  for (const std::string& suffix : std::vector<std::string>{
           ",", "}", "]", "1", "x", "{}", "\"\"", " x", "\n,", std::string("\0", 1), "\x80"}) {
    EXPECT_TRUE(Invalid(text + suffix)) << suffix;
  }
}

TEST(ParseJsonObject, ErrorMessagesSayWhereAndWhy) {
  absl::Status status = Collect(R"({"a":1 "b":2})").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("at byte 7"));
  EXPECT_THAT(status.message(), HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(Collect("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(Collect("{} x").status().message(), HasSubstr("trailing"));
}

// ---------------------------------------------------------------------------------------------
// Visitor contract.

TEST(ParseJsonObject, StopsAtTheFirstVisitorErrorAndReturnsIt) {
  int visits = 0;
  absl::Status status =
      ParseJsonObject(R"({"a":1,"b":2,"c":3})", [&](std::string_view key, const JsonValue&) {
        ++visits;
        if (key == "b") return absl::FailedPreconditionError("no b please");
        return absl::OkStatus();
      });
  EXPECT_EQ(status, absl::FailedPreconditionError("no b please"));
  EXPECT_EQ(visits, 2);
}

TEST(ParseJsonObject, NeverVisitsMembersOfADocumentItRejects) {
  for (const char* text :
       {R"({"a":1,"b":})", R"({"a":1,"a":2})", R"({"a":1} x)", R"({"a":"ok","b":"\uD800"})"}) {
    int visits = 0;
    EXPECT_FALSE(ParseJsonObject(text, [&](std::string_view, const JsonValue&) {
                   ++visits;
                   return absl::OkStatus();
                 }).ok());
    EXPECT_EQ(visits, 0) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// The string grammar alone (what other readers share).

TEST(ScanJsonString, MeasuresAStringUpToItsClosingQuoteAndIgnoresWhatFollows) {
  const JsonStringScan plain = ScanJsonString(R"("abc", "next")");
  EXPECT_EQ(plain.error, JsonStringError::kNone);
  EXPECT_EQ(plain.length, 5u);
  EXPECT_FALSE(plain.escaped);
  const JsonStringScan escaped = ScanJsonString(R"("a\"b\u00e9" tail)");
  EXPECT_EQ(escaped.error, JsonStringError::kNone);
  EXPECT_EQ(escaped.length, 12u);
  EXPECT_TRUE(escaped.escaped);
  EXPECT_EQ(ScanJsonString("\"\xe2\x82\xac\"").length, 5u);  // Raw UTF-8 is not an escape.
  EXPECT_FALSE(ScanJsonString("\"\xe2\x82\xac\"").escaped);
}

TEST(ScanJsonString, NamesEachFaultAndWhereItIs) {
  struct Case {
    const char* text;
    JsonStringError error;
    size_t offset;
  };
  for (const Case& c : std::vector<Case>{
           {R"("abc)", JsonStringError::kUnterminated, 4},
           {R"("ab\)", JsonStringError::kUnterminated, 3},
           {"\"a\nb\"", JsonStringError::kControlCharacter, 2},
           {"\"a\xc3(\"", JsonStringError::kInvalidUtf8, 2},
           {R"("a\x")", JsonStringError::kInvalidEscape, 2},
           {R"("\u12")", JsonStringError::kTruncatedUnicodeEscape, 1},
           {R"("\u12G4")", JsonStringError::kInvalidHexDigit, 1},
           {R"("\uDE00")", JsonStringError::kLoneLowSurrogate, 1},
           {R"("\uD83D")", JsonStringError::kLoneHighSurrogate, 7},
           {R"("\uD83D\u0041")", JsonStringError::kLoneHighSurrogate, 7},
       }) {
    const JsonStringScan scan = ScanJsonString(c.text);
    EXPECT_EQ(scan.error, c.error) << c.text;
    EXPECT_EQ(scan.length, c.offset) << c.text;
  }
}

TEST(ScanJsonString, AcceptsExactlyWhatParseJsonObjectAccepts) {
  const std::vector<std::string> pieces = {"a",       "\\n", "\\u00e9",  "\\uD83D\\uDE00",
                                           "\\uD83D", "\\x", "\xc3\xa9", "\xc3",
                                           "\x01",    "\\",  "\\\\"};
  std::mt19937 rng(7);
  for (int i = 0; i < 2'000; ++i) {
    std::string contents;
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) contents += pieces[rng() % pieces.size()];
    const std::string quoted = "\"" + contents + "\"";
    const JsonStringScan scan = ScanJsonString(quoted);
    const bool accepted = scan.error == JsonStringError::kNone && scan.length == quoted.size();
    EXPECT_EQ(accepted, !Invalid("{\"a\":" + quoted + "}")) << quoted;
  }
}

TEST(UnescapeJsonString, AppendsTheDecodedContents) {
  std::string out = "x";
  UnescapeJsonString(R"(a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00\u0000)", &out);
  EXPECT_EQ(out, std::string("xa\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80") + '\0');
}

// ---------------------------------------------------------------------------------------------
// Writer.

TEST(JsonWriter, WritesThePaymentRequest) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("correlationId")
      .String("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3")
      .Key("amount")
      .Raw("19.90")
      .Key("requestedAt")
      .String("2025-07-15T12:34:56.000Z")
      .EndObject();
  EXPECT_EQ(out, R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":19.90,)"
                 R"("requestedAt":"2025-07-15T12:34:56.000Z"})");
}

TEST(JsonWriter, WritesCentsAndIsoMillisInPlace) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("amount")
      .Cents(2005)
      .Key("requestedAt")
      .IsoMillis(1'752'582'896'007)
      .Key("negative")
      .Cents(-5)
      .EndObject();
  EXPECT_EQ(out, R"({"amount":20.05,"requestedAt":"2025-07-15T12:34:56.007Z","negative":-0.05})");
  const std::vector<Member> members = Valid(out);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].type, JsonType::kNumber);
  EXPECT_EQ(members[1].string, "2025-07-15T12:34:56.007Z");
}

TEST(JsonWriter, WritesNestedObjectsWithCommasBetweenMembers) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  for (const char* name : {"default", "fallback"}) {
    w.Key(name)
        .BeginObject()
        .Key("totalRequests")
        .Int(3)
        .Key("totalAmount")
        .Raw("59.70")
        .EndObject();
  }
  w.Key("ok").Bool(true).Key("bad").Bool(false).Key("e").BeginObject().EndObject();
  w.EndObject();
  EXPECT_EQ(out,
            R"({"default":{"totalRequests":3,"totalAmount":59.70},)"
            R"("fallback":{"totalRequests":3,"totalAmount":59.70},"ok":true,"bad":false,"e":{}})");
  EXPECT_EQ(Valid(out).size(), 5u);
}

TEST(JsonWriter, WritesEmptyObjectsAndAppends) {
  std::string out = "x=";
  JsonWriter(&out).BeginObject().EndObject();
  EXPECT_EQ(out, "x={}");
}

TEST(JsonWriter, WritesInt64Extremes) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("min")
      .Int(std::numeric_limits<int64_t>::min())
      .Key("max")
      .Int(std::numeric_limits<int64_t>::max())
      .Key("z")
      .Int(0)
      .EndObject();
  EXPECT_EQ(out, R"({"min":-9223372036854775808,"max":9223372036854775807,"z":0})");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  JsonWriter(&out).String(std::string("a\"b\\c/\n\r\t\x01\x1f\x7f\0z", 14));
  EXPECT_EQ(out, R"("a\"b\\c/\u000a\u000d\u0009\u0001\u001f)"
                 "\x7f"
                 R"(\u0000z")");
}

TEST(JsonWriter, EscapesKeysToo) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("k\"\n").Int(1).EndObject();
  EXPECT_EQ(out, R"({"k\"\u000a":1})");
  EXPECT_EQ(Valid(out)[0].key, "k\"\n");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
  std::string out;
  JsonWriter(&out).String("\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(out, "\"\xc3\xa9\xf0\x9f\x98\x80\"");
  out.clear();
  JsonWriter(&out).String(
      "a\xff"
      "b\xc3"
      "c\xed\xa0\x80");
  EXPECT_EQ(out,
            "\"a\xef\xbf\xbd"
            "b\xef\xbf\xbd"
            "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(JsonWriter, OutputOfArbitraryBytesAlwaysParsesBack) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 5'000; ++i) {
    std::string key, value;
    for (size_t n = rng() % 20; n > 0; --n) key.push_back(static_cast<char>(rng() % 256));
    for (size_t n = rng() % 20; n > 0; --n) value.push_back(static_cast<char>(rng() % 128));
    std::string out;
    JsonWriter(&out).BeginObject().Key(key).String(value).EndObject();
    absl::StatusOr<std::vector<Member>> members = Collect(out);
    ASSERT_TRUE(members.ok()) << members.status();
    ASSERT_EQ(members->size(), 1u);
    // ASCII values come back byte for byte.
    EXPECT_EQ((*members)[0].string, value);
  }
}

}  // namespace
}  // namespace rinha
