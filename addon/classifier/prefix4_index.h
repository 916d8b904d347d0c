// prefix4_index.h: the IPv4 PREFIX-rule index of a compiled rule set - a split forest
// (split_tree.h) or a TupleMerge index (tuple_index.h), chosen per rule set at build time.
//
// What: neither structure wins on every rule set (bench/RESULTS.md, ClassBench): the forest is
// 2-3x faster where one or two shallow trees hold the rules (acl1, ipc1), TupleMerge where the
// forest needs several trees of wide rules (fw1). build() makes the TupleMerge index first (cheap,
// 2-3 ms at 10k rules), then builds a forest only while its estimated cost can still beat it, and
// keeps the cheaper one.
//
// Cost estimate (per lookup, in "tuple table" units): TupleMerge = its table count (an upper bound
// of the tables probed); forest = kLevelsPerTable x (sum of the trees' depths) - a lock-step walk
// pays one dependent load per level per tree, leaves hold <= leafRules rules. kLevelsPerTable = 1/2
// is calibrated on the six ClassBench sets (acl1/fw1/ipc1 1k and 10k: ns per lookup / table count
// was 1.2-2.2 ns for TupleMerge, ns / summed depth 2.1-4.8 ns for the forest on this machine) and
// picks the faster structure on all six. It is a model, not a measurement: a set whose cost
// balance differs may get the slower structure (never a wrong answer).
// Build: forest schemes whose estimated minimum depth (halving, SplitForestEditor::minDepth)
// already costs more than TupleMerge are skipped without building, and a forest build stops as soon
// as its depth sum passes the bound - so a losing forest costs little (the trial builds that made
// fw1_10k take 28 ms).
//
// Invariants: exactly one of the two is non-empty (or both are empty for no rules); the answer is
// the same whichever is chosen (both are exact first-match indexes over the same rules).
// Thread-safety: immutable after build; any number of threads may look up.
#pragma once

#include <cstdint>
#include <vector>

#include "split_tree.h"
#include "tuple_index.h"

namespace palisade {

class Prefix4Index {
 public:
  enum class Choice { Auto, Forest, Tuples };
  static constexpr unsigned kTablesPerLevel = 2;  // 1 / kLevelsPerTable above

  // Rules in ascending rank order (ranks unique).
  static Prefix4Index build(const std::vector<SplitRule>& rules, Choice choice = Choice::Auto,
                            const SplitParams& p = SplitParams());

  bool empty() const { return forest_.empty() && tuples_.ruleCount() == 0; }
  bool usesForest() const { return !forest_.empty(); }
  size_t ruleCount() const { return usesForest() ? forest_.ruleCount() : tuples_.ruleCount(); }
  // trees of the forest, or tables of the TupleMerge index
  size_t tableCount() const { return usesForest() ? forest_.treeCount() : tuples_.tableCount(); }
  // forest_ and tuples_ are members: their bytes() include their own sizeof, counted once here
  size_t bytes() const {
    return sizeof(*this) + (forest_.bytes() - sizeof(forest_)) + (tuples_.bytes() - sizeof(tuples_));
  }
  const SplitForest4& forest() const { return forest_; }

  uint32_t lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                  uint32_t best, uint32_t minRank) const {
    if (usesForest()) return forest_.lookup(src, dst, sport, dport, proto, best, minRank);
    const TupleIndex<Family4>::Header h{src, dst, packAux(sport, dport, proto), sport, dport, proto};
    return tuples_.lookup(h, best, minRank);
  }
  using Header = TupleIndex<Family4>::Header;
  uint32_t lookup(const Header& h, uint32_t best, uint32_t minRank) const {
    return usesForest() ? forest_.lookup(h.src, h.dst, h.sport, h.dport, h.proto, best, minRank)
                        : tuples_.lookup(h, best, minRank);
  }
  // Batch over headers (the forest path copies them into parallel arrays, 64 at a time).
  void lookupBatch(const Header* hs, uint32_t* best, size_t n, uint32_t minRank) const;
  // Batch over parallel arrays; best[i] is in/out.
  void lookupBatch(const uint32_t* src, const uint32_t* dst, const uint16_t* sport,
                   const uint16_t* dport, const uint8_t* proto, uint32_t* best, size_t n,
                   uint32_t minRank) const;

 private:
  SplitForest4 forest_;
  TupleIndex<Family4> tuples_;
};

}  // namespace palisade
