// nDPI-compatible TCP and composite fingerprints (see the header for what was followed).
// Threading: pure functions; the OS table is immutable. Memory: stack buffers bounded as nDPI's.
#include "ndpi_fingerprint.h"

#include <cstdio>
#include <cstring>

#include "digest.h"
#include "features.h"

namespace dfly {

// ============================================================================================
// TCP fingerprint
// ============================================================================================

namespace {

// nDPI's options_fp: a 128-byte buffer written with snprintf("%02x"); an append that would reach
// the end of the buffer is refused and ends the parse (at most 126 hex characters).
struct OptionsHex {
  char s[128];
  uint32_t n = 0;
  bool put(uint8_t v) {
    if (n + 2 == sizeof s) return false;
    static const char* hx = "0123456789abcdef";
    s[n++] = hx[v >> 4];
    s[n++] = hx[v & 15];
    return true;
  }
};

uint8_t ttl_bucket(uint8_t ttl) {
  if (ttl <= 32) return 32;
  if (ttl <= 64) return 64;
  if (ttl <= 128) return 128;
  if (ttl <= 192) return 192;
  return 255;
}

}  // namespace

bool tcp_fp_from_packet(const PacketInfo& pi, TcpFingerprint* out) {
  if (!pi.has_tcp || !pi.l4 || pi.l4_caplen < 20) return false;
  if (pi.is_fragment || pi.more_frags || pi.frag_offset) return false;  // nDPI skips IP fragments
  const uint8_t* t = pi.l4;
  uint16_t flags = (uint16_t)((t[12] << 8 | t[13]) & 0x0fff);
  if (!(flags & (TCP_SYN | TCP_ECE | TCP_CWR)) || (flags & TCP_ACK)) return false;
  uint32_t hl = (uint32_t)(t[12] >> 4) * 4;
  if (hl < 20 || pi.l4_len < hl || pi.l4_caplen < hl) return false;
  // The option walk of nDPI's native format (see the header), cursor and bounds as there (u_int8_t).
  const uint8_t* opt = t + 20;
  const uint8_t olen = (uint8_t)(hl - 20);
  OptionsHex h;
  for (uint8_t i = 0; i < olen;) {
    uint8_t kind = opt[i];
    if (!h.put(kind)) break;
    if (kind == 0) {         // EOL: the rest is padding
      break;
    } else if (kind == 1) {  // NOP
      i++;
    } else if (i + 1 < olen) {
      uint8_t len = opt[i + 1];
      if (len == 0) continue;  // nDPI re-reads the same option until the buffer is full
      if (kind != 8 && len > 2) {  // Timestamps: kind only
        int j = i + 2;
        uint8_t left = (uint8_t)(len - 2);
        while (left > 0 && j < olen) {
          if (!h.put(opt[j])) break;
          j++, left--;
        }
      }
      i = (uint8_t)(i + len);
    } else {
      break;
    }
  }
  uint8_t sha[32];
  sha256(h.s, h.n, sha);
  out->flags = flags;
  out->window = (uint16_t)(t[14] << 8 | t[15]);
  out->ttl = ttl_bucket(pi.ttl);
  out->set = 1;
  memcpy(out->options_sha, sha, sizeof out->options_sha);
  return true;
}

std::string tcp_fp_text(const TcpFingerprint& fp) {
  char b[64];
  int n = snprintf(b, sizeof b, "%u_%u_%u_", fp.flags, fp.ttl, fp.window);
  hex_lower(fp.options_sha, sizeof fp.options_sha, b + n);
  return b;
}

// ============================================================================================
// OS hint
// ============================================================================================

namespace {

enum NdpiOs : uint8_t { OS_UNKNOWN, OS_WINDOWS, OS_MACOS, OS_IOS, OS_ANDROID, OS_LINUX, OS_FREEBSD };

const char* os_name(uint8_t os) {  // ndpi_print_os_hint()
  switch (os) {
    case OS_WINDOWS: return "Windows";
    case OS_MACOS: return "macOS";
    case OS_IOS: return "iOS/iPad";
    case OS_ANDROID: return "Android";
    case OS_LINUX: return "Linux";
    case OS_FREEBSD: return "FreeBSD";
    default: return "Unknown";
  }
}

// nDPI's built-in table for this fingerprint format (first match wins, as its hash insert does),
// as in the nDPI that wrote ../shared/data/ndpi/result: the stored 5.0-era copy also maps
// 2_64_32120_2e3cee914fc1 (Linux), 2_128_32768_5a9ef1c58d0b and 2_128_65535_6bb88f5575fd
// (Windows), which those results report as Unknown.
struct OsFingerprint { const char* fp; uint8_t os; };
const OsFingerprint kOsFingerprints[] = {
  {"2_64_65535_8bf9e292397e", OS_FREEBSD},

  {"2_64_64800_83b2f9a5576c", OS_LINUX}, {"2_64_64240_2e3cee914fc1", OS_LINUX},
  {"2_64_29200_2e3cee914fc1", OS_LINUX}, {"2_64_29200_d853e95bd80f", OS_LINUX},  // Sonos
  {"2_64_14600_8c07a80cc645", OS_LINUX},  // QNAP
  {"2_64_29200_90541420d839", OS_LINUX},  // SUSE
  {"2_64_64240_41a9d5af7dd3", OS_LINUX},

  {"2_64_65535_d876f498b09e", OS_ANDROID}, {"2_64_65535_685ad951a756", OS_ANDROID},
  {"2_64_65535_41a9d5af7dd3", OS_ANDROID}, {"2_64_65535_148107a0d970", OS_ANDROID},
  {"2_64_65535_f518bfb025b0", OS_ANDROID},

  {"2_128_64240_6bb88f5575fd", OS_WINDOWS}, {"2_128_8192_4697958db063", OS_WINDOWS},  // Windows 7
  {"194_128_64240_0c6c715fcb8e", OS_WINDOWS}, {"194_128_64240_29659b8d8574", OS_WINDOWS},
  {"194_128_32768_e75eea53a4fd", OS_WINDOWS}, {"194_128_32768_84fee6d35dde", OS_WINDOWS},
  {"194_128_64240_6bb88f5575fd", OS_WINDOWS},
  {"194_128_32768_5a9ef1c58d0b", OS_WINDOWS},
  {"194_128_32_5a9ef1c58d0b", OS_WINDOWS}, {"194_128_64954_5df61ba47d16", OS_WINDOWS},
  {"194_128_65160_720287bf387b", OS_WINDOWS}, {"194_128_65160_f7c19d625909", OS_WINDOWS},
  {"194_128_65340_5df61ba47d16", OS_WINDOWS}, {"194_128_65535_35ea98532c26", OS_WINDOWS},
  {"194_128_65535_6bb88f5575fd", OS_WINDOWS}, {"194_128_65535_9f39700b863a", OS_WINDOWS},
  {"194_128_8192_5a9ef1c58d0b", OS_WINDOWS}, {"2_128_62636_f7c19d625909", OS_WINDOWS},
  {"2_128_62720_6bb88f5575fd", OS_WINDOWS}, {"2_128_64390_186255600578", OS_WINDOWS},
  {"2_128_64512_d978a30274f9", OS_WINDOWS}, {"2_128_64668_ba856ac24bae", OS_WINDOWS},
  {"2_128_64872_7ec39e7a0c60", OS_WINDOWS}, {"2_128_65010_d7f34a3d4a0e", OS_WINDOWS},
  {"2_128_65088_e6db4d959510", OS_WINDOWS}, {"2_128_65160_f7c19d625909", OS_WINDOWS},
  {"2_128_65312_6e130c7ac874", OS_WINDOWS}, {"2_128_65424_d408bed9ba71", OS_WINDOWS},
  {"2_128_65520_91f9ecb5d85c", OS_WINDOWS}, {"2_128_65535_46c195dc1606", OS_WINDOWS},
  {"2_128_65535_8739305ee1fa", OS_WINDOWS}, {"2_128_65535_91f9ecb5d85c", OS_WINDOWS},
  {"2_128_65535_d408bed9ba71", OS_WINDOWS}, {"2_128_65535_d7f34a3d4a0e", OS_WINDOWS},
  {"2_128_65535_e83222749ab9", OS_WINDOWS}, {"2_128_65535_f7c19d625909", OS_WINDOWS},

  {"194_64_65535_15db81ff8b0d", OS_IOS}, {"194_64_65535_dd5737e4fedb", OS_IOS},
  {"194_64_65535_d3a424420f2a", OS_IOS},

  {"194_64_65535_d29295416479", OS_MACOS}, {"194_64_65535_78dd6871cb6d", OS_MACOS},
  {"2_64_65535_d29295416479", OS_MACOS}, {"2_64_0_d29295416479", OS_MACOS},
  {"2_64_65535_dd5737e4fedb", OS_MACOS}, {"2_64_65535_99a660d3e328", OS_MACOS},
  {"2_64_65535_78dd6871cb6d", OS_MACOS}, {"2_64_65535_09b18f059744", OS_MACOS},
};

}  // namespace

const char* tcp_fp_os(const std::string& fp_text) {
  for (const OsFingerprint& e : kOsFingerprints)
    if (fp_text == e.fp) return os_name(e.os);
  return os_name(OS_UNKNOWN);
}

// ============================================================================================
// Composite nDPI fingerprint
// ============================================================================================

std::string ndpi_flow_fp(const std::string& tcp_fp, const std::string& ja4) {
  if (tcp_fp.empty() && ja4.empty()) return std::string();
  char buf[128];
  int s = snprintf(buf, sizeof buf - 1, "%s-%s%s-%s", tcp_fp.empty() ? "no_l4_fp" : tcp_fp.c_str(),
                   ja4.empty() ? "no_app_fp_cli" : ja4.c_str(), "" /* TLS blocks: analysis off */,
                   "no_app_fp_srv" /* client-only format */);
  if (s <= 0) return std::string();
  if (s > (int)sizeof buf - 1) s = (int)sizeof buf - 1;
  uint8_t sha[32];
  sha256(buf, (size_t)s, sha);
  char hex[33];
  hex_lower(sha, 16, hex);
  return hex;
}

}  // namespace dfly
