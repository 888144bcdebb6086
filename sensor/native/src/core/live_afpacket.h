// AF_PACKET TPACKET_V3 backend: an mmap'ed RX ring of block_count blocks of block_size bytes,
// optional PACKET_FANOUT group (hash/lb/cpu/rollover/random) so several sockets/processes share
// an interface, and a BPF filter compiled by libpcap for DLT_EN10MB and attached with
// SO_ATTACH_FILTER. Threading: see live_capture.h; an eventfd wakes the poll() from other
// threads. Memory: the ring is kernel memory mapped into the process (block_size x block_count);
// a block is handed back to the kernel as soon as its packets were processed.
#pragma once
#include <cstdint>
#include <vector>

#include "live_capture.h"

namespace dfly {

class AfPacketLive : public LiveCapture {
 public:
  ~AfPacketLive() override;
  bool live_open(const LiveConfig& cfg, std::string* err) override;
  int live_poll(LivePacketFn fn, void* ctx, std::string* err) override;
  void live_wakeup() override;
  void live_stats(LiveStats* out) override;
  const char* name() const override { return "afpacket"; }

 private:
  void close_all();
  int fd_ = -1;
  int wake_fd_ = -1;
  uint8_t* ring_ = nullptr;
  size_t ring_len_ = 0;
  uint32_t block_size_ = 0, block_count_ = 0, cur_ = 0;
  uint32_t snaplen_ = 65535;
  int timeout_ms_ = 100;
  int lo_ifindex_ = 0;  // ifindex of "lo" (in the socket's network namespace), 0 = none
  std::string iface_;
  LiveStats acc_;
  std::vector<uint8_t> vlan_buf_;  // frame with its 802.1Q tag re-inserted (the kernel strips it)
};

}  // namespace dfly
