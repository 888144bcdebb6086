#include "codecs.h"

#include <lz4frame.h>
#include <zstd.h>

#include <memory>
#include <new>
#include <stdexcept>

namespace damselfly::streams {

void Bytes::resize(size_t n) {
  void* p = std::realloc(p_, n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  p_ = static_cast<uint8_t*>(p);
  n_ = n;
}

namespace {

/** Makes room for at least 64 KiB more output after `produced`, doubling, never past maxOut. */
void room(Bytes& out, size_t produced, size_t maxOut, const char* codec) {
  if (out.size() - produced >= 65536) return;
  if (out.size() >= maxOut) throw std::runtime_error(std::string(codec) + ": decompressed data larger than " + std::to_string(maxOut) + " bytes");
  size_t next = out.size() * 2 < 65536 ? 65536 : out.size() * 2;
  out.resize(next > maxOut ? maxOut : next);
}

struct DctxFree {
  void operator()(LZ4F_dctx* d) const { LZ4F_freeDecompressionContext(d); }
};
struct ZdFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

void lz4FrameCompress(const uint8_t* src, size_t n, Bytes& out) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.compressionLevel = 0;  // the fast default
  out.resize(LZ4F_compressFrameBound(n, &prefs));
  size_t r = LZ4F_compressFrame(out.data(), out.size(), src, n, &prefs);
  if (LZ4F_isError(r)) throw std::runtime_error(std::string("lz4: ") + LZ4F_getErrorName(r));
  out.resize(r);
}

void lz4FrameDecompress(const uint8_t* src, size_t n, size_t maxOut, Bytes& out) {
  LZ4F_dctx* raw = nullptr;
  size_t r = LZ4F_createDecompressionContext(&raw, LZ4F_VERSION);
  if (LZ4F_isError(r)) throw std::runtime_error(std::string("lz4: ") + LZ4F_getErrorName(r));
  std::unique_ptr<LZ4F_dctx, DctxFree> ctx(raw);
  out.resize(n * 4 < 65536 ? 65536 : (n * 4 > maxOut ? maxOut : n * 4));
  size_t produced = 0;
  size_t consumed = 0;
  for (;;) {
    room(out, produced, maxOut, "lz4");
    size_t dstSize = out.size() - produced;
    size_t srcSize = n - consumed;
    size_t hint = LZ4F_decompress(ctx.get(), out.data() + produced, &dstSize, src + consumed, &srcSize, nullptr);
    if (LZ4F_isError(hint)) throw std::runtime_error(std::string("lz4: ") + LZ4F_getErrorName(hint));
    produced += dstSize;
    consumed += srcSize;
    if (consumed == n && hint == 0) break;
    if (dstSize == 0 && srcSize == 0) throw std::runtime_error("lz4: truncated frame");
  }
  out.resize(produced);
}

void zstdCompress(const uint8_t* src, size_t n, int level, Bytes& out) {
  out.resize(ZSTD_compressBound(n));
  size_t r = ZSTD_compress(out.data(), out.size(), src, n, level);
  if (ZSTD_isError(r)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(r));
  out.resize(r);
}

void zstdDecompress(const uint8_t* src, size_t n, size_t maxOut, Bytes& out) {
  std::unique_ptr<ZSTD_DCtx, ZdFree> ctx(ZSTD_createDCtx());
  if (!ctx) throw std::bad_alloc();
  unsigned long long known = ZSTD_getFrameContentSize(src, n);
  size_t cap = known != ZSTD_CONTENTSIZE_UNKNOWN && known != ZSTD_CONTENTSIZE_ERROR && known <= maxOut ? static_cast<size_t>(known) + 65536 : n * 4;
  out.resize(cap < 65536 ? 65536 : (cap > maxOut ? maxOut : cap));
  ZSTD_inBuffer in{src, n, 0};
  size_t produced = 0;
  for (;;) {
    room(out, produced, maxOut, "zstd");
    ZSTD_outBuffer o{out.data() + produced, out.size() - produced, 0};
    size_t before = in.pos;
    size_t left = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(left)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(left));
    produced += o.pos;
    if (in.pos == in.size && left == 0) break;
    if (o.pos == 0 && in.pos == before) throw std::runtime_error("zstd: truncated frame");
  }
  out.resize(produced);
}

}  // namespace damselfly::streams
