// class_table.h: the compiled form of the SET rules: rule bitmaps per address class and per
// destination-port class, so a lookup intersects a few bitmaps instead of walking rules.
//
// What: the Kubernetes shape (src set, dst set, port ranges, proto). Bit b of every bitmap here is
// the b-th set rule in rank order. A lookup
//   1. finds the class of both addresses (AddressSets::classesOf: one host probe, an interval
//      search only for a non-member; address_classes.h) and the dport class (DportClasses below:
//      a branchless count over one cache line when the rules cut the port space into at most
//      kSmallDportBounds + 1 intervals, else a two-level table),
//   2. intersects   (src host | src cidr) & (dst host | dst cidr) & dport   word by word, where each
//      class's bitmap already includes the rules on `any` for that side,
//   3. answers the lowest set bit whose rank is in [minRank, best) and whose source port range and
//      protocol match (checked on the candidate: they rarely discriminate).
// Every bitmap carries a summary (bit w set iff word w is non-zero: an aggregated bit vector), and
// step 2 first intersects the summaries, so it reads only the words that can hold a match: a
// subject with 10k rules whose peers do not contain the destination costs R/4096 summary words.
//
// Two parts, split by what changes them:
//  - SetRuleForm: rules only (built by Classifier::compile on any thread): per set id the rule bits
//    naming it as source / destination, the `any` bitmaps, the dport classes and their bitmaps, and
//    per bit the rank, source ports and protocol.
//  - ClassTable: SetRuleForm x the classes of the registry. Built whole when rules are published
//    (O(sum over classes of the rules their sets name + classes x words)); EXTENDED when a
//    membership batch created classes (only the new classes get bitmaps, the old blocks are shared),
//    so a pod add or relabel costs at most one or two new class blocks, not a rebuild.
//    A class none of whose sets any rule names shares the `any` block (no memory per such class).
//
// Invariants: immutable once built; blocks[c] exists for every class id < classCount(); a block is
// [src summary | src words | dst summary | dst words] (u64); summaries are exact for their words.
// Costs: lookup O(summary words from minRank + candidate words + candidates checked); memory per
// class that a rule names 16 x (words + summary words) bytes, words = ceil(setRules / 64); per
// dport class the same / 2; the dport class lookup 64 bytes (few bounds) or 1 KiB + 512 bytes per
// 256-port block that a bound cuts (at most 129 KiB). No set rules: nothing is allocated.
// Thread-safety: immutable after build; any number of concurrent readers.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "address_classes.h"
#include "types.h"

namespace palisade {

struct SetRuleInput {
  uint32_t srcSet, dstSet;  // kAnySet = any
  uint16_t sportLo, sportHi, dportLo, dportHi;
  uint8_t proto, protoMask;
  uint32_t rank;
};

// Destination port -> dport class, where the classes are the elementary intervals cut by the rules'
// port ranges: class k = [bounds[k], bounds[k+1]). Two forms, chosen by the number of bounds:
//  - small (at most kSmallDportBounds bounds above 0): lastBefore_[i] = bounds[i+1] - 1, padded with
//    65535; class = the number of entries below the port (a fixed-size compare-and-count the
//    compiler vectorizes; one 64-byte line, no branch on the port).
//  - large: top_[port >> 8] is either kUniform | class (the 256 ports of that block share a class)
//    or the index of a 256-entry block in leaf_ (two loads).
// Invariants: immutable after build; classOf(p) is the k with bounds[k] <= p < bounds[k+1].
class DportClasses {
 public:
  static constexpr uint32_t kSmallDportBounds = 32;
  DportClasses() {  // one class: every port in class 0
    for (uint32_t i = 0; i < kSmallDportBounds; ++i) lastBefore_[i] = 65535;
  }
  void build(const std::vector<uint32_t>& boundsFromZero);  // sorted, unique, starts with 0
  uint16_t classOf(uint16_t port) const {
    if (top_.empty()) {
      uint32_t k = 0;
      for (uint32_t i = 0; i < kSmallDportBounds; ++i) k += port > lastBefore_[i] ? 1 : 0;
      return uint16_t(k);
    }
    const uint32_t t = top_[port >> 8];
    return (t & kUniform) ? uint16_t(t) : leaf_[(size_t(t) << 8) | (port & 0xff)];
  }
  bool small() const { return top_.empty(); }
  size_t heapBytes() const { return top_.capacity() * 4 + leaf_.capacity() * 2; }

 private:
  static constexpr uint32_t kUniform = 0x80000000u;
  alignas(64) uint16_t lastBefore_[kSmallDportBounds];
  std::vector<uint32_t> top_;   // 256 entries in the large form, empty in the small one
  std::vector<uint16_t> leaf_;  // 256 entries per cut block
};

class SetRuleForm {
 public:
  static std::shared_ptr<const SetRuleForm> build(const std::vector<SetRuleInput>& rulesInRankOrder);

  bool empty() const { return ruleCount_ == 0; }
  size_t ruleCount() const { return ruleCount_; }
  size_t bytes() const;
  uint32_t firstBitAtOrAbove(uint32_t minRank) const;  // first set-rule bit with rank >= minRank

 private:
  friend class ClassTable;
  struct Check {
    uint16_t sportLo, sportHi;
    uint8_t proto, protoMask;
  };
  struct ById {  // set id -> the bits of the rules naming it (CSR, keys sorted)
    std::vector<uint32_t> keys, starts, bits;
    const uint32_t* find(uint32_t id, uint32_t& n) const;
  };

  uint32_t ruleCount_ = 0;
  uint32_t words_ = 0, sumWords_ = 0;  // words per bitmap, summary words per bitmap
  std::vector<uint32_t> rankOfBit_;
  std::vector<Check> check_;
  ById bySrc_, byDst_;
  std::vector<uint64_t> anyBlock_;      // the block of an address in no named set: `any` rules only
  DportClasses dportClass_;             // port -> dport class
  std::vector<uint64_t> dportBits_;     // per dport class [summary | words]
};

class ClassTable {
 public:
  // Whole build: bitmaps for classes [0, registry.size()).
  static std::shared_ptr<const ClassTable> build(std::shared_ptr<const SetRuleForm> form,
                                                 const ClassRegistry& registry);
  // `base` plus bitmaps for the classes it does not have yet; shares base's blocks. Returns base
  // itself when there is nothing new.
  static std::shared_ptr<const ClassTable> extend(const std::shared_ptr<const ClassTable>& base,
                                                  const ClassRegistry& registry);

  // First rank in [minRank, best) of a set rule matching; `best` if none. minBit =
  // form.firstBitAtOrAbove(minRank) (hoisted out of batch loops by the caller).
  uint32_t lookup(uint32_t srcHost, uint32_t srcCidr, uint32_t dstHost, uint32_t dstCidr,
                  uint16_t sport, uint16_t dport, uint8_t proto, uint32_t best,
                  uint32_t minBit) const;

  // brings the summaries a lookup of these classes reads first towards the cache (batches)
  void prefetch(uint32_t srcClass, uint32_t dstClass, uint16_t dport) const {
    const uint32_t sw = form_->sumWords_, w = form_->words_;
    __builtin_prefetch(blockOf(srcClass));
    __builtin_prefetch(blockOf(dstClass) + sw + w);
    __builtin_prefetch(form_->dportBits_.data() + (size_t(sw) + w) * form_->dportClass_.classOf(dport));
  }

  const SetRuleForm& form() const { return *form_; }
  bool empty() const { return form_->empty(); }
  size_t classCount() const { return blockOf_.size(); }
  size_t namedClassCount() const { return owned_.size(); }  // classes with a block of their own
  size_t bytes() const;

 private:
  const uint64_t* blockOf(uint32_t cls) const {
    return cls < blockOf_.size() ? blockOf_[cls] : form_->anyBlock_.data();
  }
  void addClasses(const ClassRegistry& registry, uint32_t from);

  std::shared_ptr<const SetRuleForm> form_;
  std::vector<const uint64_t*> blockOf_;  // class id -> its block (anyBlock_ when no rule names it)
  std::vector<std::shared_ptr<const std::vector<uint64_t>>> owned_;  // the blocks of named classes
};

}  // namespace palisade
