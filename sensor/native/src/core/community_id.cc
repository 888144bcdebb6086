// Community ID v1. Threading: stateless; Memory: fixed stack buffers only.
#include "community_id.h"

#include <cstring>

#include "sha1.h"

namespace dfly {

bool cid_icmp_ports(bool v6, uint8_t type, uint8_t code, uint16_t* sport, uint16_t* dport) {
  int peer = -1;
  if (!v6) {
    switch (type) {
      case 8: peer = 0; break;    case 0: peer = 8; break;     // echo
      case 13: peer = 14; break;  case 14: peer = 13; break;   // timestamp
      case 15: peer = 16; break;  case 16: peer = 15; break;   // info
      case 10: peer = 9; break;   case 9: peer = 10; break;    // router solicitation/advert
      case 17: peer = 18; break;  case 18: peer = 17; break;   // address mask
      default: break;
    }
  } else {
    switch (type) {
      case 128: peer = 129; break; case 129: peer = 128; break;  // echo
      case 133: peer = 134; break; case 134: peer = 133; break;  // router sol/adv
      case 135: peer = 136; break; case 136: peer = 135; break;  // neighbor sol/adv
      case 139: peer = 140; break; case 140: peer = 139; break;  // node info
      case 144: peer = 145; break; case 145: peer = 144; break;  // home agent discovery
      default: break;
    }
  }
  *sport = type;
  if (peer >= 0) { *dport = (uint16_t)peer; return false; }
  *dport = code;
  return true;
}

void community_id_v1_sha1(int addr_len, const uint8_t* saddr, const uint8_t* daddr, uint8_t proto,
                          uint16_t sport, uint16_t dport, uint8_t digest[20], uint16_t seed) {
  bool has_ports = proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == IPPROTO_SCTP_ ||
                   proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
  bool one_way = false;
  if (proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_)
    one_way = cid_icmp_ports(proto == IPPROTO_ICMPV6_, (uint8_t)sport, (uint8_t)dport, &sport, &dport);
  const uint8_t* a = saddr; const uint8_t* b = daddr;
  uint16_t pa = sport, pb = dport;
  if (!one_way) {
    int c = memcmp(saddr, daddr, (size_t)addr_len);
    bool ordered = c < 0 || (c == 0 && (!has_ports || sport <= dport));
    if (!ordered) { a = daddr; b = saddr; pa = dport; pb = sport; }
  }
  uint8_t buf[2 + 16 + 16 + 2 + 4];
  size_t n = 0;
  buf[n++] = (uint8_t)(seed >> 8); buf[n++] = (uint8_t)seed;
  memcpy(buf + n, a, (size_t)addr_len); n += (size_t)addr_len;
  memcpy(buf + n, b, (size_t)addr_len); n += (size_t)addr_len;
  buf[n++] = proto;
  buf[n++] = 0;  // pad byte
  if (has_ports) {
    buf[n++] = (uint8_t)(pa >> 8); buf[n++] = (uint8_t)pa;
    buf[n++] = (uint8_t)(pb >> 8); buf[n++] = (uint8_t)pb;
  }
  sha1(buf, n, digest);
}

void community_id_v1_text(const uint8_t digest[20], char out[32]) {
  out[0] = '1'; out[1] = ':';
  base64_encode(digest, 20, out + 2);
}

void community_id_v1(int addr_len, const uint8_t* saddr, const uint8_t* daddr, uint8_t proto,
                     uint16_t sport, uint16_t dport, char out[32], uint16_t seed) {
  uint8_t digest[20];
  community_id_v1_sha1(addr_len, saddr, daddr, proto, sport, dport, digest, seed);
  community_id_v1_text(digest, out);
}

}  // namespace dfly
