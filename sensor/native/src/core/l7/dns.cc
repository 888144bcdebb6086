// DNS parser (UDP datagrams and TCP streams with the 2-byte length prefix): question name/type,
// rcode, answers A/AAAA/CNAME/MX/TXT/NS/PTR with TTL. One event per response and one per
// unanswered query (at flow end, or when kMaxPending newer queries wait: then the oldest is
// reported unanswered and counted in l7_pending_evicted), for every message of the flow.
// Threading: single-threaded (Sensor batch thread). Memory: a small per-flow state; pending
// queries (bounded by kMaxPending) are packed into one string; TCP messages are consumed from the
// stream buffer as soon as parsed; names are decoded with compression pointers under a jump limit
// and a 255-byte cap, so hostile loops end quickly.
#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "l7.h"

namespace dfly {
namespace {

constexpr size_t kMaxPending = 16;
constexpr uint8_t kMaxBad = 8;  // datagrams in a row that are not DNS before the flow is given up
constexpr int kMaxJumps = 16;
constexpr size_t kMaxAnswers = 32;

// Unanswered queries in arrival order, packed as records of
//   id (2 bytes) | qtype (2) | name length (1) | name
// (names are at most 255 bytes, see read_name): one small allocation per flow instead of one
// per query plus its name.
struct DnsState {
  std::string pending;
  uint8_t npending = 0;
  uint8_t bad = 0;  // consecutive messages that did not parse
};

constexpr size_t kPendHdr = 5;
inline uint16_t pend_id(const std::string& b, size_t o) { return (uint16_t)((uint8_t)b[o] << 8 | (uint8_t)b[o + 1]); }
inline uint16_t pend_qtype(const std::string& b, size_t o) { return (uint16_t)((uint8_t)b[o + 2] << 8 | (uint8_t)b[o + 3]); }
inline size_t pend_len(const std::string& b, size_t o) { return (uint8_t)b[o + 4]; }

bool is_dns_port(uint16_t p) { return p == 53 || p == 5353 || p == 5355; }

// Decodes a (possibly compressed) name at msg[*off]; advances *off past it in the original
// position. Returns false on malformed input.
bool read_name(const uint8_t* msg, size_t len, size_t* off, std::string* out) {
  size_t pos = *off;
  bool jumped = false;
  int jumps = 0;
  out->clear();
  for (;;) {
    if (pos >= len) return false;
    uint8_t c = msg[pos];
    if (c == 0) { if (!jumped) *off = pos + 1; return true; }
    if ((c & 0xc0) == 0xc0) {
      if (pos + 1 >= len) return false;
      size_t target = (size_t)((c & 0x3f) << 8 | msg[pos + 1]);
      if (!jumped) *off = pos + 2;
      jumped = true;
      if (++jumps > kMaxJumps || target >= len) return false;
      pos = target;
      continue;
    }
    if (c & 0xc0) return false;  // 0x40/0x80 label types are obsolete
    if (pos + 1 + c > len) return false;
    if (!out->empty()) *out += '.';
    out->append((const char*)msg + pos + 1, c);
    if (out->size() > 255) return false;
    pos += 1 + c;
  }
}

const char* qtype_name(uint16_t t, char* buf) {
  switch (t) {
    case 1: return "A"; case 2: return "NS"; case 5: return "CNAME"; case 6: return "SOA";
    case 12: return "PTR"; case 15: return "MX"; case 16: return "TXT"; case 28: return "AAAA";
    case 33: return "SRV"; case 41: return "OPT"; case 64: return "SVCB"; case 65: return "HTTPS";
    case 255: return "ANY";
  }
  snprintf(buf, 16, "TYPE%u", t);
  return buf;
}

const char* rcode_name(unsigned r, char* buf) {
  static const char* n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  if (r < 6) return n[r];
  snprintf(buf, 16, "RCODE%u", r);
  return buf;
}

void emit(L7Out& out, const std::string& qname, uint16_t qtype, const char* rcode, const std::string& answers) {
  char tb[16];
  std::string b;
  l7_append_clean(b, qname); b += kSepField;
  b += qtype_name(qtype, tb); b += kSepField;
  b += rcode; b += kSepField;
  b += answers;
  out.bodies->push_back(std::move(b));
}

// Parses one DNS message. Returns false when it is not DNS.
bool parse_message(DnsState* s, const uint8_t* m, size_t len, L7Out& out) {
  if (len < 12) return false;
  L7Reader r(m, len);
  uint16_t id = r.u16(), flags = r.u16(), qd = r.u16(), an = r.u16();
  r.skip(4);
  if (qd > 16) return false;
  std::string qname;
  uint16_t qtype = 0;
  size_t off = 12;
  for (uint16_t i = 0; i < qd; i++) {
    std::string nm;
    if (!read_name(m, len, &off, &nm)) return false;
    if (off + 4 > len) return false;
    if (i == 0) { qname = std::move(nm); qtype = (uint16_t)(m[off] << 8 | m[off + 1]); }
    off += 4;
  }
  bool response = flags & 0x8000;
  std::string& pb = s->pending;
  if (!response) {
    if (qd == 0) return true;
    for (size_t o = 0; o < pb.size(); o += kPendHdr + pend_len(pb, o))
      if (pend_id(pb, o) == id && pb.compare(o + kPendHdr, pend_len(pb, o), qname) == 0) return true;
    if (s->npending >= kMaxPending) {  // report the oldest unanswered to make room
      emit(out, pb.substr(kPendHdr, pend_len(pb, 0)), pend_qtype(pb, 0), "", std::string());
      pb.erase(0, kPendHdr + pend_len(pb, 0));
      s->npending--;
      if (out.stats) out.stats->l7_pending_evicted++;
    }
    {
      // a string of the exact size (append would round the capacity up to twice the old one)
      std::string nb(pb.size() + kPendHdr + qname.size(), '\0');
      char* w = &nb[0];
      memcpy(w, pb.data(), pb.size());
      w += pb.size();
      w[0] = (char)(id >> 8); w[1] = (char)id; w[2] = (char)(qtype >> 8); w[3] = (char)qtype;
      w[4] = (char)qname.size();
      memcpy(w + kPendHdr, qname.data(), qname.size());
      pb.swap(nb);
      s->npending++;
    }
    return true;
  }
  for (size_t o = 0; o < pb.size(); o += kPendHdr + pend_len(pb, o))
    if (pend_id(pb, o) == id) {
      pb.erase(o, kPendHdr + pend_len(pb, o));
      s->npending--;
      if (pb.empty()) std::string().swap(pb);
      break;
    }
  std::string ans;
  size_t nans = 0;
  for (uint16_t i = 0; i < an && nans < kMaxAnswers; i++) {
    std::string nm;
    if (!read_name(m, len, &off, &nm)) break;
    if (off + 10 > len) break;
    uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
    uint32_t ttl = (uint32_t)m[off + 4] << 24 | (uint32_t)m[off + 5] << 16 | (uint32_t)m[off + 6] << 8 | m[off + 7];
    uint16_t rdlen = (uint16_t)(m[off + 8] << 8 | m[off + 9]);
    off += 10;
    if (off + rdlen > len) break;
    const uint8_t* rd = m + off;
    std::string data;
    bool keep = true;
    char ab[64];
    switch (type) {
      case 1:
        if (rdlen != 4 || !inet_ntop(AF_INET, rd, ab, sizeof ab)) keep = false; else data = ab;
        break;
      case 28:
        if (rdlen != 16 || !inet_ntop(AF_INET6, rd, ab, sizeof ab)) keep = false; else data = ab;
        break;
      case 2: case 5: case 12: {
        size_t o2 = off;
        if (!read_name(m, off + rdlen, &o2, &data)) keep = false;
        break;
      }
      case 15: {
        if (rdlen < 3) { keep = false; break; }
        size_t o2 = off + 2;
        std::string nm2;
        if (!read_name(m, off + rdlen, &o2, &nm2)) { keep = false; break; }
        data = std::to_string((unsigned)(rd[0] << 8 | rd[1])) + " " + nm2;
        break;
      }
      case 16: {
        size_t p = 0;
        while (p < rdlen) {
          uint8_t l = rd[p];
          if (p + 1 + l > rdlen) { keep = false; break; }
          data.append((const char*)rd + p + 1, l);
          p += 1 + l;
        }
        break;
      }
      default: keep = false;
    }
    off += rdlen;
    if (!keep) continue;
    char tb[16];
    if (nans++) ans += kSepItem;
    l7_append_clean(ans, nm); ans += kSepSub;
    ans += qtype_name(type, tb); ans += kSepSub;
    ans += std::to_string(ttl); ans += kSepSub;
    l7_append_clean(ans, data);
  }
  char rb[16];
  emit(out, qname, qtype, rcode_name(flags & 0xf, rb), ans);
  return true;
}

bool dns_match(const L7Packet& p) {
  if (!is_dns_port(p.sport) && !is_dns_port(p.dport)) return false;
  if (p.tcp) return p.len >= 2;
  if (p.len < 12) return false;
  uint16_t qd = (uint16_t)(p.data[4] << 8 | p.data[5]);
  return qd <= 16 && ((p.data[2] >> 3) & 0xf) <= 5;  // opcode sanity
}

void* dns_create() { return new DnsState(); }
void dns_destroy(void* st) { delete (DnsState*)st; }

L7Status dns_payload(void* st, const L7Packet& p, L7Out& out) {
  DnsState* s = (DnsState*)st;
  if (!p.tcp) {
    s->bad = parse_message(s, p.data, p.len, out) ? 0 : (uint8_t)(s->bad + 1);
  } else {
    size_t c = 0;
    while (p.len - c >= 2) {
      size_t ml = (size_t)(p.data[c] << 8 | p.data[c + 1]);
      if (p.len - c - 2 < ml) break;
      s->bad = parse_message(s, p.data + c + 2, ml, out) ? 0 : (uint8_t)(s->bad + 1);
      c += 2 + ml;
    }
    out.consume = (uint32_t)c;
  }
  return s->bad >= kMaxBad ? L7_DONE : L7_MORE;
}

void dns_finish(void* st, L7Out& out) {
  DnsState* s = (DnsState*)st;
  const std::string& pb = s->pending;
  for (size_t o = 0; o < pb.size(); o += kPendHdr + pend_len(pb, o))
    emit(out, pb.substr(o + kPendHdr, pend_len(pb, o)), pend_qtype(pb, o), "", std::string());
  s->pending.clear();
  s->npending = 0;
}

}  // namespace

const L7Parser kDnsParser = {"dns", L7_DNS, dns_match, dns_create, dns_destroy, dns_payload, dns_finish, true};

}  // namespace dfly
