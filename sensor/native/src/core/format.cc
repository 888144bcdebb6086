// Field formatting. Threading: stateless. Memory: caller-provided fixed buffers only.
#include "format.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace dfly {

int format_addr(uint8_t ipver, const uint8_t* addr, char out[48]) {
  if (!inet_ntop(ipver == 6 ? AF_INET6 : AF_INET, addr, out, 48)) out[0] = 0;
  return (int)strlen(out);
}

int format_tcp_flags(uint8_t flags, char out[9]) {
  static const char letters[] = "FSRPAUEC";
  int n = 0;
  for (int i = 0; i < 8; i++)
    if (flags & (1u << i)) out[n++] = letters[i];
  out[n] = 0;
  return n;
}

int format_uuid(const uint8_t u[16], char out[37]) {
  static const char hex[] = "0123456789abcdef";
  int n = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[n++] = '-';
    out[n++] = hex[u[i] >> 4];
    out[n++] = hex[u[i] & 15];
  }
  out[n] = 0;
  return n;
}

int format_mac(const uint8_t m[6], char out[18]) {
  static const char hex[] = "0123456789abcdef";
  int n = 0;
  for (int i = 0; i < 6; i++) {
    if (i) out[n++] = ':';
    out[n++] = hex[m[i] >> 4];
    out[n++] = hex[m[i] & 15];
  }
  out[n] = 0;
  return n;
}

int format_proto(uint8_t proto, char out[8]) {
  const char* s = nullptr;
  switch (proto) {
    case 1: s = "ICMP"; break;
    case 2: s = "IGMP"; break;
    case 4: s = "IPIP"; break;
    case 6: s = "TCP"; break;
    case 17: s = "UDP"; break;
    case 41: s = "IPv6"; break;
    case 47: s = "GRE"; break;
    case 50: s = "ESP"; break;
    case 51: s = "AH"; break;
    case 58: s = "ICMPv6"; break;
    case 89: s = "OSPF"; break;
    case 103: s = "PIM"; break;
    case 112: s = "VRRP"; break;
    case 132: s = "SCTP"; break;
    default: break;
  }
  if (s) { strcpy(out, s); return (int)strlen(s); }
  return snprintf(out, 8, "%u", proto);
}

int format_spd(const FlowFeatures& f, char out[9]) {
  int n = 0;
  for (int i = 0; i < f.spd_n && i < 8; i++) out[n++] = (f.spd_dirs >> i) & 1 ? 'D' : 'S';
  out[n] = 0;
  return n;
}

int format_spdt(const FlowFeatures& f, char out[96]) {
  int n = 0;
  out[0] = 0;
  for (int i = 0; i < f.spd_n && i < 8; i++) {
    if (i) out[n++] = ',';
    char tmp[10];
    int k = 0;
    uint32_t v = f.spdt[i];
    do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (k) out[n++] = tmp[--k];
  }
  out[n] = 0;
  return n;
}

uint32_t flow_dur_ms(const FlowFeatures& f) {
  int64_t d = (f.etime - f.stime) / 1000;
  return d < 0 ? 0 : (d > 0xffffffffLL ? 0xffffffffu : (uint32_t)d);
}

int32_t flow_pcr(const FlowFeatures& f) {
  double s = (double)f.d[0].payload, d = (double)f.d[1].payload;
  if (s + d <= 0) return 0;
  return (int32_t)std::lround(100.0 * (s - d) / (s + d));
}

uint16_t dir_avg_payload(const DirStats& d) {
  if (!d.nonempty) return 0;
  double v = std::round((double)d.payload / d.nonempty);
  return (uint16_t)(v > 65535 ? 65535 : v);
}

uint16_t dir_stdev_payload(const DirStats& d) {
  if (!d.nonempty) return 0;
  double mean = (double)d.payload / d.nonempty;
  double var = d.sumsq / d.nonempty - mean * mean;
  double v = std::round(var > 0 ? std::sqrt(var) : 0.0);
  return (uint16_t)(v > 65535 ? 65535 : v);
}

}  // namespace dfly
