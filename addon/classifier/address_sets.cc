// address_sets.cc: membership lookups and copy-on-write edits (design in address_sets.h).
#include "address_sets.h"

#include <algorithm>

namespace palisade {


AddressSets::AddressSets() {
  auto empty4 = std::make_shared<const Shard4>();
  auto empty6 = std::make_shared<const Shard6>();
  shards4_.fill(empty4);
  shards6_.fill(empty6);
  prefixes4_ = std::make_shared<const Prefixes4>();
  prefixes6_ = std::make_shared<const Prefixes6>();
  classes_ = std::make_shared<ClassRegistry>();
}

void AddressSets::setsOf4(uint32_t addr, IdSet& out) const {
  auto host = shards4_[shardOf4(addr)]->byAddr.find(addr);
  for (uint32_t k = 0; k < host.len; ++k) out.add(host.ids[k]);
  prefixes4_->intervals.idsOf(addr, out);
}

void AddressSets::setsOf6(const Addr6& addr, IdSet& out) const {
  auto host = shards6_[shardOf6(addr)]->byAddr.find(addr);
  for (uint32_t k = 0; k < host.len; ++k) out.add(host.ids[k]);
  prefixes6_->intervals.idsOf(addr, out);
}

size_t AddressSets::bytes() const {
  size_t b = sizeof(*this);
  for (size_t i = 0; i < kShards; ++i) {
    if (i > 0 && shards4_[i] == shards4_[i - 1]) continue;  // shared (e.g. the empty shard)
    b += sizeof(Shard4) + shards4_[i]->byAddr.bytes();
  }
  for (size_t i = 0; i < kShards; ++i) {
    if (i > 0 && shards6_[i] == shards6_[i - 1]) continue;
    b += sizeof(Shard6) + shards6_[i]->byAddr.bytes();
  }
  for (const auto& [len, t] : prefixes4_->byLen) b += t.bytes() + 64;
  for (const auto& [len, t] : prefixes6_->byLen) b += t.bytes() + 64;
  b += prefixes4_->intervals.bytes() + prefixes6_->intervals.bytes();
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
  bool changed = len == 32 ? shard4(shardOf4(addr)).byAddr.add(addr, setId)
                           : prefixes4().byLen[len].add(addr, setId);
  if (changed) ++next_.members_;
  if (changed && len == 32) touched4_.push_back(addr);
  return changed;
}
bool AddressSets::Editor::remove4(uint32_t setId, uint32_t addr, uint8_t len) {
  addr &= mask4(len);
  bool changed;
  if (len == 32) {
    changed = shard4(shardOf4(addr)).byAddr.remove(addr, setId);
    if (changed) touched4_.push_back(addr);
  } else {
    auto& byLen = prefixes4().byLen;
    auto it = byLen.find(len);
    changed = it != byLen.end() && it->second.remove(addr, setId);
    if (it != byLen.end() && it->second.empty()) byLen.erase(it);
  }
  if (changed) --next_.members_;
  return changed;
}
bool AddressSets::Editor::add6(uint32_t setId, const Addr6& a, uint8_t len) {
  Addr6 addr = and6(a, mask6(len));
  bool changed = len == 128 ? shard6(shardOf6(addr)).byAddr.add(addr, setId)
                            : prefixes6().byLen[len].add(addr, setId);
  if (changed) ++next_.members_;
  if (changed && len == 128) touched6_.push_back(addr);
  return changed;
}
bool AddressSets::Editor::remove6(uint32_t setId, const Addr6& a, uint8_t len) {
  Addr6 addr = and6(a, mask6(len));
  bool changed;
  if (len == 128) {
    changed = shard6(shardOf6(addr)).byAddr.remove(addr, setId);
    if (changed) touched6_.push_back(addr);
  } else {
    auto& byLen = prefixes6().byLen;
    auto it = byLen.find(len);
    changed = it != byLen.end() && it->second.remove(addr, setId);
    if (it != byLen.end() && it->second.empty()) byLen.erase(it);
  }
  if (changed) --next_.members_;
  return changed;
}

namespace {

// The class of a host member: its own ids and those of the CIDR interval holding it, merged.
template <class Map, class Intervals, class A>
void classHost(Map& map, const Intervals& intervals, const A& addr, ClassRegistry& reg,
               std::vector<uint32_t>& scratch) {
  auto ids = map.find(addr);
  if (!ids.len) return;  // removed: nothing to tag
  scratch.assign(ids.ids, ids.ids + ids.len);
  const size_t own = scratch.size();
  intervals.appendIds(addr, scratch);
  std::inplace_merge(scratch.begin(), scratch.begin() + own, scratch.end());
  scratch.erase(std::unique(scratch.begin(), scratch.end()), scratch.end());
  map.setTag(addr, reg.intern(scratch.data(), uint32_t(scratch.size())));
}

}  // namespace

std::shared_ptr<const AddressSets> AddressSets::Editor::finish() {
  // Class the edited host members by their final id lists, once per batch (a pod joining 100 sets
  // is one new class at most, not 100 intermediate ones). A host's class includes its CIDR sets,
  // so when a batch changed CIDR members, every host member is classed again (rare: ipBlocks
  // change with policies, and a policy change builds a new classifier).
  ClassRegistry& reg = *next_.classes_;
  std::vector<uint32_t> scratch;
  if (ownedP4_) {
    prefixes4().reindex(reg);
    touched4_.clear();
    for (size_t i = 0; i < kShards; ++i)
      next_.shards4_[i]->byAddr.forEach([&](uint32_t a, const uint32_t*, uint32_t) { touched4_.push_back(a); });
  }
  if (ownedP6_) {
    prefixes6().reindex(reg);
    touched6_.clear();
    for (size_t i = 0; i < kShards; ++i)
      next_.shards6_[i]->byAddr.forEach([&](const Addr6& a, const uint32_t*, uint32_t) { touched6_.push_back(a); });
  }
  for (uint32_t a : touched4_)
    classHost(shard4(shardOf4(a)).byAddr, next_.prefixes4_->intervals, a, reg, scratch);
  for (const Addr6& a : touched6_)
    classHost(shard6(shardOf6(a)).byAddr, next_.prefixes6_->intervals, a, reg, scratch);
  return std::make_shared<const AddressSets>(std::move(next_));
}

}  // namespace palisade
