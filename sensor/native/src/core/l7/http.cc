// HTTP/1.x parser: every request/response pair of a connection (keep-alive and pipelining): one
// event per response with the fields of the request it answers (method, Host, URI, User-Agent),
// one per request left unanswered (at flow end, or when kMaxPending newer requests wait: then the
// oldest is reported with status 0 and counted in l7_pending_evicted), and one per response
// without a request. Message bodies are skipped by Content-Length or chunked framing without
// being buffered; a response framed by the connection's close, a protocol switch (101, CONNECT)
// or bytes that are not HTTP end the parsing of that direction. Threading: single-threaded
// (Sensor batch thread). Memory: a small per-flow state with the pending requests' event fields
// (at most kMaxPending, each field at most kMaxField bytes); each message head is consumed from
// the bounded stream buffer once parsed; header scans stop at kMaxHeader bytes, every scan is
// bounds-checked.
#include <cctype>
#include <cstring>

#include "l7.h"

namespace dfly {
namespace {

constexpr size_t kMaxHeader = 8192;
constexpr size_t kMaxPending = 16;
constexpr size_t kMaxField = 2048;  // bytes of a method/host/URI/user agent kept (before cleaning)
constexpr size_t kMaxChunkLine = 1024;

enum Phase : uint8_t { PH_HEAD = 0, PH_CHUNK = 1, PH_TRAILER = 2 };

struct HttpState {
  int8_t client_dir = -1;
  uint8_t phase[2] = {PH_HEAD, PH_HEAD};
  // Pending requests, oldest first: 1 byte flags (bit 0: HEAD, bit 1: CONNECT) + event fields
  // (cleaned method, host, uri, user agent, each followed by kSepField).
  std::vector<std::string> pending;
};

const char* const kMethods[] = {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};

size_t method_len(const uint8_t* p, size_t n) {
  for (const char* m : kMethods) {
    size_t l = strlen(m);
    if (n >= l && memcmp(p, m, l) == 0) return l - 1;
  }
  return 0;
}

bool is_response(const uint8_t* p, size_t n) { return n >= 12 && memcmp(p, "HTTP/1.", 7) == 0; }

// Offset just past the end of the header block ("\r\n\r\n"), or 0 when not (yet) complete.
size_t header_end(const uint8_t* p, size_t n) {
  for (size_t i = 3; i < n; i++)
    if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r') return i + 1;
  return 0;
}

bool ieq_prefix(const uint8_t* p, size_t n, const char* name) {
  size_t l = strlen(name);
  if (n < l) return false;
  for (size_t i = 0; i < l; i++)
    if (tolower(p[i]) != name[i]) return false;
  return true;
}

// [a, b) of a header value without surrounding blanks.
void value_range(const uint8_t* p, size_t n, size_t* a, size_t* b) {
  size_t x = 0;
  while (x < n && (p[x] == ' ' || p[x] == '\t')) x++;
  size_t y = n;
  while (y > x && (p[y - 1] == ' ' || p[y - 1] == '\t' || p[y - 1] == '\r')) y--;
  *a = x; *b = y;
}

void append_field(std::string& b, const uint8_t* p, size_t n) {
  l7_append_clean(b, p, n < kMaxField ? n : kMaxField);
  b += kSepField;
}

// What the head of a message says about its body.
struct Head {
  bool chunked = false;
  bool has_length = false;
  uint64_t length = 0;
  const uint8_t* host = nullptr; size_t host_n = 0;
  const uint8_t* ua = nullptr; size_t ua_n = 0;
};

// Reads the header lines of the head [p, p+n) after its first line.
void read_headers(const uint8_t* p, size_t n, Head* h) {
  size_t i = 0;
  while (i < n && p[i] != '\n') i++;
  i++;
  while (i < n) {
    size_t e = i;
    while (e < n && p[e] != '\n') e++;
    const uint8_t* line = p + i;
    size_t ll = e - i;
    if (ll == 0 || (ll == 1 && line[0] == '\r')) break;
    size_t a, b;
    if (ieq_prefix(line, ll, "host:")) {
      value_range(line + 5, ll - 5, &a, &b); h->host = line + 5 + a; h->host_n = b - a;
    } else if (ieq_prefix(line, ll, "user-agent:")) {
      value_range(line + 11, ll - 11, &a, &b); h->ua = line + 11 + a; h->ua_n = b - a;
    } else if (ieq_prefix(line, ll, "content-length:")) {
      value_range(line + 15, ll - 15, &a, &b);
      uint64_t v = 0;
      bool ok = b > a;
      for (size_t k = a; k < b && ok; k++) {
        if (!isdigit(line[15 + k]) || v > (1ull << 40)) ok = false;
        else v = v * 10 + (uint64_t)(line[15 + k] - '0');
      }
      if (ok) { h->has_length = true; h->length = v; }
    } else if (ieq_prefix(line, ll, "transfer-encoding:")) {
      value_range(line + 18, ll - 18, &a, &b);
      // "chunked" is the last coding when present
      if (b - a >= 7) {
        const uint8_t* t = line + 18 + b - 7;
        bool ch = true;
        for (size_t k = 0; k < 7; k++) if (tolower(t[k]) != "chunked"[k]) ch = false;
        h->chunked = ch;
      }
    }
    i = e + 1;
  }
}

void emit(L7Out& out, const std::string* req, uint16_t status) {
  std::string b;
  if (req) b.assign(*req, 1, std::string::npos);
  else b.assign(4, kSepField);  // no request: empty method, host, uri, user agent
  b += std::to_string((int)status);
  out.bodies->push_back(std::move(b));
}

// Body framing after a head at `he` bytes into the buffer: consumes what is buffered of the
// body, skips the rest as it arrives. Returns the new offset.
size_t body(HttpState* s, int dir, const Head& h, size_t off, size_t len, L7Out& out, bool none) {
  if (none) return off;
  if (h.chunked) { s->phase[dir] = PH_CHUNK; return off; }
  if (!h.has_length) return off;
  uint64_t have = len - off;
  if (h.length <= have) return off + (size_t)h.length;
  uint64_t rest = h.length - have;
  out.skip = rest > 0xffffffffull ? 0xffffffffu : (uint32_t)rest;
  return len;
}

bool http_match(const L7Packet& p) {
  if (!p.tcp) return false;
  return method_len(p.data, p.len) > 0 || is_response(p.data, p.len);
}

void* http_create() { return new HttpState(); }
void http_destroy(void* st) { delete (HttpState*)st; }

L7Status http_payload(void* st, const L7Packet& p, L7Out& out) {
  HttpState* s = (HttpState*)st;
  const uint8_t* d = p.data;
  const size_t n = p.len;
  const int dir = p.dir;
  size_t off = 0;
  for (;;) {
    if (out.skip || off >= n) break;
    const uint8_t* m = d + off;
    size_t left = n - off;
    if (s->phase[dir] == PH_CHUNK) {  // "<hex>[;ext]\r\n" then that many bytes and "\r\n"
      size_t e = 0;
      while (e < left && e < kMaxChunkLine && m[e] != '\n') e++;
      if (e == left) { if (left >= kMaxChunkLine) { out.release |= (uint8_t)(1u << dir); } break; }
      if (e >= kMaxChunkLine) { out.release |= (uint8_t)(1u << dir); break; }
      uint64_t size = 0;
      size_t k = 0;
      while (k < e && isxdigit(m[k]) && size < (1ull << 40)) {
        size = size * 16 + (uint64_t)(isdigit(m[k]) ? m[k] - '0' : (tolower(m[k]) - 'a' + 10));
        k++;
      }
      if (k == 0) { out.release |= (uint8_t)(1u << dir); break; }  // not chunked framing after all
      off += e + 1;
      if (size == 0) { s->phase[dir] = PH_TRAILER; continue; }
      uint64_t want = size + 2, have = n - off;
      if (want <= have) { off += (size_t)want; continue; }
      uint64_t rest = want - have;
      out.skip = rest > 0xffffffffull ? 0xffffffffu : (uint32_t)rest;
      off = n;
      break;
    }
    if (s->phase[dir] == PH_TRAILER) {  // trailer lines up to an empty line
      if (left >= 2 && m[0] == '\r' && m[1] == '\n') { off += 2; s->phase[dir] = PH_HEAD; continue; }
      size_t he = header_end(m, left < kMaxHeader ? left : kMaxHeader);
      if (he) { off += he; s->phase[dir] = PH_HEAD; continue; }
      if (left >= kMaxHeader) out.release |= (uint8_t)(1u << dir);
      break;
    }
    // PH_HEAD: a request (client side) or a response (server side)
    bool req = (s->client_dir < 0 || s->client_dir == dir) && method_len(m, left) > 0;
    bool resp = !req && (s->client_dir < 0 || s->client_dir != dir) && is_response(m, left);
    if (!req && !resp) {
      // bytes that do not start a message (another protocol, or a head still too short to tell)
      if (left >= 16) out.release |= (uint8_t)(1u << dir);
      break;
    }
    size_t lim = left < kMaxHeader ? left : kMaxHeader;
    size_t he = header_end(m, lim);
    if (!he && left < kMaxHeader) break;  // wait for the rest of the head
    bool cut = he == 0;                   // a head larger than we read: parsed as far as kMaxHeader
    size_t hl = cut ? kMaxHeader : he;
    Head h;
    read_headers(m, hl, &h);
    if (req) {
      s->client_dir = (int8_t)dir;
      size_t ml = method_len(m, hl);
      size_t u0 = ml + 1, u1 = u0;
      while (u1 < hl && m[u1] != ' ' && m[u1] != '\r' && m[u1] != '\n') u1++;
      std::string r;
      bool head_m = ml == 4 && memcmp(m, "HEAD", 4) == 0;
      bool connect_m = ml == 7 && memcmp(m, "CONNECT", 7) == 0;
      r += (char)((head_m ? 1 : 0) | (connect_m ? 2 : 0));
      append_field(r, m, ml);
      append_field(r, h.host, h.host_n);
      append_field(r, m + u0, u1 > u0 ? u1 - u0 : 0);
      append_field(r, h.ua, h.ua_n);
      if (s->pending.size() >= kMaxPending) {  // report the oldest unanswered to make room
        emit(out, &s->pending.front(), 0);
        s->pending.erase(s->pending.begin());
        if (out.stats) out.stats->l7_pending_evicted++;
      }
      s->pending.push_back(std::move(r));
      if (cut) { out.release |= (uint8_t)(1u << dir); break; }
      off = body(s, dir, h, off + hl, n, out, false);
      continue;
    }
    // a response
    if (s->client_dir < 0) s->client_dir = (int8_t)(1 - dir);
    uint16_t status = 0;
    if (m[8] == ' ' && isdigit(m[9]) && isdigit(m[10]) && isdigit(m[11]))
      status = (uint16_t)((m[9] - '0') * 100 + (m[10] - '0') * 10 + (m[11] - '0'));
    if (status >= 100 && status < 200 && status != 101) {  // interim: the final response follows
      if (cut) { out.release |= (uint8_t)(1u << dir); break; }
      off += hl;
      continue;
    }
    uint8_t flags = s->pending.empty() ? 0 : (uint8_t)s->pending.front()[0];
    emit(out, s->pending.empty() ? nullptr : &s->pending.front(), status);
    if (!s->pending.empty()) s->pending.erase(s->pending.begin());
    bool tunnel = status == 101 || ((flags & 2) && status >= 200 && status < 300);
    if (tunnel) { out.release |= 3; break; }  // another protocol follows on both directions
    if (cut) { out.release |= (uint8_t)(1u << dir); break; }
    bool none = (flags & 1) || status == 204 || status == 304;
    if (!none && !h.chunked && !h.has_length) {  // the body ends with the connection
      out.release |= (uint8_t)(1u << dir);
      break;
    }
    off = body(s, dir, h, off + hl, n, out, none);
  }
  out.consume = (uint32_t)(off < n ? off : n);
  return L7_MORE;
}

void http_finish(void* st, L7Out& out) {
  HttpState* s = (HttpState*)st;
  for (const std::string& r : s->pending) emit(out, &r, 0);
  s->pending.clear();
}

}  // namespace

const L7Parser kHttpParser = {"http", L7_HTTP, http_match, http_create, http_destroy, http_payload, http_finish, true};

}  // namespace dfly
