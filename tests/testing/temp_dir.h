// A fresh directory under the system's temp dir for one test's files (sockets, databases),
// unique per process and moment so that parallel ctest runs never share one.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string_view>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace rinha::testing {

// Creates and returns <temp>/<prefix>_<pid>_<unix micros>. The caller removes it.
inline std::filesystem::path MakeTempDir(std::string_view prefix) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      absl::StrFormat("%s_%d_%d", prefix, getpid(), absl::ToUnixMicros(absl::Now()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace rinha::testing
