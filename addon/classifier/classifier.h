// classifier.h: the Palisade 5-tuple classifier. Pure C++17, no N-API.
//
// What: given rules (source and destination address fields, source and destination port ranges,
// protocol with mask, priority) it answers, for a packet header, the FIRST matching rule in the
// total order (priority, ruleId), lower first, with the rule's id and its opaque action byte.
// Two kinds of address field are served by one classifier and one rank space:
//   - PREFIX rules (ClassBench shape): one IPv4 or IPv6 prefix per address field. IPv4 ->
//     Prefix4Index (prefix4_index.h: a split forest, split_tree.h, or a TupleMerge index, chosen
//     per rule set by a cost estimate); IPv6 -> TupleIndex (tuple_index.h, TupleMerge).
//   - SET rules (Kubernetes shape): an address-set id per field (or kAnySet) -> one compiled form
//     indexed by classes (class_table.h): each address has equivalence classes (address_classes.h,
//     kept in AddressSets: address_sets.h, changed incrementally without a rebuild), each class
//     and each dport class a rule bitmap; a lookup intersects them instead of walking rules.
// "First match with priority >= P" (to implement Pass: skip the rest of a tier) is the
// `minPriority` argument of every lookup.
//
// Design:
//  - compile() is a pure function: RuleSpec list -> immutable RuleTables. It sorts the rules into
//    ranks, splits them by kind and builds the indexes. It touches no shared state, so it can run on
//    any thread (the N-API glue runs it in a worker).
//  - A SNAPSHOT pairs one RuleTables with one AddressSets, the ClassTable derived from both, and a
//    version number. It is immutable. publishRules builds the ClassTable for every known class;
//    applySetEdits extends it with the classes the batch created (shared blocks, no rebuild).
//  - Versioned publish: the classifier holds an atomic pointer to the current snapshot. Publishing
//    rules (publishRules) or a batch of set edits (applySetEdits) builds a NEW snapshot that shares
//    every unchanged part (shared_ptr), then swaps the pointer. A lookup loads the pointer once and
//    uses only that snapshot, so it never sees half an update: all edits of one batch appear
//    together, at version+1.
//  - Reclamation: readers announce themselves in an atomic counter around each lookup call (one
//    call covers a whole batch). A replaced snapshot is retired and freed at a later publish that
//    sees no reader in flight (quiescent-state reclamation). seq_cst ordering on the counter and
//    the pointer makes this safe: a reader that started after the swap cannot see the old pointer.
//
// Invariants: rank r is the r-th rule in (priority, ruleId) order; ruleIds are unique and never
// kNoRuleId; the published snapshot is never mutated; version increases by one per publish.
//
// Costs: compile O(R log R + R * T) + the IPv4 index build (prefix4_index.h, tuple_index.h); lookup = prefix index walk + (if set rules
// exist) the classes of both addresses + a bitmap intersection (class_table.h); applySetEdits
// O(edits + touched shards + new classes x their rules) plus a 2 KiB snapshot copy; publishRules
// O(classes x words); lookups do not allocate.
//
// Thread-safety: lookups from any number of threads; publishRules / applySetEdits are serialized by
// an internal mutex and may run concurrently with lookups.
//
// Wire layout of batch headers (host-order u32 words, as the N-API glue passes typed arrays):
//   IPv4: 4 words per header  [src, dst, sport << 16 | dport, proto]
//   IPv6: 10 words per header [src0..src3, dst0..dst3, sport << 16 | dport, proto]
//         (src0 = most significant 32 bits of the address)
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "address_sets.h"
#include "class_table.h"
#include "prefix4_index.h"
#include "tuple_index.h"
#include "types.h"

namespace palisade {

// The compiled, immutable rule structures of one rule set.
struct RuleTables {
  Prefix4Index prefix4;
  TupleIndex<Family6> prefix6;
  std::shared_ptr<const SetRuleForm> sets = SetRuleForm::build({});
  std::vector<uint32_t> ruleIdOfRank;
  std::vector<uint8_t> actionOfRank;
  std::vector<uint32_t> priorityOfRank;  // ascending

  size_t ruleCount() const { return ruleIdOfRank.size(); }
  size_t bytes() const;
  uint32_t minRankFor(uint32_t minPriority) const;  // first rank whose priority >= minPriority
};

// One membership edit. family 4 uses addr4; family 6 uses addr6.
struct SetEdit {
  bool add = true;
  uint8_t family = 4;
  uint8_t prefixLen = 32;
  uint32_t setId = 0;
  uint32_t addr4 = 0;
  Addr6 addr6;
};

struct ClassifierStats {
  uint64_t version;
  size_t rules, prefixRules4, prefixRules6, setRules, tables4, tables6, members;
  size_t ruleBytes, memberBytes;
  size_t addressClasses, namedClasses, classBytes;  // class_table.h: classes known, with own bitmaps
};

class Classifier {
 public:
  Classifier();
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Pure: compile rules. On a bad rule returns nullptr and sets *error ("code: message").
  static std::shared_ptr<const RuleTables> compile(const std::vector<RuleSpec>& specs,
                                                   std::string* error);

  // Publish new rules, keeping the current membership. Returns the new version.
  uint64_t publishRules(std::shared_ptr<const RuleTables> rules);
  // Apply a batch of membership edits as ONE new version. *changed = edits that changed something.
  uint64_t applySetEdits(const SetEdit* edits, size_t n, size_t* changed);
  // A new classifier whose current snapshot is this one's (rules, members, classes shared, same
  // version): a later applySetEdits on the fork costs what it costs here, O(edits + touched
  // shards), and leaves this classifier as it is. The fork shares this one's class registry
  // (writer-only, see address_classes.h), so edits of this classifier and of its forks must be
  // serialized by the caller (one writer thread), and a classifier that was forked is meant to be
  // edited no more (the nfqueue EngineSource: immutable once published). O(1).
  std::unique_ptr<Classifier> fork();

  Match lookup4(const Header4& h, uint32_t minPriority = 0) const;
  Match lookup6(const Header6& h, uint32_t minPriority = 0) const;
  // Batch over the wire layout above. `scalar` = same structures, one header at a time, no
  // prefetch (the "native-scalar" engine). Writes kNoRuleId / 0 for headers without a match.
  void lookupBatch4(const uint32_t* words, size_t n, uint32_t minPriority, bool scalar,
                    uint32_t* outRuleId, uint8_t* outAction) const;
  void lookupBatch6(const uint32_t* words, size_t n, uint32_t minPriority, bool scalar,
                    uint32_t* outRuleId, uint8_t* outAction) const;

  ClassifierStats stats() const;

 private:
  struct Snapshot {
    uint64_t version;
    std::shared_ptr<const RuleTables> rules;
    std::shared_ptr<const AddressSets> sets;
    std::shared_ptr<const ClassTable> classes;  // from rules->sets and sets->classes()
  };
  class ReadGuard;
  explicit Classifier(Snapshot* first);

  // the set rules of one chunk of a batch (classifier.cc: two passes, prefetched)
  static void lookupSetsBatch4(const Snapshot& snap, const TupleIndex<Family4>::Header* hs, size_t m,
                               uint32_t* best, uint32_t minBit, bool scalar);
  static void lookupSetsBatch6(const Snapshot& snap, const TupleIndex<Family6>::Header* hs, size_t m,
                               uint32_t* best, uint32_t minBit, bool scalar);
  void publish(Snapshot* next);  // caller holds writeMu_
  void reclaim();                // caller holds writeMu_

  std::atomic<const Snapshot*> current_;
  mutable std::atomic<uint64_t> readers_{0};
  std::mutex writeMu_;
  std::vector<const Snapshot*> retired_;
};

}  // namespace palisade
