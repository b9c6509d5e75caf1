// Binary encoding of one ResultRow for the journal (<file>.journal): a version byte, then the row's fields —
// strings as u32 length + bytes, integers as little-endian i64, doubles as their IEEE-754 bits — and the cost
// record as (name, kind, value) per column of common/sample_cost.h's cost_columns(). Rows of older versions still
// decode. Also CRC-32 (the zlib polynomial), which the journal uses to detect torn or corrupted records.
#pragma once

#include "results/result_row.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loom::results {

std::string encode_row(const ResultRow& row);
// nullopt when the bytes are not a complete row of a known version.
std::optional<ResultRow> decode_row(std::string_view bytes);

uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace loom::results
