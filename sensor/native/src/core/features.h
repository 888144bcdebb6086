// Per-flow Community-tier features (counters, entropy, TCP handshake RTT, small-packet pattern).
// Threading: owned by the Sensor's flow table; touched only by the thread running the batch.
// Memory: two types. FlowState is the live per-flow state kept in the flow table slot (240
// bytes; addresses and protocol live in the slot's key, the Community ID digest next to it). FlowFeatures is the output record (start/update/end), a flat value type
// copied into the Sensor's output vectors. Payload bytes for entropy live in an EntropyStore,
// allocated at the first payload byte of a direction in size classes that follow the bytes
// collected so far (16..512 bytes), and released as soon as the direction has max_payload bytes
// (the entropy is final then and kept as one byte) or the flow ends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode.h"

namespace dfly {

enum FlowReason : uint8_t { REASON_NONE = 0, REASON_IDLE, REASON_ACTIVE, REASON_EOF, REASON_END,
                            REASON_RST, REASON_EVICT };
const char* flow_reason_name(uint8_t r);

enum : uint8_t { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10,
                 TCP_URG = 0x20, TCP_ECE = 0x40, TCP_CWR = 0x80 };

static constexpr uint32_t kNoEntropy = 0xffffffffu;

// Per-direction counters: live in FlowState, copied into the output record.
struct DirStats {
  uint64_t pkts = 0, bytes = 0, payload = 0;
  double sumsq = 0;
  uint32_t small = 0, large = 0, nonempty = 0;
  uint32_t seq = 0;
  uint32_t ent_ref = kNoEntropy;  // EntropyStore handle while collecting (kNoEntropy: none)
  uint16_t first_nonempty = 0, maxpkt = 0;
  uint16_t vlan = 0;
  uint16_t ent_n = 0;             // payload bytes collected for entropy (<= max_payload <= 65535)
  bool seen = false, seq_set = false;
  uint8_t entropy = 0;            // output; live: final value once ent_n == max_payload
};

// Payload bytes per direction for the entropy of the first max_payload bytes. Up to kRawMax
// bytes are kept as they are (the common case: max_payload defaults to 500), in blocks of the
// smallest size class that holds them; past kRawMax (max_payload > 512) as a byte histogram
// (256 x u16 = 512 bytes). The representation follows from DirStats::ent_n alone.
class EntropyStore {
 public:
  static constexpr uint32_t kRawMax = 512;
  EntropyStore();
  ~EntropyStore();
  EntropyStore(const EntropyStore&) = delete;
  EntropyStore& operator=(const EntropyStore&) = delete;

  // Appends p[0..n) to s (the caller bounds n by max_payload - s.ent_n). When the direction
  // reaches max_payload its entropy is computed and the buffer released.
  void add(DirStats& s, const uint8_t* p, uint32_t n, uint32_t max_payload);
  // Entropy (0-255) of what s has collected so far.
  uint8_t value(const DirStats& s) const;
  // Computes s.entropy and frees the buffer (flow end).
  void finish(DirStats& s);
  size_t blocks_in_use() const { return in_use_; }

 private:
  static constexpr int kClasses = 10;
  struct Slab {
    uint32_t size = 0;              // bytes per block
    std::vector<uint8_t*> chunks;   // kBlocksPerChunk blocks each, never moved
    uint32_t fresh = 0;             // blocks handed out from the chunks so far
    uint32_t free_head = kNoEntropy; // intrusive free list (next index in the first 4 bytes)
  };
  static constexpr uint32_t kBlocksPerChunk = 256;
  uint32_t alloc(int cls);
  void release(uint32_t ref);
  uint8_t* ptr(uint32_t ref) const;
  Slab slabs_[kClasses];
  size_t in_use_ = 0;
};

// Live per-flow state in the flow table slot (see FlowTable). The flow's addresses, IP version
// and protocol are those of the slot's key.
struct FlowState {
  uint8_t uuid[16];
  int64_t stime = 0, etime = 0;
  int64_t syn_ts = 0;
  int64_t next_status = 0;  // packet time of the next update record
  uint32_t rtt = 0;
  uint32_t seq = 0;         // sequence number of the flow's last start/update record
  uint32_t spdt[8];
  uint16_t sport = 0, dport = 0;
  uint8_t hs = 0;           // handshake: 1 = SYN seen (dir hs_dir), 2 = SYN/ACK seen, 4 = done
  uint8_t hs_dir = 0;
  // fin_mask: bit 0/1 FIN seen from source/destination; bit 2 (kClosedEnd: the last ACK after
  // FIN both ways) or bit 3 (kClosedRst) once the TCP connection closed: the record then waits
  // Sensor::kCloseLinger for the packets that trail a close (the RST a closed socket answers each
  // late segment with, a retransmitted FIN/ACK) so they join this flow instead of starting one.
  uint8_t iflags = 0, uflags = 0, fin_mask = 0;
  uint8_t spd_n = 0, spd_dirs = 0;
  bool has_mac = false;
  uint8_t smac[6], dmac[6];
  DirStats d[2];
};

constexpr uint8_t kClosedEnd = 4, kClosedRst = 8;
inline uint8_t flow_closed_reason(const FlowState& f) {
  return (f.fin_mask & kClosedEnd) ? REASON_END : (f.fin_mask & kClosedRst) ? REASON_RST : REASON_NONE;
}

// Output record (start/update/end).
struct FlowFeatures {
  uint8_t uuid[16];
  uint8_t ipver = 0, proto = 0;
  uint8_t saddr[16], daddr[16];
  uint16_t sport = 0, dport = 0;
  int64_t stime = 0, etime = 0;
  uint32_t rtt = 0;
  uint8_t iflags = 0, uflags = 0;
  uint8_t spd_n = 0, spd_dirs = 0;
  uint8_t reason = REASON_NONE;
  bool has_mac = false;
  uint8_t smac[6], dmac[6];
  uint32_t spdt[8];
  DirStats d[2];
  char cid[32];
  // incremental updates: kind of this record, its sequence number within the flow (start = 0,
  // then one per update, end = last)
  uint8_t kind = 2;       // 0 start, 1 update, 2 end
  uint32_t seq = 0;
  uint32_t xidx = 0xffffffffu;  // index into the batch's L7 extras (ndpi_* strings), end only
};

// The flow's endpoints as the output shows them (source = sender of the first packet), and where
// the flow keeps its Community ID digest (all zero: not computed yet).
struct FlowAddrs {
  uint8_t ipver, proto;
  const uint8_t* saddr;
  const uint8_t* daddr;
  uint8_t* cid_sha1;
};

// Starts a flow from its first packet (the sender becomes the source).
void flow_features_init(FlowState& f, const PacketInfo& pi, bool mac);
// Accounts one packet in direction dir (0 = source -> destination, 1 = reverse).
void flow_features_update(FlowState& f, int dir, const PacketInfo& pi, uint32_t max_payload,
                          EntropyStore& es);
// Fills out as a start/update record (kind 0/1, sequence f.seq); entropy of the bytes so far.
void flow_features_snapshot(const FlowState& f, const FlowAddrs& a, FlowFeatures& out, uint8_t kind,
                            const EntropyStore& es);
// Fills out as the end record (sequence f.seq) and releases the entropy buffers.
void flow_features_finalize(FlowState& f, const FlowAddrs& a, FlowFeatures& out, uint8_t reason,
                            EntropyStore& es);

}  // namespace dfly
