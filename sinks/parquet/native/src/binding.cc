// N-API face of the Parquet writer (writer.h): class ParquetStage.
//   new ParquetStage(columns: {name, type}[], opts?: {pageBytes, rowGroupRows, level})
//   append(nums: Float64Array[], packed: string | null, plain: string[][] | null, n)  — sync
//     packed: the string columns of a row joined by \x1f, rows joined by \x1e
//   rows(): number; heldBytes(): number
//   writeFile(path, kv: [string, string][], createdBy): Promise<number>  — on a libuv worker
//   release(): frees the buffers
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "writer.h"

namespace dp = damselfly::parquet;

namespace {

class ParquetStage : public Napi::ObjectWrap<ParquetStage> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ParquetStage",
                       {InstanceMethod("append", &ParquetStage::Append), InstanceMethod("rows", &ParquetStage::Rows),
                        InstanceMethod("heldBytes", &ParquetStage::HeldBytes), InstanceMethod("writeFile", &ParquetStage::WriteFile),
                        InstanceMethod("release", &ParquetStage::Release)});
  }

  explicit ParquetStage(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ParquetStage>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "ParquetStage: columns must be an array");
    Napi::Array arr = info[0].As<Napi::Array>();
    std::vector<dp::Column> cols;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsObject()) throw Napi::TypeError::New(env, "ParquetStage: each column is {name, type}");
      Napi::Object o = v.As<Napi::Object>();
      std::string name = o.Get("name").ToString().Utf8Value();
      std::string type = o.Get("type").ToString().Utf8Value();
      dp::Kind k;
      if (!dp::kindFromName(type, &k)) throw Napi::TypeError::New(env, "ParquetStage: unknown column type " + type);
      cols.push_back({name, k});
    }
    dp::Options opts;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      if (o.Has("pageBytes")) opts.pageBytes = static_cast<size_t>(o.Get("pageBytes").ToNumber().Int64Value());
      if (o.Has("rowGroupRows")) opts.rowGroupRows = static_cast<size_t>(o.Get("rowGroupRows").ToNumber().Int64Value());
      if (o.Has("level")) opts.level = o.Get("level").ToNumber().Int32Value();
    }
    try {
      stage_ = std::make_unique<dp::Stage>(std::move(cols), opts);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  bool busy = false;
  dp::Stage* stage() { return stage_.get(); }

 private:
  std::unique_ptr<dp::Stage> stage_;

  void check(Napi::Env env) {
    if (busy) throw Napi::Error::New(env, "ParquetStage: a writeFile() is running");
  }

  Napi::Value Append(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check(env);
    if (info.Length() < 4 || !info[0].IsArray() || !info[3].IsNumber()) throw Napi::TypeError::New(env, "append(nums, packed, plain, n)");
    const int64_t n64 = info[3].As<Napi::Number>().Int64Value();
    if (n64 < 0) throw Napi::RangeError::New(env, "append: n < 0");
    const size_t n = static_cast<size_t>(n64);
    Napi::Array numsArr = info[0].As<Napi::Array>();
    if (numsArr.Length() != stage_->numericColumns()) throw Napi::RangeError::New(env, "append: wrong number of numeric columns");
    std::vector<const double*> nums;
    for (uint32_t i = 0; i < numsArr.Length(); i++) {
      Napi::Value v = numsArr.Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
        throw Napi::TypeError::New(env, "append: numeric columns must be Float64Arrays");
      }
      Napi::Float64Array a = v.As<Napi::Float64Array>();
      if (a.ElementLength() < n) throw Napi::RangeError::New(env, "append: a numeric column is shorter than the batch");
      nums.push_back(a.Data());
    }
    const size_t ns = stage_->stringColumns();
    std::vector<std::vector<std::string_view>> strs(ns);
    std::string packed;
    std::vector<std::string> plainStore;
    if (ns == 0 || n == 0) {
      // no strings to read
    } else if (info[1].IsString()) {
      packed = info[1].As<Napi::String>().Utf8Value();
      for (auto& s : strs) s.reserve(n);
      size_t rowsSeen = 0;
      size_t pos = 0;
      for (;;) {
        if (rowsSeen == n) {
          rowsSeen++;  // a row beyond n: reported below
          break;
        }
        size_t end = packed.find('\x1e', pos);
        if (end == std::string::npos) end = packed.size();
        std::string_view row(packed.data() + pos, end - pos);
        // exactly ns fields: ns - 1 separators, none in the last field
        size_t f = 0, p = 0;
        bool ok = true;
        for (; ok && f < ns; f++) {
          size_t q = f + 1 < ns ? row.find('\x1f', p) : row.size();
          if (q == std::string_view::npos || (f + 1 == ns && row.substr(p).find('\x1f') != std::string_view::npos)) {
            ok = false;
            break;
          }
          strs[f].push_back(row.substr(p, q - p));
          p = q + 1;
        }
        if (!ok || (ns == 0 && !row.empty())) {
          throw Napi::RangeError::New(env, "append: packed row " + std::to_string(rowsSeen) + " does not hold " + std::to_string(ns) + " fields");
        }
        rowsSeen++;
        if (end == packed.size()) break;
        pos = end + 1;
      }
      if (rowsSeen != n) {
        throw Napi::RangeError::New(env, "append: packed strings hold " + std::string(rowsSeen > n ? "more than " + std::to_string(n) : std::to_string(rowsSeen)) + " rows, expected " + std::to_string(n));
      }
    } else if (info[2].IsArray()) {
      Napi::Array cols = info[2].As<Napi::Array>();
      if (cols.Length() != ns) throw Napi::RangeError::New(env, "append: wrong number of string columns");
      plainStore.reserve(ns * n);
      for (uint32_t s = 0; s < ns; s++) {
        Napi::Value cv = cols.Get(s);
        if (!cv.IsArray() || cv.As<Napi::Array>().Length() < n) throw Napi::RangeError::New(env, "append: a string column is shorter than the batch");
        Napi::Array col = cv.As<Napi::Array>();
        for (uint32_t i = 0; i < n; i++) plainStore.push_back(col.Get(i).ToString().Utf8Value());
      }
      for (size_t s = 0; s < ns; s++) {
        strs[s].reserve(n);
        for (size_t i = 0; i < n; i++) strs[s].emplace_back(plainStore[s * n + i]);
      }
    } else if (n > 0) {
      throw Napi::TypeError::New(env, "append: strings must be packed or plain");
    }
    try {
      stage_->append(nums, strs, n);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
  }

  Napi::Value Rows(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(stage_->rows())); }
  Napi::Value HeldBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(stage_->heldBytes())); }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    check(info.Env());
    stage_->clear();
    return info.Env().Undefined();
  }

  Napi::Value WriteFile(const Napi::CallbackInfo& info);
};

class WriteWorker : public Napi::AsyncWorker {
 public:
  WriteWorker(Napi::Env env, ParquetStage* owner, Napi::Object self, std::string path, dp::KeyValues kv, std::string createdBy)
      : Napi::AsyncWorker(env), owner_(owner), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), kv_(std::move(kv)), createdBy_(std::move(createdBy)) {
    self_ = Napi::Persistent(self);  // keeps the stage alive while the worker runs
    owner_->busy = true;
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      bytes_ = owner_->stage()->writeFile(path_, kv_, createdBy_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    owner_->busy = false;
    deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(bytes_)));
  }
  void OnError(const Napi::Error& e) override {
    owner_->busy = false;
    deferred_.Reject(e.Value());
  }

 private:
  ParquetStage* owner_;
  Napi::ObjectReference self_;
  Napi::Promise::Deferred deferred_;
  std::string path_;
  dp::KeyValues kv_;
  std::string createdBy_;
  uint64_t bytes_ = 0;
};

Napi::Value ParquetStage::WriteFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check(env);
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsString()) {
    throw Napi::TypeError::New(env, "writeFile(path, kv: [string, string][], createdBy)");
  }
  dp::KeyValues kv;
  Napi::Array arr = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsArray() || e.As<Napi::Array>().Length() != 2) throw Napi::TypeError::New(env, "writeFile: kv entries are [key, value]");
    Napi::Array pair = e.As<Napi::Array>();
    kv.emplace_back(pair.Get(0u).ToString().Utf8Value(), pair.Get(1u).ToString().Utf8Value());
  }
  auto* w = new WriteWorker(env, this, info.This().As<Napi::Object>(), info[0].As<Napi::String>().Utf8Value(), std::move(kv), info[2].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("ParquetStage", ParquetStage::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(damselfly_parquet, InitAll)
