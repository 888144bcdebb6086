// TLS parser: ClientHello / ServerHello over TCP, reassembled across segments and records within
// the bounded per-flow stream buffer (kL7MaxStream). Yields SNI, ALPN, negotiated version and
// cipher, JA3 / JA3S (ja3.cc) and JA4 (ja4.cc). Every ClientHello of the stream gets its own
// event, paired with the ServerHello that answers it: the usual flow has one; after a
// HelloRetryRequest (TLS 1.3) the client's second ClientHello gets a second event. An event is
// emitted once its ServerHello is parsed (or at flow end with what the ClientHello gave).
// The hello parser and the event body are shared with quic.cc and dtls.cc (l7.h).
// Threading: single-threaded (Sensor batch thread). Memory: per-flow TlsState with the pending
// hellos (bounded by the stream size); every field read goes through L7Reader, so truncated or
// hostile hellos only stop the parse.
#include <cstdio>
#include <cstring>

#include "l7.h"

namespace dfly {

bool tls_is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

namespace {

constexpr uint8_t kMaxHellos = 4;  // ClientHellos per stream given an event (HRR: 2)

// SHA-256("HelloRetryRequest"): the ServerHello random of a HelloRetryRequest (RFC 8446 4.1.3).
const uint8_t kHrrRandom[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

struct TlsState {
  int client_dir = -1;
  uint8_t n_ch = 0, n_sh = 0;         // hellos parsed per direction
  bool hrr = false;                   // the last ServerHello was a HelloRetryRequest
  bool have_client = false, have_server = false;  // the pending pair (not emitted yet)
  bool failed[2] = {false, false};
  TlsHello ch, sh;
};

// The handshake messages of a direction's record stream, concatenated: records of content type
// 22 from the start; a ChangeCipherSpec record (20) is stepped over only when `past_ccs` (after a
// HelloRetryRequest, TLS 1.3 middlebox compatibility mode puts one before the second hello; in
// any other case what follows it is encrypted); any other record ends the walk. Returns false
// when the stream is not TLS.
bool handshake_bytes(const uint8_t* p, size_t n, bool past_ccs, std::string* hs) {
  size_t off = 0;
  while (off + 5 <= n) {
    uint8_t ct = p[off];
    if (ct != 22 && !(ct == 20 && past_ccs)) return !hs->empty();
    if (p[off + 1] != 3) return false;
    size_t rl = (size_t)(p[off + 3] << 8 | p[off + 4]);
    size_t avail = n - off - 5;
    size_t take = rl < avail ? rl : avail;
    if (ct == 22) hs->append((const char*)p + off + 5, take);
    if (take < rl) return true;
    off += 5 + rl;
  }
  return true;
}

void parse_u16_list(L7Reader& r, size_t len, std::vector<uint16_t>& out) {
  for (size_t i = 0; i + 1 < len && r.ok; i += 2) out.push_back(r.u16());
}

const char* version_name(uint16_t v, char* buf) {
  switch (v) {
    case 0x0300: return "SSLv3"; case 0x0301: return "TLSv1"; case 0x0302: return "TLSv1.1";
    case 0x0303: return "TLSv1.2"; case 0x0304: return "TLSv1.3";
    case 0xfeff: return "DTLSv1.0"; case 0xfefd: return "DTLSv1.2"; case 0xfefc: return "DTLSv1.3";
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

bool is_dtls_version(uint16_t v) { return (v >> 8) == 0xfe; }

// The newest version a hello names (supported_versions, else the legacy field); DTLS numbers
// count down (0xfefc DTLS 1.3 is newer than 0xfefd DTLS 1.2).
uint16_t max_version(const TlsHello& h) {
  uint16_t best = 0;
  for (uint16_t v : h.versions) {
    if (tls_is_grease(v)) continue;
    if (!best || (is_dtls_version(v) && is_dtls_version(best) ? v < best : v > best)) best = v;
  }
  return best ? best : h.legacy_version;
}

void emit(TlsState* s, L7Out& out) {
  if (!s->have_client && !s->have_server) return;
  tls_emit_event(s->have_client ? &s->ch : nullptr, s->have_server ? &s->sh : nullptr, 't', out);
  s->have_client = s->have_server = false;
  s->ch = TlsHello();
  s->sh = TlsHello();
}

bool tls_match(const L7Packet& p) {
  if (!p.tcp || p.len < 6) return false;
  return p.data[0] == 22 && p.data[1] == 3 && p.data[2] <= 4 && (p.data[5] == 1 || p.data[5] == 2);
}

void* tls_create() { return new TlsState(); }
void tls_destroy(void* st) { delete (TlsState*)st; }

L7Status tls_fail(TlsState* s, int dir) {
  s->failed[dir] = true;
  return (s->failed[0] && s->failed[1]) ? L7_DONE : L7_MORE;
}

L7Status tls_payload(void* st, const L7Packet& p, L7Out& out) {
  TlsState* s = (TlsState*)st;
  if (s->failed[p.dir]) return (s->failed[0] && s->failed[1]) ? L7_DONE : L7_MORE;
  bool is_client_dir = s->client_dir < 0 || s->client_dir == p.dir;
  // Nothing new can come from a direction until the other one answered: the client's next
  // hello follows a HelloRetryRequest, the server's next hello follows the client's next hello.
  uint8_t want = is_client_dir ? s->n_ch : s->n_sh;  // index of the hello this direction owes
  if (is_client_dir && s->n_ch > s->n_sh) return L7_MORE;
  if (!is_client_dir && s->n_sh >= s->n_ch && s->n_sh > 0) return L7_MORE;
  std::string hs;
  if (!handshake_bytes(p.data, p.len, s->hrr, &hs)) return tls_fail(s, p.dir);
  // Walk the handshake messages up to the one this direction owes (the `want`-th hello of its
  // type: 1 ClientHello, 2 ServerHello); other messages in between are stepped over.
  const uint8_t* h = (const uint8_t*)hs.data();
  size_t off = 0;
  uint8_t seen = 0;
  for (;;) {
    if (hs.size() - off < 4) return L7_MORE;
    size_t ml = (size_t)(h[off + 1] << 16 | h[off + 2] << 8 | h[off + 3]);
    if (hs.size() - off - 4 < ml) {
      if (p.len >= kL7MaxStream) return tls_fail(s, p.dir);  // larger than we are willing to buffer
      return L7_MORE;
    }
    uint8_t type = h[off];
    if (type == 1 || type == 2) {
      if (seen == want) break;
      seen++;
    } else if (off == 0) {
      return tls_fail(s, p.dir);  // the stream does not start with a hello
    }
    off += 4 + ml;
  }
  size_t ml = (size_t)(h[off + 1] << 16 | h[off + 2] << 8 | h[off + 3]);
  const uint8_t* body = h + off + 4;
  if (h[off] == 1 && is_client_dir) {
    if (s->have_client) emit(s, out);  // a ClientHello whose ServerHello never came
    s->client_dir = p.dir;
    TlsHello ch;
    if (!tls_parse_hello(body, ml, true, false, ch)) return tls_fail(s, p.dir);
    // Only a client offering TLS 1.3 can be sent a HelloRetryRequest and write a second
    // ClientHello: for any other, this direction's bytes are done with (as before HRR support).
    bool tls13 = false;
    for (uint16_t v : ch.versions) tls13 |= v == 0x0304;
    if (!tls13) out.release |= (uint8_t)(1u << p.dir);
    s->ch = std::move(ch);
    s->have_client = true;
    s->n_ch++;
  } else if (h[off] == 2 && !is_client_dir) {
    if (s->client_dir < 0) s->client_dir = 1 - p.dir;
    TlsHello sh;
    if (!tls_parse_hello(body, ml, false, false, sh)) return tls_fail(s, p.dir);
    s->hrr = ml >= 34 && memcmp(body + 2, kHrrRandom, 32) == 0;
    s->sh = std::move(sh);
    s->have_server = true;
    s->n_sh++;
  } else if (h[off] == 2 && s->client_dir < 0) {
    // a ServerHello first (the client's direction was not captured)
    s->client_dir = 1 - p.dir;
    TlsHello sh;
    if (!tls_parse_hello(body, ml, false, false, sh)) return tls_fail(s, p.dir);
    s->hrr = ml >= 34 && memcmp(body + 2, kHrrRandom, 32) == 0;
    s->sh = std::move(sh);
    s->have_server = true;
    s->n_sh++;
  } else {
    return tls_fail(s, p.dir);
  }
  if (s->have_client && s->have_server) {
    bool again = s->hrr && s->n_ch < kMaxHellos;
    if (s->hrr && !again) DFLY_L7_COUNT(out, tls_hellos_skipped, 1);
    emit(s, out);
    return again ? L7_MORE : L7_DONE;
  }
  if (s->have_server && !s->hrr) out.release |= (uint8_t)(1u << p.dir);  // the server's part is done
  return (s->failed[0] && s->failed[1]) ? L7_DONE : L7_MORE;
}

void tls_finish(void* st, L7Out& out) { emit((TlsState*)st, out); }

}  // namespace

bool tls_parse_hello(const uint8_t* p, size_t n, bool client, bool dtls, TlsHello& h) {
  L7Reader r(p, n);
  h.legacy_version = r.u16();
  r.skip(32);
  uint8_t sid = r.u8();
  r.skip(sid);
  if (client) {
    if (dtls) { uint8_t cookie = r.u8(); r.skip(cookie); }
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

void tls_emit_event(const TlsHello* ch, const TlsHello* sh, char proto, L7Out& out) {
  if (!ch && !sh) return;
  std::string ja3, ja3s, ja4, alpn, cipher;
  if (ch) {
    ja3 = ja3_client(*ch);
    ja4 = ja4_client(*ch, proto);
    for (size_t i = 0; i < ch->alpn.size(); i++) { if (i) alpn += ','; alpn += ch->alpn[i]; }
  }
  uint16_t ver = 0;
  if (sh) {
    ja3s = ja3_server(*sh);
    ver = max_version(*sh);
    if (!sh->ciphers.empty()) cipher = cipher_name(sh->ciphers[0]);
  } else {
    ver = max_version(*ch);
  }
  char vb[16];
  std::string b;
  if (ch) l7_append_clean(b, ch->sni);
  b += kSepField;
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

const L7Parser kTlsParser = {"tls", L7_TLS, tls_match, tls_create, tls_destroy, tls_payload, tls_finish};

}  // namespace dfly
