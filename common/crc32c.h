// CRC-32C (Castagnoli), the checksum of journal records: detects a record torn by a crash in the
// middle of its write, or damaged on disk. Table-driven, software only.
#pragma once

#include <cstdint>
#include <string_view>

namespace rinha {

// Extends `crc` (0 for a fresh checksum) with `data`.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace rinha
