// libFuzzer target: the capture file reader (pcap_file.cc: our mapped reader for classic pcap,
// libpcap for pcapng and the rest) on one whole file per input, written to a memfd and opened by
// path as a capture is. Everything read goes on through decode and the flow table, so damaged
// record headers, lengths and timestamps reach the rest of the core. One Sensor lives across
// inputs (flushed after each); max_flows bounds its memory.
// Threading: single-threaded (libFuzzer).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "../src/core/capture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz-pcap", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  static dfly::Sensor* sensor = [] {
    dfly::SensorConfig cfg;
    cfg.max_flows = 1024;
    return new dfly::Sensor(cfg);
  }();
  if (fd < 0) return 0;
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) return 0;
  std::string err;
  if (sensor->capture_open(path, &err)) {
    bool has_error = false;
    dfly::CaptureError ce;
    uint64_t pkts = 0, bytes = 0;
    while (!sensor->capture_read_batch(64, &has_error, &ce, &pkts, &bytes)) {
    }
    if (has_error && ce.message.empty()) __builtin_trap();  // an error always says what
  } else if (err.empty()) {
    __builtin_trap();
  }
  sensor->flow_flush();
  sensor->ended().clear();
  sensor->status().clear();
  sensor->l7_events().clear();
  sensor->ended_extras().clear();
  return 0;
}
