// libFuzzer target: packet decode and everything behind it (fragments, flow table, features,
// L7 registry) via Sensor::packet_process on one raw Ethernet frame per input. One Sensor lives
// across inputs (flows and fragments accumulate, as in a real capture; max_flows bounds memory)
// and is flushed every 4096 inputs so flow_end/finalize run too. The same frame also goes through
// nDPI's TCP fingerprint (ndpi_fingerprint.cc: the TCP option walk), which the Sensor runs only
// with nDPI enabled (not here: the engine is slow to set up and not what is under test).
// Threading: single-threaded (libFuzzer). Memory: bounded by max_flows and the fragment limits.
#include <cstddef>
#include <cstdint>

#include "../src/core/capture.h"
#include "../src/core/ndpi_fingerprint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dfly::Sensor* sensor = [] {
    dfly::SensorConfig cfg;
    cfg.max_flows = 4096;
    cfg.idle_timeout_us = 60 * 1000000LL;
    cfg.status_interval_us = 1000000;
    return new dfly::Sensor(cfg);
  }();
  static int64_t ts = 1700000000LL * 1000000;
  static uint64_t n = 0;
  ts += 1000;
  sensor->packet_process(1 /* DLT_EN10MB */, ts, data, (uint32_t)size);
  {
    dfly::PacketInfo pi;
    dfly::Stats st;
    if (dfly::packet_decode_l3(1, data, (uint32_t)size, pi, st) == dfly::DECODE_OK && !pi.is_fragment) {
      dfly::packet_decode_l4(pi, st);
      dfly::TcpFingerprint fp;
      if (dfly::tcp_fp_from_packet(pi, &fp)) {
        std::string t = dfly::tcp_fp_text(fp);
        if (t.size() > 27 || dfly::ndpi_flow_fp(t, "").size() != 32) __builtin_trap();  // nDPI's bounds
        (void)dfly::tcp_fp_os(t);
      }
    }
  }
  sensor->ended().clear();
  sensor->status().clear();
  sensor->l7_events().clear();
  sensor->ended_extras().clear();
  if (++n % 4096 == 0) {
    sensor->flow_flush();
    sensor->ended().clear();
    sensor->l7_events().clear();
    sensor->ended_extras().clear();
  }
  return 0;
}
