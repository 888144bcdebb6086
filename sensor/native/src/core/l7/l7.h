// L7 parsing framework: per-flow parser state, the parser interface and the event records that
// cross to JS. Parsers (dns.cc, tls.cc, http.cc) are listed in ONE table in registry.cc.
// Threading: single-threaded, driven by the Sensor that owns the flow (same thread as the batch).
// Memory: an L7Flow is heap-allocated at a flow's first payload packet only when a parser claims
// it, and freed as soon as the parser is done (or gives up) and at flow end. TCP flows add an
// L7Stream holding, per direction, only the bytes no parser call has consumed yet (at most
// L7Limits::max_buffer): a message-by-message parser (DNS, HTTP: L7Parser::every_message) consumes
// each message once parsed and skips bodies without buffering them, so a long connection needs no
// more than one message head at a time, and an emptied buffer is freed. Other parsers (TLS) see
// the stream from its first byte and only their first kL7MaxPackets payload packets. Pending
// queries/requests are bounded per parser; what a bound makes the sensor skip is counted in Stats.
// Event bodies and the flow's extras are written into caller-provided (per-Sensor) storage, not
// kept per flow. Every read of packet bytes is bounds-checked by L7Reader.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../ndpi.h"
#include "../stats.h"

namespace dfly {

enum L7Type : uint8_t { L7_DNS = 1, L7_TLS = 2, L7_HTTP = 3 };

static constexpr uint32_t kL7MaxStream = 16384;  // default L7Limits::max_buffer
static constexpr uint32_t kL7MaxPackets = 32;    // payload packets inspected per flow (not every_message)

// Per-sensor limits (sensor config `l7.*`).
struct L7Limits {
  uint32_t max_buffer = kL7MaxStream;  // unconsumed TCP bytes buffered per direction
  uint32_t max_events = 0;             // events per flow, 0 = no limit
};

// One L7 event. `body` holds the type's fields in order, each sanitised to printable ASCII
// (0x20-0x7e; other bytes as \xHH) and separated by kSepField; nested lists use kSepItem /
// kSepSub (see l7_event_* in registry.cc and sensor/src/native.ts decodeL7).
struct L7Event {
  uint8_t type = 0;
  int64_t ts = 0;
  uint8_t uuid[16];
  uint8_t ipver = 0, proto = 0;
  uint8_t saddr[16], daddr[16];
  uint16_t sport = 0, dport = 0;
  std::string body;
};
static constexpr char kSepField = '\x1f';
static constexpr char kSepItem = '\x1e';
static constexpr char kSepSub = '\x1d';

// Appends s[0..n) sanitised (printable ASCII kept, '\\' doubled, the rest as \xHH).
void l7_append_clean(std::string& out, const uint8_t* s, size_t n);
inline void l7_append_clean(std::string& out, const std::string& s) {
  l7_append_clean(out, (const uint8_t*)s.data(), s.size());
}

// Bounds-checked big-endian reader over [p, p+n).
struct L7Reader {
  const uint8_t* p;
  size_t n, off = 0;
  bool ok = true;
  // A reader over a failed sub-read (bytes() returned nullptr) reads nothing (found by fuzz_tls).
  L7Reader(const uint8_t* p_, size_t n_) : p(p_), n(n_), ok(p_ != nullptr) {}
  size_t left() const { return ok && off <= n ? n - off : 0; }
  bool has(size_t k) const { return ok && off <= n && n - off >= k; }
  uint8_t u8() { if (!has(1)) { ok = false; return 0; } return p[off++]; }
  uint16_t u16() { if (!has(2)) { ok = false; return 0; } uint16_t v = (uint16_t)(p[off] << 8 | p[off + 1]); off += 2; return v; }
  uint32_t u24() { if (!has(3)) { ok = false; return 0; } uint32_t v = (uint32_t)p[off] << 16 | (uint32_t)p[off + 1] << 8 | p[off + 2]; off += 3; return v; }
  uint32_t u32() { if (!has(4)) { ok = false; return 0; } uint32_t v = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3]; off += 4; return v; }
  const uint8_t* bytes(size_t k) { if (!has(k)) { ok = false; return nullptr; } const uint8_t* r = p + off; off += k; return r; }
  void skip(size_t k) { if (!has(k)) { ok = false; return; } off += k; }
};

// One payload chunk handed to a parser. dir 0 = flow source -> destination.
struct L7Packet {
  int dir;
  bool tcp;
  uint16_t sport, dport;  // flow orientation (source/destination of the flow)
  const uint8_t* data;    // UDP: the datagram payload; TCP: the reassembled stream of `dir` from
  size_t len;             //   its first byte not consumed yet (L7Out::consume), bounded by max_buffer
  int64_t ts;
};

// Flow-level extras a parser can fill (flow fields ndpi_ja4 / ndpi_ja3s / quic_* on the flow record).
struct L7Extras {
  std::string ja4, ja3s;
  uint32_t quic_version = 0;          // 0: not QUIC (quic_* columns null)
  std::string quic_dcid, quic_scid;   // lowercase hex of the client's first Initial's ids
  bool has_ndpi = false;  // nDPI enabled: ndpi labels below are set (end records)
  NdpiLabels ndpi;
};

// What a parser writes into: events for this flow plus the flow's extras.
struct L7Out {
  std::vector<std::string>* bodies;  // event bodies of `type`, in order
  L7Extras* extras;
  Stats* stats = nullptr;            // the Sensor's counters (what a parser skips is counted)
  bool quic_decrypt = true;          // SensorConfig::quic_decrypt (quic.cc)
  // TCP, every_message parsers: bytes at the front of p.data the parser is done with (dropped
  // before the next call, whose p.data starts after them), and stream bytes after the whole
  // buffer that are to be dropped as they arrive without a call (a message body).
  uint32_t consume = 0;
  uint32_t skip = 0;
  // Bit d set by a parser: it needs no more stream bytes of direction d (TCP), i.e. every later
  // on_payload call for d would change nothing and return L7_MORE. The driver then drops that
  // direction's buffer and stops calling the parser for it (sequence tracking goes on, so when
  // inspection ends does not change).
  uint8_t release = 0;
};

enum L7Status : uint8_t { L7_MORE = 0, L7_DONE = 1 };

struct L7Parser {
  const char* name;
  uint8_t type;
  // Does this payload (first payload packet of either direction) belong to the parser?
  bool (*match)(const L7Packet& p);
  void* (*create)();
  void (*destroy)(void* st);
  // Called with each new payload (TCP: whole stream buffer of that direction so far).
  L7Status (*on_payload)(void* st, const L7Packet& p, L7Out& out);
  // Called once when the flow ends or inspection stops: emit whatever is pending.
  void (*finish)(void* st, L7Out& out);
  // Every message of the flow is parsed (no kL7MaxPackets bound); TCP bytes are consumed.
  bool every_message = false;
};

// registry.cc
const L7Parser* const* l7_registry(size_t* n);

// In-order TCP bytes of a flow's two directions not consumed by the parser yet (bounded).
struct L7Stream {
  std::string buf[2];
  uint32_t next_seq[2] = {0, 0};
  uint32_t skip[2] = {0, 0};    // bytes still to drop as they arrive (L7Out::skip)
  bool seq_set[2] = {false, false};
  bool dead[2] = {false, false};
  uint8_t released = 0;         // L7Out::release bits
};

// Per-flow L7 state (owned by the Sensor through Flow::l7).
struct L7Flow {
  const L7Parser* parser = nullptr;
  void* st = nullptr;
  L7Stream* tcp = nullptr;      // TCP flows only
  uint32_t events = 0;          // events this flow yielded (L7Limits::max_events)
  ~L7Flow() { delete tcp; }
};

// Drives the registry for one packet payload. Returns false when inspection of this flow is
// over (the caller then calls l7_flow_finish and frees the state). *l7 may be allocated here
// (nullptr on entry when the flow has none yet); *pkts counts the payload packets given to the
// claiming parser (the caller keeps it with the flow). Events and extras go to out; what is
// skipped (stream gaps and overflows, events over max_events) is counted in *out.st.
bool l7_flow_payload(L7Flow** l7, uint8_t* pkts, L7Out& out, const L7Limits& lim, int dir, bool tcp, bool syn,
                     uint32_t seq, uint16_t sport, uint16_t dport, const uint8_t* payload, uint32_t caplen, int64_t ts);
// Lets the parser emit what is pending into out and frees its state (the L7Flow itself stays).
void l7_flow_finish(L7Flow* l7, L7Out& out, const L7Limits& lim);

// Parser entry points (one file each), referenced by the table in registry.cc.
extern const L7Parser kDnsParser;
extern const L7Parser kTlsParser;
extern const L7Parser kQuicParser;
extern const L7Parser kDtlsParser;
extern const L7Parser kHttpParser;

// Adds k to a counter of out.stats (parsers run without stats in the fuzz drivers).
#define DFLY_L7_COUNT(out, field, k) do { if ((out).stats) (out).stats->field += (k); } while (0)

// TLS fingerprints (ja3.cc, ja4.cc) over a parsed ClientHello / ServerHello.
struct TlsHello {
  uint16_t legacy_version = 0;
  std::vector<uint16_t> ciphers;     // client: offered; server: the chosen one
  std::vector<uint16_t> exts;        // extension types in order
  std::vector<uint16_t> groups;      // supported_groups
  std::vector<uint8_t> point_fmts;   // ec_point_formats
  std::vector<uint16_t> sig_algs;    // signature_algorithms
  std::vector<uint16_t> versions;    // supported_versions (client list / server choice)
  std::vector<std::string> alpn;
  std::string sni;
  bool has_sni = false;
};
bool tls_is_grease(uint16_t v);
std::string ja3_client(const TlsHello& h);   // md5 hex
std::string ja3_server(const TlsHello& h);   // md5 hex
// proto: 't' (TLS over TCP), 'q' (QUIC), 'd' (DTLS: the lowest DTLS version number is the newest)
std::string ja4_client(const TlsHello& h, char proto);

// tls.cc, shared by the TLS, QUIC and DTLS parsers: the body of a ClientHello (client) or
// ServerHello (after the 4-byte handshake header); dtls: the DTLS layout (a cookie after the
// session id). False when malformed. Every read is bounds-checked (L7Reader).
bool tls_parse_hello(const uint8_t* p, size_t n, bool client, bool dtls, TlsHello& h);
// One `tls` event body from a ClientHello and/or ServerHello (either may be null), JA4 with
// `proto`; sets out.extras->ja4/ja3s and appends the body to out.bodies.
void tls_emit_event(const TlsHello* ch, const TlsHello* sh, char proto, L7Out& out);

}  // namespace dfly
