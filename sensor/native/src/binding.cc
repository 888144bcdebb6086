// Thin N-API layer over the native core (src/core). Exposes:
//   class NativeSensor { constructor(opts); open(path); readBatch(max): Promise; flush(); stats() }
//   communityId(saddr, daddr, proto, sport, dport): string   (test helper)
// Threading: readBatch runs the core on a libuv worker (Napi::AsyncWorker); a busy flag rejects
// concurrent calls, and open/flush/stats also refuse while a batch runs, so the core is only ever
// touched by one thread at a time. Flow records are converted to JS objects on the JS thread,
// in one pass per batch, with property keys cached per environment (napi_ref) and attached via
// napi_define_properties so every record shares one hidden class.
// Memory: the Sensor is owned by the wrapper object (freed with it); ended flows are moved out of
// the core into the worker and released after conversion.
#include <arpa/inet.h>
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "core/capture.h"
#include "core/community_id.h"
#include "core/format.h"

using namespace dfly;

namespace {

// ============================================================================================
// Cached property keys
// ============================================================================================

#define FLOW_KEYS(X)                                                                               \
  X(version) X(flowid) X(obname) X(stime) X(etime) X(dur) X(rtt) X(pcr) X(proto) X(saddr)          \
  X(daddr) X(sport) X(dport) X(iflags) X(uflags) X(stcpseq) X(dtcpseq) X(svlan) X(dvlan) X(spkts)  \
  X(dpkts) X(sbytes) X(dbytes) X(sentropy) X(dentropy) X(ssmallpktcnt) X(dsmallpktcnt)             \
  X(slargepktcnt) X(dlargepktcnt) X(snonemptypktcnt) X(dnonemptypktcnt) X(sfirstnonemptycnt)       \
  X(dfirstnonemptycnt) X(smaxpktsize) X(dmaxpktsize) X(savgpayload) X(davgpayload)                 \
  X(sstdevpayload) X(dstdevpayload) X(spd) X(spdt) X(reason) X(smac) X(dmac) X(community_id)

enum KeyId {
#define X(n) K_##n,
  FLOW_KEYS(X)
#undef X
  K_COUNT
};

static const char* const kKeyNames[] = {
#define X(n) #n,
    FLOW_KEYS(X)
#undef X
};

struct AddonData {
  napi_ref keys;  // JS array of the key strings (N-API 8 cannot reference primitives directly)
  Napi::FunctionReference ctor;
};

static void check(napi_env env, napi_status s) {
  if (s != napi_ok) throw Napi::Error::New(env, "N-API call failed");
}

static napi_value str(napi_env env, const char* s, size_t n) {
  napi_value v;
  check(env, napi_create_string_latin1(env, s, n, &v));
  return v;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  check(env, napi_create_double(env, d, &v));
  return v;
}

static Napi::Array flows_to_js(Napi::Env env, const std::vector<FlowFeatures>& flows, const std::string& obname) {
  napi_env e = env;
  AddonData* ad = env.GetInstanceData<AddonData>();
  napi_value keys[K_COUNT];
  napi_value karr;
  check(e, napi_get_reference_value(e, ad->keys, &karr));
  for (int i = 0; i < K_COUNT; i++) check(e, napi_get_element(e, karr, (uint32_t)i, &keys[i]));
  napi_value arr;
  check(e, napi_create_array_with_length(e, flows.size(), &arr));
  napi_value ob = str(e, obname.data(), obname.size());
  napi_value one = num(e, 1);
  napi_value empty = str(e, "", 0);
  napi_property_descriptor desc[K_COUNT];
  for (int i = 0; i < K_COUNT; i++)
    desc[i] = napi_property_descriptor{nullptr, keys[i], nullptr, nullptr, nullptr, nullptr,
                                       (napi_property_attributes)(napi_writable | napi_enumerable | napi_configurable), nullptr};
  char buf[128];
  for (size_t i = 0; i < flows.size(); i++) {
    const FlowFeatures& f = flows[i];
    const DirStats& s = f.d[0];
    const DirStats& d = f.d[1];
    napi_value v[K_COUNT];
    int n;
    v[K_version] = one;
    n = format_uuid(f.uuid, buf); v[K_flowid] = str(e, buf, (size_t)n);
    v[K_obname] = ob;
    v[K_stime] = num(e, (double)f.stime);
    v[K_etime] = num(e, (double)f.etime);
    v[K_dur] = num(e, flow_dur_ms(f));
    v[K_rtt] = num(e, f.rtt);
    v[K_pcr] = num(e, flow_pcr(f));
    n = format_proto(f.proto, buf); v[K_proto] = str(e, buf, (size_t)n);
    n = format_addr(f.ipver, f.saddr, buf); v[K_saddr] = str(e, buf, (size_t)n);
    n = format_addr(f.ipver, f.daddr, buf); v[K_daddr] = str(e, buf, (size_t)n);
    v[K_sport] = num(e, f.sport);
    v[K_dport] = num(e, f.dport);
    n = format_tcp_flags(f.iflags, buf); v[K_iflags] = n ? str(e, buf, (size_t)n) : empty;
    n = format_tcp_flags(f.uflags, buf); v[K_uflags] = n ? str(e, buf, (size_t)n) : empty;
    v[K_stcpseq] = num(e, s.seq);
    v[K_dtcpseq] = num(e, d.seq);
    v[K_svlan] = num(e, s.vlan);
    v[K_dvlan] = num(e, d.vlan);
    v[K_spkts] = num(e, (double)s.pkts);
    v[K_dpkts] = num(e, (double)d.pkts);
    v[K_sbytes] = num(e, (double)s.bytes);
    v[K_dbytes] = num(e, (double)d.bytes);
    v[K_sentropy] = num(e, s.entropy);
    v[K_dentropy] = num(e, d.entropy);
    v[K_ssmallpktcnt] = num(e, s.small);
    v[K_dsmallpktcnt] = num(e, d.small);
    v[K_slargepktcnt] = num(e, s.large);
    v[K_dlargepktcnt] = num(e, d.large);
    v[K_snonemptypktcnt] = num(e, s.nonempty);
    v[K_dnonemptypktcnt] = num(e, d.nonempty);
    v[K_sfirstnonemptycnt] = num(e, s.first_nonempty);
    v[K_dfirstnonemptycnt] = num(e, d.first_nonempty);
    v[K_smaxpktsize] = num(e, s.maxpkt);
    v[K_dmaxpktsize] = num(e, d.maxpkt);
    v[K_savgpayload] = num(e, dir_avg_payload(s));
    v[K_davgpayload] = num(e, dir_avg_payload(d));
    v[K_sstdevpayload] = num(e, dir_stdev_payload(s));
    v[K_dstdevpayload] = num(e, dir_stdev_payload(d));
    n = format_spd(f, buf); v[K_spd] = n ? str(e, buf, (size_t)n) : empty;
    n = format_spdt(f, buf); v[K_spdt] = n ? str(e, buf, (size_t)n) : empty;
    const char* r = flow_reason_name(f.reason); v[K_reason] = str(e, r, strlen(r));
    if (f.has_mac) {
      n = format_mac(f.smac, buf); v[K_smac] = str(e, buf, (size_t)n);
      n = format_mac(f.dmac, buf); v[K_dmac] = str(e, buf, (size_t)n);
    } else {
      v[K_smac] = empty; v[K_dmac] = empty;
    }
    v[K_community_id] = str(e, f.cid, strlen(f.cid));
    for (int k = 0; k < K_COUNT; k++) desc[k].value = v[k];
    napi_value obj;
    check(e, napi_create_object(e, &obj));
    check(e, napi_define_properties(e, obj, K_COUNT, desc));
    check(e, napi_set_element(e, arr, (uint32_t)i, obj));
  }
  return Napi::Array(env, arr);
}

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
    Napi::Value ob = o.Get("observation");
    if (ob.IsString()) obname_ = ob.As<Napi::String>().Utf8Value();
    Napi::Value fr = o.Get("fragment");
    if (fr.IsObject()) {
      Napi::Object fo = fr.As<Napi::Object>();
      Napi::Value dis = fo.Get("disabled");
      if (dis.IsBoolean()) cfg.frag.disabled = dis.As<Napi::Boolean>().Value();
      cfg.frag.max_tables = (uint32_t)numopt(fo, "maxTables", 1024);
      cfg.frag.timeout_us = (int64_t)(numopt(fo, "timeout", 30) * 1e6);
    }
    sensor_ = std::make_unique<Sensor>(cfg);
  }

  bool busy_ = false;
  std::unique_ptr<Sensor> sensor_;
  std::string obname_;

 private:
  void guard(Napi::Env env, const char* what) {
    if (busy_) throw Napi::Error::New(env, std::string("NativeSensor.") + what + ": a readBatch() is still running");
  }

  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value ReadBatch(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    guard(info.Env(), "flush");
    sensor_->flow_flush();
    Napi::Array out = flows_to_js(info.Env(), sensor_->ended(), obname_);
    sensor_->ended().clear();
    return out;
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
    Sensor& s = *owner_->sensor_;
    done_ = s.capture_read_batch(max_, &has_err_, &err_, &pkts_, &bytes_);
    flows_.swap(s.ended());
    s.ended().clear();
  }

  void OnOK() override {
    Napi::Env env = Env();
    owner_->busy_ = false;
    Napi::HandleScope scope(env);
    Napi::Object r = Napi::Object::New(env);
    r.Set("flows", flows_to_js(env, flows_, owner_->obname_));
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
    std::vector<FlowFeatures>().swap(flows_);
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
  std::vector<FlowFeatures> flows_;
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* ad = new AddonData();
  napi_value karr;
  check(env, napi_create_array_with_length(env, K_COUNT, &karr));
  for (int i = 0; i < K_COUNT; i++)
    check(env, napi_set_element(env, karr, (uint32_t)i, str(env, kKeyNames[i], strlen(kKeyNames[i]))));
  check(env, napi_create_reference(env, karr, 1, &ad->keys));
  Napi::Function ctor = NativeSensor::Init(env);
  ad->ctor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(ad);
  exports.Set("NativeSensor", ctor);
  exports.Set("communityId", Napi::Function::New(env, CommunityId, "communityId"));
  return exports;
}

}  // namespace

NODE_API_MODULE(damselfly_native, Init)
