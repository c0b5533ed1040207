#include "processor/fault.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rinha::processor {
namespace {

TEST(FaultTest, EveryModeParsesWithItsDefaultsAndWritesBackTheSameJson) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"mode":"none"})", R"({"mode":"none"})"},
      {R"({"mode":"reset"})", R"({"mode":"reset","probability":1})"},
      {R"({"mode":"garbage","probability":0.25})", R"({"mode":"garbage","probability":0.25})"},
      {R"({"mode":"truncated"})", R"({"mode":"truncated","probability":1})"},
      {R"({"mode":"slow_headers"})",
       R"({"mode":"slow_headers","probability":1,"interval_ms":100})"},
      {R"({"interval_ms":5,"mode":"slow_headers"})",
       R"({"mode":"slow_headers","probability":1,"interval_ms":5})"},
      {R"({"mode":"429","probability":0})", R"({"mode":"429","probability":0})"},
      {R"({"mode":"refuse","duration_ms":3000})", R"({"mode":"refuse","duration_ms":3000})"},
      {R"({"mode":"store_then_500"})", R"({"mode":"store_then_500","probability":1})"},
      {R"({"mode":"lookups_503"})", R"({"mode":"lookups_503","probability":1})"}};
  for (const auto& [json, written] : cases) {
    absl::StatusOr<Fault> fault = ParseFault(json);
    ASSERT_TRUE(fault.ok()) << json << ": " << fault.status();
    EXPECT_EQ(FaultJson(*fault), written) << json;
    absl::StatusOr<Fault> again = ParseFault(written);
    ASSERT_TRUE(again.ok()) << written;
    EXPECT_EQ(FaultJson(*again), written);
  }
  EXPECT_EQ(ParseFault(R"({"mode":"slow_headers","interval_ms":7})")->interval,
            absl::Milliseconds(7));
  EXPECT_EQ(ParseFault(R"({"mode":"refuse","duration_ms":3000})")->duration, absl::Seconds(3));
  EXPECT_EQ(ParseFault(R"({"mode":"429","probability":0.5})")->probability, 0.5);
}

TEST(FaultTest, UnknownModesMisplacedMembersAndOutOfRangeValuesAreRejected) {
  for (const char* json : {
           "",
           "{}",
           R"({"mode":"explode"})",
           R"({"mode":429})",
           R"({"mode":"RESET"})",
           R"({"mode":"reset","probabilty":0.5})",
           R"({"mode":"reset","probability":1.5})",
           R"({"mode":"reset","probability":-0.1})",
           R"({"mode":"reset","probability":"0.5"})",
           R"({"mode":"reset","interval_ms":10})",
           R"({"mode":"none","probability":1})",
           R"({"mode":"slow_headers","interval_ms":0})",
           R"({"mode":"slow_headers","interval_ms":60001})",
           R"({"mode":"slow_headers","interval_ms":2.5})",
           R"({"mode":"refuse"})",
           R"({"mode":"refuse","duration_ms":0})",
           R"({"mode":"refuse","duration_ms":3600001})",
           R"({"mode":"refuse","duration_ms":100,"probability":0.5})",
           R"({"mode":"garbage","duration_ms":100})",
       }) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseFault(json).status())) << json;
  }
}

TEST(FaultTest, ValidateFaultChecksFaultsBuiltInCode) {
  EXPECT_TRUE(ValidateFault({}).ok());
  EXPECT_FALSE(ValidateFault({.mode = FaultMode::kReset, .probability = 2}).ok());
  EXPECT_FALSE(ValidateFault({.mode = FaultMode::kRefuse}).ok());  // no duration
  EXPECT_TRUE(ValidateFault({.mode = FaultMode::kRefuse, .duration = absl::Seconds(1)}).ok());
}

TEST(FaultTest, DrawFaultHonoursItsBoundsAndMixesInBetween) {
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(DrawFault(1.0));
    EXPECT_FALSE(DrawFault(0.0));
    hits += DrawFault(0.5) ? 1 : 0;
  }
  // Both outcomes appear (a miss is a 2^-1000 event, not a flake).
  EXPECT_GT(hits, 0);
  EXPECT_LT(hits, 1000);
}

}  // namespace
}  // namespace rinha::processor
