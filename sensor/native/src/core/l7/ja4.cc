// JA4 (FoxIO JA4 TLS client fingerprint, BSD-3 spec; JA4S and other JA4+ variants are
// deliberately NOT implemented): a_b_c with
//   a = proto (t TCP, q QUIC, d DTLS) + version (13,12,...) + d|i (SNI) + 2-digit cipher count + 2-digit extension
//       count + two ALPN characters ("00" when none),
//   b = sha256 of the sorted cipher list (4-hex, comma separated), first 12 hex characters,
//   c = sha256 of the sorted extension list without SNI/ALPN, '_' and the signature algorithms
//       in their original order; first 12 hex. GREASE values are ignored everywhere.
// Two points follow nDPI's implementation (whose results, ../shared/data/ndpi/result, are our
// conformance reference) rather than the letter of the FoxIO text: the SNI letter is 'i' only
// when the server name is a numeric IP address ('d' otherwise, also without SNI), and the ALPN
// characters are the first two of the first ALPN value ("h2", "ht" for http/1.1).
// Threading: pure function. Memory: a few small strings per call.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "../digest.h"
#include "l7.h"

namespace dfly {

// "000000000000" when the list is empty; otherwise the first 12 hex digits of its SHA-256.
static std::string sha12(const std::string& s, bool any) {
  if (!any) return "000000000000";
  uint8_t d[32];
  char hex[65];
  sha256(s.data(), s.size(), d);
  hex_lower(d, 32, hex);
  return std::string(hex, 12);
}

static void hex4_list(std::string& s, const std::vector<uint16_t>& v) {
  static const char* hx = "0123456789abcdef";
  for (size_t i = 0; i < v.size(); i++) {
    if (i) s += ',';
    const uint16_t x = v[i];  // "%04x", without printf's per-call cost (it showed in profiles)
    const char b[4] = {hx[x >> 12], hx[(x >> 8) & 15], hx[(x >> 4) & 15], hx[x & 15]};
    s.append(b, 4);
  }
}

std::string ja4_client(const TlsHello& h, char proto) {
  std::vector<uint16_t> ciphers, exts, sigs;
  for (uint16_t c : h.ciphers) if (!tls_is_grease(c)) ciphers.push_back(c);
  for (uint16_t e : h.exts) if (!tls_is_grease(e)) exts.push_back(e);
  for (uint16_t a : h.sig_algs) if (!tls_is_grease(a)) sigs.push_back(a);
  uint16_t ver = 0;
  for (uint16_t v : h.versions) {
    if (tls_is_grease(v)) continue;
    // DTLS version numbers count down: DTLS 1.3 (0xfefc) is newer than DTLS 1.2 (0xfefd)
    bool newer = proto == 'd' && (v >> 8) == 0xfe && (ver >> 8) == 0xfe ? v < ver : v > ver;
    if (!ver || newer) ver = v;
  }
  if (!ver) ver = h.legacy_version;
  const char* vs;
  switch (ver) {
    case 0x0304: vs = "13"; break; case 0x0303: vs = "12"; break; case 0x0302: vs = "11"; break;
    case 0x0301: vs = "10"; break; case 0x0300: vs = "s3"; break; case 0x0200: vs = "s2"; break;
    case 0xfeff: vs = "d1"; break; case 0xfefd: vs = "d2"; break; case 0xfefc: vs = "d3"; break;
    default: vs = "00";
  }
  char a[16];
  char alpn0 = '0', alpn1 = '0';
  if (!h.alpn.empty() && !h.alpn[0].empty()) {
    const std::string& f = h.alpn[0];
    // JA4 spec: the first and last characters of the first ALPN value ("http/1.1" -> "h1").
    // nDPI before #2915, which wrote ../shared/data/ndpi/result, took the first two ("ht"); the
    // conformance test allows for that. A non-alphanumeric character is replaced by the first /
    // last hex digit of the value; the raw byte would otherwise reach the '|'-separated flow
    // columns (found by fuzz_tls).
    alpn0 = f[0];
    alpn1 = f[f.size() - 1];
    auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!alnum(alpn0) || !alnum(alpn1)) {
      static const char* hx = "0123456789abcdef";
      alpn0 = hx[(uint8_t)f[0] >> 4];
      alpn1 = hx[(uint8_t)f[f.size() - 1] & 15];
    }
  }
  unsigned char ip[16];
  bool numeric = !h.sni.empty() && (inet_pton(AF_INET, h.sni.c_str(), ip) == 1 || inet_pton(AF_INET6, h.sni.c_str(), ip) == 1);
  snprintf(a, sizeof a, "%c%s%c%02u%02u%c%c", proto, vs, numeric ? 'i' : 'd',
           (unsigned)std::min<size_t>(ciphers.size(), 99), (unsigned)std::min<size_t>(exts.size(), 99), alpn0, alpn1);
  std::sort(ciphers.begin(), ciphers.end());
  std::string bs;
  hex4_list(bs, ciphers);
  std::vector<uint16_t> ce;
  for (uint16_t e : exts) if (e != 0x0000 && e != 0x0010) ce.push_back(e);
  std::sort(ce.begin(), ce.end());
  std::string cs;
  hex4_list(cs, ce);
  if (!sigs.empty()) { cs += '_'; hex4_list(cs, sigs); }
  // FoxIO: an empty sorted list (ciphers; extensions once SNI and ALPN are left out) gives
  // "000000000000", not the hash of an empty string (nDPI 4.x writes e3b0c44298fc there).
  return std::string(a) + "_" + sha12(bs, !ciphers.empty()) + "_" + sha12(cs, !ce.empty());
}

}  // namespace dfly
