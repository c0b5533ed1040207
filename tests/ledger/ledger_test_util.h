// Small helpers shared by the ledger tests: a self-removing temporary directory and
// deterministic canonical correlation ids.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace rinha::ledger::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "ledger_test_XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The n-th test correlation id, canonical lower-case UUID text.
inline std::string Uuid(uint64_t n) {
  return absl::StrFormat("%08x-0000-4000-8000-%012x", static_cast<uint32_t>(n >> 48),
                         n & 0xffffffffffffULL);
}

}  // namespace rinha::ledger::testing
