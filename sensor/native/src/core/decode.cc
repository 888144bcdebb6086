// Packet decoding. Threading: stateless, thread-safe. Memory: reads only within [data, data+caplen);
// every header access is preceded by a length check. No allocation.
#include "decode.h"

#include <cstring>

namespace dfly {

// ============================================================================================
// packet_* helpers
// ============================================================================================

static inline uint16_t rd16(const uint8_t* p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum { DLT_NULL_ = 0, DLT_EN10MB_ = 1, DLT_RAW_ = 12, DLT_RAW2_ = 101, DLT_LOOP_ = 108,
       DLT_LINUX_SLL_ = 113, DLT_IPV4_ = 228, DLT_IPV6_ = 229, DLT_LINUX_SLL2_ = 276 };

static DecodeResult packet_ipv4(const uint8_t* p, uint32_t caplen, PacketInfo& pi, Stats& st) {
  if (caplen < 20) { st.err_truncated++; return DECODE_SKIP; }
  if ((p[0] >> 4) != 4) { st.err_bad_ipv4++; return DECODE_SKIP; }
  uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
  if (ihl < 20) { st.err_bad_ipv4++; return DECODE_SKIP; }
  if (caplen < ihl) { st.err_truncated++; return DECODE_SKIP; }
  uint32_t tot = rd16(p + 2);
  if (tot == 0) tot = caplen;  // TSO / offloaded captures report 0
  if (tot < ihl) { st.err_bad_ipv4++; return DECODE_SKIP; }
  pi.ipver = 4;
  pi.proto = p[9];
  pi.ttl = p[8];
  memcpy(pi.src, p + 12, 4); memset(pi.src + 4, 0, 12);
  memcpy(pi.dst, p + 16, 4); memset(pi.dst + 4, 0, 12);
  pi.ip_len = tot;
  pi.l3_hdr_len = ihl;
  uint16_t frag = rd16(p + 6);
  pi.more_frags = (frag & 0x2000) != 0;
  pi.frag_offset = (uint32_t)(frag & 0x1fff) * 8;
  pi.is_fragment = pi.more_frags || pi.frag_offset != 0;
  pi.frag_id = rd16(p + 4);
  pi.l4 = p + ihl;
  pi.l4_len = tot - ihl;
  uint32_t avail = caplen - ihl;
  pi.l4_caplen = avail < pi.l4_len ? avail : pi.l4_len;
  return DECODE_OK;
}

bool ipv6_skip_ext(uint8_t nh, const uint8_t* p, uint32_t caplen, uint8_t* proto, uint32_t* consumed) {
  uint32_t off = 0;
  for (int i = 0; i < 32; i++) {
    if (nh == 0 || nh == 43 || nh == 60) {
      if (caplen - off < 2) return false;
      uint32_t len = ((uint32_t)p[off + 1] + 1) * 8;
      if (caplen - off < len) return false;
      nh = p[off]; off += len;
    } else if (nh == 51) {  // AH: length in 4-octet units minus 2
      if (caplen - off < 2) return false;
      uint32_t len = ((uint32_t)p[off + 1] + 2) * 4;
      if (caplen - off < len) return false;
      nh = p[off]; off += len;
    } else {
      break;  // transport, ESP (50), no-next (59), fragment (44: only atomic ones reach here)
    }
  }
  *proto = nh;
  *consumed = off;
  return true;
}

static DecodeResult packet_ipv6(const uint8_t* p, uint32_t caplen, PacketInfo& pi, Stats& st) {
  if (caplen < 40) { st.err_truncated++; return DECODE_SKIP; }
  if ((p[0] >> 4) != 6) { st.err_bad_ipv6++; return DECODE_SKIP; }
  uint32_t plen = rd16(p + 4);
  if (plen == 0) plen = caplen - 40;  // jumbogram / offload
  pi.ipver = 6;
  pi.ttl = p[7];
  memcpy(pi.src, p + 8, 16);
  memcpy(pi.dst, p + 24, 16);
  pi.ip_len = 40 + plen;
  uint8_t nh = p[6];
  uint32_t off = 40;
  // Walk extension headers; stop at a fragment header (non-atomic) or an upper-layer protocol.
  for (int i = 0; i < 32; i++) {
    uint32_t rem = caplen - off;
    if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
      if (rem < 2) { st.err_truncated++; return DECODE_SKIP; }
      uint32_t len = nh == 51 ? ((uint32_t)p[off + 1] + 2) * 4 : ((uint32_t)p[off + 1] + 1) * 8;
      if (rem < len) { st.err_truncated++; return DECODE_SKIP; }
      nh = p[off]; off += len;
    } else if (nh == 44) {
      if (rem < 8) { st.err_truncated++; return DECODE_SKIP; }
      uint16_t fo = rd16(p + off + 2);
      uint32_t offset = (uint32_t)(fo & 0xfff8);
      bool more = (fo & 1) != 0;
      uint8_t fnh = p[off];
      uint32_t id = rd32(p + off + 4);
      off += 8;
      nh = fnh;
      if (offset != 0 || more) {
        pi.is_fragment = true; pi.more_frags = more; pi.frag_offset = offset; pi.frag_id = id;
        break;
      }
      // atomic fragment: keep walking
    } else {
      break;
    }
  }
  if (off - 40 > plen) { st.err_bad_ipv6++; return DECODE_SKIP; }
  pi.proto = nh;
  pi.l3_hdr_len = off;
  pi.l4 = p + off;
  pi.l4_len = plen - (off - 40);
  uint32_t avail = caplen - off;
  pi.l4_caplen = avail < pi.l4_len ? avail : pi.l4_len;
  return DECODE_OK;
}

static DecodeResult packet_ip_by_version(const uint8_t* p, uint32_t caplen, PacketInfo& pi, Stats& st) {
  if (caplen < 1) { st.err_truncated++; return DECODE_SKIP; }
  switch (p[0] >> 4) {
    case 4: return packet_ipv4(p, caplen, pi, st);
    case 6: return packet_ipv6(p, caplen, pi, st);
    default: st.non_ip++; return DECODE_SKIP;
  }
}

// Dispatches on an ethertype, skipping VLAN tags (outer id recorded), MPLS labels and PPPoE.
static DecodeResult packet_ethertype(uint16_t et, const uint8_t* p, uint32_t caplen, PacketInfo& pi, Stats& st) {
  uint32_t off = 0;
  for (int i = 0; i < 16; i++) {
    switch (et) {
      case 0x0800: return packet_ipv4(p + off, caplen - off, pi, st);
      case 0x86DD: return packet_ipv6(p + off, caplen - off, pi, st);
      case 0x8100: case 0x88a8: case 0x9100:
        if (caplen - off < 4) { st.err_truncated++; return DECODE_SKIP; }
        if (pi.vlan == 0) pi.vlan = rd16(p + off) & 0x0fff;
        et = rd16(p + off + 2);
        off += 4;
        break;
      case 0x8847: case 0x8848: {  // MPLS: skip the label stack, then guess IP by version nibble
        for (int j = 0; j < 16; j++) {
          if (caplen - off < 4) { st.err_truncated++; return DECODE_SKIP; }
          bool bos = (p[off + 2] & 1) != 0;
          off += 4;
          if (bos) return packet_ip_by_version(p + off, caplen - off, pi, st);
        }
        st.non_ip++;
        return DECODE_SKIP;
      }
      case 0x6558:  // Transparent Ethernet Bridging (GRE, VXLAN): an inner Ethernet header
        if (caplen - off < 14) { st.err_truncated++; return DECODE_SKIP; }
        et = rd16(p + off + 12);
        off += 14;
        break;
      case 0x8864: {  // PPPoE session: 6-byte header + 2-byte PPP protocol
        if (caplen - off < 8) { st.err_truncated++; return DECODE_SKIP; }
        uint16_t ppp = rd16(p + off + 6);
        off += 8;
        if (ppp == 0x0021) return packet_ipv4(p + off, caplen - off, pi, st);
        if (ppp == 0x0057) return packet_ipv6(p + off, caplen - off, pi, st);
        st.non_ip++;
        return DECODE_SKIP;
      }
      default:
        st.non_ip++;
        return DECODE_SKIP;
    }
  }
  st.non_ip++;
  return DECODE_SKIP;
}

// CAPWAP data (RFC 5415 §4.3, UDP port 5247): opens the header (HLEN, WBID, T) and, for native
// IEEE 802.11 frames (WBID 1, T 1), a data frame's header and its LLC/SNAP; an 802.3 payload (T 0)
// is an Ethernet frame. Control/management frames, protected (encrypted) frames, DTLS (preamble
// type 1) and CAPWAP fragments are not opened. Some access points (Cisco) send the 802.11 frame
// control field byte-swapped (Wireshark's "swap frame control"): a field that only reads as a
// data frame swapped is taken swapped.
static const uint8_t kLlcSnap[6] = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00};

static DecodeResult packet_capwap(const uint8_t* p, uint32_t cap, PacketInfo& inner, Stats& st) {
  if (cap < 8 || p[0] != 0) return DECODE_SKIP;  // preamble: version 0, type 0 (not DTLS)
  uint32_t hlen = (uint32_t)(p[1] >> 3) * 4;
  uint8_t wbid = (uint8_t)((p[2] >> 1) & 0x1f);
  bool native = p[2] & 1, frag = p[3] & 0x80;
  if (hlen < 8 || hlen > cap || frag) return DECODE_SKIP;
  p += hlen; cap -= hlen;
  if (!native) return packet_ethertype(0x6558, p, cap, inner, st);
  if (wbid != 1 || cap < 24) return DECODE_SKIP;
  auto is_data = [](uint8_t fc0) { return (fc0 & 0x0f) == 0x08; };  // version 0, type 2 (data)
  uint8_t fc0 = p[0], fc1 = p[1];
  if (!is_data(fc0)) {
    if (!is_data(fc1)) return DECODE_SKIP;
    fc0 = p[1]; fc1 = p[0];
  }
  uint8_t subtype = fc0 >> 4;
  if ((subtype & 0x4) || (fc1 & 0x40)) return DECODE_SKIP;  // no body (null data), or protected
  uint32_t hl = 24;
  if ((fc1 & 0x03) == 0x03) hl += 6;  // ToDS and FromDS: a fourth address
  if (subtype & 0x8) {                // QoS data: QoS control, and HT control when Order is set
    hl += 2;
    if (fc1 & 0x80) hl += 4;
  }
  if (cap < hl + 8 || memcmp(p + hl, kLlcSnap, 6) != 0) return DECODE_SKIP;
  return packet_ethertype(rd16(p + hl + 6), p + hl + 8, cap - hl - 8, inner, st);
}

// Tunnels: IPv4-in-IP (4), IPv6-in-IP (41: 6in4, 4in6), GRE (47, version 0) carrying IP or
// Ethernet, VXLAN (UDP port 4789) and CAPWAP data (UDP port 5247, see packet_capwap). Flows are keyed on the innermost IP packet, as nDPI and Zeek
// do; the outer MACs and VLAN stay. An inner packet that does not decode leaves the outer one (and
// the error counters) as they were. Fragmented outer packets are not opened.
static void packet_decap(PacketInfo& pi) {
  for (int depth = 0; depth < 4 && !pi.is_fragment; depth++) {
    const uint8_t* p = pi.l4;
    uint32_t cap = pi.l4_caplen;
    PacketInfo inner = pi;
    inner.is_fragment = inner.more_frags = false;
    inner.frag_offset = inner.frag_id = 0;
    Stats scratch;
    DecodeResult r;
    if (pi.proto == 4) {
      r = packet_ipv4(p, cap, inner, scratch);
    } else if (pi.proto == 41) {
      r = packet_ipv6(p, cap, inner, scratch);
    } else if (pi.proto == 47) {
      if (cap < 4) return;
      uint16_t flags = rd16(p);
      if ((flags & 0x0007) != 0) return;  // version 1 (PPTP) and others: not opened
      uint32_t hl = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
      if (cap < hl) return;
      r = packet_ethertype(rd16(p + 2), p + hl, cap - hl, inner, scratch);
    } else if (pi.proto == 17 && cap >= 16 && rd16(p + 2) == 4789 && (p[8] & 0x08)) {
      r = packet_ethertype(0x6558, p + 16, cap - 16, inner, scratch);
    } else if (pi.proto == 17 && cap >= 16 && (rd16(p + 2) == 5247 || rd16(p) == 5247)) {
      r = packet_capwap(p + 8, cap - 8, inner, scratch);
    } else {
      return;
    }
    if (r != DECODE_OK) return;
    pi = inner;
  }
}

static DecodeResult packet_decode_outer(int dlt, const uint8_t* data, uint32_t caplen, PacketInfo& pi, Stats& st);

DecodeResult packet_decode_l3(int dlt, const uint8_t* data, uint32_t caplen, PacketInfo& pi, Stats& st) {
  DecodeResult r = packet_decode_outer(dlt, data, caplen, pi, st);
  if (r == DECODE_OK) packet_decap(pi);
  return r;
}

static DecodeResult packet_decode_outer(int dlt, const uint8_t* data, uint32_t caplen, PacketInfo& pi, Stats& st) {
  switch (dlt) {
    case DLT_EN10MB_:
      if (caplen < 14) { st.err_truncated++; return DECODE_SKIP; }
      pi.has_mac = true;
      memcpy(pi.dmac, data, 6);
      memcpy(pi.smac, data + 6, 6);
      return packet_ethertype(rd16(data + 12), data + 14, caplen - 14, pi, st);
    case DLT_LINUX_SLL_:
      if (caplen < 16) { st.err_truncated++; return DECODE_SKIP; }
      return packet_ethertype(rd16(data + 14), data + 16, caplen - 16, pi, st);
    case DLT_LINUX_SLL2_:
      if (caplen < 20) { st.err_truncated++; return DECODE_SKIP; }
      return packet_ethertype(rd16(data), data + 20, caplen - 20, pi, st);
    case DLT_RAW_: case DLT_RAW2_:
      return packet_ip_by_version(data, caplen, pi, st);
    case DLT_IPV4_:
      return packet_ipv4(data, caplen, pi, st);
    case DLT_IPV6_:
      return packet_ipv6(data, caplen, pi, st);
    case DLT_NULL_: case DLT_LOOP_: {
      if (caplen < 4) { st.err_truncated++; return DECODE_SKIP; }
      // The family is in the capturing host's byte order (NULL) or network order (LOOP):
      // accept either by looking at which half is non-zero.
      uint32_t fam = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
      if (fam > 0xffff) fam = rd32(data);
      if (fam == 2) return packet_ipv4(data + 4, caplen - 4, pi, st);
      if (fam == 10 || fam == 24 || fam == 28 || fam == 30) return packet_ipv6(data + 4, caplen - 4, pi, st);
      st.non_ip++;
      return DECODE_SKIP;
    }
    default:
      st.err_unsupported_link++;
      return DECODE_SKIP;
  }
}

void packet_no_l4(PacketInfo& pi) {
  pi.sport = pi.dport = 0;
  pi.has_tcp = false;
  pi.tcp_flags = 0;
  pi.payload = pi.l4;
  pi.payload_caplen = pi.l4_caplen;
  pi.payload_len = pi.l4_len;
}

void packet_decode_l4(PacketInfo& pi, Stats& st) {
  const uint8_t* p = pi.l4;
  uint32_t cap = pi.l4_caplen, len = pi.l4_len;
  pi.sport = pi.dport = 0;
  pi.has_tcp = false;
  pi.tcp_flags = 0;
  uint32_t hdr = 0;
  switch (pi.proto) {
    case 6: {  // TCP
      if (cap >= 4) { pi.sport = rd16(p); pi.dport = rd16(p + 2); }
      if (cap >= 14) {
        pi.has_tcp = true;
        pi.tcp_seq = rd32(p + 4);
        pi.tcp_flags = p[13];
        uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
        if (doff < 20 || doff > len) { st.err_bad_l4++; hdr = len < 20 ? len : 20; }
        else hdr = doff;
      } else {
        if (cap < len) st.err_truncated++;
        hdr = len < 20 ? len : 20;
      }
      break;
    }
    case 17: case 132:  // UDP, SCTP (ports in the first 4 bytes of both)
      if (cap >= 4) { pi.sport = rd16(p); pi.dport = rd16(p + 2); }
      hdr = pi.proto == 17 ? 8 : 12;
      if (hdr > len) hdr = len;
      break;
    case 1: case 58:  // ICMP / ICMPv6: type -> sport, code -> dport
      if (cap >= 2) { pi.sport = p[0]; pi.dport = p[1]; }
      if (cap >= 6) {
        // Echo sessions are told apart by their identifier (as Argus does), so two pings
        // between the same hosts are two flows.
        bool echo = pi.proto == 1 ? (p[0] == 8 || p[0] == 0) : (p[0] == 128 || p[0] == 129);
        if (echo) pi.icmp_echo_id = rd16(p + 4);
      }
      hdr = len < 8 ? len : 8;
      break;
    default:
      hdr = 0;
      break;
  }
  // A transport header cut short (by the snaplen or by the IP length) still meters the packet:
  // on the 5-tuple flow when both ports were captured, else on the IP-level flow (ports 0).
  uint32_t need = pi.proto == 6 ? 20 : pi.proto == 17 ? 8 : pi.proto == 132 ? 12 : 0;
  if (cap < need) st.l4_header_cut++;
  pi.payload_len = len - hdr;
  pi.payload = p + (hdr < cap ? hdr : cap);
  pi.payload_caplen = cap > hdr ? cap - hdr : 0;
}

}  // namespace dfly
