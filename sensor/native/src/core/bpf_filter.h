// A BPF filter expression compiled and set on a libpcap handle: capture files (pcap_file.cc) and
// live libpcap capture (live_pcap.cc) share it. AF_PACKET attaches its program to the socket
// itself (live_afpacket.cc).
#pragma once
#include <pcap/pcap.h>

#include <string>

namespace dfly {

// Returns false with *err set ("invalid filter '<filter>'<ctx>: ..." or "cannot set filter on
// <target>: ..."); the caller closes the handle.
inline bool pcap_apply_filter(pcap_t* p, const std::string& filter, const std::string& ctx, const std::string& target, std::string* err) {
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    *err = "invalid filter '" + filter + "'" + ctx + ": " + pcap_geterr(p);
    return false;
  }
  const int rc = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (rc != 0) {
    *err = "cannot set filter on " + target + ": " + pcap_geterr(p);
    return false;
  }
  return true;
}

}  // namespace dfly
