// nDPI engine. Threading and memory: see ndpi.h. nDPI 4.2 expects packets from the IP header on;
// we rebuild a minimal IPv4/IPv6 header in front of the transport header so reassembled
// datagrams and IPv6 extension headers need no special case.
#include "ndpi.h"

#include <cstring>

extern "C" {
#include <ndpi/ndpi_api.h>
}

namespace dfly {

// Packets per flow given to nDPI before giving up (ndpiReader 4.2's defaults).
static constexpr uint8_t kNdpiMaxTcpPkts = 80;
static constexpr uint8_t kNdpiMaxUdpPkts = 24;

NdpiEngine::~NdpiEngine() {
  if (mod_) ndpi_exit_detection_module(mod_);
}

bool NdpiEngine::ndpi_init(const NdpiConfig& cfg, std::string* err) {
  mod_ = ndpi_init_detection_module(ndpi_no_prefs);
  if (!mod_) { *err = "nDPI: cannot initialise the detection module"; return false; }
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(mod_, &all);
  if (!cfg.protocol_file.empty() &&
      ndpi_load_protocols_file(mod_, const_cast<char*>(cfg.protocol_file.c_str())) < 0) {
    *err = "nDPI: cannot load protocol file '" + cfg.protocol_file + "'";
    return false;
  }
  if (!cfg.categories_file.empty() && ndpi_load_categories_file(mod_, cfg.categories_file.c_str()) < 0) {
    *err = "nDPI: cannot load categories file '" + cfg.categories_file + "'";
    return false;
  }
  ndpi_finalize_initialization(mod_);
  return true;
}

void NdpiEngine::release(ndpi_flow_struct** state, NdpiResult* r) {
  if (*state) {
    r->risk |= (*state)->risk;
    ndpi_free_flow(*state);
    *state = nullptr;
    states_--;
  }
  r->state = 2;
}

static inline void store(NdpiResult* r, const ndpi_protocol& p) {
  r->master = p.master_protocol;
  r->app = p.app_protocol;
  r->category = (uint16_t)p.category;
}

void NdpiEngine::ndpi_packet(ndpi_flow_struct** state, NdpiResult* r, const PacketInfo& pi) {
  if (r->state == 2 || !mod_) return;
  if (!*state) {
    uint32_t sz = ndpi_detection_get_sizeof_ndpi_flow_struct();
    *state = (ndpi_flow_struct*)ndpi_flow_malloc(sz);
    if (!*state) { r->state = 2; return; }
    memset(*state, 0, sz);
    states_++;
    r->state = 1;
  }
  uint32_t hl = pi.ipver == 4 ? 20 : 40;
  uint32_t l4 = pi.l4 ? pi.l4_caplen : 0;
  if (l4 > sizeof buf_ - hl) l4 = sizeof buf_ - hl;
  uint8_t* b = buf_;
  memset(b, 0, hl);
  if (pi.ipver == 4) {
    uint32_t tot = hl + l4;
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8); b[3] = (uint8_t)tot;
    b[8] = 64;
    b[9] = pi.proto;
    memcpy(b + 12, pi.src, 4);
    memcpy(b + 16, pi.dst, 4);
  } else {
    b[0] = 0x60;
    b[4] = (uint8_t)(l4 >> 8); b[5] = (uint8_t)l4;
    b[6] = pi.proto;
    b[7] = 64;
    memcpy(b + 8, pi.src, 16);
    memcpy(b + 24, pi.dst, 16);
  }
  if (l4) memcpy(b + hl, pi.l4, l4);
  ndpi_protocol p = ndpi_detection_process_packet(mod_, *state, b, (unsigned short)(hl + l4),
                                                  (uint64_t)(pi.ts_us / 1000));
  if (r->pkts < 255) r->pkts++;
  bool detected = p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN;
  if (detected) store(r, p);
  uint8_t cap = pi.proto == 6 ? kNdpiMaxTcpPkts : kNdpiMaxUdpPkts;
  // Released at classification, extra dissection (DNS answers, TLS certificates, HTTP response)
  // included only when it is already over: per-flow memory matters more at 1M flows.
  if (detected) {
    classified_++;
    release(state, r);
  } else if (r->pkts >= cap) {
    ndpi_finish(state, r);
  }
}

void NdpiEngine::ndpi_finish(ndpi_flow_struct** state, NdpiResult* r) {
  if (!*state) { r->state = 2; return; }
  if (r->master == 0 && r->app == 0) {
    uint8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(mod_, *state, 1, &guessed);
    store(r, p);
    if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN) classified_++;
  } else {
    classified_++;
  }
  release(state, r);
}

bool NdpiEngine::ndpi_is_tls_like(const NdpiResult& r) const {
  for (uint16_t p : {r.master, r.app})
    if (p == NDPI_PROTOCOL_TLS || p == NDPI_PROTOCOL_DTLS || p == NDPI_PROTOCOL_QUIC) return true;
  return false;
}

void NdpiEngine::ndpi_labels(const NdpiResult& r, NdpiLabels* out) const {
  char buf[128];
  ndpi_protocol p;
  memset(&p, 0, sizeof p);
  p.master_protocol = r.master;
  p.app_protocol = r.app;
  p.category = (ndpi_protocol_category_t)r.category;
  if (p.category == NDPI_PROTOCOL_CATEGORY_UNSPECIFIED && (r.master || r.app))
    p.category = ndpi_get_proto_category(mod_, p);
  out->appid = ndpi_protocol2name(mod_, p, buf, sizeof buf);
  const char* cat = ndpi_category_get_name(mod_, p.category);
  out->category = cat ? cat : "";
  out->risk_list.clear();
  out->risk_severity = 0;
  out->risk_score = 0;
  if (r.risk) {
    uint16_t cs = 0, ss = 0;
    out->risk_score = ndpi_risk2score(r.risk, &cs, &ss);
    for (int i = 1; i < NDPI_MAX_RISK && i < 64; i++) {
      if (!(r.risk & (1ULL << i))) continue;
      const char* name = ndpi_risk2str((ndpi_risk_enum)i);
      if (!out->risk_list.empty()) out->risk_list += ',';
      out->risk_list += name ? name : "?";
      ndpi_risk_info* info = ndpi_risk2severity((ndpi_risk_enum)i);
      uint8_t sev = 1;
      if (info) sev = info->severity == NDPI_RISK_LOW ? 1 : info->severity == NDPI_RISK_MEDIUM ? 2 : 3;
      if (sev > out->risk_severity) out->risk_severity = sev;
    }
  }
  // output strings are '|'-separated columns (binding.cc): keep them printable and free of '|' (and JSON-safe for the replay tool)
  for (std::string* s : {&out->appid, &out->category, &out->risk_list})
    for (char& c : *s)
      if (c == '|' || c == '"' || c == '\\' || (unsigned char)c < 0x20 || (unsigned char)c > 0x7e) c = '_';
}

}  // namespace dfly
