// Capture files: opening pcap/pcapng files (libpcap, with a BPF filter when one is set; standard
// input and gzip/zstd-compressed files through capture_stream.h), and
// reading classic pcap files without a filter from a read-only mapping instead (no double copy
// through stdio and libpcap's buffer; pages already read are dropped every 4 MiB so RSS stays
// small; libpcap's record checks and messages are kept). Each packet goes to packet_process().
// Threading: single-threaded per Sensor (see capture.h). Memory: the mapping, or libpcap's handle
// and buffer, owned by the Sensor until capture_close().
#include "capture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "bpf_filter.h"
#include "capture_stream.h"

namespace dfly {

// ============================================================================================
// capture_*
// ============================================================================================

bool Sensor::capture_open(const std::string& path, std::string* err) {
  capture_close();
  char errbuf[PCAP_ERRBUF_SIZE];
  errbuf[0] = 0;
  // Our own FILE for libpcap: a 1 MiB buffer (glibc's default is the 4 KiB block size: one read
  // syscall per few packets) and no stdio locking (libpcap freads twice per packet; only this
  // thread touches the stream).
  // Standard input and gzip/zstd-compressed files come through a decompressing stream
  // (capture_stream.h); plain files are opened here (and may be mapped below).
  std::string kind;
  FILE* fp = open_capture_stream(path, err, &kind);
  if (!fp && !err->empty()) return false;
  if (!fp) fp = fopen(path.c_str(), "rb");
  if (!fp) {
    *err = "cannot open capture '" + path + "': " + strerror(errno);
    return false;
  }
  setvbuf(fp, nullptr, _IOFBF, 1 << 20);
  __fsetlocking(fp, FSETLOCKING_BYCALLER);
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) {
    fclose(fp);  // libpcap leaves the stream open on failure
    *err = "cannot open capture '" + path + "': " + errbuf;
    return false;
  }
  if (!cfg_.filter.empty() && !pcap_apply_filter(p, cfg_.filter, " for '" + path + "'", "'" + path + "'", err)) {
    pcap_close(p);
    return false;
  }
  pcap_ = p;
  dlt_ = pcap_datalink(p);
  path_ = path;
  file_packets_ = 0;
  stats_.files++;
  if (cfg_.filter.empty()) map_open();
  return true;
}

// Classic pcap files (not pcapng) without a BPF filter are read from a read-only mapping: no
// copy of the packet bytes. libpcap's read path copies every byte twice (kernel → stdio buffer →
// its packet buffer): ~35% of the core's time on a 734 MB capture. libpcap has already checked
// the file header and tells the link type and snapshot length; the records are walked here with
// libpcap's checks and error messages (sf-pcap.c). Anything unusual keeps the libpcap path.
void Sensor::map_open() {
  FILE* f = pcap_file(pcap_);
  if (!f) return;
  const int fd = fileno(f);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) return;
  uint8_t hdr[24];
  if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) return;
  uint32_t magic;
  memcpy(&magic, hdr, 4);
  bool swap, nsec;
  if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
    swap = false;
    nsec = magic == 0xa1b23c4du;
  } else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
    swap = true;
    nsec = magic == 0x4d3cb2a1u;
  } else {
    return;  // pcapng or a variant: libpcap reads it
  }
  // Only version 2.4: older versions may have caplen and len swapped, which libpcap undoes.
  uint16_t major, minor;
  memcpy(&major, hdr + 4, 2);
  memcpy(&minor, hdr + 6, 2);
  if (swap) {
    major = __builtin_bswap16(major);
    minor = __builtin_bswap16(minor);
  }
  if (major != 2 || minor != 4) return;
  void* m = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) return;
  madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
  map_.base = static_cast<const uint8_t*>(m);
  map_.size = (size_t)st.st_size;
  map_.off = 24;
  map_.swap = swap;
  map_.nsec = nsec;
  map_.snapshot = (uint32_t)pcap_snapshot(pcap_);
  // libpcap's max_snaplen_for_dlt(): 256 KiB, more for a few USB/D-Bus link types
  map_.max_caplen = dlt_ == DLT_DBUS ? 128u * 1024 * 1024 : (dlt_ == DLT_USBPCAP || dlt_ == DLT_EBHSCR) ? 1024u * 1024 : 262144u;
  if (map_.snapshot == 0 || map_.snapshot > map_.max_caplen) map_.snapshot = map_.max_caplen;
  map_.fd = dup(fd);
  pcap_close(pcap_);  // closes the stream; the mapping stays valid
  pcap_ = nullptr;
}

void Sensor::capture_close() {
  if (pcap_) { pcap_close(pcap_); pcap_ = nullptr; }
  if (map_.base) {
    munmap(const_cast<uint8_t*>(map_.base), map_.size);
    if (map_.fd >= 0) close(map_.fd);
    map_ = Mapped();
  }
}

static inline uint32_t rd32(const uint8_t* p, bool swap) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}

bool Sensor::map_read_batch(uint64_t max_packets, bool* has_error, CaptureError* err, uint64_t* pkts_out, uint64_t* bytes_out) {
  uint64_t n = 0, bytes = 0;
  bool done = false;
  auto fail = [&](std::string msg, size_t at) {
    *has_error = true;
    err->file = path_;
    err->packet_index = file_packets_;
    err->byte_offset = (int64_t)at;
    err->message = std::move(msg);
    stats_.capture_errors++;
    done = true;
  };
  const uint8_t* base = map_.base;
  const size_t size = map_.size;
  size_t off = map_.off;
  // Touching mapped pages past a file's new end raises SIGBUS: a file cut short while it is read
  // (between batches) ends with an error instead. A cut within one batch is not caught.
  struct stat st;
  if (map_.fd >= 0 && fstat(map_.fd, &st) == 0 && (size_t)st.st_size < size) {
    fail("capture file shrank from " + std::to_string(size) + " to " + std::to_string((long long)st.st_size) + " bytes while being read", off);
    *pkts_out = 0;
    *bytes_out = 0;
    capture_close();
    return true;
  }
  while (n < max_packets) {
    const size_t left = size - off;
    if (left == 0) {
      done = true;
      break;
    }
    if (left < 16) {
      fail("truncated dump file; tried to read 16 file header bytes, only got " + std::to_string(left), size);
      break;
    }
    const uint8_t* h = base + off;
    const uint32_t sec = rd32(h, map_.swap), frac = rd32(h + 4, map_.swap), caplen = rd32(h + 8, map_.swap);
    if (caplen > map_.max_caplen) {
      fail("invalid packet capture length " + std::to_string(caplen) + ", bigger than maximum of " + std::to_string(map_.max_caplen), off + 16);
      break;
    }
    if (left - 16 < caplen) {
      fail("truncated dump file; tried to read " + std::to_string(caplen) + " captured bytes, only got " + std::to_string(left - 16), size);
      break;
    }
    uint32_t cap = caplen > map_.snapshot ? map_.snapshot : caplen;
    if (cfg_.snaplen && cap > cfg_.snaplen) cap = cfg_.snaplen;
    // Both timestamp fields are signed 32-bit in the format, as libpcap reads them.
    const int32_t ssec = (int32_t)sec, sfrac = (int32_t)frac;
    const int64_t ts = (int64_t)ssec * 1000000 + (int64_t)(map_.nsec ? sfrac / 1000 : sfrac);
    n++;
    bytes += cap;
    file_packets_++;
    packet_process(dlt_, ts, h + 16, cap);
    off += 16 + (size_t)caplen;
    // Drop what was read from the mapping every 4 MiB (the page cache keeps it): the process's
    // RSS then holds a few MiB of the file, not all of it.
    if (off - map_.released >= (4u << 20)) {
      const size_t to = off & ~(size_t)0xfffff;
      madvise(const_cast<uint8_t*>(base) + map_.released, to - map_.released, MADV_DONTNEED);
      map_.released = to;
    }
  }
  map_.off = off;
  *pkts_out = n;
  *bytes_out = bytes;
  if (done) capture_close();
  return done;
}

bool Sensor::capture_read_batch(uint64_t max_packets, bool* has_error, CaptureError* err,
                                uint64_t* pkts_out, uint64_t* bytes_out) {
  *has_error = false;
  *pkts_out = 0;
  *bytes_out = 0;
  if (map_.base) return map_read_batch(max_packets, has_error, err, pkts_out, bytes_out);
  if (!pcap_) return true;
  uint64_t n = 0, bytes = 0;
  bool done = false;
  while (n < max_packets) {
    struct pcap_pkthdr* hdr;
    const u_char* data;
    int rc = pcap_next_ex(pcap_, &hdr, &data);
    if (rc == 1) {
      uint32_t cap = hdr->caplen;
      if (cfg_.snaplen && cap > cfg_.snaplen) cap = cfg_.snaplen;
      int64_t ts = (int64_t)hdr->ts.tv_sec * 1000000 + (int64_t)hdr->ts.tv_usec;
      n++;
      bytes += cap;
      file_packets_++;
      packet_process(dlt_, ts, data, cap);
    } else if (rc == PCAP_ERROR_BREAK || rc == 0) {  // -2: end of file (0 cannot happen offline)
      done = true;
      break;
    } else {
      *has_error = true;
      err->file = path_;
      err->packet_index = file_packets_;
      FILE* f = pcap_file(pcap_);
      err->byte_offset = f ? (int64_t)ftell(f) : -1;
      err->message = pcap_geterr(pcap_);
      stats_.capture_errors++;
      done = true;
      break;
    }
  }
  *pkts_out = n;
  *bytes_out = bytes;
  if (done) capture_close();
  return done;
}

}  // namespace dfly
