// Bidirectional flow table: open-addressing hash (linear probing, backward-shift deletion, no
// tombstones) over a slab of Flow slots, plus an intrusive doubly-linked LRU list (by index)
// ordered by last packet arrival.
// Threading: single-threaded; owned by one Sensor. Memory: slots live in fixed-size chunks
// (kChunkFlows each) that are never moved, so growing the table copies nothing and never holds
// two copies of it; flows are referenced by 32-bit index. Freed slots are reused through a free
// list; the hash index (8 bytes per entry) is kept at <= 50% load. A slot is 352 bytes: the
// per-flow side state (L7 parser, nDPI, end-record extras) is allocated only for flows that
// need it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "features.h"
#include "l7/l7.h"
#include "ndpi_fingerprint.h"

namespace dfly {

// Canonical (direction-independent) key: endpoint "a" is the lower (address, port) pair.
// VLAN is deliberately not part of the key. For ICMP/ICMPv6 the ports are the Community ID
// type/code mapping (echo request/reply etc. pair up into one flow; one-way types keep
// (type, code) of the sender). Echo identifiers are NOT part of the key, so concurrent pings
// between the same two hosts share a flow, the same way Community ID groups them.
struct FlowKey {
  uint8_t a[16], b[16];
  uint16_t pa, pb;
  uint8_t proto, ipver;
  uint8_t pad[2];
};

static constexpr uint32_t kNil = 0xffffffffu;

// End-record extras of a flow that has some, allocated on demand and kept until the flow ends:
// the TCP fingerprint of its SYN (nDPI on; 12 bytes, formatted at the end) and the TLS
// fingerprints (ndpi_ja4 / ndpi_ja3s) and QUIC ids (quic_*; a second allocation, TLS and QUIC
// flows only).
struct FlowTls {
  std::string ja4, ja3s;
  uint32_t quic_version = 0;
  std::string quic_dcid, quic_scid;
};
struct FlowExtra {
  TcpFingerprint tcp;
  std::unique_ptr<FlowTls> tls;
};

// The key hash is not kept: removal and growth recompute it from the key (once per flow end;
// growth is amortised), which leaves room for the Community ID digest that every record of the
// flow shows (start, updates, end: computed once).
struct Flow {
  FlowKey key;
  uint32_t lru_prev, lru_next;
  bool src_is_a;     // the flow's source is endpoint "a" of the key
  bool in_use;
  uint8_t l7_state;  // 0 undecided (l7_tries payload packets tried), 1 parsing, 2 done
  uint8_t l7_tries;  // undecided: payload packets tried; parsing: packets given to the parser
  uint8_t cid[20];   // Community ID SHA-1, all zero until the first record needs it
  L7Flow* l7;        // owned; see Sensor::l7_* (nullptr when no parser claimed the flow)
  ndpi_flow_struct* ndpi;  // owned by the Sensor's NdpiEngine while inspecting (ndpi.h)
  FlowExtra* x;      // owned; nullptr when the flow has no extras
  NdpiResult ndpi_r;
  FlowState f;
};

// The endpoints of a flow as its records show them.
inline FlowAddrs flow_addrs(Flow& fl) {
  return FlowAddrs{fl.key.ipver, fl.key.proto, fl.src_is_a ? fl.key.a : fl.key.b,
                   fl.src_is_a ? fl.key.b : fl.key.a, fl.cid};
}

class FlowTable {
 public:
  FlowTable();
  uint32_t flow_find(const FlowKey& k, uint64_t h) const;
  uint32_t flow_insert(const FlowKey& k, uint64_t h);  // returns slot index (features uninitialised)
  void flow_remove(uint32_t idx);
  void lru_touch(uint32_t idx);
  uint32_t lru_head() const { return head_; }
  Flow& at(uint32_t idx) { return chunks_[idx >> kChunkBits][idx & kChunkMask]; }
  const Flow& at(uint32_t idx) const { return chunks_[idx >> kChunkBits][idx & kChunkMask]; }
  size_t active() const { return active_; }
  FlowAddrs addrs(uint32_t idx) { return flow_addrs(at(idx)); }

  static uint64_t flow_hash(const FlowKey& k);

 private:
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkFlows = 1u << kChunkBits;
  static constexpr uint32_t kChunkMask = kChunkFlows - 1;
  void grow();
  void lru_unlink(uint32_t idx);
  void lru_append(uint32_t idx);

  // idx == kNil: empty. tag = low 32 bits of the key hash: the home bucket (tag & mask_, the
  // index never exceeds 2^32 entries) and a quick reject before comparing keys.
  struct Slot { uint32_t idx; uint32_t tag; };
  std::vector<Slot> slots_;
  size_t mask_;
  std::vector<std::unique_ptr<Flow[]>> chunks_;
  uint32_t slots_used_ = 0;  // slots handed out from the chunks so far
  std::vector<uint32_t> free_;
  size_t active_ = 0;
  uint32_t head_ = kNil, tail_ = kNil;
};

}  // namespace dfly
