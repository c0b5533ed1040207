// Included by exactly one source of each test binary that runs cpp-httplib servers or clients.
// Debian's cpp-httplib is a shared library not built with TSan: races it reports between its own
// threads are about synchronisation TSan cannot see. The load generator's own code stays checked.
#pragma once

#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libcpp-httplib.so.0.11\n";
}
#endif
