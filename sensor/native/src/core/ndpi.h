// nDPI application labels (Debian libndpi 4.2): ndpi_appid, ndpi_category, risk score/severity/list.
// Threading: one NdpiEngine per Sensor (its own detection module), used only by the thread
// running that Sensor's batch. Memory: the detection module (a few MB) lives as long as the
// engine; per-flow nDPI state (ndpi_flow_struct, ~1 KB plus sub-allocations) is allocated at a
// flow's first packet and released as soon as the flow is classified with no extra dissection
// pending, after a packet cap (then ndpi_detection_giveup), or when the flow ends. What remains
// per flow is NdpiResult (16 bytes) in the flow table slot.
#pragma once
#include <cstdint>
#include <string>

#include "decode.h"

struct ndpi_detection_module_struct;
struct ndpi_flow_struct;

namespace dfly {

struct NdpiConfig {
  bool enabled = false;
  std::string protocol_file;    // custom protocols (nDPI protos.txt format), empty = none
  std::string categories_file;  // custom categories (nDPI categories.txt format), empty = none
};

struct NdpiResult {
  uint64_t risk = 0;            // ndpi_risk bitmask
  uint16_t master = 0, app = 0; // protocol ids (0 = unknown)
  uint16_t category = 0;        // ndpi_protocol_category_t
  uint8_t state = 0;            // 0 not started, 1 inspecting (state allocated), 2 done
  uint8_t pkts = 0;             // packets given to nDPI (saturates at the cap)
};

// Labels of a finished flow, ready for output.
struct NdpiLabels {
  std::string appid;            // e.g. "TLS.YouTube", "DNS", "Unknown"
  std::string category;         // e.g. "Media", "Network"
  std::string risk_list;        // risk names joined by ',' (empty = none)
  uint32_t risk_score = 0;      // ndpi_risk2score total
  uint8_t risk_severity = 0;    // 0 none, 1 low, 2 medium, 3 high (nDPI high and severe)
  std::string tcp_fp;           // "fingerprint/os" of the flow's SYN (ndpi_fingerprint.h), empty = none
  std::string fp;               // composite nDPI fingerprint, empty = none
};

class NdpiEngine {
 public:
  NdpiEngine() = default;
  ~NdpiEngine();
  NdpiEngine(const NdpiEngine&) = delete;
  NdpiEngine& operator=(const NdpiEngine&) = delete;

  // Creates the detection module and loads the custom files. False with *err on failure.
  bool ndpi_init(const NdpiConfig& cfg, std::string* err);
  // One packet of a flow (pi decoded up to L4; reassembled datagrams are fine: the IP header is
  // rebuilt). Allocates *state on the first call; frees it and sets r->state = 2 when done.
  void ndpi_packet(ndpi_flow_struct** state, NdpiResult* r, const PacketInfo& pi);
  // Ends inspection of a flow still in progress (giveup with port-based guess) and frees it.
  void ndpi_finish(ndpi_flow_struct** state, NdpiResult* r);
  void ndpi_labels(const NdpiResult& r, NdpiLabels* out) const;
  // nDPI labelled the flow TLS, DTLS or QUIC (what ndpi_fp calls TLS-like).
  bool ndpi_is_tls_like(const NdpiResult& r) const;
  uint64_t states_active() const { return states_; }
  uint64_t classified() const { return classified_; }

 private:
  void release(ndpi_flow_struct** state, NdpiResult* r);

  ndpi_detection_module_struct* mod_ = nullptr;
  uint64_t states_ = 0, classified_ = 0;
  uint8_t buf_[65536];  // rebuilt IP packet handed to nDPI
};

}  // namespace dfly
