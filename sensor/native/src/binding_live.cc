// Live capture binding. Exposes
//   class NativeLiveSensor { constructor(sensorOpts, liveOpts); start(onBatch); stop() }
// Threading: start() opens the interface on the JS thread (so a bad interface, missing privileges
// or a bad filter throw synchronously), then ONE std::thread owns the Sensor and the LiveCapture
// until it exits: live_poll -> packet_process, idle expiry about once a second (flow_tick), and
// ended flows, start/update records and L7 events handed to JS in batches through a
// Napi::ThreadSafeFunction (every 250 ms, or at 8192 records; never per packet), each with a
// snapshot of the counters taken on the capture thread (JS never reads the Sensor). stop() only
// sets an atomic flag and wakes the poll; the thread then drains what the kernel still holds,
// ends every flow with reason eof, delivers the final batch (final: true) and releases the TSFN,
// whose finalizer joins the thread on the JS thread and lets the wrapper be collected.
// Memory: a batch is a heap LiveBatch (its records already turned into columns on the capture
// thread, columns.h) owned by the TSFN call until it is converted on the JS thread. The TSFN queue is bounded (16 batches): a stalled JS thread blocks the capture thread,
// and the kernel then counts drops instead of this process growing without bound.
#include <napi.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "columns.h"
#include "core/capture.h"
#include "core/live_capture.h"

namespace dfly {
// Defined in binding.cc: the same option parsing as NativeSensor.
SensorConfig binding_sensor_config(Napi::Env env, Napi::Object opts);
std::string binding_obname(Napi::Env env, Napi::Object opts);
void binding_live_init(Napi::Env env, Napi::Object exports);
}  // namespace dfly

using namespace dfly;

namespace {

struct LiveBatch {
  SensorColumns cols;  // ended flows, start/update records and L7 events by column
  Stats stats;
  LiveStats kstats;
  uint64_t packets = 0, bytes = 0;  // since the previous batch
  bool final = false;
  std::string error;
};

int64_t clock_us(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct PacketCtx {
  Sensor* sensor;
  uint64_t packets = 0, bytes = 0;
};

void capture_on_packet(void* c, int dlt, int64_t ts_us, const uint8_t* data, uint32_t caplen) {
  auto* x = static_cast<PacketCtx*>(c);
  x->packets++;
  x->bytes += caplen;
  x->sensor->packet_process(dlt, ts_us, data, caplen);
}

class NativeLiveSensor : public Napi::ObjectWrap<NativeLiveSensor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeLiveSensor",
                       {InstanceMethod("start", &NativeLiveSensor::Start),
                        InstanceMethod("stop", &NativeLiveSensor::Stop)});
  }

  explicit NativeLiveSensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeLiveSensor>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject())
      throw Napi::TypeError::New(env, "NativeLiveSensor: (sensorOptions, liveOptions) expected");
    cfg_ = binding_sensor_config(env, info[0].As<Napi::Object>());
    obname_ = binding_obname(env, info[0].As<Napi::Object>());
    Napi::Object o = info[1].As<Napi::Object>();
    auto numopt = [&](const char* k, double def) -> double {
      Napi::Value v = o.Get(k);
      if (v.IsUndefined()) return def;
      if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("NativeLiveSensor: option ") + k + " must be a number");
      double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= 0 && d <= 4294967295.0)) throw Napi::RangeError::New(env, std::string("NativeLiveSensor: option ") + k + " out of range");
      return d;
    };
    auto stropt = [&](const char* k, const char* def) -> std::string {
      Napi::Value v = o.Get(k);
      if (v.IsUndefined()) return def;
      if (!v.IsString()) throw Napi::TypeError::New(env, std::string("NativeLiveSensor: option ") + k + " must be a string");
      return v.As<Napi::String>().Utf8Value();
    };
    lcfg_.iface = stropt("iface", "");
    if (lcfg_.iface.empty()) throw Napi::TypeError::New(env, "NativeLiveSensor: option iface is required");
    std::string type = stropt("type", "pcap");
    cap_ = live_capture_create(type);
    if (!cap_) throw Napi::TypeError::New(env, "NativeLiveSensor: type must be pcap or afpacket (got '" + type + "')");
    Napi::Value pr = o.Get("promisc");
    lcfg_.promisc = pr.IsBoolean() ? pr.As<Napi::Boolean>().Value() : true;
    lcfg_.timeout_ms = (int)numopt("timeoutMs", 100);
    if (lcfg_.timeout_ms < 1) lcfg_.timeout_ms = 1;
    lcfg_.block_size = (uint32_t)numopt("blockSize", 2097152);
    lcfg_.block_count = (uint32_t)numopt("blockCount", 64);
    lcfg_.fanout_group = (uint32_t)numopt("fanoutGroup", 0);
    lcfg_.fanout_mode = stropt("fanoutMode", "hash");
    lcfg_.snaplen = cfg_.snaplen ? cfg_.snaplen : 65535;
    lcfg_.filter = cfg_.filter;
  }

  ~NativeLiveSensor() override {
    // Normally the TSFN finalizer has joined the thread already; this covers env teardown.
    if (thread_.joinable()) {
      stop_.store(true);
      cap_->live_wakeup();
      thread_.join();
    }
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (started_) throw Napi::Error::New(env, "NativeLiveSensor.start: already started");
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "start: onBatch function expected");
    std::string err;
    if (!cap_->live_open(lcfg_, &err)) {
      Napi::Error e = Napi::Error::New(env, err);
      e.Set("code", Napi::String::New(env, "ECAPTUREOPEN"));
      e.Set("iface", Napi::String::New(env, lcfg_.iface));
      throw e;
    }
    sensor_ = std::make_unique<Sensor>(cfg_);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "damselfly-live", 16, 1, this,
                                          [](Napi::Env, NativeLiveSensor* self) {
                                            if (self->thread_.joinable()) self->thread_.join();
                                            self->Unref();
                                          });
    Ref();  // the wrapper (and its Sensor) lives until the finalizer above
    started_ = true;
    thread_ = std::thread([this] { capture_run(); });
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    stop_.store(true, std::memory_order_release);
    if (started_) cap_->live_wakeup();
    return info.Env().Undefined();
  }

  // ==========================================================================================
  // capture_* (capture thread only)
  // ==========================================================================================

  void capture_run() {
    PacketCtx ctx{sensor_.get()};
    int64_t last_tick = clock_us(CLOCK_MONOTONIC), last_deliver = last_tick;
    std::string err;
    while (!stop_.load(std::memory_order_acquire)) {
      int n = cap_->live_poll(capture_on_packet, &ctx, &err);
      if (n < 0) break;
      int64_t now = clock_us(CLOCK_MONOTONIC);
      if (now - last_tick >= 1000000) {
        sensor_->flow_tick(clock_us(CLOCK_REALTIME));
        last_tick = now;
      }
      size_t ended = sensor_->ended().size() + sensor_->status().size() + sensor_->l7_events().size();
      if (ended >= 8192 || (ended > 0 && now - last_deliver >= 250000) || now - last_deliver >= 1000000) {
        capture_deliver(ctx, false, std::string());
        last_deliver = now;
      }
    }
    if (err.empty()) {
      // Drain what the kernel already holds (AF_PACKET hands over a partly filled block only
      // after its retire timeout), so packets received before stop() are not lost.
      int64_t until = clock_us(CLOCK_MONOTONIC) + ((int64_t)lcfg_.timeout_ms + 50) * 1000;
      while (clock_us(CLOCK_MONOTONIC) < until)
        if (cap_->live_poll(capture_on_packet, &ctx, &err) < 0) break;
    }
    sensor_->flow_flush();
    capture_deliver(ctx, true, err);
    tsfn_.Release();
  }

  void capture_deliver(PacketCtx& ctx, bool final, const std::string& error) {
    auto* b = new LiveBatch();
    Sensor& s = *sensor_;
    columns_append(b->cols, obname_, s.status(), s.ended(), s.ended_extras(), s.l7_events());
    s.ended().clear();
    s.ended_extras().clear();
    s.status().clear();
    s.l7_events().clear();
    b->stats = sensor_->stats();
    cap_->live_stats(&b->kstats);
    b->packets = ctx.packets;
    b->bytes = ctx.bytes;
    ctx.packets = ctx.bytes = 0;
    b->final = final;
    b->error = error;
    napi_status st = tsfn_.BlockingCall(b, [](Napi::Env env, Napi::Function cb, LiveBatch* raw) {
      std::unique_ptr<LiveBatch> bt(raw);
      if (static_cast<napi_env>(env) == nullptr || cb.IsEmpty()) return;
      Napi::HandleScope scope(env);
      Napi::Object r = columns_to_js(env, bt->cols);
      r.Set("packets", Napi::Number::New(env, (double)bt->packets));
      r.Set("bytes", Napi::Number::New(env, (double)bt->bytes));
      r.Set("final", Napi::Boolean::New(env, bt->final));
      if (!bt->error.empty()) r.Set("error", Napi::String::New(env, bt->error));
      Napi::Object s = Napi::Object::New(env);
#define X(n) s.Set(#n, Napi::Number::New(env, (double)bt->stats.n));
      DFLY_STATS_FIELDS(X)
#undef X
      s.Set("kernel_received", Napi::Number::New(env, (double)bt->kstats.received));
      s.Set("kernel_dropped", Napi::Number::New(env, (double)bt->kstats.dropped));
      s.Set("if_dropped", Napi::Number::New(env, (double)bt->kstats.if_dropped));
      s.Set("kernel_outgoing_skipped", Napi::Number::New(env, (double)bt->kstats.outgoing_skipped));
      r.Set("stats", s);
      cb.Call({r});
    });
    if (st != napi_ok) delete b;
  }

  SensorConfig cfg_;
  std::string obname_;
  LiveConfig lcfg_;
  std::unique_ptr<LiveCapture> cap_;
  std::unique_ptr<Sensor> sensor_;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
};

}  // namespace

void dfly::binding_live_init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeLiveSensor", NativeLiveSensor::Init(env));
}
