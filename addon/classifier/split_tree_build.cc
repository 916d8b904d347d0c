// split_tree_build.cc: the build phase of the IPv4 split tree - build, incremental insert/remove
// and freeze (design, invariants and costs in split_tree.h).
// Thread-safety: SplitTreeEditor is single-threaded; freeze() reads it and returns a value that
// shares nothing with it.
#include <algorithm>
#include <map>

#include "split_tree.h"

namespace palisade {

namespace {

using Node = SplitTree4::Node;
constexpr uint32_t kDimMax[SplitTree4::kDims] = {0xFFFFFFFFu, 0xFFFFFFFFu, 65535u, 65535u, 255u};

constexpr uint32_t kEditLeafDim = 7;  // editor nodes: leaf number << 3 | 7

bool protoExactOrAny(uint8_t mask) { return mask == 0 || mask == 0xFF; }

}  // namespace

// A rule as a box: inclusive range per dimension (partial protocol masks: [0, 255], see covers()).
SplitTreeEditor::Box SplitTreeEditor::boxOf(const SplitRule& r) {
  Box b;
  b.lo[0] = r.src & mask4(r.srcLen);
  b.hi[0] = b.lo[0] | ~mask4(r.srcLen);
  b.lo[1] = r.dst & mask4(r.dstLen);
  b.hi[1] = b.lo[1] | ~mask4(r.dstLen);
  b.lo[2] = r.sportLo;
  b.hi[2] = r.sportHi;
  b.lo[3] = r.dportLo;
  b.hi[3] = r.dportHi;
  b.lo[4] = r.protoMask == 0xFF ? r.proto : 0;
  b.hi[4] = r.protoMask == 0xFF ? r.proto : 255;
  return b;
}

bool SplitTreeEditor::covers(uint32_t slot, const Box& region) const {
  const Box& b = box_[slot];
  for (unsigned d = 0; d < SplitTree4::kDims; ++d)
    if (b.lo[d] > region.lo[d] || b.hi[d] < region.hi[d]) return false;
  return protoExactOrAny(rule_[slot].protoMask);
}

size_t SplitTreeEditor::effectiveCount(const std::vector<uint32_t>& slots, const Box& region) const {
  for (size_t j = 0; j < slots.size(); ++j)
    if (covers(slots[j], region)) return j + 1;
  return slots.size();
}

void SplitTreeEditor::buildSubtree(uint32_t ni, std::vector<uint32_t>&& slots, const Box& region,
                                   unsigned depth) {
  pending_ -= slots.size();
  // rules after the first one covering the region can never be the first match inside it
  slots.resize(effectiveCount(slots, region));
  const size_t eff = slots.size();
  int bestDim = -1;
  uint32_t bestThr = 0;
  size_t bestCost = ~size_t(0);
  // a depth bound (forest cost bound, see Prefix4Index) is a budget too: a list that would need
  // one more level fails the build
  if (eff > params_.leafRules && depth >= maxDepth_) overBudget_ = true;
  if (eff > params_.leafRules && depth < kMaxDepth && depth < maxDepth_ && !overBudget_) {
    std::vector<uint32_t> pts;
    pts.reserve(2 * eff);
    for (unsigned d = 0; d < SplitTree4::kDims; ++d) {
      pts.clear();
      for (size_t j = 0; j < eff; ++j) {
        const Box& b = box_[slots[j]];
        const uint32_t a = std::max(b.lo[d], region.lo[d]), e = std::min(b.hi[d], region.hi[d]);
        if (a > region.lo[d]) pts.push_back(a - 1);
        if (e < region.hi[d]) pts.push_back(e);
      }
      if (pts.empty()) continue;
      auto mid = pts.begin() + pts.size() / 2;
      std::nth_element(pts.begin(), mid, pts.end());
      const uint32_t thr = *mid;
      size_t left = 0, right = 0;
      for (size_t j = 0; j < eff; ++j) {
        left += overlapsLeft(slots[j], d, thr);
        right += overlapsRight(slots[j], d, thr);
      }
      const size_t cost = std::max(left, right) + (left + right - eff);
      if (cost < bestCost) {
        bestCost = cost;
        bestDim = int(d);
        bestThr = thr;
      }
    }
  }
  if (bestDim < 0) {  // leaf
    effEntries_ += eff;
    if (effEntries_ > maxEffective_) overBudget_ = true;
    nodes_[ni] = Node{0, uint32_t(leaves_.size()) << 3 | kEditLeafDim};
    // re-split on insert only once the list doubled (a list that cannot be split stays a leaf)
    const uint32_t limit = uint32_t(std::max<size_t>(2 * params_.leafRules, 2 * slots.size()));
    leaves_.push_back(Leaf{region, std::move(slots), depth, limit});
    return;
  }
  const unsigned d = unsigned(bestDim);
  const uint32_t left = uint32_t(nodes_.size());
  nodes_[ni] = Node{bestThr, left << 3 | d};
  nodes_.push_back(Node{0, 0});
  nodes_.push_back(Node{0, 0});
  std::vector<uint32_t> ls, rs;
  for (uint32_t s : slots) {
    if (overlapsLeft(s, d, bestThr)) ls.push_back(s);
    if (overlapsRight(s, d, bestThr)) rs.push_back(s);
  }
  std::vector<uint32_t>().swap(slots);
  // budget: the lists waiting to be split are (nearly) a lower bound of the entries still to come,
  // so a build that explodes stops near the root instead of after filling the budget
  pending_ += ls.size() + rs.size();
  if (effEntries_ + pending_ > maxEffective_) overBudget_ = true;
  Box lr = region, rr = region;
  lr.hi[d] = bestThr;
  rr.lo[d] = bestThr + 1;
  buildSubtree(left, std::move(ls), lr, depth + 1);
  buildSubtree(left + 1, std::move(rs), rr, depth + 1);
}

bool SplitTreeEditor::build(const std::vector<SplitRule>& rules, size_t maxEffective,
                            unsigned maxDepth) {
  effEntries_ = 0;
  pending_ = rules.size();
  maxEffective_ = maxEffective;
  maxDepth_ = maxDepth;
  builtDepth_ = 0;
  overBudget_ = false;
  nodes_.clear();
  leaves_.clear();
  box_.clear();
  rank_.clear();
  rule_.clear();
  liveSlot_.clear();
  freeSlots_.clear();
  byRank_.clear();
  byRankBuilt_ = false;
  live_ = rules.size();
  box_.reserve(rules.size());
  std::vector<uint32_t> all(rules.size());
  for (uint32_t s = 0; s < rules.size(); ++s) {
    const SplitRule& r = rules[s];
    box_.push_back(boxOf(r));
    rank_.push_back(r.rank);
    rule_.push_back(r);
    liveSlot_.push_back(1);
    all[s] = s;
  }
  std::sort(all.begin(), all.end(), [&](uint32_t a, uint32_t b) { return rank_[a] < rank_[b]; });
  Box full;
  for (unsigned d = 0; d < SplitTree4::kDims; ++d) {
    full.lo[d] = 0;
    full.hi[d] = kDimMax[d];
  }
  nodes_.push_back(Node{0, 0});
  buildSubtree(0, std::move(all), full, 0);
  maxEffective_ = ~size_t(0);  // inserts later are not budgeted
  maxDepth_ = kMaxDepth;
  for (const Leaf& l : leaves_) builtDepth_ = std::max(builtDepth_, l.depth);
  return !overBudget_;
}

template <class Fn>
void SplitTreeEditor::forEachLeaf(uint32_t slot, Fn&& fn) {
  uint32_t stack[2 * kMaxDepth + 4];
  unsigned top = 0;
  stack[top++] = 0;
  while (top) {
    const uint32_t ni = stack[--top];
    const Node nd = nodes_[ni];
    const uint32_t d = nd.info & 7;
    if (d == kEditLeafDim) {
      fn(ni, nd.info >> 3);
      continue;
    }
    const uint32_t left = nd.info >> 3;
    if (overlapsRight(slot, d, nd.thr)) stack[top++] = left + 1;
    if (overlapsLeft(slot, d, nd.thr)) stack[top++] = left;
  }
}

uint32_t SplitTreeEditor::insert(const SplitRule& r) {
  uint32_t slot;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    slot = uint32_t(box_.size());
    box_.emplace_back();
    rank_.push_back(0);
    rule_.emplace_back();
    liveSlot_.push_back(0);
  }
  box_[slot] = boxOf(r);
  rank_[slot] = r.rank;
  rule_[slot] = r;
  liveSlot_[slot] = 1;
  ++live_;
  if (byRankBuilt_) byRank_.emplace(r.rank, slot);
  if (nodes_.empty()) {  // first rule into an empty editor: a root leaf covering everything
    Box full;
    for (unsigned d = 0; d < SplitTree4::kDims; ++d) {
      full.lo[d] = 0;
      full.hi[d] = kDimMax[d];
    }
    nodes_.push_back(Node{0, 0u << 3 | kEditLeafDim});
    leaves_.push_back(Leaf{full, {}, 0, 2 * params_.leafRules});
  }
  std::vector<std::pair<uint32_t, uint32_t>> touched;  // (node, leaf)
  forEachLeaf(slot, [&](uint32_t ni, uint32_t leaf) { touched.emplace_back(ni, leaf); });
  for (const auto& [ni, leaf] : touched) {
    Leaf& L = leaves_[leaf];
    auto at = std::lower_bound(L.slots.begin(), L.slots.end(), r.rank,
                               [&](uint32_t s, uint32_t rank) { return rank_[s] < rank; });
    // shadowed here: an earlier rule covers the whole region (it is the list's last entry)
    if (at == L.slots.end() && !L.slots.empty() && covers(L.slots.back(), L.region)) continue;
    at = L.slots.insert(at, slot);
    if (covers(slot, L.region)) L.slots.erase(at + 1, L.slots.end());
    if (L.slots.size() > L.limit && L.depth < kMaxDepth) {
      // re-split this leaf in place; the old leaf number stays allocated, empty
      std::vector<uint32_t> slots = std::move(L.slots);
      const Box region = L.region;
      const unsigned depth = L.depth;
      L.slots.clear();
      pending_ = slots.size();
      buildSubtree(ni, std::move(slots), region, depth);
    }
  }
  return slot;
}

bool SplitTreeEditor::remove(uint32_t slot) {
  if (slot >= liveSlot_.size() || !liveSlot_[slot]) return false;
  const uint32_t rank = rank_[slot];
  std::vector<uint32_t> refill;  // leaves where the removed rule was the covering (last) entry
  forEachLeaf(slot, [&](uint32_t, uint32_t leaf) {
    std::vector<uint32_t>& v = leaves_[leaf].slots;
    auto at = std::lower_bound(v.begin(), v.end(), rank,
                               [&](uint32_t s, uint32_t rk) { return rank_[s] < rk; });
    if (at == v.end() || *at != slot) return;
    if (at + 1 == v.end() && covers(slot, leaves_[leaf].region)) refill.push_back(leaf);
    v.erase(at);
  });
  liveSlot_[slot] = 0;
  // The rules it shadowed were never stored: collect them again, walking the live rules in rank
  // order from the removed one up to the next rule covering the leaf (byRank_ is made on the
  // first such removal and kept from then on).
  if (byRankBuilt_) byRank_.erase(rank);
  if (!refill.empty() && !byRankBuilt_) {
    for (uint32_t s = 0; s < box_.size(); ++s)
      if (liveSlot_[s]) byRank_.emplace(rank_[s], s);
    byRankBuilt_ = true;
  }
  for (uint32_t leaf : refill) {
    Leaf& L = leaves_[leaf];
    for (auto it = byRank_.upper_bound(rank); it != byRank_.end(); ++it) {
      const uint32_t s = it->second;
      bool overlaps = true;
      for (unsigned d = 0; d < SplitTree4::kDims && overlaps; ++d)
        overlaps = box_[s].lo[d] <= L.region.hi[d] && box_[s].hi[d] >= L.region.lo[d];
      if (!overlaps) continue;
      L.slots.push_back(s);
      if (covers(s, L.region)) break;
    }
  }
  freeSlots_.push_back(slot);
  --live_;
  return true;
}

SplitTree4 SplitTreeEditor::freeze() const {
  SplitTree4 t;
  t.liveRules_ = live_;
  if (nodes_.empty()) return t;
  t.nodes_ = nodes_;
  t.records_.reserve(rule_.size() + 2);
  SplitTree4::Record dead{};
  dead.rank = kNoRank;
  t.records_.assign(rule_.size(), dead);
  for (uint32_t s = 0; s < rule_.size(); ++s) {
    if (!liveSlot_[s]) continue;
    const Box& b = box_[s];
    const SplitRule& r = rule_[s];
    SplitTree4::Record& rec = t.records_[s];
    rec.srcLo = b.lo[0];
    rec.srcSpan = b.hi[0] - b.lo[0];
    rec.dstLo = b.lo[1];
    rec.dstSpan = b.hi[1] - b.lo[1];
    rec.sportLo = uint16_t(b.lo[2]);
    rec.sportSpan = uint16_t(b.hi[2] - b.lo[2]);
    rec.dportLo = uint16_t(b.lo[3]);
    rec.dportSpan = uint16_t(b.hi[3] - b.lo[3]);
    rec.proto = uint8_t(r.proto & r.protoMask);
    rec.protoMask = r.protoMask;
    rec.pad0 = rec.pad1 = 0;
    rec.rank = r.rank;
  }
  // a sentinel record ends every leaf list: its rank never beats an answer; lists cut after a
  // covering rule end with the second one
  const uint32_t sentinel = uint32_t(t.records_.size());
  t.cutSentinel_ = sentinel + 1;
  t.records_.push_back(dead);
  t.records_.push_back(dead);
  std::vector<uint32_t> start(leaves_.size());
  size_t total = leaves_.size();
  for (const Leaf& L : leaves_) total += L.slots.size();
  t.entries_.reserve(total);
  for (size_t l = 0; l < leaves_.size(); ++l) {
    start[l] = uint32_t(t.entries_.size());
    const Leaf& L = leaves_[l];
    t.entries_.insert(t.entries_.end(), L.slots.begin(), L.slots.end());
    // cut: the list ends with a covering rule (it may have shadowed others)
    const bool cut = !L.slots.empty() && covers(L.slots.back(), L.region);
    t.entries_.push_back(cut ? t.cutSentinel_ : sentinel);
    t.depth_ = std::max(t.depth_, leaves_[l].depth);
  }
  // a published leaf loops to itself (it tests the constant field 5 against its entry start), so a
  // lane that reached its leaf stays there without a branch
  for (uint32_t ni = 0; ni < t.nodes_.size(); ++ni) {
    Node& nd = t.nodes_[ni];
    if ((nd.info & 7) == kEditLeafDim) nd = Node{start[nd.info >> 3], ni << 3 | SplitTree4::kLeafDim};
  }
  t.entries_.shrink_to_fit();
  for (uint32_t s = 0; s < rule_.size(); ++s)
    if (liveSlot_[s]) t.minRank_ = std::min(t.minRank_, rule_[s].rank);
  return t;
}

size_t SplitTreeEditor::masterBytes() const {
  size_t b = sizeof(*this) + nodes_.capacity() * sizeof(Node) + leaves_.capacity() * sizeof(Leaf) +
             box_.capacity() * sizeof(Box) + rank_.capacity() * 4 + rule_.capacity() * sizeof(SplitRule) +
             liveSlot_.capacity() + freeSlots_.capacity() * 4;
  for (const Leaf& L : leaves_) b += L.slots.capacity() * 4;
  return b;
}

// ---- forest --------------------------------------------------------------------------------

namespace {
constexpr uint32_t kSlotBits = 28;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
}  // namespace

SplitForestEditor::SplitForestEditor(const SplitParams& p) : params_(p), groups_(SplitForest4::kGroups, SplitTreeEditor(p)) {}

// Schemes, tried in this order (fewer trees first; each tree costs a walk per lookup):
//   0 one tree; 1 src specific / not; 2 dst specific / not; 3 src specific / dst specific / neither;
//   4 all four (src, dst) patterns (always accepted).
unsigned SplitForestEditor::groupOf(const SplitRule& r, unsigned scheme) const {
  const bool s = r.srcLen >= params_.specificLen, d = r.dstLen >= params_.specificLen;
  switch (scheme) {
    case 0: return 0;
    case 1: return s ? 0 : 1;
    case 2: return d ? 0 : 1;
    case 3: return s ? 0 : d ? 1 : 2;
    default: return (s ? 1u : 0u) | (d ? 2u : 0u);
  }
}

void SplitForestEditor::groupSizes(const std::vector<SplitRule>& rules, unsigned scheme,
                                   size_t out[SplitForest4::kGroups]) const {
  for (unsigned g = 0; g < SplitForest4::kGroups; ++g) out[g] = 0;
  for (const SplitRule& r : rules) ++out[groupOf(r, scheme)];
}

unsigned SplitForestEditor::minDepth(size_t rules) const {
  unsigned d = 0;
  for (size_t n = rules; n > params_.leafRules; n = (n + 1) / 2) ++d;
  return d;
}

bool SplitForestEditor::buildScheme(const std::vector<SplitRule>& rules, unsigned scheme, bool budget,
                                    unsigned maxDepthSum) {
  std::vector<SplitRule> part[SplitForest4::kGroups];
  buildHandles_.resize(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const unsigned g = groupOf(rules[i], scheme);
    buildHandles_[i] = g << kSlotBits | uint32_t(part[g].size());
    part[g].push_back(rules[i]);
  }
  // one budget for the whole forest: leaf entries <= effectivePerRule x rules (+ slack)
  size_t left = budget ? size_t(params_.effectivePerRule * double(rules.size())) + 1024 : ~size_t(0);
  // depth bound: trees not built yet need at least minDepth() levels each
  unsigned lbRest = 0;
  for (unsigned g = 0; g < SplitForest4::kGroups; ++g) lbRest += part[g].empty() ? 0 : minDepth(part[g].size());
  unsigned depthUsed = 0;
  for (unsigned g = 0; g < SplitForest4::kGroups; ++g) {
    const unsigned lb = part[g].empty() ? 0 : minDepth(part[g].size());
    lbRest -= lb;
    const unsigned room = maxDepthSum >= depthUsed + lbRest ? maxDepthSum - depthUsed - lbRest : 0;
    if (room < lb) return false;
    if (!groups_[g].build(part[g], left, std::min<unsigned>(room, SplitTreeEditor::kMaxDepth))) return false;
    if (budget) left -= groups_[g].leafEntries();
    if (!part[g].empty()) depthUsed += groups_[g].builtDepth();
  }
  scheme_ = scheme;
  return true;
}

void SplitForestEditor::build(const std::vector<SplitRule>& rules) {
  for (unsigned scheme = params_.firstScheme; scheme < kSchemes - 1; ++scheme)
    if (buildScheme(rules, scheme, true)) return;
  buildScheme(rules, kSchemes - 1, false);
}

uint32_t SplitForestEditor::insert(const SplitRule& r) {
  const unsigned g = groupOf(r);
  return g << kSlotBits | groups_[g].insert(r);
}

bool SplitForestEditor::remove(uint32_t handle) {
  const uint32_t g = handle >> kSlotBits;
  return g < groups_.size() && groups_[g].remove(handle & kSlotMask);
}

SplitForest4 SplitForestEditor::freeze() const {
  SplitForest4 f;
  for (const auto& g : groups_) {
    if (!g.ruleCount()) continue;
    f.trees_.push_back(g.freeze());
  }
  std::sort(f.trees_.begin(), f.trees_.end(),
            [](const SplitTree4& a, const SplitTree4& b) { return a.minRank() < b.minRank(); });
  return f;
}

size_t SplitForestEditor::ruleCount() const {
  size_t n = 0;
  for (const auto& g : groups_) n += g.ruleCount();
  return n;
}

size_t SplitForestEditor::masterBytes() const {
  size_t b = sizeof(*this) + buildHandles_.capacity() * 4;
  for (const auto& g : groups_) b += g.masterBytes();
  return b;
}

}  // namespace palisade
