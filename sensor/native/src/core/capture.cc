// Sensor engine. Threading: single-threaded per Sensor (see header). Memory: packet data is
// borrowed from libpcap for the duration of packet_process(); flows live in the FlowTable slab.
#include "capture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "bpf_filter.h"
#include "community_id.h"

namespace dfly {

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Sensor::Sensor(const SensorConfig& cfg) : cfg_(cfg), frags_(cfg.frag) {
  if (cfg_.max_payload > 65535) cfg_.max_payload = 65535;
  bool seeded = false;
  if (FILE* f = fopen("/dev/urandom", "rb")) {
    seeded = fread(rng_, sizeof rng_, 1, f) == 1;
    fclose(f);
  }
  if (!seeded) {
    uint64_t s = (uint64_t)time(nullptr) ^ (uint64_t)(uintptr_t)this;
    for (auto& r : rng_) { s += 0x9E3779B97F4A7C15ULL; uint64_t z = s; z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL; r = z ^ (z >> 31); }
  }
  if (!(rng_[0] | rng_[1] | rng_[2] | rng_[3])) rng_[0] = 1;
  if (cfg_.ndpi.enabled) {
    ndpi_ = new NdpiEngine();
    if (!ndpi_->ndpi_init(cfg_.ndpi, &init_error_)) { delete ndpi_; ndpi_ = nullptr; }
  }
}

Sensor::~Sensor() {
  capture_close();
  for (uint32_t h = table_.lru_head(); h != kNil; h = table_.at(h).lru_next) {
    Flow& fl = table_.at(h);
    if (fl.l7) {
      L7Out out{&l7_bodies_, &l7_extras_};
      l7_flow_finish(fl.l7, out);
      delete fl.l7;
      fl.l7 = nullptr;
    }
    delete fl.x;
    fl.x = nullptr;
    if (fl.ndpi && ndpi_) ndpi_->ndpi_finish(&fl.ndpi, &fl.ndpi_r);
  }
  delete ndpi_;
}

void Sensor::uuid_v4(uint8_t out[16]) {
  // xoshiro256**: fast, non-cryptographic; the UUID only needs to be unique, not secret.
  for (int half = 0; half < 2; half++) {
    uint64_t r = rotl(rng_[1] * 5, 7) * 9;
    uint64_t t = rng_[1] << 17;
    rng_[2] ^= rng_[0]; rng_[3] ^= rng_[1]; rng_[1] ^= rng_[2]; rng_[0] ^= rng_[3];
    rng_[2] ^= t; rng_[3] = rotl(rng_[3], 45);
    memcpy(out + 8 * half, &r, 8);
  }
  out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
  out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

// ============================================================================================
// capture_*
// ============================================================================================

bool Sensor::capture_open(const std::string& path, std::string* err) {
  capture_close();
  char errbuf[PCAP_ERRBUF_SIZE];
  errbuf[0] = 0;
  // Our own FILE for libpcap: a 1 MiB buffer (glibc's default is the 4 KiB block size: one read
  // syscall per few packets) and no stdio locking (libpcap freads twice per packet; only this
  // thread touches the stream).
  FILE* fp = fopen(path.c_str(), "rb");
  if (!fp) {
    *err = "cannot open capture '" + path + "': " + strerror(errno);
    return false;
  }
  setvbuf(fp, nullptr, _IOFBF, 1 << 20);
  __fsetlocking(fp, FSETLOCKING_BYCALLER);
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) {
    fclose(fp);  // libpcap leaves the stream open on failure
    *err = "cannot open capture '" + path + "': " + errbuf;
    return false;
  }
  if (!cfg_.filter.empty() && !pcap_apply_filter(p, cfg_.filter, " for '" + path + "'", "'" + path + "'", err)) {
    pcap_close(p);
    return false;
  }
  pcap_ = p;
  dlt_ = pcap_datalink(p);
  path_ = path;
  file_packets_ = 0;
  stats_.files++;
  if (cfg_.filter.empty()) map_open();
  return true;
}

// Classic pcap files (not pcapng) without a BPF filter are read from a read-only mapping: no
// copy of the packet bytes. libpcap's read path copies every byte twice (kernel → stdio buffer →
// its packet buffer): ~35% of the core's time on a 734 MB capture. libpcap has already checked
// the file header and tells the link type and snapshot length; the records are walked here with
// libpcap's checks and error messages (sf-pcap.c). Anything unusual keeps the libpcap path.
void Sensor::map_open() {
  FILE* f = pcap_file(pcap_);
  if (!f) return;
  const int fd = fileno(f);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) return;
  uint8_t hdr[24];
  if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) return;
  uint32_t magic;
  memcpy(&magic, hdr, 4);
  bool swap, nsec;
  if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
    swap = false;
    nsec = magic == 0xa1b23c4du;
  } else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
    swap = true;
    nsec = magic == 0x4d3cb2a1u;
  } else {
    return;  // pcapng or a variant: libpcap reads it
  }
  // Only version 2.4: older versions may have caplen and len swapped, which libpcap undoes.
  uint16_t major, minor;
  memcpy(&major, hdr + 4, 2);
  memcpy(&minor, hdr + 6, 2);
  if (swap) {
    major = __builtin_bswap16(major);
    minor = __builtin_bswap16(minor);
  }
  if (major != 2 || minor != 4) return;
  void* m = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) return;
  madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
  map_.base = static_cast<const uint8_t*>(m);
  map_.size = (size_t)st.st_size;
  map_.off = 24;
  map_.swap = swap;
  map_.nsec = nsec;
  map_.snapshot = (uint32_t)pcap_snapshot(pcap_);
  // libpcap's max_snaplen_for_dlt(): 256 KiB, more for a few USB/D-Bus link types
  map_.max_caplen = dlt_ == DLT_DBUS ? 128u * 1024 * 1024 : (dlt_ == DLT_USBPCAP || dlt_ == DLT_EBHSCR) ? 1024u * 1024 : 262144u;
  if (map_.snapshot == 0 || map_.snapshot > map_.max_caplen) map_.snapshot = map_.max_caplen;
  map_.fd = dup(fd);
  pcap_close(pcap_);  // closes the stream; the mapping stays valid
  pcap_ = nullptr;
}

void Sensor::capture_close() {
  if (pcap_) { pcap_close(pcap_); pcap_ = nullptr; }
  if (map_.base) {
    munmap(const_cast<uint8_t*>(map_.base), map_.size);
    if (map_.fd >= 0) close(map_.fd);
    map_ = Mapped();
  }
}

static inline uint32_t rd32(const uint8_t* p, bool swap) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}

bool Sensor::map_read_batch(uint64_t max_packets, bool* has_error, CaptureError* err, uint64_t* pkts_out, uint64_t* bytes_out) {
  uint64_t n = 0, bytes = 0;
  bool done = false;
  auto fail = [&](std::string msg, size_t at) {
    *has_error = true;
    err->file = path_;
    err->packet_index = file_packets_;
    err->byte_offset = (int64_t)at;
    err->message = std::move(msg);
    stats_.capture_errors++;
    done = true;
  };
  const uint8_t* base = map_.base;
  const size_t size = map_.size;
  size_t off = map_.off;
  // Touching mapped pages past a file's new end raises SIGBUS: a file cut short while it is read
  // (between batches) ends with an error instead. A cut within one batch is not caught.
  struct stat st;
  if (map_.fd >= 0 && fstat(map_.fd, &st) == 0 && (size_t)st.st_size < size) {
    fail("capture file shrank from " + std::to_string(size) + " to " + std::to_string((long long)st.st_size) + " bytes while being read", off);
    *pkts_out = 0;
    *bytes_out = 0;
    capture_close();
    return true;
  }
  while (n < max_packets) {
    const size_t left = size - off;
    if (left == 0) {
      done = true;
      break;
    }
    if (left < 16) {
      fail("truncated dump file; tried to read 16 file header bytes, only got " + std::to_string(left), size);
      break;
    }
    const uint8_t* h = base + off;
    const uint32_t sec = rd32(h, map_.swap), frac = rd32(h + 4, map_.swap), caplen = rd32(h + 8, map_.swap);
    if (caplen > map_.max_caplen) {
      fail("invalid packet capture length " + std::to_string(caplen) + ", bigger than maximum of " + std::to_string(map_.max_caplen), off + 16);
      break;
    }
    if (left - 16 < caplen) {
      fail("truncated dump file; tried to read " + std::to_string(caplen) + " captured bytes, only got " + std::to_string(left - 16), size);
      break;
    }
    uint32_t cap = caplen > map_.snapshot ? map_.snapshot : caplen;
    if (cfg_.snaplen && cap > cfg_.snaplen) cap = cfg_.snaplen;
    // Both timestamp fields are signed 32-bit in the format, as libpcap reads them.
    const int32_t ssec = (int32_t)sec, sfrac = (int32_t)frac;
    const int64_t ts = (int64_t)ssec * 1000000 + (int64_t)(map_.nsec ? sfrac / 1000 : sfrac);
    n++;
    bytes += cap;
    file_packets_++;
    packet_process(dlt_, ts, h + 16, cap);
    off += 16 + (size_t)caplen;
    // Drop what was read from the mapping every 4 MiB (the page cache keeps it): the process's
    // RSS then holds a few MiB of the file, not all of it.
    if (off - map_.released >= (4u << 20)) {
      const size_t to = off & ~(size_t)0xfffff;
      madvise(const_cast<uint8_t*>(base) + map_.released, to - map_.released, MADV_DONTNEED);
      map_.released = to;
    }
  }
  map_.off = off;
  *pkts_out = n;
  *bytes_out = bytes;
  if (done) capture_close();
  return done;
}

bool Sensor::capture_read_batch(uint64_t max_packets, bool* has_error, CaptureError* err,
                                uint64_t* pkts_out, uint64_t* bytes_out) {
  *has_error = false;
  *pkts_out = 0;
  *bytes_out = 0;
  if (map_.base) return map_read_batch(max_packets, has_error, err, pkts_out, bytes_out);
  if (!pcap_) return true;
  uint64_t n = 0, bytes = 0;
  bool done = false;
  while (n < max_packets) {
    struct pcap_pkthdr* hdr;
    const u_char* data;
    int rc = pcap_next_ex(pcap_, &hdr, &data);
    if (rc == 1) {
      uint32_t cap = hdr->caplen;
      if (cfg_.snaplen && cap > cfg_.snaplen) cap = cfg_.snaplen;
      int64_t ts = (int64_t)hdr->ts.tv_sec * 1000000 + (int64_t)hdr->ts.tv_usec;
      n++;
      bytes += cap;
      file_packets_++;
      packet_process(dlt_, ts, data, cap);
    } else if (rc == PCAP_ERROR_BREAK || rc == 0) {  // -2: end of file (0 cannot happen offline)
      done = true;
      break;
    } else {
      *has_error = true;
      err->file = path_;
      err->packet_index = file_packets_;
      FILE* f = pcap_file(pcap_);
      err->byte_offset = f ? (int64_t)ftell(f) : -1;
      err->message = pcap_geterr(pcap_);
      stats_.capture_errors++;
      done = true;
      break;
    }
  }
  *pkts_out = n;
  *bytes_out = bytes;
  if (done) capture_close();
  return done;
}

// ============================================================================================
// packet_*
// ============================================================================================

void Sensor::packet_process(int dlt, int64_t ts_us, const uint8_t* data, uint32_t caplen) {
  stats_.packets++;
  stats_.bytes += caplen;
  PacketInfo pi;
  pi.ts_us = ts_us;
  if (packet_decode_l3(dlt, data, caplen, pi, stats_) != DECODE_OK) return;
  if (pi.is_fragment) {
    if (cfg_.frag.disabled) {
      if (pi.frag_offset == 0) {
        if (pi.ipver == 6) {  // extension headers may follow the fragment header
          uint8_t proto; uint32_t used;
          if (ipv6_skip_ext(pi.proto, pi.l4, pi.l4_caplen, &proto, &used)) {
            pi.proto = proto; pi.l4 += used; pi.l4_caplen -= used;
            pi.l4_len = pi.l4_len > used ? pi.l4_len - used : 0;
          }
        }
        packet_decode_l4(pi, stats_);
      } else {
        packet_no_l4(pi);
      }
      flow_packet(pi);
      return;
    }
    FragKey k;
    memcpy(k.src, pi.src, 16);
    memcpy(k.dst, pi.dst, 16);
    k.id = pi.frag_id;
    k.proto = pi.ipver == 4 ? pi.proto : 0;
    k.ipver = pi.ipver;
    const uint8_t* buf; uint32_t len; uint8_t proto;
    if (!frags_.frag_add(k, pi.frag_offset, pi.more_frags, pi.proto, pi.l4, pi.l4_caplen, pi.l4_len,
                         ts_us, stats_, &buf, &len, &proto))
      return;
    uint32_t hdr = pi.l3_hdr_len;
    pi.proto = proto;
    pi.l4 = buf; pi.l4_caplen = len; pi.l4_len = len;
    if (pi.ipver == 6) {
      uint8_t p2; uint32_t used;
      if (ipv6_skip_ext(proto, buf, len, &p2, &used)) {
        pi.proto = p2; pi.l4 = buf + used; pi.l4_caplen = len - used; pi.l4_len = len - used;
      }
    }
    pi.ip_len = hdr + len;
    pi.is_fragment = false;
    packet_decode_l4(pi, stats_);
    flow_packet(pi);
    return;
  }
  packet_decode_l4(pi, stats_);
  flow_packet(pi);
}

// ============================================================================================
// flow_*
// ============================================================================================

// ============================================================================================
// l7_*: the first payload packets of a flow go through the parser registry (l7/registry.cc)
// until a parser is done, kL7MaxPackets is reached, or no parser claimed the flow in 16 tries.
// ============================================================================================

void Sensor::l7_drain(Flow& fl, int64_t ts) {
  if (l7_bodies_.empty()) return;
  FlowAddrs a = flow_addrs(fl);
  for (auto& b : l7_bodies_) {
    L7Event ev;
    ev.type = fl.l7->parser->type;
    ev.ts = ts;
    memcpy(ev.uuid, fl.f.uuid, 16);
    ev.ipver = a.ipver;
    ev.proto = a.proto;
    memcpy(ev.saddr, a.saddr, 16);
    memcpy(ev.daddr, a.daddr, 16);
    ev.sport = fl.f.sport;
    ev.dport = fl.f.dport;
    ev.body = std::move(b);
    l7_events_.push_back(std::move(ev));
    stats_.l7_events++;
  }
  l7_bodies_.clear();
}

// Moves what the parser put into the scratch extras to the flow (kept until its end record).
void Sensor::l7_keep_extras(Flow& fl) {
  if (l7_extras_.ja4.empty() && l7_extras_.ja3s.empty()) return;
  if (!fl.x) fl.x = new FlowExtra();
  if (!fl.x->tls) fl.x->tls.reset(new FlowTls());
  fl.x->tls->ja4 = std::move(l7_extras_.ja4);
  fl.x->tls->ja3s = std::move(l7_extras_.ja3s);
  l7_extras_.ja4.clear();
  l7_extras_.ja3s.clear();
}

void Sensor::l7_done(Flow& fl, int64_t ts) {
  fl.l7_state = 2;
  if (!fl.l7) return;
  L7Out out{&l7_bodies_, &l7_extras_};
  l7_flow_finish(fl.l7, out);
  l7_drain(fl, ts);
  l7_keep_extras(fl);
  delete fl.l7;
  fl.l7 = nullptr;
}

void Sensor::l7_packet(Flow& fl, int dir, const PacketInfo& pi) {
  L7Out out{&l7_bodies_, &l7_extras_};
  bool more = l7_flow_payload(&fl.l7, &fl.l7_tries, out, dir, pi.has_tcp, pi.has_tcp && (pi.tcp_flags & TCP_SYN),
                              pi.tcp_seq, fl.f.sport, fl.f.dport, pi.payload, pi.payload_caplen, pi.ts_us);
  if (!fl.l7) {
    if (++fl.l7_tries >= 16) fl.l7_state = 2;  // STARTTLS: the hello follows a few plaintext lines
    return;
  }
  fl.l7_state = 1;
  l7_drain(fl, pi.ts_us);
  l7_keep_extras(fl);
  if (!more) l7_done(fl, pi.ts_us);
}

void Sensor::flow_end(uint32_t idx, uint8_t reason) {
  Flow& fl = table_.at(idx);
  if (fl.l7 && fl.l7_state != 2) l7_done(fl, fl.f.etime);
  uint32_t xidx = 0xffffffffu;
  if (fl.x && fl.x->tls) {
    xidx = (uint32_t)ended_extras_.size();
    ended_extras_.emplace_back();
    L7Extras& x = ended_extras_.back();
    x.ja4 = std::move(fl.x->tls->ja4);
    x.ja3s = std::move(fl.x->tls->ja3s);
  }
  if (ndpi_) {  // labels go with the end record through the extras (allocated only here)
    if (fl.ndpi_r.state != 2) ndpi_->ndpi_finish(&fl.ndpi, &fl.ndpi_r);
    stats_.ndpi_states = ndpi_->states_active();
    stats_.ndpi_classified = ndpi_->classified();
    if (xidx == 0xffffffffu) {
      xidx = (uint32_t)ended_extras_.size();
      ended_extras_.emplace_back();
    }
    L7Extras& x = ended_extras_[xidx];
    x.has_ndpi = true;
    ndpi_->ndpi_labels(fl.ndpi_r, &x.ndpi);
    std::string tcp_fp;
    if (fl.x && fl.x->tcp.set) {
      tcp_fp = tcp_fp_text(fl.x->tcp);
      x.ndpi.tcp_fp = tcp_fp + "/" + tcp_fp_os(tcp_fp);
    }
    if (!x.ja4.empty() || ndpi_->ndpi_is_tls_like(fl.ndpi_r)) x.ndpi.fp = ndpi_flow_fp(tcp_fp, x.ja4);
  }
  delete fl.x;
  fl.x = nullptr;
  if (cfg_.status) fl.f.seq++;  // the end record follows the start (0) and the updates
  ended_.emplace_back();
  flow_features_finalize(fl.f, table_.addrs(idx), ended_.back(), reason, es_);
  ended_.back().xidx = xidx;
  table_.flow_remove(idx);
  stats_.flows_ended++;
  stats_.flows_active = table_.active();
  if (reason == REASON_EVICT) stats_.flows_evicted++;
}

void Sensor::flow_expire_idle(int64_t now) {
  for (;;) {
    uint32_t h = table_.lru_head();
    if (h == kNil) break;
    Flow& fl = table_.at(h);
    if (now - fl.f.etime < cfg_.idle_timeout_us) break;
    flow_end(h, fl.f.fin_mask == 3 ? REASON_END : REASON_IDLE);
  }
}

void Sensor::flow_flush() {
  for (;;) {
    uint32_t h = table_.lru_head();
    if (h == kNil) break;
    flow_end(h, REASON_EOF);
  }
}

void Sensor::flow_tick(int64_t now_us) {
  flow_expire_idle(now_us);
  if (!cfg_.frag.disabled && frags_.size()) frags_.frag_expire(now_us, stats_);
}

static inline int addr_cmp(const uint8_t* a, const uint8_t* b) { return memcmp(a, b, 16); }

void Sensor::flow_packet(PacketInfo& pi) {
  int64_t now = pi.ts_us;
  int64_t sec = now / 1000000;
  if (sec != last_scan_sec_) {
    last_scan_sec_ = sec;
    flow_expire_idle(now);
    if (!cfg_.frag.disabled && frags_.size()) frags_.frag_expire(now, stats_);
  }
  // key ports (ICMP: Community-ID type/code mapping so request and reply share a flow)
  uint16_t ks = pi.sport, kd = pi.dport;
  bool one_way = false;
  if (pi.proto == IPPROTO_ICMP_ || pi.proto == IPPROTO_ICMPV6_)
    one_way = cid_icmp_ports(pi.proto == IPPROTO_ICMPV6_, (uint8_t)pi.sport, (uint8_t)pi.dport, &ks, &kd);
  FlowKey key;
  int c = addr_cmp(pi.src, pi.dst);
  bool fwd = c < 0 || (c == 0 && ks <= kd);
  if (one_way) fwd = true;
  if (fwd) { memcpy(key.a, pi.src, 16); memcpy(key.b, pi.dst, 16); key.pa = ks; key.pb = kd; }
  else { memcpy(key.a, pi.dst, 16); memcpy(key.b, pi.src, 16); key.pa = kd; key.pb = ks; }
  key.proto = pi.proto;
  key.ipver = pi.ipver;
  key.pad[0] = (uint8_t)(pi.icmp_echo_id >> 8);
  key.pad[1] = (uint8_t)(pi.icmp_echo_id & 0xff);
  uint64_t h = FlowTable::flow_hash(key);
  uint32_t idx = table_.flow_find(key, h);
  if (idx != kNil) {
    Flow& fl = table_.at(idx);
    if (now - fl.f.etime >= cfg_.idle_timeout_us) {
      flow_end(idx, fl.f.fin_mask == 3 ? REASON_END : REASON_IDLE);
      idx = kNil;
    } else if (now - fl.f.stime >= cfg_.active_timeout_us) {
      flow_end(idx, REASON_ACTIVE);
      idx = kNil;
    }
  }
  bool created = idx == kNil;
  if (idx == kNil) {
    if (cfg_.max_flows && table_.active() >= cfg_.max_flows) flow_end(table_.lru_head(), REASON_EVICT);
    idx = table_.flow_insert(key, h);
    Flow& fl = table_.at(idx);
    fl.src_is_a = fwd;
    flow_features_init(fl.f, pi, cfg_.mac);
    fl.l7 = nullptr;
    fl.ndpi = nullptr;
    fl.x = nullptr;
    memset(fl.cid, 0, sizeof fl.cid);
    fl.ndpi_r = NdpiResult();
    fl.l7_tries = 0;
    fl.l7_state = cfg_.l7 && (pi.proto == IPPROTO_TCP_ || pi.proto == IPPROTO_UDP_) ? 0 : 2;
    uuid_v4(fl.f.uuid);
    fl.f.next_status = cfg_.status_interval_us > 0 ? fl.f.stime + cfg_.status_interval_us : INT64_MAX;
    stats_.flows_created++;
    stats_.flows_active = table_.active();
  } else {
    table_.lru_touch(idx);
  }
  Flow& fl = table_.at(idx);
  int dir = fwd == fl.src_is_a ? 0 : 1;
  if (c == 0 && ks == kd) dir = 0;  // both endpoints identical: everything is "source"
  flow_features_update(fl.f, dir, pi, cfg_.max_payload, es_);
  if (cfg_.status) {
    if (created) {
      status_.emplace_back();
      flow_features_snapshot(fl.f, table_.addrs(idx), status_.back(), 0, es_);
    } else if (now >= fl.f.next_status) {
      fl.f.seq++;
      status_.emplace_back();
      flow_features_snapshot(fl.f, table_.addrs(idx), status_.back(), 1, es_);
      int64_t iv = cfg_.status_interval_us;
      fl.f.next_status = now - (now - fl.f.stime) % iv + iv;
    }
  }
  if (ndpi_) {
    if (fl.ndpi_r.state != 2) {
      ndpi_->ndpi_packet(&fl.ndpi, &fl.ndpi_r, pi);
      stats_.ndpi_states = ndpi_->states_active();
      stats_.ndpi_classified = ndpi_->classified();
    }
    // nDPI's TCP fingerprint: the flow's first SYN/ECE/CWR-without-ACK packet (ndpi_fingerprint.h)
    if (pi.has_tcp && (pi.tcp_flags & (TCP_SYN | TCP_ECE | TCP_CWR)) && !(pi.tcp_flags & TCP_ACK) &&
        !(fl.x && fl.x->tcp.set)) {
      TcpFingerprint fp;
      if (tcp_fp_from_packet(pi, &fp)) {
        if (!fl.x) fl.x = new FlowExtra();
        fl.x->tcp = fp;
      }
    }
  }
  if (fl.l7_state != 2 && pi.payload_caplen > 0 && (pi.has_tcp || pi.proto == IPPROTO_UDP_)) l7_packet(fl, dir, pi);
  if (pi.has_tcp) {
    uint8_t flags = pi.tcp_flags;
    if (flags & TCP_RST) { flow_end(idx, REASON_RST); return; }
    if (fl.f.fin_mask == 3 && (flags & (TCP_ACK | TCP_SYN | TCP_FIN | TCP_RST)) == TCP_ACK && pi.payload_len == 0) {
      flow_end(idx, REASON_END);
      return;
    }
    if (flags & TCP_FIN) fl.f.fin_mask |= (uint8_t)(1u << dir);
  }
}

}  // namespace dfly
