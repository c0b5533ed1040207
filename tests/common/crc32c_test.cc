// CRC-32C against its published check value and incremental use.
#include "common/crc32c.h"

#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, ExtendingEqualsCheckingTheWhole) {
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), Crc32c("123456789"));
}

TEST(Crc32cTest, OneChangedByteChangesTheChecksum) {
  EXPECT_NE(Crc32c("payment-1"), Crc32c("payment-2"));
}

}  // namespace
}  // namespace rinha
