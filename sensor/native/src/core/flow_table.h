// Bidirectional flow table: open-addressing hash (linear probing, backward-shift deletion, no
// tombstones) over a slab of Flow slots, plus an intrusive doubly-linked LRU list (by index)
// ordered by last packet arrival.
// Threading: single-threaded; owned by one Sensor. Memory: slots grow geometrically (std::vector;
// flows are referenced by 32-bit index, never by pointer across insertions), freed slots are
// reused through a free list; the hash index is kept at <= 50% load.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "features.h"
#include "l7/l7.h"

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

struct Flow {
  FlowKey key;
  uint64_t hash;
  uint32_t lru_prev, lru_next;
  bool src_is_a;   // the flow's source is endpoint "a" of the key
  bool in_use;
  uint8_t l7_state;  // 0 undecided (l7_tries payload packets tried), 1 parsing, 2 done
  uint8_t l7_tries;
  L7Flow* l7;        // owned; see Sensor::l7_* (nullptr when no parser claimed the flow)
  ndpi_flow_struct* ndpi;  // owned by the Sensor's NdpiEngine while inspecting (ndpi.h)
  NdpiResult ndpi_r;
  FlowFeatures f;
};

class FlowTable {
 public:
  FlowTable();
  uint32_t flow_find(const FlowKey& k, uint64_t h) const;
  uint32_t flow_insert(const FlowKey& k, uint64_t h);  // returns slot index (features uninitialised)
  void flow_remove(uint32_t idx);
  void lru_touch(uint32_t idx);
  uint32_t lru_head() const { return head_; }
  Flow& at(uint32_t idx) { return flows_[idx]; }
  size_t active() const { return active_; }

  static uint64_t flow_hash(const FlowKey& k);

 private:
  void grow();
  void lru_unlink(uint32_t idx);
  void lru_append(uint32_t idx);

  struct Slot { uint32_t idx; uint32_t tag; };  // idx == kNil: empty
  std::vector<Slot> slots_;
  size_t mask_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_;
  size_t active_ = 0;
  uint32_t head_ = kNil, tail_ = kNil;
};

}  // namespace dfly
