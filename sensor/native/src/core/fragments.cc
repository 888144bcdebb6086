// Fragment reassembly. Threading: single-threaded per Sensor. Memory: bounded (see header);
// all copies are clamped to the 64 KiB datagram limit, overlapping fragments overwrite safely.
#include "fragments.h"

#include <cstring>

namespace dfly {

static constexpr uint32_t kMaxDatagram = 65535;

bool FragKey::operator==(const FragKey& o) const {
  return id == o.id && proto == o.proto && ipver == o.ipver && memcmp(src, o.src, 16) == 0 &&
         memcmp(dst, o.dst, 16) == 0;
}

size_t FragKeyHash::operator()(const FragKey& k) const {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
  };
  mix(k.src, 16); mix(k.dst, 16);
  mix(reinterpret_cast<const uint8_t*>(&k.id), 4);
  h ^= (uint64_t)k.proto << 8 | k.ipver;
  return (size_t)(h * 0x9E3779B97F4A7C15ULL);
}

// What can still be metered of an incomplete datagram (its data buffer is taken).
static void datagram_incomplete(FragDatagram& d, FragExpired* x) {
  x->hdr = d.hdr;
  x->have_first = d.have_first;
  x->proto = d.have_first ? d.proto : d.hdr.proto;
  // the bytes that arrived, each once (a duplicate fragment is not counted twice)
  const size_t have = d.data.size();
  for (size_t b = 0; b * 8 < have; b++)
    if (d.covered[b >> 3] & (1u << (b & 7))) x->received += (uint32_t)(have - b * 8 < 8 ? have - b * 8 : 8);
  if (d.have_first) {  // keep the covered prefix: the transport header, when it arrived
    uint32_t b = 0, nb = (uint32_t)((have + 7) / 8);
    while (b < nb && (d.covered[b >> 3] & (1u << (b & 7)))) b++;
    size_t prefix = (size_t)b * 8 < have ? (size_t)b * 8 : have;
    x->data.swap(d.data);
    x->data.resize(prefix);
  }
}

void FragmentTable::frag_expire(int64_t now, Stats& st, std::vector<FragExpired>* out, bool all) {
  for (auto it = map_.begin(); it != map_.end();) {
    if (!all && now - it->second.first_ts < cfg_.timeout_us) { ++it; continue; }
    if (!all) st.frag_timed_out++;
    out->emplace_back();
    datagram_incomplete(it->second, &out->back());
    it = map_.erase(it);
  }
}

void FragmentTable::frag_take_evicted(std::vector<FragExpired>* out) {
  for (auto& x : evicted_) out->push_back(std::move(x));
  evicted_.clear();
}

bool FragmentTable::frag_add(const FragKey& key, const PacketInfo& pi, Stats& st, const uint8_t** out,
                             uint32_t* out_len, uint8_t* out_proto) {
  const uint32_t offset = pi.frag_offset, caplen = pi.l4_caplen, len = pi.l4_len;
  const bool more = pi.more_frags;
  const uint8_t proto = pi.proto;
  const uint8_t* data = pi.l4;
  const int64_t ts = pi.ts_us;
  st.frag_fragments++;
  uint64_t end = (uint64_t)offset + len;
  if (caplen < len || end > kMaxDatagram || (more && (len % 8 != 0 || len == 0))) {
    // snaplen-truncated, oversized or malformed fragment: cannot be reassembled
    st.frag_dropped++;
    return false;
  }
  auto it = map_.find(key);
  if (it == map_.end()) {
    if (map_.size() >= cfg_.max_tables) {
      // evict the oldest datagram to bound memory
      auto oldest = map_.begin();
      for (auto j = map_.begin(); j != map_.end(); ++j)
        if (j->second.first_ts < oldest->second.first_ts) oldest = j;
      if (oldest != map_.end()) {
        evicted_.emplace_back();  // metered by the sensor like a timed-out datagram
        datagram_incomplete(oldest->second, &evicted_.back());
        map_.erase(oldest);
        st.frag_dropped++;
      }
    }
    it = map_.emplace(key, FragDatagram()).first;
    it->second.first_ts = ts;
    memset(it->second.covered, 0, sizeof it->second.covered);
  }
  FragDatagram& d = it->second;
  if (!more) {
    if ((d.have_last && d.total != end) || end < d.data.size()) {
      st.frag_dropped++;
      map_.erase(it);
      return false;
    }
    d.have_last = true;
    d.total = (uint32_t)end;
  } else if (d.have_last && end > d.total) {
    st.frag_dropped++;
    map_.erase(it);
    return false;
  }
  if (offset == 0 || d.data.empty()) {  // the header template: the offset-0 fragment's, else the first's
    d.hdr = pi;
    d.hdr.l4 = d.hdr.payload = nullptr;
  }
  if (offset == 0) { d.have_first = true; d.proto = proto; }
  if (d.data.size() < end) d.data.resize(end);
  if (len) memcpy(d.data.data() + offset, data, len);
  uint32_t b0 = offset / 8, b1 = (uint32_t)((end + 7) / 8);
  for (uint32_t b = b0; b < b1; b++) d.covered[b >> 3] |= (uint8_t)(1u << (b & 7));
  if (!d.have_last || !d.have_first) return false;
  uint32_t need = (d.total + 7) / 8;
  for (uint32_t b = 0; b < need; b++)
    if (!(d.covered[b >> 3] & (1u << (b & 7)))) return false;
  done_.swap(d.data);
  done_.resize(d.total);
  *out_proto = d.proto;
  map_.erase(it);
  st.frag_reassembled++;
  *out = done_.data();
  *out_len = (uint32_t)done_.size();
  return true;
}

}  // namespace dfly
