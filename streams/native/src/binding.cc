// N-API face of the streams helpers:
//   takeFixed(dst: Uint8Array, at: number, src: TypedArray, width: 1|2|4|8, rows: Int32Array): void
//     dst[at + width*i ..] = element rows[i] of src
//   takeValues(dst: Uint8Array, at: number, src: Uint8Array, offsets: Int32Array, first: number, rows: Int32Array): number
//     the bytes of value rows[i] (src[offsets[r] - first, offsets[r + 1] - first)) back to back; returns bytes written
//   lz4Compress(src) / lz4Decompress(src, maxOut) / zstdCompress(src, level) / zstdDecompress(src, maxOut): Buffer
// Every index is checked before anything is copied: a bad call throws a RangeError, never reads
// or writes out of bounds.
#include <napi.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "codecs.h"
#include "take.h"

namespace ds = damselfly::streams;

namespace {

struct View {
  uint8_t* data;
  size_t bytes;
};

View viewOf(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a typed array");
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  return {static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset(), t.ByteLength()};
}

const int32_t* int32sOf(const Napi::Value& v, const char* what, size_t* n) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  *n = a.ElementLength();
  return a.Data();
}

size_t sizeArg(const Napi::Value& v, const char* what) {
  double d = v.ToNumber().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0) throw Napi::RangeError::New(v.Env(), std::string(what) + " must be a non-negative integer");
  return static_cast<size_t>(d);
}

Napi::Value TakeFixed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View dst = viewOf(info[0], "dst");
  size_t at = sizeArg(info[1], "at");
  View src = viewOf(info[2], "src");
  size_t width = sizeArg(info[3], "width");
  size_t n;
  const int32_t* rows = int32sOf(info[4], "rows", &n);
  if (width != 1 && width != 2 && width != 4 && width != 8) throw Napi::RangeError::New(env, "takeFixed: width must be 1, 2, 4 or 8");
  if (at > dst.bytes || (dst.bytes - at) / width < n) throw Napi::RangeError::New(env, "takeFixed: dst too small");
  const size_t count = src.bytes / width;
  for (size_t i = 0; i < n; i++)
    if (rows[i] < 0 || static_cast<size_t>(rows[i]) >= count) throw Napi::RangeError::New(env, "takeFixed: row out of range");
  ds::takeFixed(dst.data + at, src.data, width, rows, n);
  return env.Undefined();
}

Napi::Value TakeValues(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View dst = viewOf(info[0], "dst");
  size_t at = sizeArg(info[1], "at");
  View src = viewOf(info[2], "src");
  size_t no;
  const int32_t* offsets = int32sOf(info[3], "offsets", &no);
  int32_t first = info[4].ToNumber().Int32Value();
  size_t n;
  const int32_t* rows = int32sOf(info[5], "rows", &n);
  if (at > dst.bytes) throw Napi::RangeError::New(env, "takeValues: dst too small");
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t r = rows[i];
    if (r < 0 || static_cast<size_t>(r) + 1 >= no) throw Napi::RangeError::New(env, "takeValues: row out of range");
    int64_t a = static_cast<int64_t>(offsets[r]) - first;
    int64_t b = static_cast<int64_t>(offsets[r + 1]) - first;
    if (a < 0 || b < a || static_cast<uint64_t>(b) > src.bytes) throw Napi::RangeError::New(env, "takeValues: offsets out of range");
    total += static_cast<size_t>(b - a);
  }
  if (dst.bytes - at < total) throw Napi::RangeError::New(env, "takeValues: dst too small");
  return Napi::Number::New(env, static_cast<double>(ds::takeValues(dst.data + at, src.data, offsets, first, rows, n)));
}

Napi::Value toBuffer(Napi::Env env, ds::Bytes& out) {
  size_t n = out.size();
  uint8_t* p = out.release();
  return Napi::Buffer<uint8_t>::New(env, p, n, [](Napi::Env, uint8_t* q) { std::free(q); });
}

template <void (*F)(const uint8_t*, size_t, ds::Bytes&)>
Napi::Value Compress1(const Napi::CallbackInfo& info) {
  View src = viewOf(info[0], "src");
  ds::Bytes out;
  try {
    F(src.data, src.bytes, out);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return toBuffer(info.Env(), out);
}

void lz4c(const uint8_t* s, size_t n, ds::Bytes& o) { ds::lz4FrameCompress(s, n, o); }

Napi::Value ZstdCompress(const Napi::CallbackInfo& info) {
  View src = viewOf(info[0], "src");
  int level = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 3;
  ds::Bytes out;
  try {
    ds::zstdCompress(src.data, src.bytes, level, out);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return toBuffer(info.Env(), out);
}

template <void (*F)(const uint8_t*, size_t, size_t, ds::Bytes&)>
Napi::Value Decompress(const Napi::CallbackInfo& info) {
  View src = viewOf(info[0], "src");
  size_t maxOut = info.Length() > 1 && info[1].IsNumber() ? sizeArg(info[1], "maxOut") : (size_t{1} << 30);
  ds::Bytes out;
  try {
    F(src.data, src.bytes, maxOut, out);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return toBuffer(info.Env(), out);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("takeFixed", Napi::Function::New(env, TakeFixed));
  exports.Set("takeValues", Napi::Function::New(env, TakeValues));
  exports.Set("lz4Compress", Napi::Function::New(env, Compress1<lz4c>));
  exports.Set("lz4Decompress", Napi::Function::New(env, Decompress<ds::lz4FrameDecompress>));
  exports.Set("zstdCompress", Napi::Function::New(env, ZstdCompress));
  exports.Set("zstdDecompress", Napi::Function::New(env, Decompress<ds::zstdDecompress>));
  return exports;
}

}  // namespace

NODE_API_MODULE(damselfly_streams, Init)
