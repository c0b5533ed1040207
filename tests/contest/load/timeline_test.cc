#include "contest/load/timeline.h"

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

std::vector<int64_t> Starts(const std::vector<Stage>& stages) {
  std::vector<int64_t> out;
  for (const Stage& s : stages) out.push_back(s.from_ms);
  return out;
}

TEST(TimelineTest, FinalIsTheContestTable) {
  absl::StatusOr<std::vector<Stage>> t = TimelineByName("final", 300);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 10u);
  EXPECT_EQ(Starts(*t), (std::vector<int64_t>{1000, 30000, 60000, 90000, 120000, 150000, 180000,
                                              210000, 240000, 270000}));
  const int default_delays[] = {0, 1000, 500, 2000, 5000, 0, 100, 50, 103, 2000};
  const bool default_failing[] = {false, false, false, true,  true,
                                  false, false, false, false, false};
  const int fallback_delays[] = {0, 0, 0, 1000, 5, 5, 5, 0, 10, 0};
  const bool fallback_failing[] = {false, false, false, false, false,
                                   true,  false, false, false, false};
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ((*t)[i].default_delay_ms, default_delays[i]) << i;
    EXPECT_EQ((*t)[i].default_failing, default_failing[i]) << i;
    EXPECT_EQ((*t)[i].fallback_delay_ms, fallback_delays[i]) << i;
    EXPECT_EQ((*t)[i].fallback_failing, fallback_failing[i]) << i;
  }
  EXPECT_EQ((*t)[0].to_ms, 30000);
  EXPECT_EQ((*t)[9].to_ms, 300000);
}

TEST(TimelineTest, PreviewIsTheContestTable) {
  absl::StatusOr<std::vector<Stage>> t = TimelineByName("preview", 60);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Starts(*t), (std::vector<int64_t>{1000, 10000, 20000, 30000, 40000, 50000}));
  EXPECT_EQ((*t)[1].default_delay_ms, 100);
  EXPECT_FALSE((*t)[1].default_failing);
  EXPECT_TRUE((*t)[2].default_failing);
  EXPECT_EQ((*t)[3].default_delay_ms, 2000);
  EXPECT_EQ((*t)[3].fallback_delay_ms, 1000);
  EXPECT_TRUE((*t)[3].fallback_failing);
  EXPECT_EQ((*t)[4].default_delay_ms, 20);
  EXPECT_EQ((*t)[4].fallback_delay_ms, 20);
  EXPECT_EQ((*t)[5].default_delay_ms, 0);
  EXPECT_EQ((*t)[5].fallback_delay_ms, 5000);
  EXPECT_EQ((*t)[5].to_ms, 60000);
}

TEST(TimelineTest, ReverseKeepsTheTimesAndReversesTheConfigurations) {
  absl::StatusOr<std::vector<Stage>> final_t = TimelineByName("final", 300);
  absl::StatusOr<std::vector<Stage>> rev = TimelineByName("reverse", 300);
  ASSERT_TRUE(final_t.ok() && rev.ok());
  ASSERT_EQ(rev->size(), final_t->size());
  EXPECT_EQ(Starts(*rev), Starts(*final_t));
  for (size_t i = 0; i < rev->size(); ++i) {
    const Stage& r = (*rev)[i];
    const Stage& f = (*final_t)[final_t->size() - 1 - i];
    EXPECT_EQ(r.default_delay_ms, f.default_delay_ms) << i;
    EXPECT_EQ(r.default_failing, f.default_failing) << i;
    EXPECT_EQ(r.fallback_delay_ms, f.fallback_delay_ms) << i;
    EXPECT_EQ(r.fallback_failing, f.fallback_failing) << i;
  }
  EXPECT_EQ((*rev)[0].default_delay_ms, 2000);
}

TEST(TimelineTest, BothFailHasTwentySecondsOfBothFailingThenRecovery) {
  absl::StatusOr<std::vector<Stage>> t = TimelineByName("both-fail", 300);
  ASSERT_TRUE(t.ok());
  ASSERT_GE(t->size(), 4u);
  const Stage& both = (*t)[1];
  EXPECT_TRUE(both.default_failing && both.fallback_failing);
  EXPECT_EQ(both.to_ms - both.from_ms, 20000);
  EXPECT_GT((*t)[2].default_delay_ms, 1500);  // default slower than the client timeout
  EXPECT_FALSE((*t)[2].default_failing || (*t)[2].fallback_failing);
  const Stage& last = t->back();
  EXPECT_FALSE(last.default_failing || last.fallback_failing);
  EXPECT_EQ(last.default_delay_ms + last.fallback_delay_ms, 0);
}

TEST(TimelineTest, FaultsHasASlowDefaultThenBothFailingThenDefaultFailingThenRecovery) {
  absl::StatusOr<std::vector<Stage>> t = TimelineByName("faults", 30);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 5u);
  EXPECT_EQ((*t)[1].from_ms, 5000);
  EXPECT_EQ((*t)[1].default_delay_ms, 800);
  EXPECT_FALSE((*t)[1].default_failing || (*t)[1].fallback_failing);
  EXPECT_EQ((*t)[2].from_ms, 12500);
  EXPECT_TRUE((*t)[2].default_failing && (*t)[2].fallback_failing);
  EXPECT_EQ((*t)[3].from_ms, 17500);
  EXPECT_TRUE((*t)[3].default_failing);
  EXPECT_FALSE((*t)[3].fallback_failing);
  EXPECT_EQ((*t)[4].from_ms, 22500);
  EXPECT_FALSE((*t)[4].default_failing || (*t)[4].fallback_failing);
}

TEST(TimelineTest, StagesScaleWithTheDuration) {
  absl::StatusOr<std::vector<Stage>> t = TimelineByName("final", 30);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Starts(*t), (std::vector<int64_t>{100, 3000, 6000, 9000, 12000, 15000, 18000, 21000,
                                              24000, 27000}));
  EXPECT_EQ(t->back().to_ms, 30000);
  absl::StatusOr<std::vector<Stage>> p = TimelineByName("preview", 6);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Starts(*p), (std::vector<int64_t>{100, 1000, 2000, 3000, 4000, 5000}));
  absl::StatusOr<std::vector<Stage>> odd = TimelineByName("final", 4);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ((*odd)[0].from_ms, 13);  // 1 s x 4/300 = 13.3 ms
  EXPECT_EQ((*odd)[9].from_ms, 3600);
}

TEST(TimelineTest, NoneAndUnknownNames) {
  absl::StatusOr<std::vector<Stage>> none = TimelineByName("none", 300);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(TimelineByName("chaos", 300).ok());
  EXPECT_FALSE(TimelineByName("final", 0).ok());
}

TEST(TestShapeTest, FinalAndPreview) {
  absl::StatusOr<TestShape> f = TestShapeByName("final");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->duration_s, 300);
  EXPECT_EQ(f->max_vus, 603);
  EXPECT_EQ(f->amount_cents, 2005);
  absl::StatusOr<TestShape> p = TestShapeByName("preview");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->duration_s, 60);
  EXPECT_EQ(p->max_vus, 550);
  EXPECT_EQ(p->amount_cents, 1990);
  EXPECT_FALSE(TestShapeByName("smoke").ok());
}

TEST(VuRampTest, LinearFromOneToMaxLikeK6) {
  EXPECT_EQ(VusAt(0, 300000, 603), 1);
  EXPECT_EQ(VusAt(498, 300000, 603), 1);  // VU 2 starts at 300 s / 602 = 498.3 ms
  EXPECT_EQ(VusAt(499, 300000, 603), 2);
  EXPECT_EQ(VusAt(150000, 300000, 603), 302);
  EXPECT_EQ(VusAt(299999, 300000, 603), 602);
  EXPECT_EQ(VusAt(300000, 300000, 603), 603);
  EXPECT_EQ(VusAt(400000, 300000, 603), 603);
  EXPECT_EQ(VusAt(30000, 60000, 550), 275);
  EXPECT_EQ(VusAt(1000, 4000, 1), 1);
}

TEST(VuRampTest, RampTimeIsTheFirstMillisecondWithThatManyVus) {
  for (int vus : {1, 2, 3, 100, 302, 602, 603}) {
    const int64_t t = RampTimeOfVu(vus, 300000, 603);
    EXPECT_EQ(VusAt(t, 300000, 603), vus) << vus;
    if (t > 0) {
      EXPECT_EQ(VusAt(t - 1, 300000, 603), vus - 1) << vus;
    }
  }
}

}  // namespace
}  // namespace rinha::contest
