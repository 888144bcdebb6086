#include "take.h"

#include <cstring>

namespace damselfly::streams {

namespace {
template <typename T>
void takeT(uint8_t* dst, const uint8_t* src, const int32_t* rows, size_t n) {
  T* d = reinterpret_cast<T*>(dst);
  for (size_t i = 0; i < n; i++) std::memcpy(d + i, src + sizeof(T) * static_cast<size_t>(rows[i]), sizeof(T));
}
}  // namespace

void takeFixed(uint8_t* dst, const uint8_t* src, size_t width, const int32_t* rows, size_t n) {
  switch (width) {
    case 1: return takeT<uint8_t>(dst, src, rows, n);
    case 2: return takeT<uint16_t>(dst, src, rows, n);
    case 4: return takeT<uint32_t>(dst, src, rows, n);
    default: return takeT<uint64_t>(dst, src, rows, n);
  }
}

size_t takeValues(uint8_t* dst, const uint8_t* src, const int32_t* offsets, int32_t first, const int32_t* rows, size_t n) {
  uint8_t* q = dst;
  for (size_t i = 0; i < n; i++) {
    const int32_t r = rows[i];
    const size_t a = static_cast<size_t>(offsets[r] - first);
    const size_t len = static_cast<size_t>(offsets[r + 1] - offsets[r]);
    std::memcpy(q, src + a, len);
    q += len;
  }
  return static_cast<size_t>(q - dst);
}

}  // namespace damselfly::streams
