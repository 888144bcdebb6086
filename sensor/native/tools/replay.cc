// damselfly-replay: standalone driver of the native core (no N-API) for sanitizer runs,
// robustness sweeps and benchmarks.
// Threading: single-threaded. Memory: one Sensor; ended flows are printed and cleared per batch.
//
// usage: damselfly-replay [options] file...
//   --json            print every ended flow as one JSON line on stdout
//   --idle S --active S --max-flows N --max-payload N --snaplen N --filter BPF
//   --no-mac --no-frag --frag-tables N --frag-timeout S
//   --ndpi            nDPI labels (--ndpi-protos FILE, --ndpi-categories FILE: custom files)
//   --repeat N        process the file list N times (benchmarking)
//   --batch N         packets per batch (default 65536)
//   --no-l7           no L7 parsers; --no-quic-decrypt: QUIC Initials are not decrypted (ids only)
// Exit status: 0 ok, 1 usage/open error, 2 a capture read error (truncated/corrupt file).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../src/core/capture.h"
#include "../src/core/format.h"

using namespace dfly;

static void print_flow(const FlowFeatures& f, const L7Extras* x, FILE* out) {
  char uuid[37], sa[48], da[48], ifl[9], ufl[9], proto[8], spd[9], spdt[96], sm[18] = "", dm[18] = "";
  format_uuid(f.uuid, uuid);
  format_addr(f.ipver, f.saddr, sa);
  format_addr(f.ipver, f.daddr, da);
  format_tcp_flags(f.iflags, ifl);
  format_tcp_flags(f.uflags, ufl);
  format_proto(f.proto, proto);
  format_spd(f, spd);
  format_spdt(f, spdt);
  if (f.has_mac) { format_mac(f.smac, sm); format_mac(f.dmac, dm); }
  const DirStats& s = f.d[0];
  const DirStats& d = f.d[1];
  fprintf(out,
          "{\"flowid\":\"%s\",\"stime\":%lld,\"etime\":%lld,\"dur\":%u,\"rtt\":%u,\"pcr\":%d,\"proto\":\"%s\","
          "\"saddr\":\"%s\",\"daddr\":\"%s\",\"sport\":%u,\"dport\":%u,\"iflags\":\"%s\",\"uflags\":\"%s\","
          "\"stcpseq\":%u,\"dtcpseq\":%u,\"svlan\":%u,\"dvlan\":%u,\"spkts\":%llu,\"dpkts\":%llu,"
          "\"sbytes\":%llu,\"dbytes\":%llu,\"sentropy\":%u,\"dentropy\":%u,\"ssmallpktcnt\":%u,"
          "\"dsmallpktcnt\":%u,\"slargepktcnt\":%u,\"dlargepktcnt\":%u,\"snonemptypktcnt\":%u,"
          "\"dnonemptypktcnt\":%u,\"sfirstnonemptycnt\":%u,\"dfirstnonemptycnt\":%u,\"smaxpktsize\":%u,"
          "\"dmaxpktsize\":%u,\"savgpayload\":%u,\"davgpayload\":%u,\"sstdevpayload\":%u,\"dstdevpayload\":%u,"
          "\"spd\":\"%s\",\"spdt\":\"%s\",\"reason\":\"%s\",\"smac\":\"%s\",\"dmac\":\"%s\",\"community_id\":\"%s\"",
          uuid, (long long)f.stime, (long long)f.etime, flow_dur_ms(f), f.rtt, flow_pcr(f), proto, sa, da,
          f.sport, f.dport, ifl, ufl, s.seq, d.seq, s.vlan, d.vlan, (unsigned long long)s.pkts,
          (unsigned long long)d.pkts, (unsigned long long)s.bytes, (unsigned long long)d.bytes, s.entropy,
          d.entropy, s.small, d.small, s.large, d.large, s.nonempty, d.nonempty, s.first_nonempty,
          d.first_nonempty, s.maxpkt, d.maxpkt, dir_avg_payload(s), dir_avg_payload(d),
          dir_stdev_payload(s), dir_stdev_payload(d), spd, spdt, flow_reason_name(f.reason), sm, dm, f.cid);
  if (x && x->has_ndpi)  // labels are sanitised to printable ASCII without '"' / '\\' (ndpi.cc)
    fprintf(out, ",\"ndpi_appid\":\"%s\",\"ndpi_category\":\"%s\",\"ndpi_risk_score\":%u,"
            "\"ndpi_risk_severity\":%u,\"ndpi_risk_list\":\"%s\"",
            x->ndpi.appid.c_str(), x->ndpi.category.c_str(), x->ndpi.risk_score, x->ndpi.risk_severity,
            x->ndpi.risk_list.c_str());
  if (x && x->has_ndpi && !x->ndpi.tcp_fp.empty()) fprintf(out, ",\"ndpi_tcp_fp\":\"%s\"", x->ndpi.tcp_fp.c_str());
  if (x && x->has_ndpi && !x->ndpi.fp.empty()) fprintf(out, ",\"ndpi_fp\":\"%s\"", x->ndpi.fp.c_str());
  fputs("}\n", out);
}

int main(int argc, char** argv) {
  SensorConfig cfg;
  bool json = false;
  int repeat = 1;
  uint64_t batch = 65536;
  std::vector<std::string> files;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&](void) -> const char* {
      if (i + 1 >= argc) { fprintf(stderr, "damselfly-replay: %s needs a value\n", a.c_str()); exit(1); }
      return argv[++i];
    };
    if (a == "--json") json = true;
    else if (a == "--idle") cfg.idle_timeout_us = (int64_t)(atof(next()) * 1e6);
    else if (a == "--active") cfg.active_timeout_us = (int64_t)(atof(next()) * 1e6);
    else if (a == "--max-flows") cfg.max_flows = strtoull(next(), nullptr, 10);
    else if (a == "--max-payload") cfg.max_payload = (uint32_t)strtoul(next(), nullptr, 10);
    else if (a == "--snaplen") cfg.snaplen = (uint32_t)strtoul(next(), nullptr, 10);
    else if (a == "--filter") cfg.filter = next();
    else if (a == "--no-mac") cfg.mac = false;
    else if (a == "--no-frag") cfg.frag.disabled = true;
    else if (a == "--frag-tables") cfg.frag.max_tables = (uint32_t)strtoul(next(), nullptr, 10);
    else if (a == "--frag-timeout") cfg.frag.timeout_us = (int64_t)(atof(next()) * 1e6);
    else if (a == "--ndpi") cfg.ndpi.enabled = true;
    else if (a == "--no-l7") cfg.l7 = false;
    else if (a == "--no-quic-decrypt") cfg.quic_decrypt = false;
    else if (a == "--no-status") cfg.status = false;
    else if (a == "--ndpi-protos") cfg.ndpi.protocol_file = next();
    else if (a == "--ndpi-categories") cfg.ndpi.categories_file = next();
    else if (a == "--repeat") repeat = atoi(next());
    else if (a == "--batch") batch = strtoull(next(), nullptr, 10);
    else if (a.size() > 1 && a[0] == '-') { fprintf(stderr, "damselfly-replay: unknown option %s\n", a.c_str()); return 1; }
    else files.push_back(a);
  }
  if (files.empty()) { fprintf(stderr, "usage: damselfly-replay [options] file...\n"); return 1; }
  Sensor sensor(cfg);
  if (!sensor.init_error().empty()) { fprintf(stderr, "damselfly-replay: %s\n", sensor.init_error().c_str()); return 1; }
  int status = 0;
  uint64_t flows = 0, l7_events = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto drain = [&]() {
    auto& ended = sensor.ended();
    flows += ended.size();
    const auto& xs = sensor.ended_extras();
    if (json)
      for (const auto& f : ended) print_flow(f, f.xidx < xs.size() ? &xs[f.xidx] : nullptr, stdout);
    ended.clear();
    l7_events += sensor.l7_events().size();  // start/update records and L7 events: counted only (stats)
    (void)l7_events;
    sensor.status().clear();
    sensor.l7_events().clear();
    sensor.ended_extras().clear();
  };
  for (int r = 0; r < repeat; r++) {
    for (const auto& file : files) {
      std::string err;
      if (!sensor.capture_open(file, &err)) {
        fprintf(stderr, "damselfly-replay: %s\n", err.c_str());
        status = status ? status : 1;
        continue;
      }
      for (;;) {
        bool has_err; CaptureError cerr; uint64_t np, nb;
        bool done = sensor.capture_read_batch(batch, &has_err, &cerr, &np, &nb);
        drain();
        if (has_err) {
          fprintf(stderr, "damselfly-replay: %s: read error at packet %llu, byte offset %lld: %s\n",
                  cerr.file.c_str(), (unsigned long long)cerr.packet_index, (long long)cerr.byte_offset,
                  cerr.message.c_str());
          status = 2;
        }
        if (done) break;
      }
    }
  }
  sensor.flow_flush();
  drain();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Stats& st = sensor.stats();
  fprintf(stderr, "damselfly-replay: packets=%llu bytes=%llu flows=%llu time=%.3fs pps=%.0f\n",
          (unsigned long long)st.packets, (unsigned long long)st.bytes, (unsigned long long)flows, secs,
          secs > 0 ? st.packets / secs : 0.0);
  fprintf(stderr, "damselfly-replay: stats");
#define X(n) fprintf(stderr, " %s=%llu", #n, (unsigned long long)st.n);
  DFLY_STATS_FIELDS(X)
#undef X
  fprintf(stderr, "\n");
  return status;
}
