// Text rendering of flow fields (addresses, flags, UUID, MAC, protocol, spd/spdt).
// Threading: stateless, thread-safe. Memory: writes into caller buffers of the documented sizes.
#pragma once
#include <cstdint>

#include "features.h"

namespace dfly {

// Each returns the string length written (NUL-terminated).
int format_addr(uint8_t ipver, const uint8_t* addr, char out[48]);          // inet_ntop (RFC 5952)
int format_tcp_flags(uint8_t flags, char out[9]);                            // "FSRPAUEC" order
int format_uuid(const uint8_t uuid[16], char out[37]);
int format_mac(const uint8_t mac[6], char out[18]);
int format_proto(uint8_t proto, char out[8]);
int format_spd(const FlowFeatures& f, char out[9]);
int format_spdt(const FlowFeatures& f, char out[96]);

// Derived numeric fields shared by every output path.
uint32_t flow_dur_ms(const FlowFeatures& f);
int32_t flow_pcr(const FlowFeatures& f);
uint16_t dir_avg_payload(const DirStats& d);
uint16_t dir_stdev_payload(const DirStats& d);

}  // namespace dfly
