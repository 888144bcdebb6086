// Event batches by column: the C++ side of streams/events/table.ts. The X-macro lists below name
// every column of the event types the sensor emits, in the table's order, with its type and
// nullability; test/sensor/columns.test.ts holds them equal to the TypeScript table (through
// `columns()`, which exports these lists), and the JS side picks columns by name, so nothing is
// positional across the boundary.
// Threading: records become columns on the thread that produced them (the libuv worker of a file
// batch, the capture thread of a live batch); columns become JS values on the JS thread without
// copying: typed arrays over the vectors' memory (external ArrayBuffers), and long ASCII texts as
// external latin1 strings where Node has them. Memory: a SensorColumns owns its vectors until
// they are handed to JS, which frees each with its ArrayBuffer/string.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/features.h"
#include "core/l7/l7.h"

namespace dfly {

// X(name, Type, nullable): Type is the table's column type name.
#define DFLY_FLOW_COLUMNS(X)                                                                        \
  X(ts, Timestamp, 0) X(kind, UInt8, 0) X(seq, UInt32, 0)                                           \
  X(version, UInt16, 0) X(flowid, String, 0) X(obname, String, 0) X(stime, Timestamp, 0)            \
  X(etime, Timestamp, 0) X(dur, UInt32, 0) X(rtt, UInt32, 0) X(pcr, Int32, 0) X(proto, String, 0)   \
  X(saddr, String, 0) X(daddr, String, 0) X(sport, UInt16, 0) X(dport, UInt16, 0)                   \
  X(iflags, String, 0) X(uflags, String, 0) X(stcpseq, UInt32, 0) X(dtcpseq, UInt32, 0)             \
  X(svlan, UInt16, 0) X(dvlan, UInt16, 0) X(spkts, UInt64, 0) X(dpkts, UInt64, 0)                   \
  X(sbytes, UInt64, 0) X(dbytes, UInt64, 0) X(sentropy, UInt8, 0) X(dentropy, UInt8, 0)             \
  X(ssmallpktcnt, UInt32, 0) X(dsmallpktcnt, UInt32, 0) X(slargepktcnt, UInt32, 0)                  \
  X(dlargepktcnt, UInt32, 0) X(snonemptypktcnt, UInt32, 0) X(dnonemptypktcnt, UInt32, 0)            \
  X(sfirstnonemptycnt, UInt16, 0) X(dfirstnonemptycnt, UInt16, 0) X(smaxpktsize, UInt16, 0)         \
  X(dmaxpktsize, UInt16, 0) X(savgpayload, UInt16, 0) X(davgpayload, UInt16, 0)                     \
  X(sstdevpayload, UInt16, 0) X(dstdevpayload, UInt16, 0) X(spd, String, 0) X(spdt, String, 0)      \
  X(reason, String, 0) X(smac, String, 0) X(dmac, String, 0) X(community_id, String, 0)             \
  X(ndpi_ja4, String, 1) X(ndpi_ja3s, String, 1) X(ndpi_appid, String, 1)                           \
  X(ndpi_category, String, 1) X(ndpi_risk_score, UInt32, 1) X(ndpi_risk_severity, UInt8, 1)         \
  X(ndpi_risk_list, String, 1) X(ndpi_tcp_fp, String, 1) X(ndpi_fp, String, 1)                      \
  X(quic_version, UInt32, 1) X(quic_dcid, String, 1) X(quic_scid, String, 1)

#define DFLY_L7_BASE_COLUMNS(X)                                                                     \
  X(obname, String, 0) X(ts, Timestamp, 0) X(flowid, String, 0) X(community_id, String, 0)          \
  X(saddr, String, 0) X(daddr, String, 0) X(sport, UInt16, 0) X(dport, UInt16, 0)

#define DFLY_DNS_COLUMNS(X) DFLY_L7_BASE_COLUMNS(X) X(query, String, 0) X(qtype, String, 0) X(rcode, String, 0) X(answers, DnsAnswers, 0)
#define DFLY_DNS_ANSWER_FIELDS(X) X(name, String, 0) X(type, String, 0) X(ttl, UInt32, 0) X(data, String, 0)
#define DFLY_TLS_COLUMNS(X)                                                                         \
  DFLY_L7_BASE_COLUMNS(X) X(sni, String, 0) X(alpn, String, 0) X(tls_version, String, 0)                \
  X(cipher, String, 0) X(ja3, String, 0) X(ja3s, String, 0) X(ja4, String, 0)
#define DFLY_HTTP_COLUMNS(X)                                                                        \
  DFLY_L7_BASE_COLUMNS(X) X(method, String, 0) X(host, String, 0) X(uri, String, 0)                 \
  X(user_agent, String, 0) X(status, UInt16, 0)

// A numeric column; 64-bit types are held as double (exact below 2^53), as in JS.
template <typename T>
struct NumCol {
  std::vector<T> v;
  std::vector<uint8_t> valid;  // empty until the first null
  void push(T x) { v.push_back(x); if (!valid.empty()) valid.push_back(1); }
  void push_null() { mark_null(v.size()); v.push_back(T()); }
  void mark_null(size_t row) { if (valid.empty()) valid.assign(row, 1); valid.push_back(0); }
  size_t size() const { return v.size(); }
};

// A string column: row i is data[off[i], off[i+1]) (sensor strings are printable ASCII).
struct StrCol {
  std::string data;
  std::vector<int32_t> off{0};
  std::vector<uint8_t> valid;
  void push(const char* s, size_t n) { data.append(s, n); end_row(); }
  void push(const std::string& s) { push(s.data(), s.size()); }
  void push_null() { if (valid.empty()) valid.assign(off.size() - 1, 1); valid.push_back(0); off.push_back((int32_t)data.size()); }
  size_t size() const { return off.size() - 1; }
 private:
  void end_row() { off.push_back((int32_t)data.size()); if (!valid.empty()) valid.push_back(1); }
};

// The C++ builder of each column type.
#define DFLY_COL_UInt8 NumCol<uint8_t>
#define DFLY_COL_UInt16 NumCol<uint16_t>
#define DFLY_COL_UInt32 NumCol<uint32_t>
#define DFLY_COL_Int32 NumCol<int32_t>
#define DFLY_COL_UInt64 NumCol<double>
#define DFLY_COL_Timestamp NumCol<double>
#define DFLY_COL_String StrCol
#define DFLY_COL_DnsAnswers DnsAnswersCol
#define DFLY_DECLARE_COLUMN(n, T, N) DFLY_COL_##T n;

// dns.answers: List<Struct<name, type, ttl, data>>.
struct DnsAnswersCol {
  std::vector<int32_t> off{0};
  DFLY_DNS_ANSWER_FIELDS(DFLY_DECLARE_COLUMN)
  size_t size() const { return off.size() - 1; }
};

struct FlowColumns { DFLY_FLOW_COLUMNS(DFLY_DECLARE_COLUMN) size_t rows = 0; size_t ended = 0; };
struct DnsColumns { DFLY_DNS_COLUMNS(DFLY_DECLARE_COLUMN) size_t rows = 0; };
struct TlsColumns { DFLY_TLS_COLUMNS(DFLY_DECLARE_COLUMN) size_t rows = 0; };
struct HttpColumns { DFLY_HTTP_COLUMNS(DFLY_DECLARE_COLUMN) size_t rows = 0; };

// One sensor batch by column: flow records (start/update first, then ends, each in packet order)
// and the L7 events of each type.
struct SensorColumns {
  FlowColumns flow;
  DnsColumns dns;
  TlsColumns tls;
  HttpColumns http;
};

// Appends the batch's records: status (start/update) records, then ended flows with their extras
// (by FlowFeatures::xidx), then L7 events. `obname` fills every row's obname.
void columns_append(SensorColumns& c, const std::string& obname, const std::vector<FlowFeatures>& status,
                    const std::vector<FlowFeatures>& ended, const std::vector<L7Extras>& extras,
                    const std::vector<L7Event>& l7);

// {flow, dns, tls, http}: each {length, cols: {name: column}, valid: {name: Uint8Array}} as
// streams/events/columns.ts lays them out, plus `ended` (flows that ended). The columns' memory is
// handed to JS (moved out of `c`, which is left empty).
Napi::Object columns_to_js(Napi::Env env, SensorColumns& c);

// The column lists above, for the test that holds them equal to the TypeScript table:
// {flow: [[name, type, nullable, [item fields]?], ...], dns, tls, http}.
Napi::Object columns_describe(Napi::Env env);

}  // namespace dfly
