// QUIC parser: the client's Initial packets (RFC 9000 17.2.2; v1, v2 (RFC 9369), IETF drafts
// 22-34, mvfst, Google T050/T051) are decrypted with the keys every observer can derive from the
// client's destination connection id (quic_crypto.h), their CRYPTO frames reassembled into the
// ClientHello, which the TLS parser's hello code reads (tls_parse_hello): one `tls` event with
// JA4 "q..." per flow. Coalesced packets in a datagram are walked; CRYPTO data may come in any
// order and across Initial packets; PADDING, PING and ACK frames are stepped over. The flow gets
// the version and the client's connection ids (flow columns quic_version/quic_dcid/quic_scid).
// Once a client Initial decrypted, only its direction is looked at (the server's Initials use
// the server's keys and carry no ClientHello). What is not used is counted in the sensor stats (quic_*).
// Threading: single-threaded (Sensor batch thread). Memory: per flow a QuicState (~100 bytes)
// plus the CRYPTO reassembly buffer, allocated at the first CRYPTO frame and bounded by
// kQuicMaxCrypto; a decrypted packet goes through a per-thread scratch buffer. Every read of
// packet bytes is bounds-checked (L7Reader, explicit length checks before each memcpy).
#include <cstring>

#include "l7.h"
#include "quic_crypto.h"

namespace dfly {

namespace {

constexpr uint32_t kQuicMaxCrypto = 16384;  // CRYPTO stream bytes kept per flow
constexpr size_t kQuicMaxRanges = 32;       // disjoint CRYPTO ranges tracked per flow

struct QuicState {
  int client_dir = -1;  // set by the first Initial that decrypts with client keys
  int ids_dir = -1;     // direction of the Initial the ids were taken from
  bool have_keys = false, emitted = false;
  uint32_t version = 0;
  uint8_t dcid_len = 0, scid_len = 0;
  uint8_t dcid[20], scid[20];
  uint32_t key_version = 0;  // the version and dcid `keys` were derived from
  uint8_t key_dcid_len = 0;
  uint8_t key_dcid[20];
  QuicKeys keys;
  std::string crypto;                              // CRYPTO stream bytes [0, crypto.size())
  std::vector<std::pair<uint32_t, uint32_t>> got;  // received [begin, end) ranges, merged, sorted
};

bool varint(L7Reader& r, uint64_t* v) {
  if (!r.has(1)) { r.ok = false; return false; }
  uint8_t b = r.p[r.off];
  size_t len = (size_t)1 << (b >> 6);
  const uint8_t* p = r.bytes(len);
  if (!p) return false;
  uint64_t x = p[0] & 0x3f;
  for (size_t i = 1; i < len; i++) x = x << 8 | p[i];
  *v = x;
  return true;
}

// Packet type of a long header (bits 4-5 of the first byte) as v1 names them: 0 Initial,
// 1 0-RTT, 2 Handshake, 3 Retry; v2 (RFC 9369 3.2) numbers them 1, 2, 3, 0.
uint8_t long_type(uint8_t first, QuicFamily fam) {
  uint8_t t = (first >> 4) & 3;
  return fam == QUIC_V2 ? (uint8_t)((t + 3) & 3) : t;
}

void hex(std::string& out, const uint8_t* p, size_t n) {
  static const char* hx = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) { out += hx[p[i] >> 4]; out += hx[p[i] & 15]; }
}

// Adds CRYPTO bytes at [off, off+len) to the reassembly buffer.
void crypto_add(QuicState* s, uint64_t off, const uint8_t* d, uint64_t len, L7Out& out) {
  if (len == 0) return;
  if (off >= kQuicMaxCrypto) { DFLY_L7_COUNT(out, quic_crypto_dropped, len); return; }
  if (off + len > kQuicMaxCrypto) {
    DFLY_L7_COUNT(out, quic_crypto_dropped, off + len - kQuicMaxCrypto);
    len = kQuicMaxCrypto - off;
  }
  uint32_t b = (uint32_t)off, e = (uint32_t)(off + len);
  // merge [b, e) into the sorted disjoint list
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  merged.reserve(s->got.size() + 1);
  bool placed = false;
  for (auto& r : s->got) {
    if (r.second < b) { merged.push_back(r); continue; }
    if (e < r.first) {
      if (!placed) { merged.emplace_back(b, e); placed = true; }
      merged.push_back(r);
      continue;
    }
    b = b < r.first ? b : r.first;
    e = e > r.second ? e : r.second;
  }
  if (!placed) merged.emplace_back(b, e);
  if (merged.size() > kQuicMaxRanges) { DFLY_L7_COUNT(out, quic_crypto_dropped, len); return; }
  s->got.swap(merged);
  if (s->crypto.size() < off + len) s->crypto.resize((size_t)(off + len));
  memcpy(&s->crypto[(size_t)off], d, (size_t)len);
}

// Length of the contiguous CRYPTO prefix.
uint32_t crypto_prefix(const QuicState* s) {
  return !s->got.empty() && s->got[0].first == 0 ? s->got[0].second : 0;
}

// Walks the frames of a decrypted Initial payload. False at a frame type an Initial packet
// cannot carry or that we do not step over (the rest of the packet is then not used).
// Google's T050/T051 number CRYPTO 0x08 (IETF 0x08 is a STREAM frame, which Initials never hold).
bool frames(QuicState* s, const uint8_t* p, size_t n, L7Out& out) {
  const bool google = (s->version >> 8) == 0x543035;  // "T05x"
  L7Reader r(p, n);
  while (r.left() > 0) {
    uint64_t type;
    if (!varint(r, &type)) return false;
    if (google && type == 0x08) type = 0x06;
    else if (google && type == 0x06) return false;
    switch (type) {
      case 0x00: case 0x01: break;  // PADDING, PING
      case 0x02: case 0x03: {       // ACK (+ ECN counts)
        uint64_t largest, delay, count, first;
        if (!varint(r, &largest) || !varint(r, &delay) || !varint(r, &count) || !varint(r, &first)) return false;
        if (count > n) return false;
        for (uint64_t i = 0; i < count; i++) {
          uint64_t gap, len;
          if (!varint(r, &gap) || !varint(r, &len)) return false;
        }
        if (type == 0x03) {
          uint64_t e0, e1, ce;
          if (!varint(r, &e0) || !varint(r, &e1) || !varint(r, &ce)) return false;
        }
        break;
      }
      case 0x06: {  // CRYPTO
        uint64_t off, len;
        if (!varint(r, &off) || !varint(r, &len)) return false;
        if (len > r.left()) return false;
        const uint8_t* d = r.bytes((size_t)len);
        if (!d && len) return false;
        crypto_add(s, off, d, len, out);
        break;
      }
      case 0x1c: return true;  // CONNECTION_CLOSE: nothing after it matters
      default: return false;
    }
  }
  return true;
}

// Per-thread scratch: [0, 64 KiB) the decrypted packet, [64 KiB, 128 KiB) the unprotected header
// (a UDP datagram, and so a packet, is at most 64 KiB).
constexpr size_t kScratchHalf = 65536;
uint8_t* scratch() {
  thread_local std::vector<uint8_t> buf(2 * kScratchHalf);
  return buf.data();
}

// Decrypts one Initial packet at pkt[0..len) (len covers the whole packet; pn_off = offset of the
// packet number) with keys k into the scratch buffer; *plain_len = payload bytes.
bool open_with(const QuicKeys& k, const uint8_t* pkt, size_t len, size_t pn_off, uint8_t** plain_out, size_t* plain_len) {
  if (pn_off + 4 + 16 > len || len > kScratchHalf) return false;  // no room for the sample
  uint8_t mask[5];
  if (!quic_hp_mask(k.hp, pkt + pn_off + 4, mask)) return false;
  uint8_t first = (uint8_t)(pkt[0] ^ (mask[0] & 0x0f));
  size_t pn_len = (size_t)(first & 3) + 1;
  if (pn_off + pn_len + 16 > len) return false;
  uint8_t* plain = scratch();
  uint8_t* h = plain + kScratchHalf;
  memcpy(h, pkt, pn_off + pn_len);
  h[0] = first;
  uint64_t pn = 0;
  for (size_t i = 0; i < pn_len; i++) {
    h[pn_off + i] = (uint8_t)(pkt[pn_off + i] ^ mask[1 + i]);
    pn = pn << 8 | h[pn_off + i];
  }
  size_t ct_len = len - pn_off - pn_len;
  if (!quic_aead_open(k, pn, h, pn_off + pn_len, pkt + pn_off + pn_len, ct_len, plain)) return false;
  *plain_out = plain;
  *plain_len = ct_len - 16;
  return true;
}

// One client Initial packet: decrypts it and feeds its frames. The client keeps the keys of its
// first Initial's destination connection id for the whole handshake (RFC 9001 5.2), also once the
// server's Initial has changed the id it sends to; only after a Retry (new id, new keys) do the
// cached keys fail, and the packet's own id is tried. False when it does not decrypt.
bool open_initial(QuicState* s, const uint8_t* pkt, size_t len, size_t pn_off, const uint8_t* dcid, uint8_t dcid_len,
                  L7Out& out) {
  uint8_t* plain = nullptr;
  size_t plain_len = 0;
  bool ok = s->have_keys && s->key_version == s->version && open_with(s->keys, pkt, len, pn_off, &plain, &plain_len);
  bool same = s->have_keys && s->key_version == s->version && s->key_dcid_len == dcid_len &&
              memcmp(s->key_dcid, dcid, dcid_len) == 0;
  if (!ok && !same) {
    QuicKeys k;
    if (!quic_client_initial_keys(s->version, dcid, dcid_len, &k)) return false;
    if (!open_with(k, pkt, len, pn_off, &plain, &plain_len)) return false;
    s->keys = k;
    s->have_keys = true;
    s->key_version = s->version;
    s->key_dcid_len = dcid_len;
    memcpy(s->key_dcid, dcid, dcid_len);
    ok = true;
  }
  if (!ok) return false;
  DFLY_L7_COUNT(out, quic_initials, 1);
  if (!frames(s, plain, plain_len, out)) DFLY_L7_COUNT(out, quic_frames_unknown, 1);
  return true;
}

bool quic_match(const L7Packet& p) {
  // a long header with the fixed bit and a version we hold Initial keys for; the client speaks
  // first, so the first payload is an Initial (or, for 0-RTT-only captures, another long type)
  if (p.tcp || p.len < 7 || (p.data[0] & 0xc0) != 0xc0) return false;
  uint32_t v = (uint32_t)p.data[1] << 24 | (uint32_t)p.data[2] << 16 | (uint32_t)p.data[3] << 8 | p.data[4];
  const uint8_t* salt;
  return quic_version_salt(v, &salt) != QUIC_UNKNOWN;
}

void* quic_create() { return new QuicState(); }
void quic_destroy(void* st) { delete (QuicState*)st; }

void keep_ids(QuicState* s, L7Out& out) {
  out.extras->quic_version = s->version;
  out.extras->quic_dcid.clear();
  out.extras->quic_scid.clear();
  hex(out.extras->quic_dcid, s->dcid, s->dcid_len);
  hex(out.extras->quic_scid, s->scid, s->scid_len);
}

// The ClientHello once its bytes are all in: one event, and the flow is done.
bool try_hello(QuicState* s, L7Out& out) {
  uint32_t have = crypto_prefix(s);
  if (have < 4) return false;
  const uint8_t* h = (const uint8_t*)s->crypto.data();
  uint32_t ml = (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  if (h[0] != 1) return true;  // not a ClientHello: nothing to wait for
  if (have - 4 < ml) return false;
  TlsHello ch;
  if (tls_parse_hello(h + 4, ml, true, false, ch)) {
    tls_emit_event(&ch, nullptr, 'q', out);
    keep_ids(s, out);  // tls_emit_event set ja4/ja3s; the ids go with them
  }
  s->emitted = true;
  return true;
}

L7Status quic_payload(void* st, const L7Packet& p, L7Out& out) {
  QuicState* s = (QuicState*)st;
  // the server's packets use server keys (not derived); until a client Initial decrypted, both
  // directions are tried
  if (s->client_dir >= 0 && p.dir != s->client_dir) return L7_MORE;
  size_t off = 0;
  bool any = false;
  while (off < p.len) {
    L7Reader r(p.data + off, p.len - off);
    uint8_t first = r.u8();
    if (!(first & 0x80)) break;  // a short header packet runs to the end of the datagram
    uint32_t v = r.u32();
    if (!r.ok || v == 0) break;  // version negotiation
    const uint8_t* salt;
    QuicFamily fam = quic_version_salt(v, &salt);
    if (fam == QUIC_UNKNOWN) { DFLY_L7_COUNT(out, quic_unsupported_version, 1); break; }
    uint8_t dl = r.u8();
    if (dl > 20) break;
    const uint8_t* dcid = r.bytes(dl);
    uint8_t sl = r.u8();
    if (sl > 20) break;
    const uint8_t* scid = r.bytes(sl);
    if (!r.ok) break;
    uint8_t type = long_type(first, fam);
    if (type == 3) break;  // Retry: no length field, the datagram's last packet
    if (type == 0) {
      uint64_t tl;
      if (!varint(r, &tl) || tl > r.left()) break;
      r.skip((size_t)tl);
    }
    uint64_t len;
    if (!varint(r, &len) || len > r.left()) break;
    size_t pn_off = r.off;
    size_t pkt_len = pn_off + (size_t)len;
    if (type == 0) {
      // The ids of the first Initial (the client speaks first); replaced by those of the first
      // Initial that decrypts with client keys when that came the other way (a capture that
      // missed the client's first datagram and starts with the server's Initial).
      auto take_ids = [&]() {
        s->ids_dir = p.dir;
        s->version = v;
        s->dcid_len = dl; s->scid_len = sl;
        memcpy(s->dcid, dcid, dl);
        memcpy(s->scid, scid, sl);
        keep_ids(s, out);
      };
      if (s->ids_dir < 0) take_ids();
      if (!out.quic_decrypt) return L7_DONE;  // the ids are all we take
      s->version = v;
      bool ok = open_initial(s, p.data + off, pkt_len, pn_off, dcid, dl, out);
      if (!ok) DFLY_L7_COUNT(out, quic_decrypt_failed, 1);
      if (ok && s->client_dir < 0) {
        s->client_dir = p.dir;
        if (s->ids_dir != p.dir) take_ids();
      }
      any |= ok;
    }
    off += pkt_len;
  }
  if (any && try_hello(s, out)) return L7_DONE;
  return L7_MORE;
}

void quic_finish(void* st, L7Out& out) {
  QuicState* s = (QuicState*)st;
  if (!s->emitted && !s->got.empty()) DFLY_L7_COUNT(out, quic_hello_incomplete, 1);
}

}  // namespace

const L7Parser kQuicParser = {"quic", L7_TLS, quic_match, quic_create, quic_destroy, quic_payload, quic_finish};

}  // namespace dfly
