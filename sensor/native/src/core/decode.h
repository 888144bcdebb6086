// Packet decoding: link layer -> IPv4/IPv6 (+extension headers) -> TCP/UDP/ICMP/other.
// Threading: stateless functions; results go to a caller-owned PacketInfo. Memory: PacketInfo
// holds pointers INTO the caller's frame buffer (valid only until the next pcap_next_ex call).
// Every read is bounds-checked against the captured length; hostile input never reads past it.
#pragma once
#include <cstdint>

#include "stats.h"

namespace dfly {

enum DecodeResult { DECODE_OK = 0, DECODE_SKIP = 1 };  // SKIP: counted in Stats, no flow update

struct PacketInfo {
  int64_t ts_us = 0;
  // link layer
  bool has_mac = false;
  uint8_t smac[6], dmac[6];
  uint16_t vlan = 0;  // outer VLAN id, 0 = none
  // network layer
  uint8_t ipver = 0;
  uint8_t proto = 0;
  uint8_t ttl = 0;                // IPv4 TTL / IPv6 hop limit (of the inner header when tunnelled)
  uint8_t src[16], dst[16];       // IPv4 in the first 4 bytes, rest zero
  uint32_t ip_len = 0;            // IP total length (v6: 40 + payload length)
  uint32_t l3_hdr_len = 0;        // IP header(s) before the transport header / fragment data
  // fragment information (valid when is_fragment)
  bool is_fragment = false;
  bool more_frags = false;
  uint32_t frag_offset = 0;       // bytes
  uint32_t frag_id = 0;
  // transport: pointer to the L4 header (or fragment data) and lengths
  const uint8_t* l4 = nullptr;
  uint32_t l4_caplen = 0;         // captured bytes available at l4
  uint32_t l4_len = 0;            // declared length (from IP header)
  // transport results
  uint16_t sport = 0, dport = 0;  // ICMP: type/code
  uint16_t icmp_echo_id = 0;      // ICMP/ICMPv6 echo request/reply identifier (flow key part)
  bool has_tcp = false;
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0;
  const uint8_t* payload = nullptr;
  uint32_t payload_caplen = 0;    // captured payload bytes
  uint32_t payload_len = 0;       // declared payload bytes
  bool partial = false;           // an incomplete fragment datagram metered at its timeout
};

// Decodes link + IP layers. On DECODE_OK, pi has addresses/proto and l4 set (transport not parsed).
DecodeResult packet_decode_l3(int dlt, const uint8_t* data, uint32_t caplen, PacketInfo& pi, Stats& st);
// Parses the transport header at pi.l4 (pi.l4_caplen/l4_len) and fills ports/flags/payload.
void packet_decode_l4(PacketInfo& pi, Stats& st);
// Marks the packet as "no transport header" (non-first fragment): ports 0, payload = l4 data.
void packet_no_l4(PacketInfo& pi);
// Skips IPv6 extension headers starting at p with next-header nh (used after reassembly).
// Returns false when a header is truncated. Fills *proto and *consumed.
bool ipv6_skip_ext(uint8_t nh, const uint8_t* p, uint32_t caplen, uint8_t* proto, uint32_t* consumed);

}  // namespace dfly
