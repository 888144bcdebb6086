// DTLS parser: ClientHello / ServerHello in DTLS 1.0/1.2/1.3 handshake records over UDP (RFC 6347
// 4.1-4.2: records carry epoch and sequence number, handshake messages message_seq and fragment
// offset/length; the ClientHello has a cookie after the session id). Each ClientHello gets one
// `tls` event (JA4 "d..."): the first and, after a HelloVerifyRequest, the one with the cookie;
// an event waits for the ServerHello that answers it, or the next ClientHello, or the flow's end.
// Handshake messages split into fragments are not reassembled: counted (dtls_fragments_skipped).
// Threading: single-threaded (Sensor batch thread). Memory: a DtlsState with the pending hellos
// per flow; every read goes through L7Reader.
#include "l7.h"

namespace dfly {

namespace {

constexpr uint8_t kMaxHellos = 4;  // ClientHellos given an event per flow

struct DtlsState {
  int client_dir = -1;
  bool have_client = false, have_server = false;
  uint8_t n_ch = 0;
  int last_ch_seq = -1;  // message_seq of the last ClientHello parsed (retransmissions repeat it)
  TlsHello ch, sh;
};

// DTLS 1.0/1.2/1.3, and 0x0100: OpenSSL's pre-RFC DTLS1_BAD_VER, still spoken by Cisco AnyConnect
bool dtls_version(uint8_t a, uint8_t b) { return (a == 0xfe && (b == 0xff || b == 0xfd || b == 0xfc)) || (a == 0x01 && b == 0x00); }

bool dtls_match(const L7Packet& p) {
  // record header (13 bytes) + handshake header (12 bytes) of a ClientHello or ServerHello
  if (p.tcp || p.len < 25) return false;
  return p.data[0] == 22 && dtls_version(p.data[1], p.data[2]) && (p.data[13] == 1 || p.data[13] == 2);
}

void* dtls_create() { return new DtlsState(); }
void dtls_destroy(void* st) { delete (DtlsState*)st; }

void emit(DtlsState* s, L7Out& out) {
  if (!s->have_client && !s->have_server) return;
  tls_emit_event(s->have_client ? &s->ch : nullptr, s->have_server ? &s->sh : nullptr, 'd', out);
  s->have_client = s->have_server = false;
  s->ch = TlsHello();
  s->sh = TlsHello();
}

L7Status dtls_payload(void* st, const L7Packet& p, L7Out& out) {
  DtlsState* s = (DtlsState*)st;
  L7Reader r(p.data, p.len);
  while (r.has(13)) {
    uint8_t ct = r.u8();
    uint8_t v0 = r.u8(), v1 = r.u8();
    r.skip(8);  // epoch (2), sequence number (6)
    uint16_t rl = r.u16();
    const uint8_t* rec = r.bytes(rl);
    if (!rec || !dtls_version(v0, v1)) break;
    if (ct != 22) continue;
    L7Reader h(rec, rl);
    while (h.has(12)) {
      uint8_t type = h.u8();
      uint32_t len = h.u24();
      uint16_t mseq = h.u16();
      uint32_t foff = h.u24(), flen = h.u24();
      const uint8_t* body = h.bytes(flen);
      if (!body) break;
      if (type != 1 && type != 2) continue;
      if (foff != 0 || flen != len) { DFLY_L7_COUNT(out, dtls_fragments_skipped, 1); continue; }
      bool client = type == 1;
      if (s->client_dir < 0) s->client_dir = client ? p.dir : 1 - p.dir;
      if (client != (p.dir == s->client_dir)) continue;
      if (client) {
        if (mseq == s->last_ch_seq) continue;  // a retransmission
        if (s->n_ch >= kMaxHellos) { DFLY_L7_COUNT(out, tls_hellos_skipped, 1); return L7_DONE; }
        TlsHello ch;
        if (!tls_parse_hello(body, len, true, true, ch)) continue;
        if (s->have_client) emit(s, out);  // answered by a HelloVerifyRequest, not a ServerHello
        s->ch = std::move(ch);
        s->have_client = true;
        s->last_ch_seq = mseq;
        s->n_ch++;
      } else {
        if (s->have_server) continue;
        TlsHello sh;
        if (!tls_parse_hello(body, len, false, true, sh)) continue;
        s->sh = std::move(sh);
        s->have_server = true;
        emit(s, out);
        return L7_DONE;
      }
    }
  }
  return L7_MORE;
}

void dtls_finish(void* st, L7Out& out) { emit((DtlsState*)st, out); }

}  // namespace

const L7Parser kDtlsParser = {"dtls", L7_TLS, dtls_match, dtls_create, dtls_destroy, dtls_payload, dtls_finish};

}  // namespace dfly
