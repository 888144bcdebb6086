// The ONE table of L7 parsers, plus the per-flow driver (parser selection, bounded in-order TCP
// reassembly with consume/skip, inspection limits). Threading: single-threaded (the Sensor's
// batch thread); the table is immutable. Memory: L7Flow and parser states are allocated only for
// flows a parser claims; a stream buffer holds only unconsumed bytes, never more than
// L7Limits::max_buffer per direction, is freed whenever it empties, and is dropped when the
// direction dies (gap, overflow: counted in l7_stream_lost) or the parser releases it.
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

// Takes the in-order part of a segment of `dir`: *p/*n are narrowed to the bytes not seen before.
// Returns false when there are none (retransmission, dead direction); a gap kills the direction.
static bool stream_accept(L7Stream* t, Stats* st, int dir, bool syn, uint32_t seq, const uint8_t** p, uint32_t* n) {
  if (t->dead[dir]) return false;
  if (!t->seq_set[dir]) {
    t->seq_set[dir] = true;
    t->next_seq[dir] = seq + (syn ? 1 : 0);
  }
  uint32_t s = seq + (syn ? 1 : 0);
  int32_t delta = (int32_t)(s - t->next_seq[dir]);
  if (delta > 0) {  // a gap: we keep no out-of-order segments, this direction is over
    t->dead[dir] = true;
    std::string().swap(t->buf[dir]);
    if (st && !(t->released & (1u << dir))) st->l7_stream_lost++;
    return false;
  }
  uint32_t dup = (uint32_t)(-(int64_t)delta);
  if (dup >= *n) return false;  // pure retransmission
  *p += dup; *n -= dup;
  t->next_seq[dir] += *n;
  return true;
}

// Keeps the flow within lim.max_events: the events of this call past the limit are dropped and
// counted (the parser goes on, so the count is exact).
// Both directions dead or released: nothing more can reach the parser.
static bool l7_stream_over(const L7Stream* t) {
  return (t->dead[0] || (t->released & 1)) && (t->dead[1] || (t->released & 2));
}

static void l7_cap(L7Flow* l, L7Out& out, const L7Limits& lim, size_t before) {
  uint32_t n = (uint32_t)(out.bodies->size() - before);
  if (lim.max_events && l->events + n > lim.max_events) {
    uint32_t keep = l->events < lim.max_events ? lim.max_events - l->events : 0;
    if (out.stats) out.stats->l7_events_capped += n - keep;
    out.bodies->resize(before + keep);
    n = keep;
  }
  l->events += n;
}

bool l7_flow_payload(L7Flow** lp, uint8_t* pkts, L7Out& out, const L7Limits& lim, int dir, bool tcp, bool syn,
                     uint32_t seq, uint16_t sport, uint16_t dport, const uint8_t* payload, uint32_t caplen, int64_t ts) {
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
  if (!l->parser->every_message && ++*pkts > kL7MaxPackets) return false;
  out.release = 0;
  out.consume = out.skip = 0;
  if (!tcp) {
    size_t before = out.bodies->size();
    bool more = l->parser->on_payload(l->st, pk, out) == L7_MORE;
    l7_cap(l, out, lim, before);
    return more;
  }
  if (!l->tcp) l->tcp = new L7Stream();
  L7Stream* t = l->tcp;
  const uint8_t* p = payload;
  uint32_t n = caplen;
  if (!stream_accept(t, out.stats, dir, syn, seq, &p, &n)) return !l7_stream_over(t);
  // The new bytes go to the buffer at most up to max_buffer at a time, the parser consuming
  // between the pieces, so a segment larger than the buffer loses nothing.
  bool more = true;
  std::string& b = t->buf[dir];
  while (n > 0 && more) {
    if (t->skip[dir]) {  // a message body the parser does not need
      uint32_t k = t->skip[dir] < n ? t->skip[dir] : n;
      t->skip[dir] -= k;
      p += k; n -= k;
      if (n == 0) break;
    }
    if (t->released & (1u << dir)) break;
    size_t room = lim.max_buffer > b.size() ? lim.max_buffer - b.size() : 0;
    if (room == 0) {  // the parser could not use a full buffer (one message head larger): over
      t->dead[dir] = true;
      std::string().swap(b);
      if (out.stats) out.stats->l7_stream_lost++;
      break;
    }
    uint32_t take = n < room ? n : (uint32_t)room;
    b.append((const char*)p, take);
    p += take; n -= take;
    pk.data = (const uint8_t*)b.data();
    pk.len = b.size();
    out.release = 0;
    out.consume = out.skip = 0;
    size_t before = out.bodies->size();
    more = l->parser->on_payload(l->st, pk, out) == L7_MORE;
    l7_cap(l, out, lim, before);
    if (out.consume) {
      size_t c = out.consume < b.size() ? out.consume : b.size();
      b.erase(0, c);
    }
    t->skip[dir] += out.skip;
    if (out.release) {
      t->released |= out.release;
      for (int d = 0; d < 2; d++)
        if (t->released & (1u << d)) std::string().swap(t->buf[d]);
    }
  }
  if (b.empty()) std::string().swap(b);  // nothing pending: give the memory back
  return more && !l7_stream_over(t);
}

void l7_flow_finish(L7Flow* l, L7Out& out, const L7Limits& lim) {
  if (!l || !l->parser) return;
  if (l->st) {
    size_t before = out.bodies->size();
    l->parser->finish(l->st, out);
    l7_cap(l, out, lim, before);
    l->parser->destroy(l->st);
    l->st = nullptr;
  }
  delete l->tcp;
  l->tcp = nullptr;
}

}  // namespace dfly
