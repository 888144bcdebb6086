// Live capture backends (libpcap, AF_PACKET TPACKET_V3) behind one small interface.
// Threading: a LiveCapture is driven by ONE capture thread (live_poll); only live_wakeup() may be
// called from another thread (it makes a blocked live_poll return early). Memory: each backend
// owns its handle/socket and ring; packet data passed to the callback is borrowed from the
// ring/libpcap buffer and only valid during the callback.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace dfly {

struct LiveConfig {
  std::string iface;
  std::string filter;         // BPF, empty = none
  uint32_t snaplen = 65535;
  bool promisc = true;
  int timeout_ms = 100;       // longest a live_poll() waits for packets
  // AF_PACKET only
  uint32_t block_size = 2097152;
  uint32_t block_count = 64;
  uint32_t fanout_group = 0;  // 0 = no fanout
  std::string fanout_mode = "hash";  // hash | lb | cpu | rollover | random
};

// Kernel-side counters, cumulative since live_open().
struct LiveStats {
  uint64_t received = 0;    // packets the kernel handed to (or dropped for) this socket
  uint64_t dropped = 0;     // dropped by the kernel: ring/buffer full
  uint64_t if_dropped = 0;  // dropped by the interface/driver (libpcap only, when known)
  uint64_t outgoing_skipped = 0;  // afpacket: loopback PACKET_OUTGOING copies skipped (as libpcap does)
};

// Called for each packet: link type, timestamp (µs since epoch), bytes, captured length.
using LivePacketFn = void (*)(void* ctx, int dlt, int64_t ts_us, const uint8_t* data, uint32_t caplen);

class LiveCapture {
 public:
  virtual ~LiveCapture() = default;
  // capture_*: opens the interface. Returns false with a one-line *err (no such interface,
  // permission denied, bad filter, ...).
  virtual bool live_open(const LiveConfig& cfg, std::string* err) = 0;
  // Delivers the packets that are ready (waiting up to timeout_ms for some). Returns the number
  // of packets delivered, or -1 with *err set when the capture failed (interface gone, ...).
  virtual int live_poll(LivePacketFn fn, void* ctx, std::string* err) = 0;
  // Thread-safe: wakes a blocked live_poll().
  virtual void live_wakeup() = 0;
  virtual void live_stats(LiveStats* out) = 0;
  virtual const char* name() const = 0;
};

// "pcap" or "afpacket"; nullptr for an unknown type.
std::unique_ptr<LiveCapture> live_capture_create(const std::string& type);

}  // namespace dfly
