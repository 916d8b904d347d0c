// address_classes.h: address equivalence classes, the interning of set-id lists.
//
// What: two addresses are EQUIVALENT for every set rule when they belong to exactly the same sets.
// An address class is one distinct sorted list of set ids (a "signature"); the ClassRegistry gives
// each signature seen a dense id (0, 1, 2, ...). AddressSets stores the class of each host member
// (in its member map entry) and of each CIDR interval, so a lookup finds an address's classes with
// the probes it already did, and ClassTable (class_table.h) keeps per class the rule bitmaps.
// A host member (/32, /128) has one class: all of its sets, those whose CIDR members contain it
// included. Any other address has the class of the CIDR interval holding it (prefix_intervals.h).
// (ClassTable::lookup takes two classes per address and ORs their bitmaps; AddressSets passes
// kNoClass as the second, which reads the shared `any` block.)
// The empty list has no class (kNoClass): such an address matches only the rules on `any`.
//
// Invariants: a signature keeps its id for the registry's life (ids only grow: the classes of a
// published snapshot stay valid in later ones); id k < size().
// Cost: intern O(n log C) (a std::map over signatures); memory O(sum of signature lengths). Classes
// no address uses any more are not reclaimed (bounded by the distinct signatures ever seen; a
// classifier rebuilt from scratch starts over).
// Thread-safety: writer-only. The registry is shared by every AddressSets version of one
// classifier and mutated only by AddressSets::Editor under the classifier's write mutex; lookups
// never read it (they read class ids from the members and bitmaps from ClassTable).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace palisade {

constexpr uint32_t kNoClass = 0xFFFFFFFFu;

class ClassRegistry {
 public:
  uint32_t intern(const uint32_t* ids, uint32_t n) {
    if (n == 0) return kNoClass;
    std::vector<uint32_t> sig(ids, ids + n);
    auto it = byList_.find(sig);
    if (it != byList_.end()) return it->second;
    const uint32_t id = uint32_t(lists_.size());
    lists_.push_back(sig);
    byList_.emplace(std::move(sig), id);
    return id;
  }
  // the sorted set ids of class `id`
  const std::vector<uint32_t>& setsOf(uint32_t id) const { return lists_[id]; }
  uint32_t size() const { return uint32_t(lists_.size()); }

 private:
  std::vector<std::vector<uint32_t>> lists_;
  std::map<std::vector<uint32_t>, uint32_t> byList_;
};

}  // namespace palisade
