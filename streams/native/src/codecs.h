// Kafka record-batch compression done natively: LZ4 frames (the format Kafka's Java client and
// librdkafka read and write: independent 64 KiB blocks, no checksums) and zstd. Replaces
// @platformatic/kafka's WebAssembly LZ4 (~100 MB/s here) and supplies zstd on Node 20.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace damselfly::streams {

/** A malloc'd output (uninitialised until written); release() hands the memory to the caller (free()). */
class Bytes {
 public:
  Bytes() = default;
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  ~Bytes() { std::free(p_); }
  uint8_t* data() { return p_; }
  size_t size() const { return n_; }
  /** Grows or shrinks to n bytes, keeping the first min(n, size()) bytes. */
  void resize(size_t n);
  uint8_t* release() {
    uint8_t* p = p_;
    p_ = nullptr;
    n_ = 0;
    return p;
  }

 private:
  uint8_t* p_ = nullptr;
  size_t n_ = 0;
};

/** Compresses src into one LZ4 frame. Throws std::runtime_error on failure. */
void lz4FrameCompress(const uint8_t* src, size_t n, Bytes& out);
/** Decompresses the LZ4 frames in src (concatenated frames allowed), at most maxOut bytes. Throws on corrupt input. */
void lz4FrameDecompress(const uint8_t* src, size_t n, size_t maxOut, Bytes& out);

void zstdCompress(const uint8_t* src, size_t n, int level, Bytes& out);
void zstdDecompress(const uint8_t* src, size_t n, size_t maxOut, Bytes& out);

}  // namespace damselfly::streams
