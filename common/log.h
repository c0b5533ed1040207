// Minimal structured-enough logging to stderr (Debian's Abseil has no absl/log).
// Never called per request on a hot path; meant for lifecycle events and anomalies.
#pragma once

#include <string_view>

#include "absl/strings/str_format.h"

namespace rinha {

enum class LogSeverity { kInfo, kWarning, kError };

// Writes one line "<ISO time> <I|W|E> <message>" to stderr atomically. Thread-safe.
void LogLine(LogSeverity severity, std::string_view message);

}  // namespace rinha

#define RINHA_LOG_INFO(...) \
  ::rinha::LogLine(::rinha::LogSeverity::kInfo, ::absl::StrFormat(__VA_ARGS__))
#define RINHA_LOG_WARNING(...) \
  ::rinha::LogLine(::rinha::LogSeverity::kWarning, ::absl::StrFormat(__VA_ARGS__))
#define RINHA_LOG_ERROR(...) \
  ::rinha::LogLine(::rinha::LogSeverity::kError, ::absl::StrFormat(__VA_ARGS__))
