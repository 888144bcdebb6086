// Community ID v1 (https://github.com/corelight/community-id-spec), seed configurable (default 0).
// Threading: pure function, thread-safe. Memory: stack only; writes at most 31 bytes into out.
#pragma once
#include <cstdint>

namespace dfly {

enum : uint8_t { IPPROTO_ICMP_ = 1, IPPROTO_TCP_ = 6, IPPROTO_UDP_ = 17, IPPROTO_ICMPV6_ = 58, IPPROTO_SCTP_ = 132 };

// Maps an ICMP/ICMPv6 (type, code) to the spec's (sport, dport) pair; returns true when the message
// type is one-way (no request/response counterpart), in which case the tuple is never reordered.
bool cid_icmp_ports(bool v6, uint8_t type, uint8_t code, uint16_t* sport, uint16_t* dport);

// addr_len: 4 or 16 (network-order bytes). For ICMP/ICMPv6 pass type in sport and code in dport.
// Writes "1:<base64 sha1>" (30 chars + NUL) into out (needs >= 32 bytes).
void community_id_v1(int addr_len, const uint8_t* saddr, const uint8_t* daddr, uint8_t proto,
                     uint16_t sport, uint16_t dport, char out[32], uint16_t seed = 0);
// The same in two steps: the SHA-1 digest (what a flow keeps to emit several records) and its text.
void community_id_v1_sha1(int addr_len, const uint8_t* saddr, const uint8_t* daddr, uint8_t proto,
                          uint16_t sport, uint16_t dport, uint8_t digest[20], uint16_t seed = 0);
void community_id_v1_text(const uint8_t digest[20], char out[32]);

}  // namespace dfly
