// Parquet format reference: https://github.com/apache/parquet-format (parquet.thrift, Encodings.md).
#include "writer.h"

#include <openssl/evp.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <unistd.h>

#include "thrift_compact.h"

namespace damselfly::parquet {

namespace {

// parquet.thrift enums
enum PhysicalType : int32_t { kInt32 = 1, kInt64 = 2, kFloat = 4, kDouble = 5, kByteArray = 6 };
enum ConvertedType : int32_t { kUtf8 = 0, kTimestampMicros = 10, kUint8 = 11, kUint16 = 12, kUint32 = 13, kUint64 = 14, kInt32Conv = 17 };
constexpr int32_t kEncPlain = 0, kEncRle = 3, kCodecZstd = 6, kPageData = 0, kOptional = 1, kRequired = 0;
constexpr size_t kMaxStatBytes = 64;  // longer strings: no min/max for that chunk (it would not be exact)

PhysicalType physical(Kind k) {
  switch (k) {
    case Kind::U64:
    case Kind::Timestamp:
      return kInt64;
    case Kind::F32:
      return kFloat;
    case Kind::F64:
      return kDouble;
    case Kind::String:
      return kByteArray;
    default:
      return kInt32;
  }
}

/** JS ToNumber → integer store semantics: NaN/±inf → 0, else truncated (then wrapped by the caller's cast). */
inline int64_t toInt(double v) {
  if (!(v > -9.2e18 && v < 9.2e18)) return 0;
  return static_cast<int64_t>(v);
}

inline void putLE32(std::string& s, uint32_t v) {
  char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  s.append(b, 4);
}
inline void putLE64(std::string& s, uint64_t v) {
  putLE32(s, static_cast<uint32_t>(v));
  putLE32(s, static_cast<uint32_t>(v >> 32));
}

/**
 * Appends n values converted to V (a JS typed-array store: truncated, wrapped to V's width),
 * stored as S (the physical INT32/INT64), to raw; widens the running [lo, hi] in Acc.
 */
template <typename V, typename S, typename Acc>
void encodeInts(const double* src, size_t n, std::string& raw, bool& any, Acc& lo, Acc& hi) {
  if (n == 0) return;
  const size_t at = raw.size();
  raw.resize(at + n * sizeof(S));
  char* dst = raw.data() + at;
  Acc mn = any ? lo : std::numeric_limits<Acc>::max();
  Acc mx = any ? hi : std::numeric_limits<Acc>::min();
  for (size_t i = 0; i < n; i++, dst += sizeof(S)) {
    const S x = static_cast<S>(static_cast<V>(static_cast<std::make_unsigned_t<V>>(toInt(src[i]))));
    std::memcpy(dst, &x, sizeof x);
    const Acc a = static_cast<Acc>(x);
    if (a < mn) mn = a;
    if (a > mx) mx = a;
  }
  lo = mn;
  hi = mx;
  any = true;
}

}  // namespace

bool kindFromName(const std::string& n, Kind* out) {
  static const std::pair<const char*, Kind> table[] = {
      {"UInt8", Kind::U8}, {"UInt16", Kind::U16}, {"UInt32", Kind::U32}, {"Int32", Kind::I32},
      {"UInt64", Kind::U64}, {"Float32", Kind::F32}, {"Float64", Kind::F64}, {"Timestamp", Kind::Timestamp}, {"String", Kind::String},
  };
  for (const auto& [name, kind] : table) {
    if (n == name) {
      *out = kind;
      return true;
    }
  }
  return false;
}

struct Stage::Page {
  std::string bytes;         // page header + compressed body (empty until compressed)
  int64_t uncompressed = 0;  // header + uncompressed body
};

struct Stage::Chunk {
  std::vector<std::unique_ptr<Page>> pages;  // in order; stable addresses for the compressor
  int64_t values = 0;  // rows, nulls included (Parquet's num_values)
  int64_t nulls = 0;
  bool stats = false;
  std::string min, max;  // PLAIN-encoded
};

struct Stage::ColState {
  std::string raw;  // PLAIN values of the open page (defined values only)
  uint32_t rawCount = 0;  // rows of the open page, nulls included
  // definition levels of the open page, one byte per row, kept only once the page has a null
  // (`levels`; until then every level is 1 and `defs` is empty)
  std::string defs;
  bool levels = false;
  int64_t nulls = 0;  // nulls of the open row group
  Chunk chunk;
  // running min/max of the open row group
  bool any = false;
  bool statsOk = true;  // strings: false once a value is too long for exact stats
  int64_t smin = 0, smax = 0;
  uint64_t umin = 0, umax = 0;
  std::string strMin, strMax;
};

struct Stage::RowGroup {
  std::vector<Chunk> cols;
  int64_t rows = 0;
};

Stage::Stage(std::vector<Column> columns, Options opts) : cols_(std::move(columns)), o_(opts) {
  for (const auto& c : cols_) {
    if (c.kind == Kind::String) {
      slot_.push_back(cols_.size());  // fixed below
    } else {
      slot_.push_back(numeric_++);
    }
  }
  size_t s = 0;
  for (size_t i = 0; i < cols_.size(); i++) {
    if (cols_[i].kind == Kind::String) slot_[i] = s++;
  }
  if (o_.pageBytes < 1024) o_.pageBytes = 1024;
  if (o_.rowGroupRows < 1) o_.rowGroupRows = 1;
  open_.resize(cols_.size());
}

Stage::~Stage() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Stage::compressLoop() {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string comp;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lk(mu_);
      wake_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) break;  // stop_ and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::string out, err;
    const size_t bound = ZSTD_compressBound(job.body.size());
    comp.resize(bound);
    const size_t z = cctx ? ZSTD_compressCCtx(cctx, comp.data(), bound, job.body.data(), job.body.size(), o_.level) : 0;
    if (!cctx) {
      err = "zstd: cannot create a compression context";
    } else if (ZSTD_isError(z)) {
      err = std::string("zstd: ") + ZSTD_getErrorName(z);
    } else if (job.body.size() > INT32_MAX || z > INT32_MAX) {
      err = "parquet: page too large";
    } else {
      CompactWriter w(out);  // PageHeader
      w.i32(1, kPageData);
      w.i32(2, static_cast<int32_t>(job.body.size()));
      w.i32(3, static_cast<int32_t>(z));
      w.begin(5);  // DataPageHeader
      w.i32(1, static_cast<int32_t>(job.values));
      w.i32(2, kEncPlain);
      w.i32(3, kEncRle);
      w.i32(4, kEncRle);
      w.end();
      w.finish();
      job.page->uncompressed = static_cast<int64_t>(out.size() + job.body.size());
      out.append(comp.data(), z);
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!err.empty() && error_.empty()) error_ = err;
      job.page->bytes = std::move(out);
      pending_--;
    }
    idle_.notify_all();
  }
  ZSTD_freeCCtx(cctx);
}

void Stage::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  idle_.wait(lk, [&] { return pending_ == 0; });
  if (!error_.empty()) throw std::runtime_error(error_);
}

void Stage::clear() {
  drain();
  {  // stop the compressor thread too: a released stage holds no thread (the next page restarts it)
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  stop_ = false;
  groups_.clear();
  groups_.shrink_to_fit();
  std::vector<ColState>(cols_.size()).swap(open_);
  openRows_ = 0;
  rows_ = 0;
}

uint64_t Stage::heldBytes() {
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t n = 0;
  auto pages = [&](const Chunk& ch) {
    for (const auto& p : ch.pages) n += p->bytes.size();
  };
  for (const auto& g : groups_) {
    for (const auto& c : g.cols) pages(c);
  }
  for (const auto& c : open_) n += c.raw.size(), pages(c.chunk);
  for (const auto& j : jobs_) n += j.body.size();
  return n;
}

void Stage::append(const std::vector<const double*>& nums, const std::vector<std::vector<std::string_view>>& strs, size_t n,
                   const std::vector<const uint8_t*>& valid) {
  if (nums.size() != numeric_ || strs.size() != stringColumns()) throw std::invalid_argument("append: wrong number of columns");
  if (!valid.empty() && valid.size() != cols_.size()) throw std::invalid_argument("append: validity for a wrong number of columns");
  std::vector<double> packed;  // a numeric column's defined values, when it has nulls
  for (const auto& s : strs) {
    if (s.size() < n) throw std::invalid_argument("append: a string column is shorter than the batch");
  }
  constexpr size_t kStep = 4096;  // rows encoded per column before checking the page size
  for (size_t off = 0; off < n;) {
    size_t seg = std::min<size_t>(std::min<size_t>(n - off, o_.rowGroupRows - openRows_), kStep);
    for (size_t c = 0; c < cols_.size(); c++) {
      ColState& st = open_[c];
      const Kind k = cols_[c].kind;
      const uint8_t* ok = valid.empty() ? nullptr : valid[c];
      size_t defined = seg;
      if (ok) {  // nulls: definition levels per row, values only for the defined rows
        defined = 0;
        for (size_t i = off; i < off + seg; i++) defined += ok[i] != 0;
        if (defined < seg && !st.levels) {
          st.defs.assign(st.rawCount, '\1');
          st.levels = true;
        }
        if (st.levels) {
          for (size_t i = off; i < off + seg; i++) st.defs.push_back(ok[i] ? '\1' : '\0');
        }
        st.nulls += static_cast<int64_t>(seg - defined);
        if (defined == seg) ok = nullptr;
      } else if (st.levels) {
        st.defs.append(seg, '\1');
      }
      if (k == Kind::String) {
        const auto& col = strs[slot_[c]];
        for (size_t i = off; i < off + seg; i++) {
          if (ok && !ok[i]) continue;
          std::string_view v = col[i];
          putLE32(st.raw, static_cast<uint32_t>(v.size()));
          st.raw.append(v.data(), v.size());
          if (!st.statsOk) continue;
          if (v.size() > kMaxStatBytes) {
            st.statsOk = false;
            continue;
          }
          if (!st.any) {
            st.strMin.assign(v);
            st.strMax.assign(v);
            st.any = true;
          } else if (v < st.strMin) {
            st.strMin.assign(v);
          } else if (v > st.strMax) {
            st.strMax.assign(v);
          }
        }
      } else {
        const double* src = nums[slot_[c]] + off;
        if (ok) {
          packed.clear();
          for (size_t i = off; i < off + seg; i++) {
            if (ok[i]) packed.push_back(nums[slot_[c]][i]);
          }
          src = packed.data();
        }
        switch (k) {
          case Kind::U8: encodeInts<uint8_t, uint32_t>(src, defined, st.raw, st.any, st.umin, st.umax); break;
          case Kind::U16: encodeInts<uint16_t, uint32_t>(src, defined, st.raw, st.any, st.umin, st.umax); break;
          case Kind::U32: encodeInts<uint32_t, uint32_t>(src, defined, st.raw, st.any, st.umin, st.umax); break;
          case Kind::I32: encodeInts<int32_t, int32_t>(src, defined, st.raw, st.any, st.smin, st.smax); break;
          case Kind::U64: encodeInts<uint64_t, uint64_t>(src, defined, st.raw, st.any, st.umin, st.umax); break;
          case Kind::Timestamp: encodeInts<int64_t, int64_t>(src, defined, st.raw, st.any, st.smin, st.smax); break;
          case Kind::F32: {  // no statistics for floats
            const size_t at = st.raw.size();
            st.raw.resize(at + defined * 4);
            char* dst = st.raw.data() + at;
            for (size_t i = 0; i < defined; i++, dst += 4) {
              const float x = static_cast<float>(src[i]);
              std::memcpy(dst, &x, 4);
            }
            break;
          }
          case Kind::F64: {  // no statistics for floats
            const size_t at = st.raw.size();
            st.raw.resize(at + defined * 8);
            std::memcpy(st.raw.data() + at, src, defined * 8);
            break;
          }
          case Kind::String:
            break;
        }
      }
      st.rawCount += static_cast<uint32_t>(seg);
      if (st.raw.size() >= o_.pageBytes) sealPage(c);
    }
    off += seg;
    openRows_ += seg;
    rows_ += seg;
    if (openRows_ >= o_.rowGroupRows) closeRowGroup();
  }
}

/** Hands the open page of column c to the compressor (its slot is kept in order in the chunk). */
void Stage::sealPage(size_t c) {
  ColState& st = open_[c];
  if (st.rawCount == 0) return;
  // Definition levels (max level 1, bit width 1): a 4-byte length, then RLE runs of the
  // RLE/bit-packed hybrid (header = run length << 1 as a varint, then the level in one byte) —
  // one run when every row is defined; then the PLAIN values of the defined rows.
  std::string rle;
  auto run = [&rle](uint64_t count, char level) {
    uint64_t h = count << 1;
    while (h >= 0x80) {
      rle.push_back(static_cast<char>((h & 0x7f) | 0x80));
      h >>= 7;
    }
    rle.push_back(static_cast<char>(h));
    rle.push_back(level);
  };
  if (!st.levels) {
    run(st.rawCount, 1);
  } else {
    for (size_t i = 0; i < st.defs.size();) {
      size_t j = i + 1;
      while (j < st.defs.size() && st.defs[j] == st.defs[i]) j++;
      run(j - i, st.defs[i]);
      i = j;
    }
    st.defs.clear();
    st.levels = false;
  }
  std::string body;
  body.reserve(4 + rle.size() + st.raw.size());
  putLE32(body, static_cast<uint32_t>(rle.size()));
  body += rle;
  body += st.raw;

  auto page = std::make_unique<Page>();
  Job job{page.get(), std::move(body), st.rawCount};
  st.chunk.pages.push_back(std::move(page));
  st.chunk.values += st.rawCount;
  st.raw.clear();
  if (st.raw.capacity() > 2 * o_.pageBytes) st.raw.shrink_to_fit();
  st.rawCount = 0;
  {
    std::unique_lock<std::mutex> lk(mu_);
    if (!worker_.joinable()) worker_ = std::thread([this] { compressLoop(); });
    idle_.wait(lk, [&] { return jobs_.size() < kMaxQueued; });  // bounded: wait for the compressor
    jobs_.push_back(std::move(job));
    pending_++;
  }
  wake_.notify_one();
}

void Stage::closeRowGroup() {
  if (openRows_ == 0) return;
  RowGroup g;
  g.rows = static_cast<int64_t>(openRows_);
  g.cols.reserve(cols_.size());
  for (size_t c = 0; c < cols_.size(); c++) {
    sealPage(c);
    ColState& st = open_[c];
    Chunk ch = std::move(st.chunk);
    ch.nulls = st.nulls;
    const Kind k = cols_[c].kind;
    if (st.any && st.statsOk && k != Kind::F32 && k != Kind::F64) {
      ch.stats = true;
      if (k == Kind::String) {
        ch.min = std::move(st.strMin);
        ch.max = std::move(st.strMax);
      } else if (physical(k) == kInt64) {
        const bool sig = k == Kind::Timestamp;
        putLE64(ch.min, sig ? static_cast<uint64_t>(st.smin) : st.umin);
        putLE64(ch.max, sig ? static_cast<uint64_t>(st.smax) : st.umax);
      } else {
        const bool sig = k == Kind::I32;
        putLE32(ch.min, sig ? static_cast<uint32_t>(st.smin) : static_cast<uint32_t>(st.umin));
        putLE32(ch.max, sig ? static_cast<uint32_t>(st.smax) : static_cast<uint32_t>(st.umax));
      }
    }
    g.cols.push_back(std::move(ch));
    st = ColState();
  }
  groups_.push_back(std::move(g));
  openRows_ = 0;
}

std::string Stage::encodeFooter(const KeyValues& kv, const std::string& createdBy, const std::vector<std::vector<int64_t>>& offsets) const {
  std::string out;
  CompactWriter w(out);  // FileMetaData
  w.i32(1, 1);           // version
  w.list(2, CompactWriter::kStruct, cols_.size() + 1);
  w.elBegin();  // root SchemaElement
  w.i32(3, kRequired);
  w.binary(4, "schema");
  w.i32(5, static_cast<int32_t>(cols_.size()));
  w.end();
  for (const auto& c : cols_) {
    w.elBegin();
    w.i32(1, physical(c.kind));
    w.i32(3, kOptional);
    w.binary(4, c.name);
    switch (c.kind) {
      case Kind::U8: w.i32(6, kUint8); break;
      case Kind::U16: w.i32(6, kUint16); break;
      case Kind::U32: w.i32(6, kUint32); break;
      case Kind::U64: w.i32(6, kUint64); break;
      case Kind::I32: w.i32(6, kInt32Conv); break;
      case Kind::String: w.i32(6, kUtf8); break;
      case Kind::Timestamp:
        w.i32(6, kTimestampMicros);
        w.begin(10);  // LogicalType
        w.begin(8);   // TIMESTAMP: TimestampType
        w.boolean(1, false);  // isAdjustedToUTC: values are UTC wall time without a zone, as DuckDB's TIMESTAMP
        w.begin(2);           // unit: TimeUnit
        w.begin(2);           // MICROS
        w.end();
        w.end();
        w.end();
        w.end();
        break;
      case Kind::F32:
      case Kind::F64:
        break;
    }
    w.end();
  }
  w.i64(3, static_cast<int64_t>(rows_));
  w.list(4, CompactWriter::kStruct, groups_.size());
  for (size_t g = 0; g < groups_.size(); g++) {
    const RowGroup& rg = groups_[g];
    int64_t unc = 0, comp = 0;
    w.elBegin();  // RowGroup
    w.list(1, CompactWriter::kStruct, rg.cols.size());
    for (size_t c = 0; c < rg.cols.size(); c++) {
      const Chunk& ch = rg.cols[c];
      int64_t chUnc = 0, chComp = 0;
      for (const auto& p : ch.pages) {
        chUnc += p->uncompressed;
        chComp += static_cast<int64_t>(p->bytes.size());
      }
      unc += chUnc;
      comp += chComp;
      w.elBegin();  // ColumnChunk
      w.i64(2, offsets[g][c]);
      w.begin(3);  // ColumnMetaData
      w.i32(1, physical(cols_[c].kind));
      w.list(2, CompactWriter::kI32, 2);
      w.elI32(kEncPlain);
      w.elI32(kEncRle);
      w.list(3, CompactWriter::kBinary, 1);
      w.elBinary(cols_[c].name);
      w.i32(4, kCodecZstd);
      w.i64(5, ch.values);
      w.i64(6, chUnc);
      w.i64(7, chComp);
      w.i64(9, offsets[g][c]);
      if (ch.stats || ch.nulls > 0) {
        w.begin(12);  // Statistics
        w.i64(3, ch.nulls);  // null_count
        if (ch.stats) {
          w.binary(5, ch.max);  // max_value
          w.binary(6, ch.min);  // min_value
        }
        w.end();
      }
      w.end();
      w.end();
    }
    w.i64(2, unc);  // total_byte_size
    w.i64(3, rg.rows);
    w.i64(5, offsets[g].empty() ? 4 : offsets[g][0]);  // file_offset
    w.i64(6, comp);                                      // total_compressed_size
    w.i16(7, static_cast<int16_t>(g));                   // ordinal
    w.end();
  }
  w.list(5, CompactWriter::kStruct, kv.size());
  for (const auto& [k, v] : kv) {
    w.elBegin();
    w.binary(1, k);
    w.binary(2, v);
    w.end();
  }
  w.binary(6, createdBy);
  // column_orders: TYPE_ORDER for every column, so readers (Arrow) trust min_value/max_value
  w.list(7, CompactWriter::kStruct, cols_.size());
  for (size_t c = 0; c < cols_.size(); c++) {
    w.elBegin();  // ColumnOrder
    w.begin(1);   // TYPE_ORDER: TypeDefinedOrder (empty)
    w.end();
    w.end();
  }
  w.finish();
  return out;
}

std::string Stage::contentSha256() {
  closeRowGroup();
  drain();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("sha256: cannot initialise");
  }
  bool ok = EVP_DigestUpdate(ctx, "PAR1", 4) == 1;
  for (const RowGroup& g : groups_) {
    for (const Chunk& ch : g.cols) {
      for (const auto& p : ch.pages) ok = ok && EVP_DigestUpdate(ctx, p->bytes.data(), p->bytes.size()) == 1;
    }
  }
  unsigned char md[32];
  unsigned int len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("sha256 failed");
  return std::string(reinterpret_cast<char*>(md), 32);
}

uint64_t Stage::writeFile(const std::string& path, const KeyValues& kv, const std::string& createdBy) {
  closeRowGroup();  // idempotent: a retry after a failed write finds the same row groups
  drain();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error(path + ": " + std::strerror(errno));
  static thread_local char buf[1 << 20];
  std::setvbuf(f, buf, _IOFBF, sizeof buf);
  int64_t off = 0;
  bool ok = true;
  auto put = [&](const void* p, size_t n) {
    if (ok && std::fwrite(p, 1, n, f) != n) ok = false;
    off += static_cast<int64_t>(n);
  };
  put("PAR1", 4);
  std::vector<std::vector<int64_t>> offsets(groups_.size());
  for (size_t g = 0; g < groups_.size(); g++) {
    for (const Chunk& ch : groups_[g].cols) {
      offsets[g].push_back(off);
      for (const auto& p : ch.pages) put(p->bytes.data(), p->bytes.size());
    }
  }
  const std::string footer = encodeFooter(kv, createdBy, offsets);
  put(footer.data(), footer.size());
  std::string tail;
  putLE32(tail, static_cast<uint32_t>(footer.size()));
  tail += "PAR1";
  put(tail.data(), tail.size());
  int err = 0;
  if (!ok || std::fflush(f) != 0) err = errno ? errno : EIO;
  if (std::fclose(f) != 0 && err == 0) err = errno ? errno : EIO;
  if (err != 0) {
    ::unlink(path.c_str());
    throw std::runtime_error(path + ": " + std::strerror(err));
  }
  return static_cast<uint64_t>(off);
}

}  // namespace damselfly::parquet
