// Sensor engine: the packet path (decode, fragments, flow table, features, L7 parsers, nDPI) and
// the flows' ends. Reading capture files is pcap_file.cc. Threading: single-threaded per Sensor
// (see capture.h). Memory: packet data is borrowed for the duration of packet_process(); flows
// live in the FlowTable slab.
#include "capture.h"

#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "community_id.h"
#include "sha1.h"

namespace dfly {

Sensor::Sensor(const SensorConfig& cfg) : cfg_(cfg), frags_(cfg.frag) {
  if (cfg_.max_payload > 65535) cfg_.max_payload = 65535;
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
      L7Out out{&l7_bodies_, &l7_extras_, &stats_, cfg_.quic_decrypt};
      l7_flow_finish(fl.l7, out, cfg_.l7_limits);
      delete fl.l7;
      fl.l7 = nullptr;
    }
    delete fl.x;
    fl.x = nullptr;
    if (fl.ndpi && ndpi_) ndpi_->ndpi_finish(&fl.ndpi, &fl.ndpi_r);
  }
  delete ndpi_;
}

void Sensor::flow_uuid(const FlowKey& key, int64_t stime_us, uint8_t out[16]) const {
  // Name-based (RFC 9562 §5.5 layout): no namespace UUID, the name is the observation, a NUL, the
  // flow key (the two addresses, 4 bytes each for IPv4, 16 for IPv6; key ports, protocol, IP
  // version, ICMP echo id) and the start time (little-endian µs). Two flows with one key never
  // share a start time in one table. An IPv4 name fits one SHA-1 block with an observation name
  // of up to 21 bytes.
  Sha1 h;
  h.update(cfg_.observation.data(), cfg_.observation.size());
  const uint8_t nul = 0;
  h.update(&nul, 1);
  const size_t alen = key.ipver == 4 ? 4 : 16;
  h.update(key.a, alen);
  h.update(key.b, alen);
  const uint8_t rest[8] = {(uint8_t)(key.pa >> 8), (uint8_t)key.pa, (uint8_t)(key.pb >> 8), (uint8_t)key.pb, key.proto, key.ipver, key.pad[0], key.pad[1]};
  h.update(rest, sizeof rest);
  uint8_t t[8];
  for (int i = 0; i < 8; i++) t[i] = (uint8_t)((uint64_t)stime_us >> (8 * i));
  h.update(t, 8);
  uint8_t d[20];
  h.final(d);
  memcpy(out, d, 16);
  out[6] = (uint8_t)((out[6] & 0x0f) | 0x50);
  out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
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
    bool done = frags_.frag_add(k, pi, stats_, &buf, &len, &proto);
    if (frags_.has_evicted()) {  // before the reassembled datagram (if any): buf stays valid
      std::vector<FragExpired> xs;
      frags_.frag_take_evicted(&xs);
      frag_meter(xs);
    }
    if (!done) return;
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

// An incomplete datagram (its timeout passed, it was evicted for fragment.max_tables, or the
// capture ended) is metered as one packet of
// an IP-level flow: the ports come from its offset-0 fragment when that arrived with the whole
// transport header, else they are 0; its length is what arrived. L7 parsers never see it.
void Sensor::frag_expire(int64_t now, bool all) {
  if (cfg_.frag.disabled || frags_.size() == 0 || in_frag_expire_) return;
  std::vector<FragExpired> xs;
  frags_.frag_expire(now, stats_, &xs, all);
  frag_meter(xs);
}

void Sensor::frag_meter(std::vector<FragExpired>& xs) {
  in_frag_expire_ = true;  // flow_packet below may run the periodic scan: it must not come back here
  for (FragExpired& x : xs) {
    PacketInfo pi = x.hdr;
    pi.is_fragment = pi.more_frags = false;
    pi.frag_offset = 0;
    pi.partial = true;
    pi.proto = x.proto;
    pi.l4 = x.data.data();
    pi.l4_caplen = (uint32_t)x.data.size();
    pi.l4_len = x.received;
    if (x.have_first && pi.ipver == 6) {
      uint8_t p2; uint32_t used;
      if (ipv6_skip_ext(x.proto, pi.l4, pi.l4_caplen, &p2, &used)) {
        pi.proto = p2; pi.l4 += used; pi.l4_caplen -= used; pi.l4_len = pi.l4_len > used ? pi.l4_len - used : 0;
      }
    }
    pi.ip_len = pi.l3_hdr_len + x.received;
    Stats scratch;  // a transport header cut by the missing fragments is not a capture error
    if (x.have_first) packet_decode_l4(pi, scratch);
    else packet_no_l4(pi);
    stats_.frag_incomplete++;
    flow_packet(pi);
  }
  in_frag_expire_ = false;
}

// ============================================================================================
// flow_*
// ============================================================================================

// ============================================================================================
// l7_*: payload packets of a flow go through the parser registry (l7/registry.cc) until a parser
// is done (DNS and HTTP: every message until the flow ends; TLS: its handshake, within the first
// kL7MaxPackets), the flow reached l7.max_events, or no parser claimed the flow in 16 tries.
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
  if (l7_extras_.ja4.empty() && l7_extras_.ja3s.empty() && !l7_extras_.quic_version) return;
  if (!fl.x) fl.x = new FlowExtra();
  if (!fl.x->tls) fl.x->tls.reset(new FlowTls());
  FlowTls& t = *fl.x->tls;
  if (!l7_extras_.ja4.empty() || !l7_extras_.ja3s.empty()) {
    t.ja4 = std::move(l7_extras_.ja4);
    t.ja3s = std::move(l7_extras_.ja3s);
  }
  if (l7_extras_.quic_version) {
    t.quic_version = l7_extras_.quic_version;
    t.quic_dcid = std::move(l7_extras_.quic_dcid);
    t.quic_scid = std::move(l7_extras_.quic_scid);
  }
  l7_extras_.ja4.clear();
  l7_extras_.ja3s.clear();
  l7_extras_.quic_version = 0;
  l7_extras_.quic_dcid.clear();
  l7_extras_.quic_scid.clear();
}

void Sensor::l7_done(Flow& fl, int64_t ts) {
  fl.l7_state = 2;
  if (!fl.l7) return;
  L7Out out{&l7_bodies_, &l7_extras_, &stats_, cfg_.quic_decrypt};
  l7_flow_finish(fl.l7, out, cfg_.l7_limits);
  l7_drain(fl, ts);
  l7_keep_extras(fl);
  delete fl.l7;
  fl.l7 = nullptr;
}

void Sensor::l7_packet(Flow& fl, int dir, const PacketInfo& pi) {
  L7Out out{&l7_bodies_, &l7_extras_, &stats_, cfg_.quic_decrypt};
  bool more = l7_flow_payload(&fl.l7, &fl.l7_tries, out, cfg_.l7_limits, dir, pi.has_tcp, pi.has_tcp && (pi.tcp_flags & TCP_SYN),
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

// The reason a flow ends with: its close (END/RST) when it closed, else `open_reason`.
static inline uint8_t closed_or(const FlowState& f, uint8_t open_reason) {
  uint8_t r = flow_closed_reason(f);
  return r != REASON_NONE ? r : open_reason;
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
    x.quic_version = fl.x->tls->quic_version;
    x.quic_dcid = std::move(fl.x->tls->quic_dcid);
    x.quic_scid = std::move(fl.x->tls->quic_scid);
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
  fl.f.fin_mask = 0;  // not closed any more: a queued ClosedRef for this slot is skipped
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
    flow_end(h, closed_or(fl.f, (fl.f.fin_mask & 3) == 3 ? REASON_END : REASON_IDLE));
  }
}

void Sensor::flow_close(uint32_t idx, uint8_t reason, int64_t now) {
  Flow& fl = table_.at(idx);
  fl.f.fin_mask |= reason == REASON_RST ? kClosedRst : kClosedEnd;
  uint64_t id;
  memcpy(&id, fl.f.uuid, 8);
  closed_.push_back(ClosedRef{idx, id, now});
}

void Sensor::flow_expire_closed(int64_t now) {
  while (!closed_.empty() && now - closed_.front().closed_at >= kCloseLinger) {
    ClosedRef r = closed_.front();
    closed_.pop_front();
    Flow& fl = table_.at(r.idx);
    uint64_t id;
    memcpy(&id, fl.f.uuid, 8);
    if (fl.in_use && flow_closed_reason(fl.f) && id == r.id) flow_end(r.idx, flow_closed_reason(fl.f));
  }
}

void Sensor::flow_flush() {
  frag_expire(0, true);
  for (;;) {
    uint32_t h = table_.lru_head();
    if (h == kNil) break;
    Flow& fl = table_.at(h);
    flow_end(h, closed_or(fl.f, REASON_EOF));
  }
  closed_.clear();
}

void Sensor::flow_tick(int64_t now_us) {
  flow_expire_closed(now_us);
  flow_expire_idle(now_us);
  frag_expire(now_us, false);
}

static inline int addr_cmp(const uint8_t* a, const uint8_t* b) { return memcmp(a, b, 16); }

void Sensor::flow_packet(PacketInfo& pi) {
  int64_t now = pi.ts_us;
  int64_t sec = now / 1000000;
  if (sec != last_scan_sec_) {
    last_scan_sec_ = sec;
    flow_expire_closed(now);
    flow_expire_idle(now);
    frag_expire(now, false);
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
      flow_end(idx, closed_or(fl.f, (fl.f.fin_mask & 3) == 3 ? REASON_END : REASON_IDLE));
      idx = kNil;
    } else if (flow_closed_reason(fl.f) && pi.has_tcp && (pi.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
      flow_end(idx, flow_closed_reason(fl.f));  // a new connection on the tuple of a closed one
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
    flow_uuid(key, fl.f.stime, fl.f.uuid);
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
  if (fl.l7_state != 2 && pi.payload_caplen > 0 && !pi.partial && (pi.has_tcp || pi.proto == IPPROTO_UDP_)) l7_packet(fl, dir, pi);
  if (pi.has_tcp) {
    uint8_t flags = pi.tcp_flags;
    if (fl.f.fin_mask & (kClosedEnd | kClosedRst)) return;  // a packet trailing the close: counted above, the flow ends at the linger
    if (flags & TCP_RST) { flow_close(idx, REASON_RST, now); return; }
    if (fl.f.fin_mask == 3 && (flags & (TCP_ACK | TCP_SYN | TCP_FIN | TCP_RST)) == TCP_ACK && pi.payload_len == 0) {
      flow_close(idx, REASON_END, now);
      return;
    }
    if (flags & TCP_FIN) fl.f.fin_mask |= (uint8_t)(1u << dir);
  }
}

}  // namespace dfly
