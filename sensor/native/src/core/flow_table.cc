// Flow table. Threading: single-threaded per Sensor. Memory: see header; no per-packet allocation
// once the table has warmed up.
#include "flow_table.h"

#include <cstring>

namespace dfly {

// ============================================================================================
// flow_* hashing and lookup
// ============================================================================================

static inline uint64_t rd64(const uint8_t* p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32; x *= 0xd6e8feb86659fd93ULL; x ^= x >> 32; x *= 0xd6e8feb86659fd93ULL; x ^= x >> 32;
  return x;
}

uint64_t FlowTable::flow_hash(const FlowKey& k) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&k);
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 5; i++) h = (h ^ rd64(p + 8 * i)) * 0xbf58476d1ce4e5b9ULL + (h >> 29);
  return mix64(h);
}

static_assert(sizeof(FlowKey) == 40, "FlowKey must be 40 bytes with zeroed padding");
static_assert(sizeof(Flow) <= 352, "Flow slot grew: per-flow memory at 1M flows is budgeted (bench/memory-per-flow.ts)");

FlowTable::FlowTable() : slots_(1024, Slot{kNil, 0}), mask_(1023) {}

uint32_t FlowTable::flow_find(const FlowKey& k, uint64_t h) const {
  size_t i = h & mask_;
  uint32_t tag = (uint32_t)h;
  for (;;) {
    const Slot& s = slots_[i];
    if (s.idx == kNil) return kNil;
    if (s.tag == tag && memcmp(&at(s.idx).key, &k, sizeof k) == 0) return s.idx;
    i = (i + 1) & mask_;
  }
}

void FlowTable::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, Slot{kNil, 0});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.idx == kNil) continue;
    size_t i = s.tag & mask_;
    while (slots_[i].idx != kNil) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

uint32_t FlowTable::flow_insert(const FlowKey& k, uint64_t h) {
  if ((active_ + 1) * 2 > slots_.size()) grow();
  uint32_t idx;
  if (!free_.empty()) { idx = free_.back(); free_.pop_back(); }
  else {
    if (slots_used_ == chunks_.size() * kChunkFlows) chunks_.emplace_back(new Flow[kChunkFlows]);
    idx = slots_used_++;
  }
  Flow& fl = at(idx);
  fl.key = k;
  fl.in_use = true;
  size_t i = h & mask_;
  while (slots_[i].idx != kNil) i = (i + 1) & mask_;
  slots_[i] = Slot{idx, (uint32_t)h};
  active_++;
  lru_append(idx);
  return idx;
}

void FlowTable::flow_remove(uint32_t idx) {
  Flow& fl = at(idx);
  size_t i = flow_hash(fl.key) & mask_;  // once per flow end
  while (slots_[i].idx != idx) i = (i + 1) & mask_;
  // backward-shift deletion keeps probe chains intact without tombstones
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (slots_[j].idx == kNil) break;
    size_t home = slots_[j].tag & mask_;
    // move slots_[j] into the hole at i if its home position is not in (i, j]
    bool between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) { slots_[i] = slots_[j]; i = j; }
  }
  slots_[i] = Slot{kNil, 0};
  lru_unlink(idx);
  fl.in_use = false;
  free_.push_back(idx);
  active_--;
}

// ============================================================================================
// LRU list
// ============================================================================================

void FlowTable::lru_unlink(uint32_t idx) {
  Flow& fl = at(idx);
  if (fl.lru_prev != kNil) at(fl.lru_prev).lru_next = fl.lru_next; else head_ = fl.lru_next;
  if (fl.lru_next != kNil) at(fl.lru_next).lru_prev = fl.lru_prev; else tail_ = fl.lru_prev;
  fl.lru_prev = fl.lru_next = kNil;
}

void FlowTable::lru_append(uint32_t idx) {
  Flow& fl = at(idx);
  fl.lru_prev = tail_;
  fl.lru_next = kNil;
  if (tail_ != kNil) at(tail_).lru_next = idx; else head_ = idx;
  tail_ = idx;
}

void FlowTable::lru_touch(uint32_t idx) {
  if (tail_ == idx) return;
  lru_unlink(idx);
  lru_append(idx);
}

}  // namespace dfly
