// SHA-1 (FIPS 180-4) and base64, used only for Community ID hashing.
// Threading: pure functions / caller-owned context, no shared state; safe from any thread.
// Memory: no heap allocation; the context is a small value type.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dfly {

struct Sha1 {
  uint32_t h[5];
  uint64_t total = 0;     // bytes hashed so far
  uint8_t buf[64];
  size_t buf_len = 0;

  Sha1();
  void update(const void* data, size_t len);
  void final(uint8_t out[20]);
};

void sha1(const void* data, size_t len, uint8_t out[20]);

// Standard base64 with '=' padding. Writes 4*ceil(len/3) chars plus NUL into out; returns length.
size_t base64_encode(const uint8_t* in, size_t len, char* out);

}  // namespace dfly
