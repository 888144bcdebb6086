// N-API face of the Parquet writer (writer.h): class ParquetStage.
//   new ParquetStage(columns: {name, type}[], opts?: {pageBytes, rowGroupRows, level})
//   appendColumns(cols, sel: Int32Array | null, n, valid?)  — sync; cols in schema order, each a numeric
//     typed array or a string column {data: string, offsets: Int32Array} (streams/events/columns.ts);
//     the rows written are sel[0..n) (or 0..n without sel), read straight from the batch's columns;
//     valid: per column a Uint8Array over the batch's rows (0 = NULL) or null (no nulls)
//   rows(): number; heldBytes(): number
//   contentSha256(): string  — hex SHA-256 of what writeFile writes before the footer
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
                       {InstanceMethod("appendColumns", &ParquetStage::AppendColumns),
                        InstanceMethod("rows", &ParquetStage::Rows),
                        InstanceMethod("heldBytes", &ParquetStage::HeldBytes), InstanceMethod("writeFile", &ParquetStage::WriteFile),
                        InstanceMethod("contentSha256", &ParquetStage::ContentSha256),
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

  // Rows sel[0..n) of a columnar batch. Numbers are gathered into doubles (what Stage::append
  // takes; exact for every integer type up to 2^53), strings into UTF-8 string views of the
  // selected rows (string data is read as UTF-16, whose code units the offsets count).
  Napi::Value AppendColumns(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check(env);
    if (info.Length() < 3 || !info[0].IsArray() || !info[2].IsNumber()) throw Napi::TypeError::New(env, "appendColumns(cols, sel, n)");
    Napi::Array cols = info[0].As<Napi::Array>();
    if (cols.Length() != stage_->columns().size()) throw Napi::RangeError::New(env, "appendColumns: wrong number of columns");
    const int64_t n64 = info[2].As<Napi::Number>().Int64Value();
    if (n64 < 0) throw Napi::RangeError::New(env, "appendColumns: n < 0");
    const size_t n = static_cast<size_t>(n64);
    const int32_t* sel = nullptr;
    size_t batchRows = SIZE_MAX;  // rows every column must hold (the largest index + 1)
    if (info[1].IsTypedArray()) {
      Napi::TypedArray t = info[1].As<Napi::TypedArray>();
      if (t.TypedArrayType() != napi_int32_array || t.ElementLength() < n) throw Napi::TypeError::New(env, "appendColumns: sel must be an Int32Array of n rows");
      sel = reinterpret_cast<const int32_t*>(static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset());
      int32_t mx = -1;
      for (size_t i = 0; i < n; i++) {
        if (sel[i] < 0) throw Napi::RangeError::New(env, "appendColumns: negative row in sel");
        if (sel[i] > mx) mx = sel[i];
      }
      batchRows = static_cast<size_t>(mx + 1);
    } else if (!info[1].IsNull() && !info[1].IsUndefined()) {
      throw Napi::TypeError::New(env, "appendColumns: sel must be an Int32Array or null");
    } else {
      batchRows = n;
    }
    auto row = [&](size_t i) -> size_t { return sel ? static_cast<size_t>(sel[i]) : i; };
    std::vector<std::vector<double>> numStore;
    std::vector<const double*> nums;
    std::vector<std::string> strStore;
    std::vector<std::vector<std::string_view>> strs;
    numStore.reserve(stage_->numericColumns());
    strStore.reserve(stage_->stringColumns());
    for (uint32_t c = 0; c < cols.Length(); c++) {
      Napi::Value v = cols.Get(c);
      const std::string& name = stage_->columns()[c].name;
      if (stage_->columns()[c].kind == dp::Kind::String) {
        if (!v.IsObject() || !v.As<Napi::Object>().Get("data").IsString() || !v.As<Napi::Object>().Get("offsets").IsTypedArray()) {
          throw Napi::TypeError::New(env, "appendColumns: column " + name + " must be {data: string, offsets: Int32Array}");
        }
        Napi::Object o = v.As<Napi::Object>();
        Napi::TypedArray ot = o.Get("offsets").As<Napi::TypedArray>();
        if (ot.TypedArrayType() != napi_int32_array || ot.ElementLength() < batchRows + 1) throw Napi::RangeError::New(env, "appendColumns: offsets of " + name + " do not cover the rows");
        const int32_t* off = reinterpret_cast<const int32_t*>(static_cast<const uint8_t*>(ot.ArrayBuffer().Data()) + ot.ByteOffset());
        std::vector<std::string_view>& views = strs.emplace_back();
        views.reserve(n);
        if (o.Get("ascii").ToBoolean().Value()) {
          // ASCII: the text's latin1 bytes are its UTF-8 bytes and the offsets are byte offsets.
          std::string& bytes = strStore.emplace_back();
          size_t len = 0;
          napi_value sv = o.Get("data");
          if (napi_get_value_string_latin1(env, sv, nullptr, 0, &len) != napi_ok) throw Napi::Error::New(env, "appendColumns: cannot read " + name);
          bytes.resize(len + 1);
          if (napi_get_value_string_latin1(env, sv, bytes.data(), len + 1, &len) != napi_ok) throw Napi::Error::New(env, "appendColumns: cannot read " + name);
          bytes.resize(len);
          for (size_t i = 0; i < n; i++) {
            const size_t r = row(i);
            const int32_t a = off[r], b = off[r + 1];
            if (a < 0 || b < a || static_cast<size_t>(b) > len) throw Napi::RangeError::New(env, "appendColumns: offsets of " + name + " run past the data");
            views.emplace_back(bytes.data() + a, static_cast<size_t>(b - a));
          }
          continue;
        }
        std::u16string text = o.Get("data").As<Napi::String>().Utf16Value();
        std::string& out = strStore.emplace_back();
        std::vector<size_t> at(n + 1);
        for (size_t i = 0; i < n; i++) {
          const size_t r = row(i);
          const int32_t a = off[r], b = off[r + 1];
          if (a < 0 || b < a || static_cast<size_t>(b) > text.size()) throw Napi::RangeError::New(env, "appendColumns: offsets of " + name + " run past the data");
          at[i] = out.size();
          appendUtf8(out, text.data() + a, static_cast<size_t>(b - a));
        }
        at[n] = out.size();
        for (size_t i = 0; i < n; i++) views.emplace_back(out.data() + at[i], at[i + 1] - at[i]);
      } else {
        if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "appendColumns: column " + name + " must be a typed array");
        Napi::TypedArray t = v.As<Napi::TypedArray>();
        if (t.ElementLength() < batchRows) throw Napi::RangeError::New(env, "appendColumns: column " + name + " is shorter than the rows");
        const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
        std::vector<double>& out = numStore.emplace_back(n);
        switch (t.TypedArrayType()) {
          case napi_uint8_array: gather(reinterpret_cast<const uint8_t*>(base), out, n, row); break;
          case napi_uint16_array: gather(reinterpret_cast<const uint16_t*>(base), out, n, row); break;
          case napi_uint32_array: gather(reinterpret_cast<const uint32_t*>(base), out, n, row); break;
          case napi_int32_array: gather(reinterpret_cast<const int32_t*>(base), out, n, row); break;
          case napi_float32_array: gather(reinterpret_cast<const float*>(base), out, n, row); break;
          case napi_float64_array: gather(reinterpret_cast<const double*>(base), out, n, row); break;
          default: throw Napi::TypeError::New(env, "appendColumns: column " + name + " has an unsupported typed array type");
        }
        nums.push_back(out.data());
      }
    }
    // validity (optional 4th argument): per column a Uint8Array over the batch's rows (1 = present)
    // or null/undefined (no nulls)
    std::vector<std::vector<uint8_t>> validStore;
    std::vector<const uint8_t*> valid;
    if (info.Length() > 3 && !info[3].IsNull() && !info[3].IsUndefined()) {
      if (!info[3].IsArray() || info[3].As<Napi::Array>().Length() != cols.Length()) throw Napi::TypeError::New(env, "appendColumns: valid must be an array with one entry per column");
      Napi::Array va = info[3].As<Napi::Array>();
      validStore.reserve(cols.Length());
      for (uint32_t c = 0; c < va.Length(); c++) {
        Napi::Value v = va.Get(c);
        if (v.IsNull() || v.IsUndefined()) {
          valid.push_back(nullptr);
          continue;
        }
        const std::string& name = stage_->columns()[c].name;
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) throw Napi::TypeError::New(env, "appendColumns: validity of " + name + " must be a Uint8Array");
        Napi::TypedArray t = v.As<Napi::TypedArray>();
        if (t.ElementLength() < batchRows) throw Napi::RangeError::New(env, "appendColumns: validity of " + name + " is shorter than the rows");
        const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
        std::vector<uint8_t>& out = validStore.emplace_back(n);
        for (size_t i = 0; i < n; i++) out[i] = base[row(i)];
        valid.push_back(out.data());
      }
    }
    try {
      stage_->append(nums, strs, n, valid);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
  }

  // SHA-256 (hex) of the bytes writeFile() writes before the footer.
  Napi::Value ContentSha256(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check(env);
    std::string md;
    try {
      md = stage_->contentSha256();
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : md) {
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    return Napi::String::New(env, out);
  }

  template <typename T, typename Row>
  static void gather(const T* src, std::vector<double>& out, size_t n, Row row) {
    for (size_t i = 0; i < n; i++) out[i] = static_cast<double>(src[row(i)]);
  }

  // UTF-16 code units (unpaired surrogates become U+FFFD) to UTF-8.
  static void appendUtf8(std::string& out, const char16_t* s, size_t n) {
    for (size_t i = 0; i < n; i++) {
      uint32_t c = s[i];
      if (c < 0x80) { out += static_cast<char>(c); continue; }
      if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<uint32_t>(s[++i]) - 0xDC00);
      } else if (c >= 0xD800 && c <= 0xDFFF) {
        c = 0xFFFD;
      }
      if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
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
