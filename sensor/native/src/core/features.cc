// Flow features. Threading: single-threaded per Sensor. Memory: fixed-size per-flow state plus
// pooled 512-byte histograms; payload bytes are read only within pi.payload_caplen.
#include "features.h"

#include <cmath>
#include <cstring>

#include "community_id.h"

namespace dfly {

const char* flow_reason_name(uint8_t r) {
  switch (r) {
    case REASON_IDLE: return "idle";
    case REASON_ACTIVE: return "active";
    case REASON_EOF: return "eof";
    case REASON_END: return "end";
    case REASON_RST: return "rst";
    case REASON_EVICT: return "evict";
    default: return "";
  }
}

uint32_t EntropyPool::alloc() {
  uint32_t idx;
  if (!free_.empty()) { idx = free_.back(); free_.pop_back(); }
  else { idx = (uint32_t)(counts_.size() / 256); counts_.resize(counts_.size() + 256); }
  memset(get(idx), 0, 256 * sizeof(uint16_t));
  return idx;
}

void EntropyPool::release(uint32_t idx) { free_.push_back(idx); }

void flow_features_init(FlowFeatures& f, const PacketInfo& pi, bool mac) {
  f = FlowFeatures();
  f.ipver = pi.ipver;
  f.proto = pi.proto;
  memcpy(f.saddr, pi.src, 16);
  memcpy(f.daddr, pi.dst, 16);
  f.sport = pi.sport;
  f.dport = pi.dport;
  f.stime = f.etime = pi.ts_us;
  f.iflags = pi.has_tcp ? pi.tcp_flags : 0;
  f.has_mac = mac && pi.has_mac;
  if (f.has_mac) { memcpy(f.smac, pi.smac, 6); memcpy(f.dmac, pi.dmac, 6); }
}

void flow_features_update(FlowFeatures& f, int dir, const PacketInfo& pi, uint32_t max_payload,
                          EntropyPool& pool) {
  DirStats& s = f.d[dir];
  int64_t ts = pi.ts_us;
  if (ts > f.etime) f.etime = ts;
  if (!s.seen) { s.seen = true; s.vlan = pi.vlan; }
  if (pi.has_tcp) {
    if (!s.seq_set) { s.seq = pi.tcp_seq; s.seq_set = true; }
    uint8_t fl = pi.tcp_flags;
    f.uflags |= fl;
    // handshake RTT: SYN (dir X) -> SYN/ACK (other dir) -> ACK (dir X)
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
      if (!(f.hs & 1)) { f.hs = 1; f.hs_dir = (uint8_t)dir; f.syn_ts = ts; }
    } else if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
      if ((f.hs & 1) && dir != f.hs_dir) f.hs |= 2;
    } else if ((fl & TCP_ACK) && (f.hs & 3) == 3 && !(f.hs & 4) && dir == f.hs_dir) {
      f.hs |= 4;
      int64_t r = ts - f.syn_ts;
      f.rtt = r < 0 ? 0 : (r > 0xffffffffLL ? 0xffffffffu : (uint32_t)r);
    }
  }
  s.pkts++;
  s.bytes += pi.ip_len;
  uint32_t ml = pi.ip_len > 65535 ? 65535 : pi.ip_len;
  if (ml > s.maxpkt) s.maxpkt = (uint16_t)ml;
  uint32_t pl = pi.payload_len;
  if (pl > 0) {
    if (s.nonempty == 0) s.first_nonempty = (uint16_t)(pl > 65535 ? 65535 : pl);
    s.nonempty++;
    s.payload += pl;
    s.sumsq += (double)pl * (double)pl;
    if (s.ent_n < max_payload && pi.payload_caplen > 0) {
      uint32_t n = max_payload - s.ent_n;
      if (n > pi.payload_caplen) n = pi.payload_caplen;
      if (s.ent_idx == kNoEntropy) s.ent_idx = pool.alloc();
      uint16_t* c = pool.get(s.ent_idx);
      const uint8_t* p = pi.payload;
      for (uint32_t i = 0; i < n; i++) c[p[i]]++;
      s.ent_n += n;
    }
  }
  if (pl < 60) {
    s.small++;
    if (f.spd_n < 8) {
      if (dir) f.spd_dirs |= (uint8_t)(1u << f.spd_n);
      int64_t ms = (ts - f.stime) / 1000;
      f.spdt[f.spd_n++] = ms < 0 ? 0 : (ms > 0xffffffffLL ? 0xffffffffu : (uint32_t)ms);
    }
  }
  if (pl > 225) s.large++;
}

// c*log2(c) for small counts (the common case with <= 500 payload bytes); log2 beyond. A
// namespace-scope table (built once at load) so the hot loop has no static-init guard.
static const struct ClogcTable {
  double v[1024];
  ClogcTable() { v[0] = 0; for (int i = 1; i < 1024; i++) v[i] = i * std::log2((double)i); }
} kClogc;

static inline double clogc(uint32_t c) { return c < 1024 ? kClogc.v[c] : c * std::log2((double)c); }

static uint8_t entropy_of(const uint16_t* c, uint32_t n) {
  if (n == 0) return 0;
  // H = log2(n) - (1/n) * sum(c_i * log2(c_i)). Payload histograms are sparse (<= max_payload
  // bytes over 256 bins): skip four empty bins per 64-bit load.
  double sum = 0;
  for (int i = 0; i < 256; i += 4) {
    uint64_t w;
    memcpy(&w, c + i, sizeof w);
    if (w == 0) continue;
    sum += clogc(c[i]) + clogc(c[i + 1]) + clogc(c[i + 2]) + clogc(c[i + 3]);
  }
  double h = std::log2((double)n) - sum / n;
  double v = std::round(h * 255.0 / 8.0);
  return (uint8_t)(v > 255 ? 255 : (v < 0 ? 0 : v));
}

void flow_features_snapshot(FlowFeatures& f, FlowFeatures& out, uint8_t kind, const EntropyPool& pool) {
  if (!f.cid[0]) community_id_v1(f.ipver == 6 ? 16 : 4, f.saddr, f.daddr, f.proto, f.sport, f.dport, f.cid);
  out = f;
  out.kind = kind;
  out.reason = REASON_NONE;
  for (int i = 0; i < 2; i++) {
    DirStats& s = out.d[i];
    if (s.ent_idx != kNoEntropy) {
      s.entropy = entropy_of(pool.get(s.ent_idx), s.ent_n);
      s.ent_idx = kNoEntropy;
    }
  }
}

void flow_features_finalize(FlowFeatures& f, uint8_t reason, EntropyPool& pool) {
  f.reason = reason;
  for (int i = 0; i < 2; i++) {
    DirStats& s = f.d[i];
    if (s.ent_idx != kNoEntropy) {
      s.entropy = entropy_of(pool.get(s.ent_idx), s.ent_n);
      pool.release(s.ent_idx);
      s.ent_idx = kNoEntropy;
    }
  }
  f.kind = 2;
  if (!f.cid[0]) community_id_v1(f.ipver == 6 ? 16 : 4, f.saddr, f.daddr, f.proto, f.sport, f.dport, f.cid);
}

}  // namespace dfly
