// Per-flow Community-tier features (counters, entropy, TCP handshake RTT, small-packet pattern).
// Threading: owned by the Sensor's flow table; touched only by the thread running the batch.
// Memory: FlowFeatures is a flat value type (copied into the "ended" output vector); byte-value
// histograms for entropy live in an EntropyPool (256 x u16 per direction, allocated on the first
// payload byte and released when the flow ends), so idle flows without payload stay small.
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

class EntropyPool {
 public:
  uint32_t alloc();
  void release(uint32_t idx);
  uint16_t* get(uint32_t idx) { return &counts_[(size_t)idx * 256]; }
  const uint16_t* get(uint32_t idx) const { return &counts_[(size_t)idx * 256]; }

 private:
  std::vector<uint16_t> counts_;
  std::vector<uint32_t> free_;
};

struct DirStats {
  uint64_t pkts = 0, bytes = 0, payload = 0;
  double sumsq = 0;
  uint32_t small = 0, large = 0, nonempty = 0;
  uint16_t first_nonempty = 0, maxpkt = 0;
  uint32_t seq = 0;
  uint16_t vlan = 0;
  bool seen = false, seq_set = false;
  uint8_t entropy = 0;
  uint32_t ent_n = 0;
  uint32_t ent_idx = kNoEntropy;
};

struct FlowFeatures {
  uint8_t uuid[16];
  uint8_t ipver = 0, proto = 0;
  uint8_t saddr[16], daddr[16];
  uint16_t sport = 0, dport = 0;
  int64_t stime = 0, etime = 0;
  int64_t syn_ts = 0;
  uint32_t rtt = 0;
  uint8_t hs = 0;         // handshake: 1 = SYN seen (dir hs_dir), 2 = SYN/ACK seen, 4 = done
  uint8_t hs_dir = 0;
  uint8_t iflags = 0, uflags = 0, fin_mask = 0;
  uint8_t spd_n = 0, spd_dirs = 0;
  uint8_t reason = REASON_NONE;
  bool has_mac = false;
  uint8_t smac[6], dmac[6];
  uint32_t spdt[8];
  DirStats d[2];
  char cid[32];           // computed once (first snapshot or finalize)
  // incremental updates: kind of this record, its sequence number within the flow (start = 0,
  // then one per update, end = last), packet time of the next update
  uint8_t kind = 2;       // 0 start, 1 update, 2 end
  uint32_t seq = 0;
  int64_t next_status = 0;
  uint32_t xidx = 0xffffffffu;  // index into the batch's L7 extras (ndpi_ja4 / ndpi_ja3s), end only
};

// Starts a flow from its first packet (the sender becomes the source).
void flow_features_init(FlowFeatures& f, const PacketInfo& pi, bool mac);
// Accounts one packet in direction dir (0 = source -> destination, 1 = reverse).
void flow_features_update(FlowFeatures& f, int dir, const PacketInfo& pi, uint32_t max_payload,
                          EntropyPool& pool);
// Copies f into out as a start/update record: derived values computed, histograms kept in f.
void flow_features_snapshot(FlowFeatures& f, FlowFeatures& out, uint8_t kind, const EntropyPool& pool);
// Computes derived values (entropy, community id) and releases the histograms.
void flow_features_finalize(FlowFeatures& f, uint8_t reason, EntropyPool& pool);

}  // namespace dfly
