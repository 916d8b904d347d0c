// address_sets.cc: membership lookups and copy-on-write edits (design in address_sets.h).
#include "address_sets.h"

#include <algorithm>

namespace palisade {

namespace {

bool insertSorted(SetIds& ids, uint32_t id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it != ids.end() && *it == id) return false;
  ids.insert(it, id);
  return true;
}
bool eraseSorted(SetIds& ids, uint32_t id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) return false;
  ids.erase(it);
  return true;
}

template <class Map, class A>
bool addTo(Map& m, const A& key, uint32_t setId) {
  return insertSorted(m[key], setId);
}
template <class Map, class A>
bool removeFrom(Map& m, const A& key, uint32_t setId) {
  auto it = m.find(key);
  if (it == m.end()) return false;
  bool removed = eraseSorted(it->second, setId);
  if (it->second.empty()) m.erase(it);
  return removed;
}

}  // namespace

AddressSets::AddressSets() {
  auto empty4 = std::make_shared<const Shard4>();
  auto empty6 = std::make_shared<const Shard6>();
  shards4_.fill(empty4);
  shards6_.fill(empty6);
  prefixes4_ = std::make_shared<const Prefixes4>();
  prefixes6_ = std::make_shared<const Prefixes6>();
}

void AddressSets::setsOf4(uint32_t addr, IdSet& out) const {
  const auto& host = shards4_[shardOf4(addr)]->byAddr;
  if (!host.empty()) {
    auto it = host.find(addr);
    if (it != host.end())
      for (uint32_t id : it->second) out.add(id);
  }
  for (const auto& [len, table] : prefixes4_->byLen) {
    auto it = table.find(addr & mask4(len));
    if (it != table.end())
      for (uint32_t id : it->second) out.add(id);
  }
}

void AddressSets::setsOf6(const Addr6& addr, IdSet& out) const {
  const auto& host = shards6_[shardOf6(addr)]->byAddr;
  if (!host.empty()) {
    auto it = host.find(addr);
    if (it != host.end())
      for (uint32_t id : it->second) out.add(id);
  }
  for (const auto& [len, table] : prefixes6_->byLen) {
    auto it = table.find(and6(addr, mask6(len)));
    if (it != table.end())
      for (uint32_t id : it->second) out.add(id);
  }
}

size_t AddressSets::bytes() const {
  // Approximate: node-based maps cost roughly (key + vector + 2 pointers) per entry plus buckets.
  size_t b = sizeof(*this);
  auto mapBytes = [](size_t entries, size_t keyBytes, size_t buckets) {
    return entries * (keyBytes + sizeof(SetIds) + 2 * sizeof(void*)) + buckets * sizeof(void*);
  };
  for (size_t i = 0; i < kShards; ++i) {
    if (i > 0 && shards4_[i] == shards4_[i - 1]) continue;  // the shared empty shard
    b += mapBytes(shards4_[i]->byAddr.size(), 4, shards4_[i]->byAddr.bucket_count());
    for (const auto& [k, v] : shards4_[i]->byAddr) b += v.capacity() * 4;
  }
  for (size_t i = 0; i < kShards; ++i) {
    if (i > 0 && shards6_[i] == shards6_[i - 1]) continue;
    b += mapBytes(shards6_[i]->byAddr.size(), 16, shards6_[i]->byAddr.bucket_count());
    for (const auto& [k, v] : shards6_[i]->byAddr) b += v.capacity() * 4;
  }
  for (const auto& [len, t] : prefixes4_->byLen) {
    b += mapBytes(t.size(), 4, t.bucket_count());
    for (const auto& [k, v] : t) b += v.capacity() * 4;
  }
  for (const auto& [len, t] : prefixes6_->byLen) {
    b += mapBytes(t.size(), 16, t.bucket_count());
    for (const auto& [k, v] : t) b += v.capacity() * 4;
  }
  return b;
}

// ---- Editor ---------------------------------------------------------------------------------

AddressSets::Shard4& AddressSets::Editor::shard4(size_t i) {
  if (!owned4_[i]) {
    next_.shards4_[i] = std::make_shared<const Shard4>(*next_.shards4_[i]);
    owned4_[i] = true;
  }
  // Safe: this shard was created by this editor and is not published yet.
  return const_cast<Shard4&>(*next_.shards4_[i]);
}
AddressSets::Shard6& AddressSets::Editor::shard6(size_t i) {
  if (!owned6_[i]) {
    next_.shards6_[i] = std::make_shared<const Shard6>(*next_.shards6_[i]);
    owned6_[i] = true;
  }
  return const_cast<Shard6&>(*next_.shards6_[i]);
}
AddressSets::Prefixes4& AddressSets::Editor::prefixes4() {
  if (!ownedP4_) {
    next_.prefixes4_ = std::make_shared<const Prefixes4>(*next_.prefixes4_);
    ownedP4_ = true;
  }
  return const_cast<Prefixes4&>(*next_.prefixes4_);
}
AddressSets::Prefixes6& AddressSets::Editor::prefixes6() {
  if (!ownedP6_) {
    next_.prefixes6_ = std::make_shared<const Prefixes6>(*next_.prefixes6_);
    ownedP6_ = true;
  }
  return const_cast<Prefixes6&>(*next_.prefixes6_);
}

bool AddressSets::Editor::add4(uint32_t setId, uint32_t addr, uint8_t len) {
  addr &= mask4(len);
  bool changed = len == 32 ? addTo(shard4(shardOf4(addr)).byAddr, addr, setId)
                           : addTo(prefixes4().byLen[len], addr, setId);
  if (changed) ++next_.members_;
  return changed;
}
bool AddressSets::Editor::remove4(uint32_t setId, uint32_t addr, uint8_t len) {
  addr &= mask4(len);
  bool changed;
  if (len == 32) {
    changed = removeFrom(shard4(shardOf4(addr)).byAddr, addr, setId);
  } else {
    auto& byLen = prefixes4().byLen;
    auto it = byLen.find(len);
    changed = it != byLen.end() && removeFrom(it->second, addr, setId);
    if (it != byLen.end() && it->second.empty()) byLen.erase(it);
  }
  if (changed) --next_.members_;
  return changed;
}
bool AddressSets::Editor::add6(uint32_t setId, const Addr6& a, uint8_t len) {
  Addr6 addr = and6(a, mask6(len));
  bool changed = len == 128 ? addTo(shard6(shardOf6(addr)).byAddr, addr, setId)
                            : addTo(prefixes6().byLen[len], addr, setId);
  if (changed) ++next_.members_;
  return changed;
}
bool AddressSets::Editor::remove6(uint32_t setId, const Addr6& a, uint8_t len) {
  Addr6 addr = and6(a, mask6(len));
  bool changed;
  if (len == 128) {
    changed = removeFrom(shard6(shardOf6(addr)).byAddr, addr, setId);
  } else {
    auto& byLen = prefixes6().byLen;
    auto it = byLen.find(len);
    changed = it != byLen.end() && removeFrom(it->second, addr, setId);
    if (it != byLen.end() && it->second.empty()) byLen.erase(it);
  }
  if (changed) --next_.members_;
  return changed;
}

std::shared_ptr<const AddressSets> AddressSets::Editor::finish() {
  return std::make_shared<const AddressSets>(std::move(next_));
}

}  // namespace palisade
