// Thin N-API layer over the native core (src/core). Exposes:
//   class NativeSensor { constructor(opts); open(path); readBatch(max): Promise; flush(); stats() }
//   columns(): the column lists of the batches (columns.h), for the test against the TS table
//   communityId(saddr, daddr, proto, sport, dport): string   (test helper)
//   quicClientKeys(version, dcid): {key, iv, hp} hex | null    (test helper: l7/quic_crypto.h)
// Threading: readBatch runs the core on a libuv worker (Napi::AsyncWorker); a busy flag rejects
// concurrent calls, and open/flush/stats also refuse while a batch runs, so the core is only ever
// touched by one thread at a time. The worker also turns the batch's records (ended flows,
// start/update records, L7 events) into columns (columns.h), so the JS thread only copies each
// column once into a typed array or a latin1 string (OnOK) — no per-event work in JS.
// Memory: the Sensor is owned by the wrapper object (freed with it); records are moved out of the
// core into the worker, become columns there and are released before the batch reaches JS.
#include <arpa/inet.h>
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "columns.h"
#include "core/l7/quic_crypto.h"
#include "core/capture.h"
#include "core/community_id.h"

using namespace dfly;

namespace dfly {  // live capture (binding_live.cc) and what it shares with this file
void binding_live_init(Napi::Env env, Napi::Object exports);
SensorConfig binding_sensor_config(Napi::Env env, Napi::Object opts);
std::string binding_obname(Napi::Env env, Napi::Object opts);
}  // namespace dfly

namespace {

struct AddonData {
  Napi::FunctionReference ctor;
};

// ============================================================================================
// NativeSensor
// ============================================================================================

class NativeSensor : public Napi::ObjectWrap<NativeSensor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeSensor",
                       {InstanceMethod("open", &NativeSensor::Open),
                        InstanceMethod("readBatch", &NativeSensor::ReadBatch),
                        InstanceMethod("flush", &NativeSensor::Flush),
                        InstanceMethod("stats", &NativeSensor::GetStats)});
  }

  explicit NativeSensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSensor>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "NativeSensor: options object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    auto numopt = [&](Napi::Object obj, const char* k, double def) -> double {
      Napi::Value v = obj.Get(k);
      if (v.IsUndefined()) return def;
      if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("NativeSensor: option ") + k + " must be a number");
      double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= 0)) throw Napi::RangeError::New(env, std::string("NativeSensor: option ") + k + " must be >= 0");
      return d;
    };
    SensorConfig cfg;
    cfg.idle_timeout_us = (int64_t)(numopt(o, "idleTimeout", 300) * 1e6);
    cfg.active_timeout_us = (int64_t)(numopt(o, "activeTimeout", 1800) * 1e6);
    cfg.max_flows = (uint64_t)numopt(o, "maxFlows", 0);
    cfg.max_payload = (uint32_t)numopt(o, "maxPayload", 500);
    cfg.snaplen = (uint32_t)numopt(o, "snaplen", 0);
    Napi::Value f = o.Get("filter");
    if (f.IsString()) cfg.filter = f.As<Napi::String>().Utf8Value();
    Napi::Value m = o.Get("mac");
    if (m.IsBoolean()) cfg.mac = m.As<Napi::Boolean>().Value();
    cfg.status_interval_us = (int64_t)(numopt(o, "statusInterval", 60) * 1e6);
    Napi::Value se = o.Get("statusEvents");
    if (se.IsBoolean()) cfg.status = se.As<Napi::Boolean>().Value();
    Napi::Value l7 = o.Get("l7");
    if (l7.IsBoolean()) cfg.l7 = l7.As<Napi::Boolean>().Value();
    Napi::Value qd = o.Get("quicDecrypt");
    if (qd.IsBoolean()) cfg.quic_decrypt = qd.As<Napi::Boolean>().Value();
    cfg.l7_limits.max_buffer = (uint32_t)numopt(o, "l7MaxBuffer", kL7MaxStream);
    if (cfg.l7_limits.max_buffer < 1024) cfg.l7_limits.max_buffer = 1024;
    cfg.l7_limits.max_events = (uint32_t)numopt(o, "l7MaxEventsPerFlow", 0);
    Napi::Value fr = o.Get("fragment");
    if (fr.IsObject()) {
      Napi::Object fo = fr.As<Napi::Object>();
      Napi::Value dis = fo.Get("disabled");
      if (dis.IsBoolean()) cfg.frag.disabled = dis.As<Napi::Boolean>().Value();
      cfg.frag.max_tables = (uint32_t)numopt(fo, "maxTables", 1024);
      cfg.frag.timeout_us = (int64_t)(numopt(fo, "timeout", 30) * 1e6);
    }
    Napi::Value nd = o.Get("ndpi");
    if (nd.IsObject()) {
      Napi::Object no = nd.As<Napi::Object>();
      Napi::Value en = no.Get("enabled");
      if (en.IsBoolean()) cfg.ndpi.enabled = en.As<Napi::Boolean>().Value();
      Napi::Value pf = no.Get("protocolFile");
      if (pf.IsString()) cfg.ndpi.protocol_file = pf.As<Napi::String>().Utf8Value();
      Napi::Value cf = no.Get("categoriesFile");
      if (cf.IsString()) cfg.ndpi.categories_file = cf.As<Napi::String>().Utf8Value();
    }
    obname_ = binding_obname(env, o);
    cfg.observation = obname_;
    sensor_ = std::make_unique<Sensor>(cfg);
    if (!sensor_->init_error().empty()) throw Napi::Error::New(env, sensor_->init_error());
  }

  bool busy_ = false;
  std::unique_ptr<Sensor> sensor_;
  std::string obname_;

  // Moves the core's pending records into columns (and out of the core).
  void take_columns(SensorColumns& out) {
    Sensor& s = *sensor_;
    columns_append(out, obname_, s.status(), s.ended(), s.ended_extras(), s.l7_events());
    std::vector<FlowFeatures>().swap(s.ended());
    std::vector<L7Extras>().swap(s.ended_extras());
    std::vector<FlowFeatures>().swap(s.status());
    std::vector<L7Event>().swap(s.l7_events());
  }

 private:
  void guard(Napi::Env env, const char* what) {
    if (busy_) throw Napi::Error::New(env, std::string("NativeSensor.") + what + ": a readBatch() is still running");
  }

  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value ReadBatch(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    guard(info.Env(), "flush");
    Napi::Env env = info.Env();
    sensor_->flow_flush();
    SensorColumns c;
    take_columns(c);
    return columns_to_js(env, c);
  }
  Napi::Value GetStats(const Napi::CallbackInfo& info) {
    guard(info.Env(), "stats");
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    const Stats& st = sensor_->stats();
#define X(n) o.Set(#n, Napi::Number::New(env, (double)st.n));
    DFLY_STATS_FIELDS(X)
#undef X
    return o;
  }
};

Napi::Value NativeSensor::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  guard(env, "open");
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "open: path string expected");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string err;
  if (!sensor_->capture_open(path, &err)) {
    Napi::Error e = Napi::Error::New(env, err);
    e.Set("code", Napi::String::New(env, "ECAPTUREOPEN"));
    e.Set("file", Napi::String::New(env, path));
    throw e;
  }
  return env.Undefined();
}

class BatchWorker : public Napi::AsyncWorker {
 public:
  BatchWorker(Napi::Env env, NativeSensor* owner, Napi::Object owner_obj, uint64_t max)
      : Napi::AsyncWorker(env), owner_(owner), deferred_(Napi::Promise::Deferred::New(env)), max_(max) {
    owner_ref_ = Napi::Persistent(owner_obj);  // keep the wrapper alive while the worker runs
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    done_ = owner_->sensor_->capture_read_batch(max_, &has_err_, &err_, &pkts_, &bytes_);
    owner_->take_columns(cols_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    owner_->busy_ = false;
    Napi::HandleScope scope(env);
    Napi::Object r = columns_to_js(env, cols_);
    r.Set("packets", Napi::Number::New(env, (double)pkts_));
    r.Set("bytes", Napi::Number::New(env, (double)bytes_));
    r.Set("done", Napi::Boolean::New(env, done_));
    if (has_err_) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("file", Napi::String::New(env, err_.file));
      e.Set("packetIndex", Napi::Number::New(env, (double)err_.packet_index));
      e.Set("byteOffset", Napi::Number::New(env, (double)err_.byte_offset));
      e.Set("message", Napi::String::New(env, err_.message));
      r.Set("error", e);
    }
    cols_ = SensorColumns();
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error& e) override {
    owner_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  NativeSensor* owner_;
  Napi::ObjectReference owner_ref_;
  Napi::Promise::Deferred deferred_;
  uint64_t max_;
  bool done_ = false, has_err_ = false;
  CaptureError err_;
  uint64_t pkts_ = 0, bytes_ = 0;
  SensorColumns cols_;
};

Napi::Value NativeSensor::ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  guard(env, "readBatch");
  double max = 65536;
  if (info.Length() >= 1 && !info[0].IsUndefined()) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "readBatch: maxPackets must be a number");
    max = info[0].As<Napi::Number>().DoubleValue();
    if (!(max >= 1)) throw Napi::RangeError::New(env, "readBatch: maxPackets must be >= 1");
  }
  busy_ = true;
  auto* w = new BatchWorker(env, this, info.This().As<Napi::Object>(), (uint64_t)max);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ============================================================================================
// communityId(saddr, daddr, proto, sport, dport) — test helper
// ============================================================================================

Napi::Value CommunityId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5) throw Napi::TypeError::New(env, "communityId(saddr, daddr, proto, sport, dport)");
  std::string sa = info[0].As<Napi::String>().Utf8Value(), da = info[1].As<Napi::String>().Utf8Value();
  uint8_t a[16] = {0}, b[16] = {0};
  int len = 4;
  if (inet_pton(AF_INET, sa.c_str(), a) != 1 || inet_pton(AF_INET, da.c_str(), b) != 1) {
    len = 16;
    if (inet_pton(AF_INET6, sa.c_str(), a) != 1 || inet_pton(AF_INET6, da.c_str(), b) != 1)
      throw Napi::TypeError::New(env, "communityId: invalid address");
  }
  char out[32];
  community_id_v1(len, a, b, (uint8_t)info[2].As<Napi::Number>().Uint32Value(),
                  (uint16_t)info[3].As<Napi::Number>().Uint32Value(), (uint16_t)info[4].As<Napi::Number>().Uint32Value(), out);
  return Napi::String::New(env, out);
}

// checkFilter(expr): null when the BPF expression compiles (for Ethernet), else libpcap's message.
// Lets a bad --filter fail before anything starts instead of at the first file.
Napi::Value CheckFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "checkFilter: expression must be a string");
  std::string expr = info[0].As<Napi::String>().Utf8Value();
  pcap_t* p = pcap_open_dead(DLT_EN10MB, 262144);
  if (!p) return Napi::String::New(env, "cannot make a libpcap handle");
  struct bpf_program prog;
  Napi::Value out = env.Null();
  if (pcap_compile(p, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) out = Napi::String::New(env, pcap_geterr(p));
  else pcap_freecode(&prog);
  pcap_close(p);
  return out;
}

// quicClientKeys(version, dcid: Buffer): the client's Initial key/iv/hp (hex) the QUIC parser
// derives, null for a version without known Initial keys; for the test against RFC 9001 A.1.
Napi::Value QuicClientKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer())
    throw Napi::TypeError::New(env, "quicClientKeys: (version: number, dcid: Buffer) expected");
  uint32_t version = info[0].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> dcid = info[1].As<Napi::Buffer<uint8_t>>();
  if (dcid.Length() > 20) throw Napi::RangeError::New(env, "quicClientKeys: a connection id is at most 20 bytes");
  QuicKeys k;
  if (!quic_client_initial_keys(version, dcid.Data(), dcid.Length(), &k)) return env.Null();
  auto hx = [](const uint8_t* p, size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) { s += d[p[i] >> 4]; s += d[p[i] & 15]; }
    return s;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("key", hx(k.key, 16));
  o.Set("iv", hx(k.iv, 12));
  o.Set("hp", hx(k.hp, 16));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* ad = new AddonData();
  Napi::Function ctor = NativeSensor::Init(env);
  ad->ctor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(ad);
  exports.Set("NativeSensor", ctor);
  exports.Set("communityId", Napi::Function::New(env, CommunityId, "communityId"));
  exports.Set("checkFilter", Napi::Function::New(env, CheckFilter, "checkFilter"));
  exports.Set("quicClientKeys", Napi::Function::New(env, QuicClientKeys, "quicClientKeys"));
  exports.Set("columns", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value { return columns_describe(info.Env()); }, "columns"));
  binding_live_init(env, exports);
  return exports;
}

}  // namespace

// Shared with binding_live.cc (live capture) so both classes parse options the same way: the live
// sensor borrows a NativeSensor's parsed config.
std::string dfly::binding_obname(Napi::Env env, Napi::Object opts) {
  Napi::Value v = opts.Get("observation");
  if (v.IsUndefined()) return "damselfly";
  if (!v.IsString()) throw Napi::TypeError::New(env, "NativeSensor: option observation must be a string");
  return v.As<Napi::String>().Utf8Value();
}
SensorConfig dfly::binding_sensor_config(Napi::Env env, Napi::Object opts) {
  Napi::Object o = env.GetInstanceData<AddonData>()->ctor.New({opts});
  return NativeSensor::Unwrap(o)->sensor_->config();
}

NODE_API_MODULE(damselfly_native, Init)
