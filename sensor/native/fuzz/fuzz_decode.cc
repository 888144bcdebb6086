// libFuzzer target: packet decode and everything behind it (fragments, flow table, features,
// L7 registry) via Sensor::packet_process on one raw Ethernet frame per input. One Sensor lives
// across inputs (flows and fragments accumulate, as in a real capture; max_flows bounds memory)
// and is flushed every 4096 inputs so flow_end/finalize run too.
// Threading: single-threaded (libFuzzer). Memory: bounded by max_flows and the fragment limits.
#include <cstddef>
#include <cstdint>

#include "../src/core/capture.h"

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
