// set_rules.h: the index for SET rules (src set id, dst set id, port ranges, proto/mask).
//
// What: the Kubernetes shape. A rule names a source address set and a destination address set
// (either may be kAnySet). Which addresses are in a set is NOT part of this index: it lives in
// AddressSets, so pod churn never touches this structure.
//
// Design: each rule is filed under exactly one list, chosen by its address fields:
//   - srcSet != any            -> bySrc[srcSet]   (checked: dstSet any, or dstSet in D)
//   - srcSet == any, dst != any -> byDst[dstSet]   (checked: nothing more on addresses)
//   - both any                 -> anyAny
// Every list is sorted by rank. A lookup is given S = sets containing the source address and
// D = sets containing the destination address (both sorted), walks bySrc[s] for s in S, byDst[d]
// for d in D and anyAny, and stops each walk at the first rank that cannot beat the best so far.
// Lists are found through a direct array indexed by set id when ids are dense (the engine numbers
// sets 0..N-1), else by binary search in a sorted key array. S and D are IdSets (O(1) membership).
// BPF lowering: a (set id -> list) array map per side plus a rule array map; S and D come from the
// membership maps.
//
// Invariants: every rule in exactly one list; each list is a contiguous run of rules_ sorted by
// rank (so a walk reads memory in order); key arrays sorted, unique.
//
// Costs: lookup O(|S| + |D| + candidates visited) with dense ids (x log K otherwise, K = distinct set
// ids used by rules); build O(R log R). Memory: 24 bytes per rule + 8 bytes per list + 4 bytes per
// dense id.
//
// Thread-safety: immutable after build(); any number of concurrent readers.
#pragma once

#include <cstdint>
#include <vector>

#include "id_set.h"
#include "types.h"

namespace palisade {

class SetRuleIndex {
 public:
  struct Input {
    uint32_t srcSet, dstSet;
    uint16_t sportLo, sportHi, dportLo, dportHi;
    uint8_t proto, protoMask;
    uint32_t rank;
  };

  static SetRuleIndex build(const std::vector<Input>& rulesInRankOrder);

  // First rank in [minRank, best) whose rule matches, or `best`. S / D: the sets containing the
  // source / destination address.
  uint32_t lookup(const IdSet& S, const IdSet& D, uint16_t sport, uint16_t dport, uint8_t proto,
                  uint32_t best, uint32_t minRank) const;

  bool empty() const { return rules_.empty(); }
  size_t ruleCount() const { return rules_.size(); }
  size_t bytes() const;

 private:
  struct Rule {
    uint32_t srcSet, dstSet;
    uint16_t sportLo, sportHi, dportLo, dportHi;
    uint8_t proto, protoMask;
    uint32_t rank;
  };
  struct Lists {
    std::vector<uint32_t> keys;    // sorted set ids
    std::vector<uint32_t> starts;  // keys.size() + 1 offsets into rules_ (each list contiguous)
    // Direct index set id -> position in keys (+1; 0 = none) when ids are dense enough
    // (largest id < 16 x keys + 4096); otherwise find() binary-searches keys.
    std::vector<uint32_t> dense;
    void index();
    // first index into rules_ of `key`'s list (count = its length), or false
    bool find(uint32_t key, uint32_t& start, uint32_t& count) const;
  };

  uint32_t walk(const Rule* rules, uint32_t count, const IdSet* D,
                uint16_t sport, uint16_t dport, uint8_t proto, uint32_t best,
                uint32_t minRank) const;

  std::vector<Rule> rules_;  // grouped by list: the bySrc lists, the byDst lists, then anyAny
  Lists bySrc_, byDst_;
  uint32_t anyStart_ = 0, anyCount_ = 0;
};

}  // namespace palisade
