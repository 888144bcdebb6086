// Thrift compact protocol, write side only: just what Parquet's footer and page headers need
// (structs, i8/i16/i32/i64, bool, binary, lists). Spec:
// https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace damselfly::parquet {

class CompactWriter {
 public:
  enum Type : uint8_t { kTrue = 1, kFalse = 2, kByte = 3, kI16 = 4, kI32 = 5, kI64 = 6, kBinary = 8, kList = 9, kStruct = 12 };

  explicit CompactWriter(std::string& out) : out_(out) { last_.push_back(0); }

  void i8(int16_t id, int8_t v) { field(id, kByte); out_.push_back(static_cast<char>(v)); }
  void i16(int16_t id, int16_t v) { field(id, kI16); varint(zigzag(v)); }
  void i32(int16_t id, int32_t v) { field(id, kI32); varint(zigzag(v)); }
  void i64(int16_t id, int64_t v) { field(id, kI64); varint(zigzag(v)); }
  void boolean(int16_t id, bool v) { field(id, v ? kTrue : kFalse); }
  void binary(int16_t id, const std::string& v) { field(id, kBinary); bytes(v); }

  /** A struct-valued field: call end() after its fields. */
  void begin(int16_t id) { field(id, kStruct); last_.push_back(0); }
  void end() { out_.push_back(0); last_.pop_back(); }

  /** A list-valued field of `n` elements of `elem`; then write the elements with the el*() calls. */
  void list(int16_t id, Type elem, size_t n) {
    field(id, kList);
    if (n < 15) {
      out_.push_back(static_cast<char>((n << 4) | elem));
    } else {
      out_.push_back(static_cast<char>(0xf0 | elem));
      varint(n);
    }
  }
  void elI32(int32_t v) { varint(zigzag(v)); }
  void elBinary(const std::string& v) { bytes(v); }
  /** A struct element of a list: call end() after its fields. */
  void elBegin() { last_.push_back(0); }

  /** The stop byte of the outermost struct. */
  void finish() { out_.push_back(0); }

 private:
  std::string& out_;
  std::vector<int16_t> last_;  // last field id per open struct (deltas restart in each)

  static uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void bytes(const std::string& v) {
    varint(v.size());
    out_.append(v);
  }
  void field(int16_t id, uint8_t type) {
    int delta = id - last_.back();
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_.push_back(static_cast<char>(type));
      varint(zigzag(id));
    }
    last_.back() = id;
  }
};

}  // namespace damselfly::parquet
