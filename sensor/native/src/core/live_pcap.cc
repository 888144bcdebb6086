// libpcap live backend. Threading: live_poll() runs on the capture thread only; live_wakeup()
// calls pcap_breakloop(), which libpcap >= 1.10 makes safe from another thread (eventfd), and the
// read timeout bounds the wait anyway. Memory: packet data is borrowed from libpcap's ring.
#include "live_pcap.h"

#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "bpf_filter.h"
#include "live_afpacket.h"

namespace dfly {

std::unique_ptr<LiveCapture> live_capture_create(const std::string& type) {
  if (type == "pcap") return std::make_unique<PcapLive>();
  if (type == "afpacket") return std::make_unique<AfPacketLive>();
  return nullptr;
}

PcapLive::~PcapLive() {
  if (p_) pcap_close(p_);
}

bool PcapLive::live_open(const LiveConfig& cfg, std::string* err) {
  const std::string& ifc = cfg.iface;
  if (if_nametoindex(ifc.c_str()) == 0) {
    *err = "interface " + ifc + ": no such interface";
    return false;
  }
  char errbuf[PCAP_ERRBUF_SIZE];
  errbuf[0] = 0;
  pcap_t* p = pcap_create(ifc.c_str(), errbuf);
  if (!p) {
    *err = "interface " + ifc + ": " + errbuf;
    return false;
  }
  snaplen_ = cfg.snaplen ? cfg.snaplen : 65535;
  pcap_set_snaplen(p, (int)snaplen_);
  pcap_set_promisc(p, cfg.promisc ? 1 : 0);
  pcap_set_timeout(p, cfg.timeout_ms);
  // Not immediate mode: libpcap then uses a TPACKET_V3 ring, where packets are packed into blocks
  // and a block is handed over when full or after timeout_ms (100 ms), which is soon enough for a
  // flow meter. Immediate mode uses TPACKET_V2, one fixed slot per packet sized for the largest
  // frame (64 KiB+ on interfaces with offloads, e.g. veth): a 64 MiB buffer then held ~1,000
  // packets and dropped from ~90k packets/s (bench/live-capture.ts); with V3 it holds ~64 MiB of
  // packets. 64 MiB, like a small AF_PACKET ring (libpcap's default is 2 MiB).
  pcap_set_buffer_size(p, 64 << 20);
  int rc = pcap_activate(p);
  if (rc < 0) {
    switch (rc) {
      case PCAP_ERROR_NO_SUCH_DEVICE: *err = "interface " + ifc + ": no such interface"; break;
      case PCAP_ERROR_PERM_DENIED:
      case PCAP_ERROR_PROMISC_PERM_DENIED:
        *err = "live capture on " + ifc + " needs root (CAP_NET_RAW): permission denied";
        break;
      case PCAP_ERROR_IFACE_NOT_UP: *err = "interface " + ifc + " is down"; break;
      default: *err = "cannot capture on " + ifc + ": " + pcap_geterr(p); break;
    }
    pcap_close(p);
    return false;
  }
  if (!cfg.filter.empty() && !pcap_apply_filter(p, cfg.filter, "", ifc, err)) {
    pcap_close(p);
    return false;
  }
  p_ = p;
  dlt_ = pcap_datalink(p);
  return true;
}

namespace {
struct PcapCtx {
  LivePacketFn fn;
  void* ctx;
  int dlt;
  uint32_t snaplen;
};
void on_pcap_packet(u_char* user, const struct pcap_pkthdr* h, const u_char* data) {
  auto* c = reinterpret_cast<PcapCtx*>(user);
  uint32_t cap = h->caplen < c->snaplen ? h->caplen : c->snaplen;
  c->fn(c->ctx, c->dlt, (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec, data, cap);
}
}  // namespace

int PcapLive::live_poll(LivePacketFn fn, void* ctx, std::string* err) {
  PcapCtx c{fn, ctx, dlt_, snaplen_};
  if (!nonblock_ && stopping_.load(std::memory_order_acquire)) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_setnonblock(p_, 1, errbuf);
    nonblock_ = true;
  }
  int n = pcap_dispatch(p_, -1, on_pcap_packet, reinterpret_cast<u_char*>(&c));
  if (n == PCAP_ERROR_BREAK) return 0;
  if (n < 0) {
    *err = "capture on " + std::string(pcap_geterr(p_));
    return -1;
  }
  return n;
}

void PcapLive::live_wakeup() {
  stopping_.store(true, std::memory_order_release);
  if (p_) pcap_breakloop(p_);
}

void PcapLive::live_stats(LiveStats* out) {
  struct pcap_stat st;
  if (p_ && pcap_stats(p_, &st) == 0) {
    out->received = st.ps_recv;
    out->dropped = st.ps_drop;
    out->if_dropped = st.ps_ifdrop;
  }
}

}  // namespace dfly
