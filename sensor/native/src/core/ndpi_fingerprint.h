// nDPI-compatible fingerprints that Debian's libndpi 4.2 does not compute: the TCP fingerprint of
// a flow's first SYN with nDPI's OS hint (flow field ndpi_tcp_fp, "fingerprint/os") and nDPI's
// composite client fingerprint (ndpi_fp) over the TCP fingerprint and the TLS JA4.
// Followed (reference text only, no code copied):
//   - TCP fingerprint: ntop/nDPI src/lib/ndpi_main.c ndpi_init_packet(), "native" format
//     (metadata.tcp_fingerprint_format = 0) of nDPI 5.x: the first packet with SYN, ECE or CWR set
//     and ACK clear; "<12-bit flags>_<TTL rounded up to 32/64/128/192/255>_<window>_<first 6
//     bytes of SHA-256 over the hex of the options>", the options hex holding every option kind
//     in wire order plus its value bytes (the length byte and the Timestamp value left out), up
//     to and including the first EOL, with nDPI's quirks kept (8-bit cursor, re-read option on a
//     zero length, 126 hex characters at most). The stored 5.0-era source walked on past EOL;
//     the nDPI that wrote ../shared/data/ndpi/result stops there, and this code agrees with those
//     results on all 1,434 fingerprints and OS hints they report for the shared captures. nDPI's
//     dev branch later changed the serialisation again (MSS and TFO dropped; "TCPFP v0.4"): those
//     fingerprints differ and are not produced here.
//   - OS hint: src/lib/ndpi_os_fingerprint.c.inc of the same format generation and
//     ndpi_print_os_hint() names (src/lib/ndpi_utils.c).
//   - ndpi_fp: src/lib/ndpi_fingerprint.c ndpi_compute_ndpi_flow_fingerprint() with nDPI's
//     defaults (client-only format, TLS block analysis off, TCP fingerprint and SNI not ignored):
//     hex of the first 16 bytes of SHA-256("<tcp fp>-<ja4>-no_app_fp_srv"), "no_l4_fp" /
//     "no_app_fp_cli" for a missing part, only for TLS-like flows with at least one of the two.
//     Differences: our JA4 is FoxIO's (ndpi_ja4; nDPI uses its own ja4_ndpi_client variant, which
//     can differ when ephemeral extensions are ignored), TLS-like means our TLS parser saw a
//     ClientHello or nDPI 4.2 labelled the flow TLS/DTLS/QUIC; QUIC and DTLS flows use the JA4
//     "q..." / "d..." of their ClientHello (l7/quic.cc decrypts the client's Initials).
// Threading: pure functions over caller data. Memory: a TcpFingerprint is 12 bytes (what a flow
// keeps until its end record); strings are made only when the end record is written.
#pragma once
#include <cstdint>
#include <string>

#include "decode.h"

namespace dfly {

struct TcpFingerprint {
  uint16_t flags = 0;       // TCP header bits 4..15 (reserved/AE, CWR ... FIN)
  uint16_t window = 0;
  uint8_t ttl = 0;          // rounded up to 32/64/128/192/255
  uint8_t set = 0;
  uint8_t options_sha[6];   // first bytes of SHA-256 over the options hex
};

// Fingerprints pi when it is the kind of packet nDPI fingerprints (TCP, not an IP fragment, full
// header captured, SYN/ECE/CWR without ACK). Returns false otherwise.
bool tcp_fp_from_packet(const PacketInfo& pi, TcpFingerprint* out);
// "flags_ttl_window_hash12" (nDPI's flow->tcp.fingerprint).
std::string tcp_fp_text(const TcpFingerprint& fp);
// nDPI's OS hint name for a fingerprint text ("Linux", "Windows", ..., "Unknown").
const char* tcp_fp_os(const std::string& fp_text);
// ndpi_fp from the TCP fingerprint text (empty: none) and the JA4 (empty: none).
std::string ndpi_flow_fp(const std::string& tcp_fp, const std::string& ja4);

}  // namespace dfly
