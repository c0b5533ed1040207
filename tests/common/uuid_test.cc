#include "common/uuid.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(CanonicalUuid, KeepsCanonicalText) {
  absl::StatusOr<std::string> uuid = CanonicalUuid("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3");
  ASSERT_TRUE(uuid.ok()) << uuid.status();
  EXPECT_EQ(*uuid, "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3");
}

TEST(CanonicalUuid, LowerCasesHexDigits) {
  absl::StatusOr<std::string> uuid = CanonicalUuid("4A7901B8-7d26-4D9D-AA19-4DC1c7cf60B3");
  ASSERT_TRUE(uuid.ok()) << uuid.status();
  EXPECT_EQ(*uuid, "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3");
  EXPECT_TRUE(IsCanonicalUuid(*uuid));
}

TEST(CanonicalUuid, AcceptsAnyVersionAndTheNilUuid) {
  EXPECT_TRUE(CanonicalUuid("00000000-0000-0000-0000-000000000000").ok());
  EXPECT_TRUE(CanonicalUuid("ffffffff-ffff-ffff-ffff-ffffffffffff").ok());
}

TEST(CanonicalUuid, RejectsEverythingElse) {
  for (const std::string& text : std::vector<std::string>{
           "",
           "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b",     // Short.
           "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b33",   // Long.
           "4a7901b87d264d9daa194dc1c7cf60b3",        // No dashes.
           "4a7901b8-7d264-d9d-aa19-4dc1c7cf60b3",    // Dash moved.
           "4a7901b8_7d26_4d9d_aa19_4dc1c7cf60b3",    // Wrong separator.
           "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60bg",    // Not hex.
           "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b ",    // Space.
           " 4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b",    // Leading space, right length.
           "{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3}",  // Braces.
           "urn:uuid:4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", "4a7901b8-7d26-4d9d-aa19--dc1c7cf60b3",
           "+a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3",
           std::string("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b\0", 36),
           "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60\xc3\xa9",  // Non-ASCII, 36 bytes.
       }) {
    EXPECT_EQ(CanonicalUuid(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_FALSE(IsCanonicalUuid(text)) << text;
  }
}

TEST(IsCanonicalUuid, RequiresLowerCase) {
  EXPECT_TRUE(IsCanonicalUuid("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3"));
  EXPECT_FALSE(IsCanonicalUuid("4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3"));
  EXPECT_FALSE(IsCanonicalUuid("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60bA"));
}

}  // namespace
}  // namespace rinha
