// Shared driver of the L7 parser fuzz targets (fuzz_dns.cc, fuzz_tls.cc, fuzz_http.cc): the
// input goes through the registry's own per-flow driver (l7_flow_payload: in-order TCP stream,
// consume/skip, buffer bound, event cap) with the target's parser already chosen.
// Input: one flags byte, then the payload. Flags: bit0 TCP, bit1 the first segment travels
// server -> client (dir 1), bit2 small limits (l7.max_buffer 1024, 5 events per flow), bit3 the
// segments alternate directions (a reply after each), bits 4-7 segment size: 1 + 61 * value bytes
// (UDP: one datagram each). The parser's own match() gates the first segment, as in the registry.
// Threading: single-threaded (libFuzzer). Memory: all state is created and freed per input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../src/core/l7/l7.h"

namespace dfly {

inline void fuzz_l7(const L7Parser& parser, const uint8_t* data, size_t size, uint16_t port) {
  if (size < 1) return;
  uint8_t flags = data[0];
  const uint8_t* p = data + 1;
  size_t n = size - 1;
  bool tcp = flags & 1;
  int dir = (flags >> 1) & 1;
  L7Limits lim;
  if (flags & 4) { lim.max_buffer = 1024; lim.max_events = 5; }
  size_t seg = 1 + 61 * (size_t)(flags >> 4);
  std::vector<std::string> bodies;
  L7Extras extras;
  Stats st;
  L7Out out{&bodies, &extras, &st};
  // flow orientation: the client (40000) is the source
  L7Packet first{dir, tcp, 40000, port, p, n < seg ? n : seg, 1};
  if (!parser.match(first)) return;
  L7Flow* l = new L7Flow();
  l->parser = &parser;
  l->st = parser.create();
  uint8_t pkts = 0;
  uint32_t seq[2] = {1000, 5000};
  bool more = true;
  for (size_t off = 0; off < n && more; off += seg) {
    uint32_t len = (uint32_t)(n - off < seg ? n - off : seg);
    more = l7_flow_payload(&l, &pkts, out, lim, dir, tcp, false, seq[dir], 40000, port, p + off, len, 1 + (int64_t)off);
    seq[dir] += len;
    if (flags & 8) dir = 1 - dir;
  }
  l7_flow_finish(l, out, lim);
  delete l;
  if (lim.max_events && bodies.size() > lim.max_events) {
    fprintf(stderr, "l7_driver: %zu events over the limit of %u\n", bodies.size(), lim.max_events);
    __builtin_trap();
  }
  // every event body must stay printable (l7.h: sanitised before it crosses to JS)
  for (const auto& b : bodies)
    for (char c : b)
      if ((unsigned char)c >= 0x7f) {
        fprintf(stderr, "l7_driver: non-ASCII byte 0x%02x in a %s event body: %s\n", (unsigned char)c, parser.name, b.c_str());
        __builtin_trap();
      }
}

}  // namespace dfly
