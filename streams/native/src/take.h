// Row gathers for the Arrow encoder (streams/events/arrow.ts): the chosen rows of a column copied
// back to back, as the producer needs when it splits a batch into one message per partition.
#pragma once
#include <cstddef>
#include <cstdint>

namespace damselfly::streams {

/** dst[i] = src[rows[i]] for elements of `width` bytes (1, 2, 4 or 8). */
void takeFixed(uint8_t* dst, const uint8_t* src, size_t width, const int32_t* rows, size_t n);

/**
 * The bytes of each chosen value back to back: value r is src[offsets[r] - first, offsets[r + 1] -
 * first). Returns the bytes written. Offsets and rows were checked by the caller.
 */
size_t takeValues(uint8_t* dst, const uint8_t* src, const int32_t* offsets, int32_t first, const int32_t* rows, size_t n);

}  // namespace damselfly::streams
