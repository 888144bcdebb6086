// HTTP/1.x parser: method, Host, URI and User-Agent of the first request, status of the first
// response; one event per flow (at the response, or at flow end without one). Threading:
// single-threaded (Sensor batch thread). Memory: a small per-flow state holding the request's
// part of the event body (built when the request is parsed; the client stream is then released);
// headers are read from the bounded stream buffer only up to kMaxHeader bytes, with explicit
// bounds on every scan.
#include <cctype>
#include <cstring>

#include "l7.h"

namespace dfly {
namespace {

constexpr size_t kMaxHeader = 8192;

struct HttpState {
  int8_t client_dir = -1;
  bool have_req = false, have_resp = false, emitted = false;
  uint16_t status = 0;
  std::string req;  // event body fields of the request: method, host, uri, user agent (cleaned, each + kSepField)
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

// Offset of the end of the header block ("\r\n\r\n"), or 0 when not (yet) complete.
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

std::string header_value(const uint8_t* p, size_t n) {
  size_t a = 0;
  while (a < n && (p[a] == ' ' || p[a] == '\t')) a++;
  size_t b = n;
  while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r')) b--;
  return std::string((const char*)p + a, b - a);
}

void parse_request(HttpState* s, const uint8_t* p, size_t n) {
  size_t ml = method_len(p, n);
  std::string host, ua;
  size_t i = ml + 1, u0 = i;
  while (i < n && p[i] != ' ' && p[i] != '\r' && p[i] != '\n') i++;
  size_t u1 = i;
  while (i < n && p[i] != '\n') i++;
  i++;
  while (i < n) {
    size_t e = i;
    while (e < n && p[e] != '\n') e++;
    const uint8_t* line = p + i;
    size_t ll = e - i;
    if (ll == 0 || (ll == 1 && line[0] == '\r')) break;
    if (ieq_prefix(line, ll, "host:")) host = header_value(line + 5, ll - 5);
    else if (ieq_prefix(line, ll, "user-agent:")) ua = header_value(line + 11, ll - 11);
    i = e + 1;
  }
  std::string& b = s->req;
  b.clear();
  l7_append_clean(b, p, ml); b += kSepField;
  l7_append_clean(b, host); b += kSepField;
  l7_append_clean(b, p + u0, u1 - u0); b += kSepField;
  l7_append_clean(b, ua); b += kSepField;
  b.shrink_to_fit();
}

void emit(HttpState* s, L7Out& out) {
  if (s->emitted || (!s->have_req && !s->have_resp)) return;
  s->emitted = true;
  std::string b;
  if (s->have_req) b = s->req;
  else b.assign(4, kSepField);  // no request: empty method, host, uri, user agent
  b += std::to_string((int)s->status);
  out.bodies->push_back(std::move(b));
}

bool http_match(const L7Packet& p) {
  if (!p.tcp) return false;
  return method_len(p.data, p.len) > 0 || is_response(p.data, p.len);
}

void* http_create() { return new HttpState(); }
void http_destroy(void* st) { delete (HttpState*)st; }

L7Status http_payload(void* st, const L7Packet& p, L7Out& out) {
  HttpState* s = (HttpState*)st;
  if (!s->have_req && (s->client_dir < 0 || s->client_dir == p.dir) && method_len(p.data, p.len)) {
    size_t he = header_end(p.data, p.len < kMaxHeader ? p.len : kMaxHeader);
    if (he || p.len >= kMaxHeader) {
      parse_request(s, p.data, he ? he : kMaxHeader);
      s->have_req = true;
      s->client_dir = (int8_t)p.dir;
      out.release |= (uint8_t)(1u << p.dir);  // later client bytes change nothing (see below)
    }
  } else if (!s->have_resp && (s->client_dir < 0 || s->client_dir != p.dir) && is_response(p.data, p.len)) {
    const uint8_t* d = p.data;
    if (d[8] == ' ' && isdigit(d[9]) && isdigit(d[10]) && isdigit(d[11])) s->status = (uint16_t)((d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0'));
    s->have_resp = true;
    if (s->client_dir < 0) s->client_dir = (int8_t)(1 - p.dir);
  }
  if (s->have_req && s->have_resp) { emit(s, out); return L7_DONE; }
  return L7_MORE;
}

void http_finish(void* st, L7Out& out) { emit((HttpState*)st, out); }

}  // namespace

const L7Parser kHttpParser = {"http", L7_HTTP, http_match, http_create, http_destroy, http_payload, http_finish};

}  // namespace dfly
