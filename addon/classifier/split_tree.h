// split_tree.h: the IPv4 5-tuple decision tree for PREFIX rules (ClassBench shape) - its data
// layout, the editable master form and the published (frozen) form. Build, edit and freeze live in
// split_tree_build.cc; lookups in split_tree_lookup.h (the two phases, as DPDK splits rte_acl).
//
// What: a HyperSplit-style binary decision tree (Qi et al., "Packet classification algorithms:
// from theory to practice", INFOCOM 2009) over five dimensions (src, dst, sport, dport, proto),
// with small leaves scanned linearly in rank order. It replaces TupleIndex<Family4> on the IPv4
// path because a lookup is one dependent load per level plus a short leaf scan, instead of one hash
// probe per candidate tuple (bench/RESULTS.md, ClassBench).
//
// Design:
//  - Every rule is a box: one inclusive range per dimension (a prefix is a range; protocol mask 0
//    is [0, 255], 0xFF is [p, p]; any other mask is [0, 255] in the tree and checked exactly in
//    the leaf). A NODE splits its region on one dimension at a threshold: values <= thr go to the
//    left child, the rest to the right; a rule goes to every child its box overlaps. Children of a
//    node are adjacent (right = left + 1), so a node is 8 bytes {thr, left << 3 | dim}; dim 7 is a
//    leaf and `left` is then its leaf number.
//  - Split choice (per node): for each dimension the endpoints of the rules' ranges clipped to the
//    region; threshold = their median; cost = max(left, right) + replication (left + right - n),
//    counted over the EFFECTIVE rules only: the rules up to and including the first one whose box
//    covers the whole region (later rules can never be the first match there - unless a lookup's
//    minRank skips that rule: such a lookup, on reaching the list's "cut" sentinel, scans all
//    records of the tree, O(rules); lookups without minRank never do). A node becomes a
//    leaf when it has at most `leafRules` effective rules (or at kMaxDepth).
//  - MASTER (SplitTreeEditor): nodes, and per leaf its region and the FULL rank-ordered list of
//    rule slots overlapping it (shadowed rules kept, so removing a covering rule needs no rescan).
//    insert(rule): walk every child its box overlaps, insert into each leaf by rank; a leaf whose
//    list grows past max(2 x leafRules, 2 x its size when made) is re-split locally (its region
//    and list are known).
//    remove(slot): the same walk, erase from each leaf. No merging on remove (a tree that shrank
//    keeps its shape; a rebuild restores it).
//  - PUBLISHED (SplitTree4, immutable): the nodes, one 32-byte record per rule slot ({lo, span} per
//    field, so a match is one subtract and one compare per field, and the rank), and per leaf its
//    effective list (slots, ascending rank). freeze() copies the master into a new SplitTree4 in
//    O(nodes + leaf entries); a batch of edits is published as one new frozen tree (versioned
//    publish: readers keep the old one until they are done, see classifier.h).
//
// Invariants: node children adjacent; a leaf's list is sorted by rank ascending and holds exactly
// the live rules overlapping its region (master) / their prefix up to the first covering rule
// (published); ranks are unique; records of dead slots are never referenced.
//
// Costs: build O(sum over nodes of n log n) (median by nth_element, five dimensions per node);
// lookup = depth dependent loads (8-20 levels on ClassBench) + a scan of <= leafRules records;
// insert/remove = the walk over the leaves the box overlaps (wide rules touch many leaves) +
// O(leaf) per leaf. Memory: published 32 bytes per rule + 4 bytes per leaf entry + 8 per node;
// the master adds its lists and 44 bytes per leaf region.
//
// Thread-safety: SplitTree4 is immutable; any number of threads may look up concurrently.
// SplitTreeEditor is single-threaded (the classifier's writer holds its mutex).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "types.h"

namespace palisade {

// One IPv4 prefix rule with its global rank (lower wins).
struct SplitRule {
  uint32_t src = 0, dst = 0;  // masked
  uint8_t srcLen = 0, dstLen = 0;
  uint16_t sportLo = 0, sportHi = 65535, dportLo = 0, dportHi = 65535;
  uint8_t proto = 0, protoMask = 0;
  uint32_t rank = 0;
};

struct SplitParams {
  unsigned leafRules = 16;    // a node with at most this many effective rules is a leaf
  unsigned specificLen = 16;  // forest: an address prefix at least this long is "specific"
  double effectivePerRule = 4;  // forest: a scheme is rejected when its trees need more leaf entries
  unsigned firstScheme = 0;       // forest: first scheme tried (see SplitForestEditor::groupOf)
};

// The published, immutable tree.
class SplitTree4 {
 public:
  static constexpr unsigned kDims = 5;
  static constexpr uint32_t kLeafDim = 5;  // published leaves test field 5, which is always 0
  struct Node {
    uint32_t thr;   // inner: threshold; leaf: first entry of its list in entries_
    uint32_t info;  // inner: left << 3 | dim (0-4); leaf: own index << 3 | kLeafDim
  };
  // 32 bytes: field f matches v when uint32_t(v - lo_f) <= span_f.
  struct Record {
    uint32_t srcLo, srcSpan, dstLo, dstSpan;
    uint16_t sportLo, sportSpan, dportLo, dportSpan;
    uint8_t proto, protoMask, pad0, pad1;
    uint32_t rank;
  };

  bool empty() const { return nodes_.empty(); }
  size_t ruleCount() const { return liveRules_; }
  uint32_t minRank() const { return minRank_; }
  size_t nodeCount() const { return nodes_.size(); }
  size_t leafEntries() const { return entries_.size(); }  // sentinels included
  unsigned depth() const { return depth_; }
  size_t bytes() const {
    return sizeof(*this) + nodes_.capacity() * sizeof(Node) + records_.capacity() * sizeof(Record) +
           entries_.capacity() * sizeof(uint32_t);
  }

  // First rank in [minRank, best) of a rule matching the header, or `best` if none.
  inline uint32_t lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                         uint32_t best, uint32_t minRank) const;
  // Batch over parallel arrays; best[i] is in/out. Walks kLanes headers in lock step through the
  // tree so their loads overlap.
  inline void lookupBatch(const uint32_t* src, const uint32_t* dst, const uint16_t* sport,
                          const uint16_t* dport, const uint8_t* proto, uint32_t* best, size_t n,
                          uint32_t minRank) const;

 private:
  friend class SplitTreeEditor;
  inline uint32_t scanAll(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                          uint32_t best, uint32_t minRank) const;
  inline uint32_t scanLeaf(uint32_t entry, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                           uint8_t proto, uint32_t best, uint32_t minRank) const;

  std::vector<Node> nodes_;        // nodes_[0] is the root (absent when there are no rules)
  std::vector<Record> records_;    // by rule slot (dead: rank kNoRank), then two sentinels
  std::vector<uint32_t> entries_;  // per leaf: rule slots by ascending rank, then a sentinel
  uint32_t cutSentinel_ = 0;       // the sentinel ending a list cut after a covering rule
  size_t liveRules_ = 0;
  unsigned depth_ = 0;
  uint32_t minRank_ = kNoRank;
};

// The editable master form (writer side).
class SplitTreeEditor {
 public:
  static constexpr unsigned kMaxDepth = 48;

  explicit SplitTreeEditor(const SplitParams& p = SplitParams()) : params_(p) {}
  // Build from rules (any order; ranks unique). Replaces the current content. With a budget, gives
  // up (returns false, content unusable until the next build) once the leaves hold more than
  // `maxEffective` entries.
  // With maxDepth, also gives up when a list of more than leafRules rules sits at that depth.
  bool build(const std::vector<SplitRule>& rules, size_t maxEffective = ~size_t(0),
             unsigned maxDepth = kMaxDepth);
  // Add one rule (its rank must not be in the tree). Returns its slot.
  uint32_t insert(const SplitRule& r);
  // Remove the rule in `slot` (returned by insert, or its index in build()'s input). False if free.
  bool remove(uint32_t slot);
  // A new immutable tree with the current content.
  SplitTree4 freeze() const;

  size_t ruleCount() const { return live_; }
  size_t leafEntries() const { return effEntries_; }  // as built
  unsigned builtDepth() const { return builtDepth_; }   // deepest leaf, as built
  size_t masterBytes() const;

 private:
  struct Box {
    uint32_t lo[SplitTree4::kDims], hi[SplitTree4::kDims];
  };
  struct Leaf {
    Box region;
    std::vector<uint32_t> slots;  // every live rule overlapping the region, ascending rank
    unsigned depth;
    uint32_t limit;  // insert re-splits the leaf when its list grows past this
  };

  static Box boxOf(const SplitRule& r);
  void buildSubtree(uint32_t nodeIndex, std::vector<uint32_t>&& slots, const Box& region,
                    unsigned depth);
  size_t effectiveCount(const std::vector<uint32_t>& slots, const Box& region) const;
  bool covers(uint32_t slot, const Box& region) const;
  bool overlapsLeft(uint32_t slot, unsigned dim, uint32_t thr) const { return box_[slot].lo[dim] <= thr; }
  bool overlapsRight(uint32_t slot, unsigned dim, uint32_t thr) const { return box_[slot].hi[dim] > thr; }
  template <class Fn>
  void forEachLeaf(uint32_t slot, Fn&& fn);

  SplitParams params_;
  std::vector<SplitTree4::Node> nodes_;
  std::vector<Leaf> leaves_;
  std::vector<Box> box_;          // by slot
  std::vector<uint32_t> rank_;    // by slot
  std::vector<SplitRule> rule_;   // by slot
  std::vector<uint8_t> liveSlot_;
  std::vector<uint32_t> freeSlots_;
  std::map<uint32_t, uint32_t> byRank_;  // rank -> slot, made on the first refill
  bool byRankBuilt_ = false;
  size_t live_ = 0;
  size_t effEntries_ = 0, pending_ = 0, maxEffective_ = ~size_t(0);
  bool overBudget_ = false;
  unsigned maxDepth_ = kMaxDepth, builtDepth_ = 0;
};

// The published forest: one tree per address pattern (src specific?, dst specific?), so that a
// rule with a wide source is never replicated by source splits of rules with a specific one
// (CutSplit's partitioning, Li et al. INFOCOM 2018). Trees are probed in order of their best rank
// and a header stops once its best answer beats the next tree's best rank.
class SplitForest4 {
 public:
  static constexpr unsigned kGroups = 4;
  bool empty() const { return trees_.empty(); }
  size_t treeCount() const { return trees_.size(); }
  const SplitTree4& tree(size_t k) const { return trees_[k]; }
  size_t ruleCount() const {
    size_t n = 0;
    for (const auto& t : trees_) n += t.ruleCount();
    return n;
  }
  size_t bytes() const {
    size_t b = sizeof(*this);
    for (const auto& t : trees_) b += t.bytes();
    return b;
  }
  inline uint32_t lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                         uint32_t best, uint32_t minRank) const;
  inline void lookupBatch(const uint32_t* src, const uint32_t* dst, const uint16_t* sport,
                          const uint16_t* dport, const uint8_t* proto, uint32_t* best, size_t n,
                          uint32_t minRank) const;

 private:
  friend class SplitForestEditor;
  std::vector<SplitTree4> trees_;  // non-empty trees, ascending minRank
};

// Editable master of a forest. A rule's handle is group << 28 | slot in its group's tree.
class SplitForestEditor {
 public:
  explicit SplitForestEditor(const SplitParams& p = SplitParams());
  static constexpr unsigned kSchemes = 5;  // see groupOf(); the last one is always accepted
  void build(const std::vector<SplitRule>& rules);  // handle of rules[i] is handleOf(i) after this
  // One scheme only. budget: give up past effectivePerRule leaf entries per rule; maxDepthSum: give
  // up when the trees' depths would add up to more (Prefix4Index's cost bound). False: content
  // unusable until the next successful build.
  bool buildScheme(const std::vector<SplitRule>& rules, unsigned scheme, bool budget,
                   unsigned maxDepthSum = ~0u);
  // Rules per tree under a scheme, and a lower bound of a tree's depth for n rules (halving
  // until a leaf holds them), both O(n) / O(log n) without building.
  void groupSizes(const std::vector<SplitRule>& rules, unsigned scheme,
                  size_t out[SplitForest4::kGroups]) const;
  unsigned minDepth(size_t rules) const;
  uint32_t insert(const SplitRule& r);
  bool remove(uint32_t handle);
  SplitForest4 freeze() const;
  uint32_t handleOf(size_t buildIndex) const { return buildHandles_[buildIndex]; }
  unsigned scheme() const { return scheme_; }
  size_t ruleCount() const;
  size_t masterBytes() const;

 private:
  unsigned groupOf(const SplitRule& r) const { return groupOf(r, scheme_); }
  unsigned groupOf(const SplitRule& r, unsigned scheme) const;
  SplitParams params_;
  unsigned scheme_ = 0;
  std::vector<SplitTreeEditor> groups_;
  std::vector<uint32_t> buildHandles_;
};

}  // namespace palisade

#include "split_tree_lookup.h"
