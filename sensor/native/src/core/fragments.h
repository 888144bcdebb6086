// IPv4/IPv6 fragment reassembly.
// Threading: one FragmentTable per Sensor, used only by the thread running that sensor's batch.
// Memory: at most max_tables datagrams, each buffer capped at 64 KiB (grown on demand), plus a
// 1 KiB coverage bitmap; datagrams expire by packet time (timeout) or are evicted oldest-first.
// The reassembled buffer returned by frag_add() stays valid until the next frag_add() call.
// A datagram that times out incomplete, or is evicted for the max_tables bound, is handed back
// (frag_expire's out, frag_take_evicted) with the headers of its offset-0 fragment (else of its
// first fragment) so the sensor still meters it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "decode.h"
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
  PacketInfo hdr;           // the offset-0 fragment's decode (else the first one's); pointers cleared
  std::vector<uint8_t> data;
  uint8_t covered[8192];    // one bit per 8-byte block of the 64 KiB datagram
};

// An incomplete datagram at its timeout: what of it can still be metered.
struct FragExpired {
  PacketInfo hdr;              // IP-level fields of the offset-0 (else first) fragment
  bool have_first = false;     // hdr is the offset-0 fragment's: `data` starts at the L4 header
  uint8_t proto = 0;           // upper-layer protocol (v6: the offset-0 fragment's next header)
  uint32_t received = 0;       // fragment data bytes that arrived (each byte once)
  std::vector<uint8_t> data;   // the contiguous bytes from offset 0 (empty without have_first)
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
  // `pi` is the fragment's decode (kept as the datagram's header template).
  bool frag_add(const FragKey& key, const PacketInfo& pi, Stats& st, const uint8_t** out,
                uint32_t* out_len, uint8_t* out_proto);
  // Removes the datagrams older than the timeout (all of them with `all`: end of capture); each
  // one is appended to *out, for the sensor to meter what arrived of it. Timeouts count in
  // frag_timed_out.
  void frag_expire(int64_t now, Stats& st, std::vector<FragExpired>* out, bool all = false);
  // The datagrams frag_add() evicted to stay within max_tables (counted in frag_dropped), moved
  // to *out for the sensor to meter.
  bool has_evicted() const { return !evicted_.empty(); }
  void frag_take_evicted(std::vector<FragExpired>* out);
  size_t size() const { return map_.size(); }

 private:
  FragmentConfig cfg_;
  std::unordered_map<FragKey, FragDatagram, FragKeyHash> map_;
  std::vector<uint8_t> done_;  // last reassembled datagram
  std::vector<FragExpired> evicted_;  // at most one per frag_add() until taken
};

}  // namespace dfly
