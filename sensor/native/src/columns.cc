// Records → columns (on the thread that produced the records) and columns → JS values (on the JS
// thread). See columns.h for the layout and the threading/memory model.
#include "columns.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "core/community_id.h"
#include "core/format.h"

namespace dfly {

// ============================================================================================
// columns_* : records -> columns
// ============================================================================================

static void flow_row(FlowColumns& c, const std::string& obname, const FlowFeatures& f, const L7Extras* x) {
  char buf[128];
  int k;
  const DirStats& s = f.d[0];
  const DirStats& d = f.d[1];
  c.ts.push((double)f.etime);
  c.kind.push(f.kind);
  c.seq.push(f.seq);
  c.version.push(1);
  k = format_uuid(f.uuid, buf); c.flowid.push(buf, (size_t)k);
  c.obname.push(obname);
  c.stime.push((double)f.stime);
  c.etime.push((double)f.etime);
  c.dur.push(flow_dur_ms(f));
  c.rtt.push(f.rtt);
  c.pcr.push(flow_pcr(f));
  k = format_proto(f.proto, buf); c.proto.push(buf, (size_t)k);
  k = format_addr(f.ipver, f.saddr, buf); c.saddr.push(buf, (size_t)k);
  k = format_addr(f.ipver, f.daddr, buf); c.daddr.push(buf, (size_t)k);
  c.sport.push(f.sport);
  c.dport.push(f.dport);
  k = format_tcp_flags(f.iflags, buf); c.iflags.push(buf, (size_t)k);
  k = format_tcp_flags(f.uflags, buf); c.uflags.push(buf, (size_t)k);
  c.stcpseq.push(s.seq);
  c.dtcpseq.push(d.seq);
  c.svlan.push(s.vlan);
  c.dvlan.push(d.vlan);
  c.spkts.push((double)s.pkts);
  c.dpkts.push((double)d.pkts);
  c.sbytes.push((double)s.bytes);
  c.dbytes.push((double)d.bytes);
  c.sentropy.push(s.entropy);
  c.dentropy.push(d.entropy);
  c.ssmallpktcnt.push(s.small);
  c.dsmallpktcnt.push(d.small);
  c.slargepktcnt.push(s.large);
  c.dlargepktcnt.push(d.large);
  c.snonemptypktcnt.push(s.nonempty);
  c.dnonemptypktcnt.push(d.nonempty);
  c.sfirstnonemptycnt.push(s.first_nonempty);
  c.dfirstnonemptycnt.push(d.first_nonempty);
  c.smaxpktsize.push(s.maxpkt);
  c.dmaxpktsize.push(d.maxpkt);
  c.savgpayload.push(dir_avg_payload(s));
  c.davgpayload.push(dir_avg_payload(d));
  c.sstdevpayload.push(dir_stdev_payload(s));
  c.dstdevpayload.push(dir_stdev_payload(d));
  k = format_spd(f, buf); c.spd.push(buf, (size_t)k);
  k = format_spdt(f, buf); c.spdt.push(buf, (size_t)k);
  c.reason.push(flow_reason_name(f.reason), strlen(flow_reason_name(f.reason)));
  if (f.has_mac) { k = format_mac(f.smac, buf); c.smac.push(buf, (size_t)k); } else c.smac.push("", 0);
  if (f.has_mac) { k = format_mac(f.dmac, buf); c.dmac.push(buf, (size_t)k); } else c.dmac.push("", 0);
  c.community_id.push(f.cid, strlen(f.cid));
  // ndpi_ja4 / ndpi_ja3s: TLS flows' end records; the nDPI labels: end records with nDPI on.
  if (x && !x->ja4.empty()) c.ndpi_ja4.push(x->ja4); else c.ndpi_ja4.push_null();
  if (x && !x->ja3s.empty()) c.ndpi_ja3s.push(x->ja3s); else c.ndpi_ja3s.push_null();
  // quic_*: QUIC flows' end records (the client's first Initial)
  if (x && x->quic_version) {
    c.quic_version.push(x->quic_version);
    c.quic_dcid.push(x->quic_dcid);
    c.quic_scid.push(x->quic_scid);
  } else {
    c.quic_version.push_null();
    c.quic_dcid.push_null();
    c.quic_scid.push_null();
  }
  if (x && x->has_ndpi) {
    c.ndpi_appid.push(x->ndpi.appid);
    c.ndpi_category.push(x->ndpi.category);
    c.ndpi_risk_score.push(x->ndpi.risk_score);
    c.ndpi_risk_severity.push(x->ndpi.risk_severity);
    c.ndpi_risk_list.push(x->ndpi.risk_list);
    if (!x->ndpi.tcp_fp.empty()) c.ndpi_tcp_fp.push(x->ndpi.tcp_fp); else c.ndpi_tcp_fp.push_null();
    if (!x->ndpi.fp.empty()) c.ndpi_fp.push(x->ndpi.fp); else c.ndpi_fp.push_null();
  } else {
    c.ndpi_appid.push_null();
    c.ndpi_category.push_null();
    c.ndpi_risk_score.push_null();
    c.ndpi_risk_severity.push_null();
    c.ndpi_risk_list.push_null();
    c.ndpi_tcp_fp.push_null();
    c.ndpi_fp.push_null();
  }
  c.rows++;
}

// The fields of an event body (l7.h: kSepField between fields); missing trailing fields are empty.
struct BodyFields {
  const char* p[8];
  size_t n[8];
  int count = 0;
  BodyFields(const std::string& body) {
    const char* s = body.data();
    const char* end = s + body.size();
    for (int i = 0; i < 8; i++) { p[i] = ""; n[i] = 0; }
    while (count < 8) {
      const char* e = (const char*)memchr(s, kSepField, (size_t)(end - s));
      p[count] = s;
      n[count] = (size_t)((e ? e : end) - s);
      count++;
      if (!e) break;
      s = e + 1;
    }
  }
  uint32_t num(int i) const {
    char tmp[16];
    size_t len = n[i] < 15 ? n[i] : 15;
    memcpy(tmp, p[i], len);
    tmp[len] = 0;
    return (uint32_t)strtoul(tmp, nullptr, 10);
  }
};

template <typename C>
static void l7_base(C& c, const std::string& obname, const L7Event& e) {
  char buf[64];
  int k;
  c.obname.push(obname);
  c.ts.push((double)e.ts);
  k = format_uuid(e.uuid, buf); c.flowid.push(buf, (size_t)k);
  char cid[32];
  community_id_v1(e.ipver == 6 ? 16 : 4, e.saddr, e.daddr, e.proto, e.sport, e.dport, cid);
  c.community_id.push(cid, strlen(cid));
  k = format_addr(e.ipver, e.saddr, buf); c.saddr.push(buf, (size_t)k);
  k = format_addr(e.ipver, e.daddr, buf); c.daddr.push(buf, (size_t)k);
  c.sport.push(e.sport);
  c.dport.push(e.dport);
  c.rows++;
}

static void dns_answers(DnsAnswersCol& a, const char* s, size_t n) {
  const char* end = s + n;
  while (s < end) {
    const char* e = (const char*)memchr(s, kSepItem, (size_t)(end - s));
    const char* item_end = e ? e : end;
    const char* f[4] = {"", "", "", ""};
    size_t fl[4] = {0, 0, 0, 0};
    const char* q = s;
    for (int i = 0; i < 4 && q <= item_end; i++) {
      const char* sep = (const char*)memchr(q, kSepSub, (size_t)(item_end - q));
      f[i] = q;
      fl[i] = (size_t)((sep ? sep : item_end) - q);
      if (!sep) break;
      q = sep + 1;
    }
    char ttl[16];
    size_t tl = fl[2] < 15 ? fl[2] : 15;
    memcpy(ttl, f[2], tl);
    ttl[tl] = 0;
    a.name.push(f[0], fl[0]);
    a.type.push(f[1], fl[1]);
    a.ttl.push((uint32_t)strtoul(ttl, nullptr, 10));
    a.data.push(f[3], fl[3]);
    s = item_end + 1;
  }
  a.off.push_back((int32_t)a.name.size());
}

void columns_append(SensorColumns& c, const std::string& obname, const std::vector<FlowFeatures>& status,
                    const std::vector<FlowFeatures>& ended, const std::vector<L7Extras>& extras,
                    const std::vector<L7Event>& l7) {
  for (const FlowFeatures& f : status) flow_row(c.flow, obname, f, nullptr);
  for (const FlowFeatures& f : ended) flow_row(c.flow, obname, f, f.xidx < extras.size() ? &extras[f.xidx] : nullptr);
  c.flow.ended += ended.size();
  for (const L7Event& e : l7) {
    BodyFields b(e.body);
    switch (e.type) {
      case L7_DNS:
        l7_base(c.dns, obname, e);
        c.dns.query.push(b.p[0], b.n[0]);
        c.dns.qtype.push(b.p[1], b.n[1]);
        c.dns.rcode.push(b.p[2], b.n[2]);
        dns_answers(c.dns.answers, b.p[3], b.n[3]);
        break;
      case L7_TLS:
        l7_base(c.tls, obname, e);
        c.tls.sni.push(b.p[0], b.n[0]);
        c.tls.alpn.push(b.p[1], b.n[1]);
        c.tls.tls_version.push(b.p[2], b.n[2]);
        c.tls.cipher.push(b.p[3], b.n[3]);
        c.tls.ja3.push(b.p[4], b.n[4]);
        c.tls.ja3s.push(b.p[5], b.n[5]);
        c.tls.ja4.push(b.p[6], b.n[6]);
        break;
      case L7_HTTP:
        l7_base(c.http, obname, e);
        c.http.method.push(b.p[0], b.n[0]);
        c.http.host.push(b.p[1], b.n[1]);
        c.http.uri.push(b.p[2], b.n[2]);
        c.http.user_agent.push(b.p[3], b.n[3]);
        c.http.status.push((uint16_t)b.num(4));
        break;
      default:
        break;
    }
  }
}

// ============================================================================================
// columns_to_js : columns -> JS values (JS thread)
// ============================================================================================

template <typename T>
static napi_typedarray_type js_array_type();
template <> napi_typedarray_type js_array_type<uint8_t>() { return napi_uint8_array; }
template <> napi_typedarray_type js_array_type<uint16_t>() { return napi_uint16_array; }
template <> napi_typedarray_type js_array_type<uint32_t>() { return napi_uint32_array; }
template <> napi_typedarray_type js_array_type<int32_t>() { return napi_int32_array; }
template <> napi_typedarray_type js_array_type<double>() { return napi_float64_array; }

template <typename T>
static Napi::Value typed(Napi::Env env, const T* data, size_t n) {
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n * sizeof(T));
  if (n) memcpy(ab.Data(), data, n * sizeof(T));
  napi_value out;
  if (napi_create_typedarray(env, js_array_type<T>(), n, ab, 0, &out) != napi_ok) throw Napi::Error::New(env, "columns: cannot create a typed array");
  return Napi::Value(env, out);
}

// A column's vector handed over without copying: the typed array's memory is the vector's own,
// freed when JS collects the ArrayBuffer. (Empty vectors, which may own no memory, are copied.)
template <typename T>
static Napi::Value typed(Napi::Env env, std::vector<T>&& v) {
  if (v.empty()) return typed<T>(env, nullptr, 0);
  auto* owned = new std::vector<T>(std::move(v));
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(
      env, owned->data(), owned->size() * sizeof(T),
      [](napi_env, void*, void* hint) { delete static_cast<std::vector<T>*>(hint); }, owned, &ab);
  if (st != napi_ok) {
    Napi::Value copy = typed<T>(env, owned->data(), owned->size());
    delete owned;
    return copy;
  }
  napi_value out;
  if (napi_create_typedarray(env, js_array_type<T>(), owned->size(), ab, 0, &out) != napi_ok) throw Napi::Error::New(env, "columns: cannot create a typed array");
  return Napi::Value(env, out);
}

template <typename T>
static Napi::Value to_js(Napi::Env env, NumCol<T>& c) { return typed(env, std::move(c.v)); }

// node_api_create_external_string_latin1 (Node >= 20.4, still "experimental" there): the string's
// characters stay in our buffer — no copy when it is made, none when the GC moves objects. Looked
// up at run time, so the addon loads on a Node without it (then the text is copied).
using ExternalLatin1 = napi_status (*)(napi_env, char*, size_t, napi_finalize, void*, napi_value*, bool*);
static ExternalLatin1 external_latin1() {
  static ExternalLatin1 fn = reinterpret_cast<ExternalLatin1>(dlsym(RTLD_DEFAULT, "node_api_create_external_string_latin1"));
  return fn;
}

static napi_value latin1_string(Napi::Env env, std::string&& text) {
  napi_value s;
  // Short texts are cheaper copied (V8 would copy them anyway).
  if (ExternalLatin1 fn = external_latin1(); fn && text.size() >= 4096) {
    auto* owned = new std::string(std::move(text));
    bool copied = false;
    if (fn(env, owned->data(), owned->size(), [](napi_env, void*, void* hint) { delete static_cast<std::string*>(hint); }, owned, &s, &copied) == napi_ok) {
      if (copied) delete owned;  // V8 took a copy and will not call the finalizer
      return s;
    }
    text = std::move(*owned);
    delete owned;
  }
  if (napi_create_string_latin1(env, text.data(), text.size(), &s) != napi_ok) throw Napi::Error::New(env, "columns: cannot create a string");
  return s;
}

// Sensor strings are printable ASCII (L7 text is escaped by the parsers); only the observation
// name comes from the user and may be UTF-8: then the offsets are recounted in UTF-16 units.
static Napi::Value to_js(Napi::Env env, StrCol& c) {
  Napi::Object o = Napi::Object::New(env);
  napi_value s;
  bool ascii = true;
  for (unsigned char ch : c.data)
    if (ch >= 0x80) { ascii = false; break; }
  if (ascii) {
    o.Set("data", Napi::Value(env, latin1_string(env, std::move(c.data))));
    o.Set("offsets", typed(env, std::move(c.off)));
    o.Set("ascii", Napi::Boolean::New(env, true));
    return o;
  }
  if (napi_create_string_utf8(env, c.data.data(), c.data.size(), &s) != napi_ok) throw Napi::Error::New(env, "columns: cannot create a string");
  std::vector<int32_t> units(c.off.size());
  int32_t u = 0;
  size_t p = 0;
  for (size_t i = 0; i < c.off.size(); i++) {
    for (size_t stop = (size_t)c.off[i]; p < stop; p++) {
      unsigned char ch = (unsigned char)c.data[p];
      if ((ch & 0xc0) != 0x80) u += ch >= 0xf0 ? 2 : 1;
    }
    units[i] = u;
  }
  o.Set("data", Napi::Value(env, s));
  o.Set("offsets", typed(env, units.data(), units.size()));
  return o;
}

static Napi::Value to_js(Napi::Env env, DnsAnswersCol& c) {
  Napi::Object fields = Napi::Object::New(env);
#define X(n, T, N) fields.Set(#n, to_js(env, c.n));
  DFLY_DNS_ANSWER_FIELDS(X)
#undef X
  Napi::Object items = Napi::Object::New(env);
  items.Set("fields", fields);
  Napi::Object o = Napi::Object::New(env);
  o.Set("offsets", typed(env, std::move(c.off)));
  o.Set("items", items);
  return o;
}

template <typename T>
static void valid_to_js(Napi::Env env, Napi::Object valid, const char* name, NumCol<T>& c) {
  if (!c.valid.empty()) valid.Set(name, typed(env, std::move(c.valid)));
}
static void valid_to_js(Napi::Env env, Napi::Object valid, const char* name, StrCol& c) {
  if (!c.valid.empty()) valid.Set(name, typed(env, std::move(c.valid)));
}
static void valid_to_js(Napi::Env, Napi::Object, const char*, DnsAnswersCol&) {}

#define DFLY_COLUMN_TO_JS(n, T, N) \
  cols.Set(#n, to_js(env, c.n));   \
  if (N) valid_to_js(env, valid, #n, c.n);

#define DFLY_BATCH_TO_JS(LIST, src)                                           \
  [&](auto& c) {                                                              \
    Napi::Object cols = Napi::Object::New(env);                               \
    Napi::Object valid = Napi::Object::New(env);                              \
    LIST(DFLY_COLUMN_TO_JS)                                                   \
    Napi::Object b = Napi::Object::New(env);                                  \
    b.Set("length", Napi::Number::New(env, (double)c.rows));                  \
    b.Set("cols", cols);                                                      \
    b.Set("valid", valid);                                                    \
    return b;                                                                 \
  }(src)

Napi::Object columns_to_js(Napi::Env env, SensorColumns& c) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("flow", DFLY_BATCH_TO_JS(DFLY_FLOW_COLUMNS, c.flow));
  r.Set("dns", DFLY_BATCH_TO_JS(DFLY_DNS_COLUMNS, c.dns));
  r.Set("tls", DFLY_BATCH_TO_JS(DFLY_TLS_COLUMNS, c.tls));
  r.Set("http", DFLY_BATCH_TO_JS(DFLY_HTTP_COLUMNS, c.http));
  r.Set("ended", Napi::Number::New(env, (double)c.flow.ended));
  return r;
}

// ============================================================================================
// columns_describe
// ============================================================================================

static Napi::Array describe_list(Napi::Env env, std::vector<Napi::Array> rows) {
  Napi::Array a = Napi::Array::New(env, rows.size());
  for (uint32_t i = 0; i < rows.size(); i++) a.Set(i, rows[i]);
  return a;
}

#define DFLY_DESCRIBE(n, T, N)                                                                  \
  {                                                                                             \
    std::string type = #T;                                                                      \
    Napi::Array row = Napi::Array::New(env);                                                    \
    row.Set(0u, Napi::String::New(env, #n));                                                    \
    row.Set(1u, Napi::String::New(env, type == "DnsAnswers" ? "List" : type));                  \
    row.Set(2u, Napi::Boolean::New(env, N != 0));                                               \
    if (type == "DnsAnswers") row.Set(3u, answers);                                             \
    rows.push_back(row);                                                                        \
  }

Napi::Object columns_describe(Napi::Env env) {
  Napi::Object r = Napi::Object::New(env);
  std::vector<Napi::Array> rows;
  Napi::Array answers = Napi::Array::New(env);
  DFLY_DNS_ANSWER_FIELDS(DFLY_DESCRIBE)
  answers = describe_list(env, rows);
  rows.clear();
  DFLY_FLOW_COLUMNS(DFLY_DESCRIBE)
  r.Set("flow", describe_list(env, rows));
  rows.clear();
  DFLY_DNS_COLUMNS(DFLY_DESCRIBE)
  r.Set("dns", describe_list(env, rows));
  rows.clear();
  DFLY_TLS_COLUMNS(DFLY_DESCRIBE)
  r.Set("tls", describe_list(env, rows));
  rows.clear();
  DFLY_HTTP_COLUMNS(DFLY_DESCRIBE)
  r.Set("http", describe_list(env, rows));
  return r;
}

}  // namespace dfly
