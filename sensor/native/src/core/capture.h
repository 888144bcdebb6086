// Sensor engine: reads pcap/pcapng files (pcap_file.cc), decodes packets, reassembles fragments
// and maintains the flow table (engine.cc); ended flows are collected in an output vector per batch.
// Threading: a Sensor is NOT thread-safe. The N-API layer runs one batch at a time on a libuv
// worker (guarded by a busy flag) and reads results on the JS thread only after the batch ends.
// Memory: owns the pcap handle, the flow table, the fragment table and the ended-flow vector
// (cleared by the consumer with take_ended()), the start/update records, the L7 events and the
// per-flow side state: L7 parser states (l7/l7.h; bounded, freed when a parser is done or the
// flow ends), entropy payload blocks (EntropyStore, freed once a direction has max_payload bytes
// or the flow ends) and end-record extras (FlowExtra, only for flows that have some). Packet
// data is borrowed from libpcap and never retained beyond the packet's processing (reassembled
// datagrams are copied).
#pragma once
#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <deque>
#include <vector>

#include "features.h"
#include "flow_table.h"
#include "fragments.h"
#include "ndpi.h"
#include "stats.h"

namespace dfly {

struct SensorConfig {
  int64_t idle_timeout_us = 300 * 1000000LL;
  int64_t active_timeout_us = 1800 * 1000000LL;
  uint64_t max_flows = 0;     // 0 = unlimited
  uint32_t max_payload = 500; // bytes per direction used for entropy (clamped to 65535)
  uint32_t snaplen = 0;       // 0 = keep the file's captured length
  std::string filter;         // BPF, empty = none
  bool mac = true;
  int64_t status_interval_us = 60 * 1000000LL;  // flow `update` records (packet time), 0 = none
  bool status = true;         // emit `start` / `update` records (status())
  bool l7 = true;             // run the L7 parsers (events in l7_events())
  bool quic_decrypt = true;   // decrypt QUIC client Initials (ClientHello -> tls event); off: ids only
  L7Limits l7_limits;         // sensor config l7.max_buffer / l7.max_events_per_flow
  FragmentConfig frag;
  NdpiConfig ndpi;            // nDPI labels on end records (off by default)
  std::string observation = "damselfly";  // part of every flow id (flow_uuid)
};

struct CaptureError {
  std::string file;
  uint64_t packet_index = 0;  // 0-based index of the packet that could not be read
  int64_t byte_offset = -1;   // file offset where reading failed, -1 when unknown
  std::string message;
};

class Sensor {
 public:
  explicit Sensor(const SensorConfig& cfg);
  ~Sensor();
  Sensor(const Sensor&) = delete;
  Sensor& operator=(const Sensor&) = delete;

  // capture_*: opens a capture file (closing the previous one). Returns false with *err set.
  bool capture_open(const std::string& path, std::string* err);
  // Processes up to max_packets packets. Returns true when the current file is finished
  // (end of file or a read error; *has_error/*err describe the latter). Flows that ended are
  // appended to ended().
  bool capture_read_batch(uint64_t max_packets, bool* has_error, CaptureError* err,
                          uint64_t* pkts_out, uint64_t* bytes_out);
  void capture_close();
  bool is_open() const { return pcap_ != nullptr || map_.base != nullptr; }

  // packet_*: one captured frame (exposed for tests/tools that feed frames directly).
  void packet_process(int dlt, int64_t ts_us, const uint8_t* data, uint32_t caplen);
  // flow_*: ends every remaining flow with reason eof.
  void flow_flush();
  // flow_*: expires idle flows and stale fragments at wall-clock time now_us (live capture calls
  // it about once a second, so flows end even when no packet arrives).
  void flow_tick(int64_t now_us);

  std::vector<FlowFeatures>& ended() { return ended_; }
  // start/update records (kind 0/1) produced since the last take, in packet order
  std::vector<FlowFeatures>& status() { return status_; }
  // L7 events (DNS/TLS/HTTP) since the last take, and the L7 extras ended flows point to (xidx)
  std::vector<L7Event>& l7_events() { return l7_events_; }
  std::vector<L7Extras>& ended_extras() { return ended_extras_; }
  const Stats& stats() const { return stats_; }
  const SensorConfig& config() const { return cfg_; }
  // Non-empty when the constructor could not set up an enabled feature (nDPI custom files).
  const std::string& init_error() const { return init_error_; }

 private:
  void flow_packet(PacketInfo& pi);
  // frag_*: meters the fragment datagrams that timed out incomplete (all pending ones with `all`)
  void frag_expire(int64_t now, bool all);
  void frag_meter(std::vector<FragExpired>& xs);
  void flow_end(uint32_t idx, uint8_t reason);
  void flow_expire_idle(int64_t now);
  void flow_expire_closed(int64_t now);
  void flow_close(uint32_t idx, uint8_t reason, int64_t now);
  void l7_packet(Flow& fl, int dir, const PacketInfo& pi);
  void l7_drain(Flow& fl, int64_t ts);
  void l7_keep_extras(Flow& fl);
  void l7_done(Flow& fl, int64_t ts);
  // The flow id: SHA-1 of (observation, flow key, start time µs) as a version-5 UUID, so the same
  // capture gives the same ids on every run (re-runs are idempotent in the lake).
  void flow_uuid(const FlowKey& key, int64_t stime_us, uint8_t out[16]) const;

  SensorConfig cfg_;
  Stats stats_;
  FlowTable table_;
  FragmentTable frags_;
  EntropyStore es_;
  std::vector<FlowFeatures> ended_;
  std::vector<FlowFeatures> status_;
  std::vector<L7Event> l7_events_;
  std::vector<L7Extras> ended_extras_;
  // what a parser call writes (l7/l7.h L7Out): drained into l7_events_ / the flow's FlowExtra
  std::vector<std::string> l7_bodies_;
  L7Extras l7_extras_;
  int64_t last_scan_sec_ = INT64_MIN;
  bool in_frag_expire_ = false;
  // Closed TCP flows in closing order (packet time only grows): slot, flow id prefix, close time.
  // An entry whose slot no longer holds that closed flow (ended since by a SYN on the tuple, idle,
  // eof or eviction; flow_end clears the closed bits) is skipped.
 public:
  static constexpr int64_t kCloseLinger = 2000000;  // µs
 private:
  struct ClosedRef { uint32_t idx; uint64_t id; int64_t closed_at; };
  std::deque<ClosedRef> closed_;

  void map_open();
  bool map_read_batch(uint64_t max_packets, bool* has_error, CaptureError* err, uint64_t* pkts_out, uint64_t* bytes_out);

  pcap_t* pcap_ = nullptr;
  // Classic pcap files without a filter are read from a read-only mapping instead (pcap_file.cc).
  struct Mapped {
    const uint8_t* base = nullptr;
    size_t size = 0;
    size_t off = 0;
    size_t released = 0;  // pages before this offset were dropped from the mapping
    int fd = -1;          // kept open to notice a file that shrinks while it is read
    bool swap = false;
    bool nsec = false;
    uint32_t snapshot = 0;  // libpcap's: longer records are cut to this
    uint32_t max_caplen = 0;
  } map_;
  int dlt_ = 0;
  std::string path_;
  uint64_t file_packets_ = 0;

  NdpiEngine* ndpi_ = nullptr;  // owned; null when nDPI is off
  std::string init_error_;
};

}  // namespace dfly
