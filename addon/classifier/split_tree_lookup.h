// split_tree_lookup.h: the lookup phase of SplitTree4 (layout and design in split_tree.h).
//
// What: the walk from the root to a leaf (one 8-byte node load per level, branch-free child
// choice) and the leaf scan (records in rank order; stop at the first match, or at the first rank
// that cannot beat the best answer so far).
// Batch: kLanes headers walk the tree in lock step, one level per round, so the node loads of
// different headers are in flight together (the tree of a 10k rule set is ~100-500 KiB, in L2);
// a header that reached its leaf idles (the conditional move keeps it there) until its group is
// done, then the leaves are scanned.
// Invariants relied on: node children adjacent; leaf lists ascending by rank.
// Cost: depth levels + leaf scan; no allocation. Thread-safety: reads an immutable tree only.
#pragma once

#include "split_tree.h"

namespace palisade {

inline uint32_t SplitTree4::scanLeaf(uint32_t entry, uint32_t src, uint32_t dst, uint16_t sport,
                                     uint16_t dport, uint8_t proto, uint32_t best,
                                     uint32_t minRank) const {
  // the list ends with a sentinel record (rank kNoRank >= best): no end test
  for (const uint32_t* e = entries_.data() + entry;; ++e) {
    const Record& r = records_[*e];
    if (r.rank >= best) {
      // A list cut after a rule covering the leaf, whose rule was skipped (rank < minRank): the
      // rules cut off may match. Only lookups with a minRank get here; they scan the tree's rules.
      if (*e == cutSentinel_ && minRank) return scanAll(src, dst, sport, dport, proto, best, minRank);
      return best;
    }
    // one branch per record: the five field tests are combined without short-circuit
    const bool hit = (uint32_t(src - r.srcLo) <= r.srcSpan) & (uint32_t(dst - r.dstLo) <= r.dstSpan) &
                     (uint16_t(dport - r.dportLo) <= r.dportSpan) &
                     (uint16_t(sport - r.sportLo) <= r.sportSpan) &
                     (((proto ^ r.proto) & r.protoMask) == 0) & (r.rank >= minRank);
    if (hit) return r.rank;
  }
}

inline uint32_t SplitTree4::scanAll(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                    uint8_t proto, uint32_t best, uint32_t minRank) const {
  for (const Record& r : records_) {  // dead slots and sentinels have rank kNoRank
    if (r.rank >= best || r.rank < minRank) continue;
    if (uint32_t(src - r.srcLo) <= r.srcSpan && uint32_t(dst - r.dstLo) <= r.dstSpan &&
        uint16_t(dport - r.dportLo) <= r.dportSpan && uint16_t(sport - r.sportLo) <= r.sportSpan &&
        ((proto ^ r.proto) & r.protoMask) == 0)
      best = r.rank;
  }
  return best;
}

inline uint32_t SplitTree4::lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                   uint8_t proto, uint32_t best, uint32_t minRank) const {
  if (nodes_.empty()) return best;
  const uint32_t f[8] = {src, dst, sport, dport, proto, 0, 0, 0};
  const Node* nodes = nodes_.data();
  Node nd = nodes[0];
  while ((nd.info & 7) != kLeafDim) nd = nodes[(nd.info >> 3) + (f[nd.info & 7] > nd.thr)];
  return scanLeaf(nd.thr, src, dst, sport, dport, proto, best, minRank);
}

inline void SplitTree4::lookupBatch(const uint32_t* src, const uint32_t* dst, const uint16_t* sport,
                                    const uint16_t* dport, const uint8_t* proto, uint32_t* best,
                                    size_t n, uint32_t minRank) const {
  if (nodes_.empty()) return;
  constexpr size_t kLanes = 8;
  const Node* nodes = nodes_.data();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    uint32_t f[kLanes][8];
    Node nd[kLanes];
    for (size_t k = 0; k < kLanes; ++k) {
      f[k][0] = src[i + k];
      f[k][1] = dst[i + k];
      f[k][2] = sport[i + k];
      f[k][3] = dport[i + k];
      f[k][4] = proto[i + k];
      f[k][5] = f[k][6] = f[k][7] = 0;
      nd[k] = nodes[0];
    }
    for (;;) {
      // branch-free step of every lane (a leaf steps to itself); one test per round
      uint32_t atLeaf = 1;
      for (size_t k = 0; k < kLanes; ++k) {
        nd[k] = nodes[(nd[k].info >> 3) + (f[k][nd[k].info & 7] > nd[k].thr)];
        atLeaf &= (nd[k].info & 7) == kLeafDim;
      }
      if (atLeaf) break;
    }
#ifdef SPLIT_NO_SCAN
    for (size_t k = 0; k < kLanes; ++k) best[i + k] = nd[k].thr;
    continue;
#endif
    for (size_t k = 0; k < kLanes; ++k)
      best[i + k] = scanLeaf(nd[k].thr, src[i + k], dst[i + k], sport[i + k], dport[i + k],
                             proto[i + k], best[i + k], minRank);
  }
  for (; i < n; ++i) best[i] = lookup(src[i], dst[i], sport[i], dport[i], proto[i], best[i], minRank);
}

inline uint32_t SplitForest4::lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                     uint8_t proto, uint32_t best, uint32_t minRank) const {
  for (const SplitTree4& t : trees_) {
    if (t.minRank() >= best) break;
    best = t.lookup(src, dst, sport, dport, proto, best, minRank);
  }
  return best;
}

inline void SplitForest4::lookupBatch(const uint32_t* src, const uint32_t* dst,
                                      const uint16_t* sport, const uint16_t* dport,
                                      const uint8_t* proto, uint32_t* best, size_t n,
                                      uint32_t minRank) const {
  for (const SplitTree4& t : trees_) t.lookupBatch(src, dst, sport, dport, proto, best, n, minRank);
}

}  // namespace palisade
