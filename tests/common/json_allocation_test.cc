// Checks that parsing the hot path's small objects never touches the heap. This binary replaces
// the global allocation functions with counting ones, so it is kept apart from other tests.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "common/json.h"
#include "gtest/gtest.h"

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace rinha {
namespace {

long AllocationsDuringParse(const std::string& text) {
  int members = 0;
  const long before = allocations.load();
  absl::Status status = ParseJsonObject(text, [&](std::string_view, const JsonValue&) {
    ++members;
    return absl::OkStatus();
  });
  const long after = allocations.load();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_GT(members, 0);
  return after - before;
}

TEST(ParseJsonObject, AllocatesNothingForThePaymentBody) {
  EXPECT_EQ(AllocationsDuringParse(
                R"({"correlationId": "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", "amount": 19.90})"),
            0);
}

TEST(ParseJsonObject, AllocatesNothingForSixteenMembersWithNestedValues) {
  std::string text = "{";
  for (int i = 0; i < 16; ++i) {
    text += (i ? ",\"key" : "\"key") + std::to_string(i) + "\":[{\"x\":[1,2,{\"y\":\"z\"}]}]";
  }
  text += "}";
  EXPECT_EQ(AllocationsDuringParse(text), 0);
}

TEST(JsonWriter, AllocatesNothingWritingTheProcessorRequestIntoReservedSpace) {
  std::string out;
  out.reserve(256);
  const long before = allocations.load();
  JsonWriter(&out)
      .BeginObject()
      .Key("correlationId")
      .String("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3")
      .Key("amount")
      .Cents(2005)
      .Key("requestedAt")
      .IsoMillis(1'752'582'896'000)
      .EndObject();
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(out, R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,)"
                 R"("requestedAt":"2025-07-15T12:34:56.000Z"})");
}

TEST(ParseJsonObject, CountingAllocatorSeesEscapedStrings) {
  // Guards the test itself: an unescaped long string needs storage, so the counter must move.
  EXPECT_GT(AllocationsDuringParse(
                R"({"a":"\u00e9 a string long enough to leave the small string buffer"})"),
            0);
}

}  // namespace
}  // namespace rinha
