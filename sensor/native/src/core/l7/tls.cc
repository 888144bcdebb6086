// TLS parser: ClientHello / ServerHello over TCP, reassembled across segments and records within
// the bounded per-flow stream buffer (kL7MaxStream). Yields SNI, ALPN, negotiated version and
// cipher, JA3 / JA3S (ja3.cc) and JA4 (ja4.cc); one event per flow, emitted once the ServerHello
// is parsed (or at flow end with what the ClientHello gave). Threading: single-threaded (Sensor
// batch thread). Memory: per-flow TlsState with the parsed hellos (bounded by the stream size);
// every field read goes through L7Reader, so truncated or hostile hellos only stop the parse.
#include <cstdio>

#include "l7.h"

namespace dfly {

bool tls_is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

namespace {

struct TlsState {
  int client_dir = -1;
  bool have_client = false, have_server = false, emitted = false, failed[2] = {false, false};
  TlsHello ch, sh;
};

// Collects the handshake-layer bytes of a direction's record stream (records of content type 22
// from the start; stops at the first other record). *complete = a whole first handshake message
// is available. Returns false when the stream is not TLS.
bool handshake_bytes(const uint8_t* p, size_t n, std::string* hs) {
  size_t off = 0;
  while (off + 5 <= n) {
    uint8_t ct = p[off];
    if (ct != 22) return !hs->empty();
    if (p[off + 1] != 3) return false;
    size_t rl = (size_t)(p[off + 3] << 8 | p[off + 4]);
    size_t avail = n - off - 5;
    size_t take = rl < avail ? rl : avail;
    hs->append((const char*)p + off + 5, take);
    if (take < rl) return true;
    off += 5 + rl;
    if (hs->size() >= 4) {
      size_t ml = (size_t)((uint8_t)(*hs)[1] << 16 | (uint8_t)(*hs)[2] << 8 | (uint8_t)(*hs)[3]);
      if (hs->size() >= 4 + ml) return true;
    }
  }
  return true;
}

void parse_u16_list(L7Reader& r, size_t len, std::vector<uint16_t>& out) {
  for (size_t i = 0; i + 1 < len && r.ok; i += 2) out.push_back(r.u16());
}

// Parses the body of a ClientHello (client=true) or ServerHello. Returns false if malformed.
bool parse_hello(const uint8_t* p, size_t n, bool client, TlsHello& h) {
  L7Reader r(p, n);
  h.legacy_version = r.u16();
  r.skip(32);
  uint8_t sid = r.u8();
  r.skip(sid);
  if (client) {
    uint16_t cl = r.u16();
    if (!r.has(cl)) return false;
    L7Reader c(r.bytes(cl), cl);
    parse_u16_list(c, cl, h.ciphers);
    uint8_t comp = r.u8();
    r.skip(comp);
  } else {
    h.ciphers.push_back(r.u16());
    r.u8();
  }
  if (!r.ok) return false;
  if (r.left() < 2) return true;  // no extensions
  uint16_t el = r.u16();
  size_t elen = el < r.left() ? el : r.left();
  L7Reader e(r.bytes(elen), elen);
  while (e.has(4)) {
    uint16_t type = e.u16(), len = e.u16();
    if (!e.has(len)) { e.ok = false; break; }
    const uint8_t* d = e.bytes(len);
    h.exts.push_back(type);
    L7Reader x(d, len);
    switch (type) {
      case 0: {  // server_name
        h.has_sni = true;
        if (!client) break;
        uint16_t ll = x.u16();
        L7Reader l(x.bytes(ll), ll);
        while (l.has(3)) {
          uint8_t nt = l.u8();
          uint16_t nl = l.u16();
          const uint8_t* nm = l.bytes(nl);
          if (!nm) break;
          if (nt == 0) { h.sni.assign((const char*)nm, nl); break; }
        }
        break;
      }
      case 10: { uint16_t ll = x.u16(); if (x.has(ll)) parse_u16_list(x, ll, h.groups); break; }
      case 11: { uint8_t ll = x.u8(); const uint8_t* b = x.bytes(ll); if (b) h.point_fmts.assign(b, b + ll); break; }
      case 13: { uint16_t ll = x.u16(); if (x.has(ll)) parse_u16_list(x, ll, h.sig_algs); break; }
      case 16: {
        uint16_t ll = x.u16();
        L7Reader l(x.bytes(ll), ll);
        while (l.has(1)) {
          uint8_t pl = l.u8();
          const uint8_t* pr = l.bytes(pl);
          if (!pr) break;
          h.alpn.emplace_back((const char*)pr, pl);
        }
        break;
      }
      case 43:
        if (client) { uint8_t ll = x.u8(); if (x.has(ll)) parse_u16_list(x, ll, h.versions); }
        else if (len >= 2) h.versions.push_back(x.u16());
        break;
      default: break;
    }
  }
  return true;
}

const char* version_name(uint16_t v, char* buf) {
  switch (v) {
    case 0x0300: return "SSLv3"; case 0x0301: return "TLSv1"; case 0x0302: return "TLSv1.1";
    case 0x0303: return "TLSv1.2"; case 0x0304: return "TLSv1.3";
  }
  if (v == 0) return "";
  snprintf(buf, 16, "0x%04x", v);
  return buf;
}

struct CipherName { uint16_t id; const char* name; };
const CipherName kCiphers[] = {
  {0x1301, "TLS_AES_128_GCM_SHA256"}, {0x1302, "TLS_AES_256_GCM_SHA384"}, {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
  {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}, {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
  {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
  {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}, {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
  {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}, {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
  {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"}, {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
  {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"}, {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
  {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}, {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
  {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"}, {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
  {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"}, {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
  {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"}, {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
  {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"}, {0x0005, "TLS_RSA_WITH_RC4_128_SHA"}, {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
  {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"}, {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
  {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"}, {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
};

std::string cipher_name(uint16_t c) {
  for (const auto& k : kCiphers) if (k.id == c) return k.name;
  char b[16];
  snprintf(b, sizeof b, "0x%04x", c);
  return b;
}

uint16_t max_version(const TlsHello& h) {
  uint16_t best = 0;
  for (uint16_t v : h.versions) if (!tls_is_grease(v) && v > best) best = v;
  return best ? best : h.legacy_version;
}

void emit(TlsState* s, L7Out& out) {
  if (s->emitted || (!s->have_client && !s->have_server)) return;
  s->emitted = true;
  std::string ja3, ja3s, ja4, alpn, cipher;
  if (s->have_client) {
    ja3 = ja3_client(s->ch);
    ja4 = ja4_client(s->ch, 't');
    for (size_t i = 0; i < s->ch.alpn.size(); i++) { if (i) alpn += ','; alpn += s->ch.alpn[i]; }
  }
  uint16_t ver = 0;
  if (s->have_server) {
    ja3s = ja3_server(s->sh);
    ver = max_version(s->sh);
    if (!s->sh.ciphers.empty()) cipher = cipher_name(s->sh.ciphers[0]);
  } else {
    ver = max_version(s->ch);
  }
  char vb[16];
  std::string b;
  l7_append_clean(b, s->ch.sni); b += kSepField;
  l7_append_clean(b, alpn); b += kSepField;
  b += version_name(ver, vb); b += kSepField;
  b += cipher; b += kSepField;
  b += ja3; b += kSepField;
  b += ja3s; b += kSepField;
  b += ja4;
  out.bodies->push_back(std::move(b));
  out.extras->ja4 = ja4;
  out.extras->ja3s = ja3s;
}

bool tls_match(const L7Packet& p) {
  if (!p.tcp || p.len < 6) return false;
  return p.data[0] == 22 && p.data[1] == 3 && p.data[2] <= 4 && (p.data[5] == 1 || p.data[5] == 2);
}

void* tls_create() { return new TlsState(); }
void tls_destroy(void* st) { delete (TlsState*)st; }

L7Status tls_payload(void* st, const L7Packet& p, L7Out& out) {
  TlsState* s = (TlsState*)st;
  if (s->failed[p.dir]) return (s->failed[0] && s->failed[1]) ? L7_DONE : L7_MORE;
  bool is_client_dir = s->client_dir < 0 || s->client_dir == p.dir;
  if ((is_client_dir && s->have_client) || (!is_client_dir && s->have_server)) return L7_MORE;
  std::string hs;
  if (!handshake_bytes(p.data, p.len, &hs)) { s->failed[p.dir] = true; return (s->failed[0] && s->failed[1]) ? L7_DONE : L7_MORE; }
  if (hs.size() < 4) return L7_MORE;
  const uint8_t* h = (const uint8_t*)hs.data();
  size_t ml = (size_t)(h[1] << 16 | h[2] << 8 | h[3]);
  if (hs.size() < 4 + ml) {
    if (p.len >= kL7MaxStream) s->failed[p.dir] = true;  // larger than we are willing to buffer
    return L7_MORE;
  }
  // Once a direction's hello is parsed, its later calls return at the top (have_client /
  // have_server): its stream bytes (certificates, ...) are released.
  if (h[0] == 1 && !s->have_client) {
    s->client_dir = p.dir;
    s->have_client = parse_hello(h + 4, ml, true, s->ch);
    if (!s->have_client) s->failed[p.dir] = true;
    else out.release |= (uint8_t)(1u << p.dir);
  } else if (h[0] == 2 && !s->have_server) {
    if (s->client_dir < 0) s->client_dir = 1 - p.dir;
    s->have_server = parse_hello(h + 4, ml, false, s->sh);
    if (!s->have_server) s->failed[p.dir] = true;
    else out.release |= (uint8_t)(1u << p.dir);
  } else {
    s->failed[p.dir] = true;
  }
  if (s->have_client && s->have_server) { emit(s, out); return L7_DONE; }
  return (s->failed[0] && s->failed[1]) ? L7_DONE : L7_MORE;
}

void tls_finish(void* st, L7Out& out) { emit((TlsState*)st, out); }

}  // namespace

const L7Parser kTlsParser = {"tls", L7_TLS, tls_match, tls_create, tls_destroy, tls_payload, tls_finish};

}  // namespace dfly
