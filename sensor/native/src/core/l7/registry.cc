// The ONE table of L7 parsers, plus the per-flow driver (parser selection, bounded in-order TCP
// reassembly, inspection limits). Threading: single-threaded (the Sensor's batch thread); the
// table is immutable. Memory: L7Flow and parser states are allocated only for flows a parser
// claims; stream buffers never exceed kL7MaxStream bytes per direction and are dropped when the
// direction dies (gap, overflow) or the parser releases it.
#include <cstring>

#include "l7.h"

namespace dfly {

// Order matters only when two parsers could claim the same first payload: content-based
// matchers (TLS record header, HTTP method) come before the port-based DNS matcher.
// QUIC (long header with a version we hold Initial keys for) and DTLS (handshake record with a
// DTLS version) are content-based too.
static const L7Parser* const kParsers[] = {&kTlsParser, &kQuicParser, &kDtlsParser, &kHttpParser, &kDnsParser};

const L7Parser* const* l7_registry(size_t* n) {
  *n = sizeof kParsers / sizeof kParsers[0];
  return kParsers;
}

void l7_append_clean(std::string& out, const uint8_t* s, size_t n) {
  static const char* hx = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == '\\') { out += "\\\\"; }
    else if (c >= 0x20 && c < 0x7f) { out += (char)c; }
    else { out += "\\x"; out += hx[c >> 4]; out += hx[c & 15]; }
  }
}

static bool stream_append(L7Stream* t, int dir, bool syn, uint32_t seq, const uint8_t* p, uint32_t n) {
  if (t->dead[dir]) return false;
  if (!t->seq_set[dir]) {
    t->seq_set[dir] = true;
    t->next_seq[dir] = seq + (syn ? 1 : 0);
  }
  uint32_t s = seq + (syn ? 1 : 0);
  int32_t delta = (int32_t)(s - t->next_seq[dir]);
  if (delta > 0) {  // a gap: we keep no out-of-order segments, this direction is over
    t->dead[dir] = true;
    t->buf[dir] = std::string();
    return false;
  }
  uint32_t skip = (uint32_t)(-(int64_t)delta);
  if (skip >= n) return false;  // pure retransmission
  p += skip; n -= skip;
  size_t room = kL7MaxStream > t->len[dir] ? kL7MaxStream - t->len[dir] : 0;
  if (room == 0) { t->dead[dir] = true; t->buf[dir] = std::string(); return false; }
  if (n > room) n = (uint32_t)room;
  if (!(t->released & (1u << dir))) t->buf[dir].append((const char*)p, n);
  t->len[dir] += n;
  t->next_seq[dir] += n;
  return true;
}

bool l7_flow_payload(L7Flow** lp, uint8_t* pkts, L7Out& out, int dir, bool tcp, bool syn, uint32_t seq,
                     uint16_t sport, uint16_t dport, const uint8_t* payload, uint32_t caplen, int64_t ts) {
  L7Packet pk{dir, tcp, sport, dport, payload, caplen, ts};
  L7Flow* l = *lp;
  if (!l) {
    size_t n;
    const L7Parser* const* tab = l7_registry(&n);
    const L7Parser* found = nullptr;
    for (size_t i = 0; i < n; i++)
      if (tab[i]->match(pk)) { found = tab[i]; break; }
    if (!found) return true;  // undecided: the caller bounds the number of tries
    l = new L7Flow();
    l->parser = found;
    l->st = found->create();
    *lp = l;
    *pkts = 0;
  }
  if (++*pkts > kL7MaxPackets) return false;
  if (tcp) {
    if (!l->tcp) l->tcp = new L7Stream();
    L7Stream* t = l->tcp;
    if (!stream_append(t, dir, syn, seq, payload, caplen)) return !(t->dead[0] && t->dead[1]);
    if (t->released & (1u << dir)) return true;  // the parser's call would change nothing
    pk.data = (const uint8_t*)t->buf[dir].data();
    pk.len = t->buf[dir].size();
  }
  out.release = 0;
  bool more = l->parser->on_payload(l->st, pk, out) == L7_MORE;
  if (tcp && out.release) {
    L7Stream* t = l->tcp;
    t->released |= out.release;
    for (int d = 0; d < 2; d++)
      if (t->released & (1u << d)) t->buf[d] = std::string();
  }
  return more;
}

void l7_flow_finish(L7Flow* l, L7Out& out) {
  if (!l || !l->parser) return;
  if (l->st) {
    l->parser->finish(l->st, out);
    l->parser->destroy(l->st);
    l->st = nullptr;
  }
  delete l->tcp;
  l->tcp = nullptr;
}

}  // namespace dfly
