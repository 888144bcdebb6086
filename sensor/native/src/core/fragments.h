// IPv4/IPv6 fragment reassembly.
// Threading: one FragmentTable per Sensor, used only by the thread running that sensor's batch.
// Memory: at most max_tables datagrams, each buffer capped at 64 KiB (grown on demand), plus a
// 1 KiB coverage bitmap; datagrams expire by packet time (timeout) or are evicted oldest-first.
// The reassembled buffer returned by frag_add() stays valid until the next frag_add() call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "stats.h"

namespace dfly {

struct FragKey {
  uint8_t src[16], dst[16];
  uint32_t id;
  uint8_t proto;  // IPv4: protocol field; IPv6: 0 (the id is per source/destination pair)
  uint8_t ipver;
  bool operator==(const FragKey& o) const;
};

struct FragKeyHash {
  size_t operator()(const FragKey& k) const;
};

struct FragDatagram {
  int64_t first_ts = 0;
  uint32_t total = 0;       // datagram payload length once the last fragment is seen, else 0
  bool have_last = false;
  uint8_t proto = 0;        // upper-layer protocol (v6: next header from the offset-0 fragment)
  bool have_first = false;
  std::vector<uint8_t> data;
  uint8_t covered[8192];    // one bit per 8-byte block of the 64 KiB datagram
};

struct FragmentConfig {
  bool disabled = false;
  uint32_t max_tables = 1024;
  int64_t timeout_us = 30 * 1000000LL;
};

class FragmentTable {
 public:
  explicit FragmentTable(const FragmentConfig& cfg) : cfg_(cfg) {}
  // Adds one fragment. Returns true when the datagram is complete; *out/*out_len then point at
  // the reassembled upper-layer data and *proto holds its protocol (v6: after the frag header).
  bool frag_add(const FragKey& key, uint32_t offset, bool more, uint8_t proto, const uint8_t* data,
                uint32_t caplen, uint32_t len, int64_t ts, Stats& st, const uint8_t** out,
                uint32_t* out_len, uint8_t* out_proto);
  void frag_expire(int64_t now, Stats& st);
  size_t size() const { return map_.size(); }

 private:
  FragmentConfig cfg_;
  std::unordered_map<FragKey, FragDatagram, FragKeyHash> map_;
  std::vector<uint8_t> done_;  // last reassembled datagram
};

}  // namespace dfly
