// The names of this process's threads (/proc/self/task/*/comm), for tests that check which
// threads a component runs: e.g. exactly one waiting inside gRPC.
#pragma once

#include <dirent.h>

#include <fstream>
#include <map>
#include <string>

namespace rinha::testing {

// How many of this process's threads bear each name.
inline std::map<std::string, int> ThreadNames() {
  std::map<std::string, int> names;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return names;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    ++names[name];
  }
  ::closedir(dir);
  return names;
}

}  // namespace rinha::testing
