// libpcap live backend: pcap_create/pcap_activate on an interface (snaplen, promiscuous mode,
// immediate mode, read timeout, BPF filter). Threading and memory: see live_capture.h; libpcap
// owns its buffer, pcap_breakloop() (thread-safe in libpcap >= 1.10 on Linux) wakes the poll.
#pragma once
#include <atomic>
#include <pcap/pcap.h>

#include "live_capture.h"

namespace dfly {

class PcapLive : public LiveCapture {
 public:
  ~PcapLive() override;
  bool live_open(const LiveConfig& cfg, std::string* err) override;
  int live_poll(LivePacketFn fn, void* ctx, std::string* err) override;
  void live_wakeup() override;
  void live_stats(LiveStats* out) override;
  const char* name() const override { return "pcap"; }

 private:
  pcap_t* p_ = nullptr;
  int dlt_ = 0;
  uint32_t snaplen_ = 65535;
  // Set by live_wakeup() (any thread); the capture thread then switches the handle to
  // non-blocking, so draining after stop returns at once on an idle interface (in immediate mode
  // a blocking pcap_dispatch() waits for the next packet, which may never come).
  std::atomic<bool> stopping_{false};
  bool nonblock_ = false;
};

}  // namespace dfly
