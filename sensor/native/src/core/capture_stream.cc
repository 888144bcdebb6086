#include "capture_stream.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>

namespace dfly {

namespace {

enum class Codec { Plain, Gzip, Zstd };

constexpr size_t kInBuf = 256 * 1024;

/** One open stream: the fd, the compressed bytes read ahead, and the decoder. */
struct Stream {
  int fd = -1;
  Codec codec = Codec::Plain;
  uint8_t in[kInBuf];
  size_t in_pos = 0;
  size_t in_len = 0;
  bool eof = false;
  z_stream z{};
  bool z_init = false;
  ZSTD_DStream* zs = nullptr;
  /** A decoding error: reported by the next read as EIO (libpcap then names the file). */
  bool failed = false;

  ~Stream() {
    if (z_init) inflateEnd(&z);
    if (zs) ZSTD_freeDStream(zs);
    if (fd >= 0) close(fd);
  }

  /** Reads more compressed bytes; false at end of input or on error (errno set). */
  bool fill() {
    if (in_pos < in_len) return true;
    if (eof) return false;
    ssize_t n;
    do n = read(fd, in, kInBuf); while (n < 0 && errno == EINTR);
    if (n < 0) return false;
    if (n == 0) {
      eof = true;
      return false;
    }
    in_pos = 0;
    in_len = static_cast<size_t>(n);
    return true;
  }

  ssize_t readPlain(char* buf, size_t size) {
    if (in_pos < in_len) {
      size_t n = std::min(size, in_len - in_pos);
      memcpy(buf, in + in_pos, n);
      in_pos += n;
      return static_cast<ssize_t>(n);
    }
    ssize_t n;
    do n = ::read(fd, buf, size); while (n < 0 && errno == EINTR);
    return n;
  }

  ssize_t readGzip(char* buf, size_t size) {
    size_t out = 0;
    while (out < size) {
      if (!fill()) {
        if (errno != 0 && !eof) return -1;
        break;
      }
      z.next_in = in + in_pos;
      z.avail_in = static_cast<uInt>(in_len - in_pos);
      z.next_out = reinterpret_cast<Bytef*>(buf + out);
      z.avail_out = static_cast<uInt>(size - out);
      int r = inflate(&z, Z_NO_FLUSH);
      in_pos = in_len - z.avail_in;
      out = size - z.avail_out;
      if (r == Z_STREAM_END) {
        inflateReset(&z);  // concatenated gzip members (pigz, rotated appends) go on
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        failed = true;
        break;
      }
    }
    if (failed && out == 0) {
      errno = EIO;
      return -1;
    }
    return static_cast<ssize_t>(out);
  }

  ssize_t readZstd(char* buf, size_t size) {
    ZSTD_outBuffer o{buf, size, 0};
    while (o.pos < o.size) {
      if (!fill()) {
        if (errno != 0 && !eof) return -1;
        break;
      }
      ZSTD_inBuffer i{in + in_pos, in_len - in_pos, 0};
      size_t r = ZSTD_decompressStream(zs, &o, &i);
      in_pos += i.pos;
      if (ZSTD_isError(r)) {
        failed = true;
        break;
      }
    }
    if (failed && o.pos == 0) {
      errno = EIO;
      return -1;
    }
    return static_cast<ssize_t>(o.pos);
  }
};

ssize_t cookieRead(void* c, char* buf, size_t size) {
  Stream* s = static_cast<Stream*>(c);
  if (s->failed) {
    errno = EIO;
    return -1;
  }
  errno = 0;
  switch (s->codec) {
    case Codec::Gzip: return s->readGzip(buf, size);
    case Codec::Zstd: return s->readZstd(buf, size);
    default: return s->readPlain(buf, size);
  }
}

int cookieClose(void* c) {
  delete static_cast<Stream*>(c);
  return 0;
}

}  // namespace

FILE* open_capture_stream(const std::string& path, std::string* err, std::string* kind) {
  err->clear();
  kind->clear();
  const bool stdin_ = path == "-";
  int fd = stdin_ ? dup(0) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = "cannot open capture '" + path + "': " + strerror(errno);
    return nullptr;
  }
  std::unique_ptr<Stream> s(new Stream());
  s->fd = fd;
  // The first bytes say what it is (read, not peeked: a pipe cannot seek back).
  while (s->in_len < 4 && !s->eof) {
    ssize_t n = ::read(fd, s->in + s->in_len, kInBuf - s->in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = "cannot read capture '" + path + "': " + strerror(errno);
      return nullptr;
    }
    if (n == 0) s->eof = true;
    s->in_len += static_cast<size_t>(n);
  }
  const uint8_t* m = s->in;
  if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    s->codec = Codec::Gzip;
    if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
      *err = "cannot open capture '" + path + "': zlib initialisation failed";
      return nullptr;
    }
    s->z_init = true;
    *kind = "gzip";
  } else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    s->codec = Codec::Zstd;
    s->zs = ZSTD_createDStream();
    if (!s->zs) {
      *err = "cannot open capture '" + path + "': out of memory";
      return nullptr;
    }
    *kind = "zstd";
  } else if (!stdin_) {
    return nullptr;  // a plain file: the caller opens (and may map) it
  } else {
    *kind = "stdin";
  }
  if (stdin_ && kind->empty()) *kind = "stdin";
  cookie_io_functions_t io{cookieRead, nullptr, nullptr, cookieClose};
  FILE* f = fopencookie(s.get(), "rb", io);
  if (!f) {
    *err = "cannot open capture '" + path + "': " + strerror(errno);
    return nullptr;
  }
  s.release();
  return f;
}

}  // namespace dfly
