// A Parquet file writer for flat schemas of integers, floats, timestamps and strings.
//
// Rows are appended in batches (columns of doubles and of strings) to a Stage, which encodes them
// at once (PLAIN, every column OPTIONAL, nulls as definition level 0, like DuckDB writes) into pages of
// about `pageBytes`, compresses each full page with zstd, and groups pages into row groups of
// `rowGroupRows` rows. Everything stays in memory until writeFile(), which compresses the open
// pages and writes header, row groups and footer (Thrift compact) in one go, so a failed write
// loses nothing and can be retried.
//
// Threading: a Stage is used by one thread at a time (the binding keeps JS from appending while
// writeFile runs on a libuv worker). Full pages are compressed on the stage's own compressor
// thread, so append() only encodes; writeFile() waits for the compressor. At most kMaxQueued
// pages wait for it (append() waits beyond that), so memory stays bounded.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <string_view>
#include <utility>
#include <vector>

struct ZSTD_CCtx_s;

namespace damselfly::parquet {

enum class Kind { U8, U16, U32, I32, U64, F32, F64, Timestamp, String };

/** Parses the schema's type names (UInt8 UInt16 UInt32 Int32 UInt64 Float32 Float64 Timestamp String). */
bool kindFromName(const std::string& name, Kind* out);

struct Column {
  std::string name;
  Kind kind;
};

struct Options {
  size_t pageBytes = 256 * 1024;  // uncompressed PLAIN bytes per page (a page closes past this)
  size_t rowGroupRows = 122880;   // DuckDB's default row group size
  int level = 1;                  // zstd level
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

class Stage {
 public:
  Stage(std::vector<Column> columns, Options opts);
  ~Stage();
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;

  const std::vector<Column>& columns() const { return cols_; }
  size_t numericColumns() const { return numeric_; }
  size_t stringColumns() const { return cols_.size() - numeric_; }

  /**
   * Appends n rows. nums[k] holds n values of the k-th non-string column, strs[s] n values of the
   * s-th string column (both in schema order). Numbers convert like a JS typed array store:
   * truncated toward zero, NaN → 0, then wrapped to the column's width. `valid` (empty, or one
   * entry per column in schema order) marks nulls: valid[c][i] == 0 makes row i of column c NULL
   * (its value is ignored); a nullptr entry means no nulls in that column.
   */
  void append(const std::vector<const double*>& nums, const std::vector<std::vector<std::string_view>>& strs, size_t n,
              const std::vector<const uint8_t*>& valid = {});

  uint64_t rows() const { return rows_; }
  /** Bytes held (compressed pages plus open page buffers). */
  uint64_t heldBytes();

  /**
   * SHA-256 (32 raw bytes) of everything writeFile() writes before the footer: "PAR1" and every
   * page. Closes the open row group (rows appended later start a new one). The provenance
   * signature in the footer covers it (license/provenance.ts).
   */
  std::string contentSha256();

  /** Writes the Parquet file at `path`; returns its size. Throws std::runtime_error (the file removed). */
  uint64_t writeFile(const std::string& path, const KeyValues& kv, const std::string& createdBy);

  /** Frees every buffer and stops the compressor thread (the stage is empty afterwards). */
  void clear();

 private:
  struct Page;       // header + compressed body, filled by the compressor
  struct Job {
    Page* page;
    std::string body;  // uncompressed: definition levels + PLAIN values of the defined ones
    uint32_t values;
  };
  struct Chunk;      // one column's pages in one row group
  struct ColState;   // the open row group's state of one column
  struct RowGroup;

  void sealPage(size_t c);
  void compressLoop();
  /** Waits until the compressor has done every page; throws its error if it failed. */
  void drain();
  void closeRowGroup();
  std::string encodeFooter(const KeyValues& kv, const std::string& createdBy, const std::vector<std::vector<int64_t>>& offsets) const;

  std::vector<Column> cols_;
  size_t numeric_ = 0;
  std::vector<size_t> slot_;  // per column: index among numeric or string columns
  Options o_;
  std::vector<ColState> open_;
  uint64_t openRows_ = 0;
  std::vector<RowGroup> groups_;
  uint64_t rows_ = 0;
  // the compressor thread (started with the first full page)
  static constexpr size_t kMaxQueued = 16;
  std::mutex mu_;
  std::condition_variable wake_;  // jobs queued or stop
  std::condition_variable idle_;  // a job finished
  std::deque<Job> jobs_;
  size_t pending_ = 0;  // queued + being compressed
  bool stop_ = false;
  std::string error_;
  std::thread worker_;
};

}  // namespace damselfly::parquet
