// Shared driver of the L7 parser fuzz targets (fuzz_dns.cc, fuzz_tls.cc, fuzz_http.cc).
// Input: one flags byte, then the payload. Flags: bit0 TCP, bit1 payload travels server ->
// client (dir 1), bit2 TCP payload split in two segments (the parser first sees the first part
// of the stream, then all of it, as registry.cc hands it over), bit3 reply: a second copy of the
// payload in the other direction. The parser's own match() gates on_payload, as in the registry.
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
  std::vector<std::string> bodies;
  L7Extras extras;
  L7Out out{&bodies, &extras};
  L7Packet pk{dir, tcp, 40000, port, p, n, 1};
  if (dir) { pk.sport = port; pk.dport = 40000; }
  if (!parser.match(pk)) return;
  void* st = parser.create();
  L7Status s = L7_MORE;
  if (tcp && (flags & 4) && n > 1) {
    pk.len = n / 2;
    s = parser.on_payload(st, pk, out);
    pk.len = n;
  }
  if (s == L7_MORE) s = parser.on_payload(st, pk, out);
  if (s == L7_MORE && (flags & 8)) {
    pk.dir = 1 - dir;
    s = parser.on_payload(st, pk, out);
  }
  parser.finish(st, out);
  parser.destroy(st);
  // every event body must stay printable (l7.h: sanitised before it crosses to JS)
  for (const auto& b : bodies)
    for (char c : b)
      if ((unsigned char)c >= 0x7f) {
        fprintf(stderr, "l7_driver: non-ASCII byte 0x%02x in a %s event body: %s\n", (unsigned char)c, parser.name, b.c_str());
        __builtin_trap();
      }
}

}  // namespace dfly
