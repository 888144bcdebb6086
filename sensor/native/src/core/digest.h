// MD5 (RFC 1321, for JA3/JA3S) and SHA-256 (FIPS 180-4, for JA4), one-shot, lowercase hex out.
// Threading: pure functions, no shared state; safe from any thread. Memory: stack only.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dfly {

void md5(const void* data, size_t len, uint8_t out[16]);
void sha256(const void* data, size_t len, uint8_t out[32]);
// Writes 2*len lowercase hex digits plus NUL.
void hex_lower(const uint8_t* in, size_t len, char* out);

}  // namespace dfly
