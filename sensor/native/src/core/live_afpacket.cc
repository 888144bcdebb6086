// AF_PACKET TPACKET_V3 backend. Threading: live_poll() on the capture thread only; live_wakeup()
// writes the eventfd that live_poll()'s poll() also waits on. Memory: blocks of the mmap'ed ring
// are read in place and returned to the kernel (TP_STATUS_KERNEL) right after their packets.
#include "live_afpacket.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef PACKET_FANOUT_FLAG_DEFRAG
#define PACKET_FANOUT_FLAG_DEFRAG 0x8000
#endif

namespace dfly {

AfPacketLive::~AfPacketLive() { close_all(); }

void AfPacketLive::close_all() {
  if (ring_) { munmap(ring_, ring_len_); ring_ = nullptr; }
  if (fd_ >= 0) { close(fd_); fd_ = -1; }
  if (wake_fd_ >= 0) { close(wake_fd_); wake_fd_ = -1; }
}

static int fanout_mode_value(const std::string& m) {
  // hash: symmetric flow hash (both directions of a flow reach the same socket); DEFRAG so the
  // fragments of a datagram are hashed like its first fragment.
  if (m == "hash") return PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
  if (m == "lb") return PACKET_FANOUT_LB;
  if (m == "cpu") return PACKET_FANOUT_CPU;
  if (m == "rollover") return PACKET_FANOUT_ROLLOVER;
  if (m == "random") return PACKET_FANOUT_RND;
  return -1;
}

bool AfPacketLive::live_open(const LiveConfig& cfg, std::string* err) {
  close_all();
  iface_ = cfg.iface;
  const std::string& ifc = cfg.iface;
  auto fail = [&](const std::string& what, int e) {
    *err = what + ": " + strerror(e);
    close_all();
    return false;
  };
  unsigned ifindex = if_nametoindex(ifc.c_str());
  if (ifindex == 0) {
    *err = "interface " + ifc + ": no such interface";
    return false;
  }
  long page = sysconf(_SC_PAGESIZE);
  if (cfg.block_size == 0 || cfg.block_size % (uint32_t)page != 0) {
    *err = "afpacket.block_size " + std::to_string(cfg.block_size) + " must be a multiple of the page size (" + std::to_string(page) + ")";
    return false;
  }
  if (cfg.block_count == 0) {
    *err = "afpacket.block_count must be > 0";
    return false;
  }
  int fmode = 0;
  if (cfg.fanout_group) {
    fmode = fanout_mode_value(cfg.fanout_mode);
    if (fmode < 0) {
      *err = "afpacket.fanout_mode '" + cfg.fanout_mode + "': must be one of hash, lb, cpu, rollover, random";
      return false;
    }
  }
  // Protocol 0: the socket receives nothing until bind() below, so no packet reaches the ring
  // before the filter and the fanout group are in place.
  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    int e = errno;
    if (e == EPERM || e == EACCES) {
      *err = "live capture on " + ifc + " needs root (CAP_NET_RAW): permission denied";
      return false;
    }
    return fail("cannot open an AF_PACKET socket", e);
  }
  // Link type: Ethernet framing only (veth, physical NICs, loopback).
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifc.c_str());
  if (ioctl(fd_, SIOCGIFHWADDR, &ifr) < 0) return fail("interface " + ifc, errno);
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER && ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK) {
    *err = "interface " + ifc + ": afpacket supports Ethernet interfaces only (use --live pcap)";
    close_all();
    return false;
  }
  snaplen_ = cfg.snaplen ? cfg.snaplen : 65535;
  timeout_ms_ = cfg.timeout_ms;
  if (!cfg.filter.empty()) {
    // pcap_compile_nopcap() is deprecated and has no error text; a dead handle compiles the same
    // program (it is what pcap_compile_nopcap() does inside) and reports why a filter is wrong.
    struct bpf_program prog;
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, (int)snaplen_);
    if (!dead) return fail("cannot compile the BPF filter", ENOMEM);
    if (pcap_compile(dead, &prog, cfg.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      *err = "invalid filter '" + cfg.filter + "': " + pcap_geterr(dead);
      pcap_close(dead);
      close_all();
      return false;
    }
    pcap_close(dead);
    struct sock_fprog fp;
    fp.len = (unsigned short)prog.bf_len;
    fp.filter = reinterpret_cast<struct sock_filter*>(prog.bf_insns);
    int r = setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
    int e = errno;
    pcap_freecode(&prog);
    if (r < 0) return fail("cannot attach the BPF filter", e);
  }
  int ver = TPACKET_V3;
  if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) < 0) return fail("TPACKET_V3 unsupported", errno);
  struct tpacket_req3 req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = cfg.block_size;
  req.tp_block_nr = cfg.block_count;
  req.tp_frame_size = TPACKET_ALIGNMENT << 7;  // 2048: only used to size tp_frame_nr in V3
  req.tp_frame_nr = (cfg.block_size / req.tp_frame_size) * cfg.block_count;
  req.tp_retire_blk_tov = (unsigned)(cfg.timeout_ms > 0 ? cfg.timeout_ms : 100);  // ms: partly filled blocks are handed over
  if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
    return fail("cannot create the AF_PACKET ring (" + std::to_string((uint64_t)cfg.block_size * cfg.block_count >> 20) + " MiB)", errno);
  ring_len_ = (size_t)cfg.block_size * cfg.block_count;
  void* m = mmap(nullptr, ring_len_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) { ring_ = nullptr; return fail("cannot map the AF_PACKET ring", errno); }
  ring_ = static_cast<uint8_t*>(m);
  block_size_ = cfg.block_size;
  block_count_ = cfg.block_count;
  cur_ = 0;
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = (int)ifindex;
  if (bind(fd_, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) < 0) return fail("cannot bind to " + ifc, errno);
  if (cfg.promisc) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = (int)ifindex;
    mr.mr_type = PACKET_MR_PROMISC;  // dropped by the kernel when the socket closes
    if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) return fail("cannot enable promiscuous mode on " + ifc, errno);
  }
  if (cfg.fanout_group) {
    int arg = (int)(cfg.fanout_group & 0xffff) | (fmode << 16);
    if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0)
      return fail("cannot join fanout group " + std::to_string(cfg.fanout_group) + " (mode " + cfg.fanout_mode + ") on " + ifc, errno);
  }
  // libpcap (pcap-linux.c) skips PACKET_OUTGOING frames of the loopback device: each one comes
  // back as an incoming frame, so keeping both would count every loopback packet twice.
  lo_ifindex_ = (int)if_nametoindex("lo");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return fail("eventfd", errno);
  acc_ = LiveStats();
  return true;
}

int AfPacketLive::live_poll(LivePacketFn fn, void* ctx, std::string* err) {
  int n = 0;
  for (uint32_t k = 0; k < block_count_; k++) {
    auto* bd = reinterpret_cast<struct tpacket_block_desc*>(ring_ + (size_t)cur_ * block_size_);
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
    uint32_t num = bd->hdr.bh1.num_pkts;
    auto* h = reinterpret_cast<struct tpacket3_hdr*>(reinterpret_cast<uint8_t*>(bd) + bd->hdr.bh1.offset_to_first_pkt);
    for (uint32_t i = 0; i < num; i++) {
      // The kernel puts a sockaddr_ll right after the (aligned) tpacket3_hdr of every frame.
      const auto* sll = reinterpret_cast<const struct sockaddr_ll*>(reinterpret_cast<const uint8_t*>(h) + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
      if (sll->sll_pkttype == PACKET_OUTGOING && lo_ifindex_ > 0 && sll->sll_ifindex == lo_ifindex_) {
        acc_.outgoing_skipped++;
        h = reinterpret_cast<struct tpacket3_hdr*>(reinterpret_cast<uint8_t*>(h) + h->tp_next_offset);
        continue;
      }
      const uint8_t* data = reinterpret_cast<const uint8_t*>(h) + h->tp_mac;
      uint32_t cap = h->tp_snaplen;
      int64_t ts = (int64_t)h->tp_sec * 1000000 + (int64_t)(h->tp_nsec / 1000);
      if ((h->tp_status & TP_STATUS_VLAN_VALID) && cap >= 12) {
        // The kernel strips the outer 802.1Q tag into the header: put it back so the frame
        // decodes exactly as libpcap (and a pcap file) would present it.
        uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : 0x8100;
        uint16_t tci = (uint16_t)h->hv1.tp_vlan_tci;
        vlan_buf_.resize((size_t)cap + 4);
        memcpy(vlan_buf_.data(), data, 12);
        vlan_buf_[12] = (uint8_t)(tpid >> 8); vlan_buf_[13] = (uint8_t)tpid;
        vlan_buf_[14] = (uint8_t)(tci >> 8); vlan_buf_[15] = (uint8_t)tci;
        memcpy(vlan_buf_.data() + 16, data + 12, cap - 12);
        data = vlan_buf_.data();
        cap += 4;
      }
      if (cap > snaplen_) cap = snaplen_;
      fn(ctx, DLT_EN10MB, ts, data, cap);
      n++;
      h = reinterpret_cast<struct tpacket3_hdr*>(reinterpret_cast<uint8_t*>(h) + h->tp_next_offset);
    }
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    cur_ = (cur_ + 1) % block_count_;
  }
  if (n > 0) return n;
  struct pollfd pf[2];
  pf[0].fd = fd_; pf[0].events = POLLIN | POLLERR; pf[0].revents = 0;
  pf[1].fd = wake_fd_; pf[1].events = POLLIN; pf[1].revents = 0;
  int r = poll(pf, 2, timeout_ms_);
  if (r < 0) {
    if (errno == EINTR) return 0;
    *err = std::string("poll on ") + iface_ + ": " + strerror(errno);
    return -1;
  }
  if (pf[1].revents & POLLIN) {
    uint64_t v;
    ssize_t rd = read(wake_fd_, &v, sizeof v);
    (void)rd;
  }
  if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr == 0 && !(pf[0].revents & (POLLHUP | POLLNVAL))) return 0;
    *err = "capture on " + iface_ + " failed: " + (soerr == ENETDOWN ? std::string("interface went down or was removed") : std::string(strerror(soerr ? soerr : EIO)));
    return -1;
  }
  return 0;
}

void AfPacketLive::live_wakeup() {
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t w = write(wake_fd_, &one, sizeof one);
    (void)w;
  }
}

void AfPacketLive::live_stats(LiveStats* out) {
  // PACKET_STATISTICS resets the kernel counters on every read: accumulate here.
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  if (fd_ >= 0 && getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    acc_.received += st.tp_packets;  // the kernel already includes tp_drops in tp_packets
    acc_.dropped += st.tp_drops;
  }
  *out = acc_;
}

}  // namespace dfly
