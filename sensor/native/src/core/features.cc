// Flow features. Threading: single-threaded per Sensor. Memory: fixed-size per-flow state plus
// pooled payload blocks (EntropyStore); payload bytes are read only within pi.payload_caplen.
#include "features.h"

#include <cmath>
#include <cstdlib>
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

// ============================================================================================
// EntropyStore
// ============================================================================================

// Block sizes. Growth by ~1.5x keeps the slack small for the short payloads of most flows
// (a DNS query fits 48 bytes, an HTTP request line with a few headers 96-128).
static constexpr uint32_t kClassSize[10] = {16, 32, 48, 64, 96, 128, 192, 256, 384, 512};

// Smallest class holding n bytes (1 <= n <= 512), by 16-byte step.
static const struct ClassOf {
  uint8_t v[33];
  ClassOf() {
    for (uint32_t s = 0; s <= 32; s++) {
      uint32_t n = s * 16;
      int c = 0;
      while (kClassSize[c] < n) c++;
      v[s] = (uint8_t)c;
    }
  }
} kClassOf;

static inline int class_of(uint32_t n) { return kClassOf.v[(n + 15) >> 4]; }
static inline uint32_t ref_class(uint32_t ref) { return ref >> 28; }
static inline uint32_t ref_index(uint32_t ref) { return ref & 0x0fffffffu; }

EntropyStore::EntropyStore() {
  for (int c = 0; c < kClasses; c++) slabs_[c].size = kClassSize[c];
}

EntropyStore::~EntropyStore() {
  for (Slab& s : slabs_)
    for (uint8_t* p : s.chunks) free(p);
}

uint8_t* EntropyStore::ptr(uint32_t ref) const {
  const Slab& s = slabs_[ref_class(ref)];
  uint32_t i = ref_index(ref);
  return s.chunks[i / kBlocksPerChunk] + (size_t)(i % kBlocksPerChunk) * s.size;
}

uint32_t EntropyStore::alloc(int cls) {
  Slab& s = slabs_[cls];
  uint32_t i;
  if (s.free_head != kNoEntropy) {
    i = s.free_head;
    memcpy(&s.free_head, s.chunks[i / kBlocksPerChunk] + (size_t)(i % kBlocksPerChunk) * s.size, 4);
  } else {
    if (s.fresh == s.chunks.size() * kBlocksPerChunk) {
      uint8_t* c = (uint8_t*)malloc((size_t)kBlocksPerChunk * s.size);
      if (!c) abort();
      s.chunks.push_back(c);
    }
    i = s.fresh++;
  }
  in_use_++;
  return (uint32_t)cls << 28 | i;
}

void EntropyStore::release(uint32_t ref) {
  Slab& s = slabs_[ref_class(ref)];
  uint32_t i = ref_index(ref);
  memcpy(ptr(ref), &s.free_head, 4);
  s.free_head = i;
  in_use_--;
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

static inline void count_bytes(uint16_t* c, const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) c[p[i]]++;
}

void EntropyStore::add(DirStats& s, const uint8_t* p, uint32_t n, uint32_t max_payload) {
  if (n == 0) return;
  uint32_t have = s.ent_n, want = have + n;
  if (want <= kRawMax) {  // raw bytes
    if (s.ent_ref == kNoEntropy) {
      s.ent_ref = alloc(class_of(want));
    } else if (kClassSize[ref_class(s.ent_ref)] < want) {
      uint32_t r = alloc(class_of(want));
      memcpy(ptr(r), ptr(s.ent_ref), have);
      release(s.ent_ref);
      s.ent_ref = r;
    }
    memcpy(ptr(s.ent_ref) + have, p, n);
  } else {  // histogram (max_payload > kRawMax); blocks are 16-byte aligned malloc memory
    if (have <= kRawMax) {  // convert the raw bytes collected so far
      uint16_t c[256] = {};
      if (s.ent_ref != kNoEntropy) {
        count_bytes(c, ptr(s.ent_ref), have);
        release(s.ent_ref);
      }
      s.ent_ref = alloc(kClasses - 1);
      memcpy(ptr(s.ent_ref), c, sizeof c);
    }
    count_bytes(reinterpret_cast<uint16_t*>(ptr(s.ent_ref)), p, n);
  }
  s.ent_n = (uint16_t)want;
  // Nothing more is ever added to this direction: the entropy is final, keep only its value.
  if (want >= max_payload) finish(s);
}

uint8_t EntropyStore::value(const DirStats& s) const {
  if (s.ent_ref == kNoEntropy) return s.entropy;  // final (or no payload: 0)
  const uint8_t* b = ptr(s.ent_ref);
  if (s.ent_n > kRawMax) return entropy_of(reinterpret_cast<const uint16_t*>(b), s.ent_n);
  uint16_t c[256] = {};
  count_bytes(c, b, s.ent_n);
  return entropy_of(c, s.ent_n);
}

void EntropyStore::finish(DirStats& s) {
  if (s.ent_ref == kNoEntropy) return;
  s.entropy = value(s);
  release(s.ent_ref);
  s.ent_ref = kNoEntropy;
}

// ============================================================================================
// flow_features_*
// ============================================================================================

void flow_features_init(FlowState& f, const PacketInfo& pi, bool mac) {
  f = FlowState();
  f.sport = pi.sport;
  f.dport = pi.dport;
  f.stime = f.etime = pi.ts_us;
  f.iflags = pi.has_tcp ? pi.tcp_flags : 0;
  f.has_mac = mac && pi.has_mac;
  if (f.has_mac) { memcpy(f.smac, pi.smac, 6); memcpy(f.dmac, pi.dmac, 6); }
}

void flow_features_update(FlowState& f, int dir, const PacketInfo& pi, uint32_t max_payload,
                          EntropyStore& es) {
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
      es.add(s, pi.payload, n, max_payload);
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

static void fill_record(const FlowState& f, const FlowAddrs& a, FlowFeatures& out) {
  memcpy(out.uuid, f.uuid, 16);
  out.ipver = a.ipver;
  out.proto = a.proto;
  memcpy(out.saddr, a.saddr, 16);
  memcpy(out.daddr, a.daddr, 16);
  out.sport = f.sport;
  out.dport = f.dport;
  out.stime = f.stime;
  out.etime = f.etime;
  out.rtt = f.rtt;
  out.iflags = f.iflags;
  out.uflags = f.uflags;
  out.spd_n = f.spd_n;
  out.spd_dirs = f.spd_dirs;
  out.has_mac = f.has_mac;
  memcpy(out.smac, f.smac, 6);
  memcpy(out.dmac, f.dmac, 6);
  memcpy(out.spdt, f.spdt, sizeof out.spdt);
  out.d[0] = f.d[0];
  out.d[1] = f.d[1];
  out.seq = f.seq;
  out.xidx = 0xffffffffu;
  static const uint8_t kZero[20] = {};
  if (memcmp(a.cid_sha1, kZero, 20) == 0)  // a SHA-1 digest of all zeros does not occur in practice
    community_id_v1_sha1(a.ipver == 6 ? 16 : 4, a.saddr, a.daddr, a.proto, f.sport, f.dport, a.cid_sha1);
  community_id_v1_text(a.cid_sha1, out.cid);
}

void flow_features_snapshot(const FlowState& f, const FlowAddrs& a, FlowFeatures& out, uint8_t kind,
                            const EntropyStore& es) {
  fill_record(f, a, out);
  out.kind = kind;
  out.reason = REASON_NONE;
  for (int i = 0; i < 2; i++) {
    out.d[i].entropy = es.value(f.d[i]);
    out.d[i].ent_ref = kNoEntropy;
  }
}

void flow_features_finalize(FlowState& f, const FlowAddrs& a, FlowFeatures& out, uint8_t reason,
                            EntropyStore& es) {
  es.finish(f.d[0]);
  es.finish(f.d[1]);
  fill_record(f, a, out);
  out.kind = 2;
  out.reason = reason;
}

}  // namespace dfly
