// JA3 / JA3S (Salesforce): "version,ciphers,extensions,groups,point_formats" (client) and
// "version,cipher,extensions" (server), decimal values joined by '-', GREASE values dropped,
// MD5 in lowercase hex. Threading: pure functions. Memory: one string per call.
#include "../digest.h"
#include "l7.h"

namespace dfly {

static void join_u16(std::string& s, const std::vector<uint16_t>& v) {
  bool first = true;
  for (uint16_t x : v) {
    if (tls_is_grease(x)) continue;
    if (!first) s += '-';
    first = false;
    s += std::to_string(x);
  }
}

static std::string md5_hex(const std::string& s) {
  uint8_t d[16];
  char hex[33];
  md5(s.data(), s.size(), d);
  hex_lower(d, 16, hex);
  return hex;
}

std::string ja3_client(const TlsHello& h) {
  std::string s = std::to_string(h.legacy_version) + ",";
  join_u16(s, h.ciphers); s += ',';
  join_u16(s, h.exts); s += ',';
  join_u16(s, h.groups); s += ',';
  for (size_t i = 0; i < h.point_fmts.size(); i++) { if (i) s += '-'; s += std::to_string(h.point_fmts[i]); }
  return md5_hex(s);
}

std::string ja3_server(const TlsHello& h) {
  std::string s = std::to_string(h.legacy_version) + ",";
  join_u16(s, h.ciphers); s += ',';
  join_u16(s, h.exts);
  return md5_hex(s);
}

}  // namespace dfly
