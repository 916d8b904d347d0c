// address_sets.h: address-set membership (set id -> prefixes), answered the other way round:
// address -> the sorted ids of every set that has a member prefix containing it.
//
// What: the Kubernetes shape. A set is a pod selector, a namespace selector, an ipBlock (its
// `except` already expanded into disjoint prefixes by the caller), a node set... Its members are
// IPv4 and IPv6 prefixes; a pod IP is a /32 or /128 member. Membership changes one prefix at a time
// (pod churn), without rebuilding anything else.
//
// Design:
//  - Host members (/32, /128) live in 256 SHARDS per family, chosen by a hash of the address; each
//    shard is a flat hash map address -> sorted set ids (member_map.h). Shorter prefixes (CIDRs)
//    live in one PrefixTable per family: a flat map per prefix length (for edits) and, derived from
//    them at the end of each edit batch that touched one, disjoint intervals with the union of their
//    set ids (prefix_intervals.h), so a lookup does one binary search for all CIDR members.
//  - Copy-on-write: an AddressSets value is immutable once published. An Editor starts from a
//    published value, shares every shard, and clones a shard (or the prefix table) the first time an
//    edit touches it; finish() returns the new value. A batch of K host edits therefore costs
//    O(K + shards touched * shard size), independent of the total number of members.
//  - Membership is a set: adding a member twice or removing an absent member changes nothing (the
//    edit reports false).
//  - BPF lowering: host members map 1:1 to a BPF hash map (addr -> set bitmap id), CIDR members
//    to an LPM trie per family.
//
// Invariants: every id list is sorted and unique, no empty list is stored; stored prefixes have their
// host bits cleared; a published value is never mutated.
//
// Costs: setsOf() = 1 host probe + 1 binary search over the CIDR intervals + O(1) per id found
// (IdSet, no sorting); a batch touching CIDR members also pays one interval rebuild
// (O(P log P) for P CIDR members); an edit = 1 hash lookup + an insert into a short sorted vector (+ a shard clone the first
// time a shard is touched in one edit batch).
//
// Thread-safety: a published AddressSets is immutable (shared by shared_ptr); any number of
// readers. An Editor is single-threaded and must not be shared.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "address_classes.h"
#include "id_set.h"
#include "member_map.h"
#include "prefix_intervals.h"
#include "types.h"

namespace palisade {

using SetIds = std::vector<uint32_t>;  // sorted, unique

struct Addr4Hash {
  size_t operator()(uint32_t a) const { return size_t(mix64(a)); }
};
struct Addr6Hash {
  size_t operator()(const Addr6& a) const { return size_t(mix64(a.hi ^ mix64(a.lo))); }
};

template <class A, class H>
struct MemberShard {
  MemberMap<A, H> byAddr;
};

template <class A, class H, class S>
struct PrefixTable {
  // prefix length -> (masked address -> set ids): the source of truth for edits.
  std::map<uint8_t, MemberMap<A, H>, std::greater<uint8_t>> byLen;
  // the same members flattened for lookups (rebuilt when an edit batch touched this table)
  PrefixIntervals<S> intervals;
  void reindex(ClassRegistry& classes) {
    std::vector<typename PrefixIntervals<S>::Prefix> ps;
    for (const auto& [len, map] : byLen)
      map.forEach([&](const A& key, const uint32_t* ids, uint32_t n) { ps.push_back({key, len, ids, n}); });
    intervals = PrefixIntervals<S>::build(std::move(ps));
    intervals.assignClasses([&](const uint32_t* ids, uint32_t n) { return classes.intern(ids, n); });
  }
};

class AddressSets {
 public:
  static constexpr size_t kShards = 256;
  using Shard4 = MemberShard<uint32_t, Addr4Hash>;
  using Shard6 = MemberShard<Addr6, Addr6Hash>;
  using Prefixes4 = PrefixTable<uint32_t, Addr4Hash, Span4>;
  using Prefixes6 = PrefixTable<Addr6, Addr6Hash, Span6>;

  AddressSets();

  // Adds the ids of the sets containing `addr` to `out`.
  void setsOf4(uint32_t addr, IdSet& out) const;
  void setsOf6(const Addr6& addr, IdSet& out) const;
  // The address classes of `addr` (address_classes.h). A host member's class covers all of its
  // sets, its CIDR sets included (its tag), so `cidr` is then kNoClass and no interval search
  // runs; any other address has only its interval's class (`host` = kNoClass). One probe + at
  // most one interval search, no id list read.
  void classesOf4(uint32_t addr, uint32_t& host, uint32_t& cidr) const {
    host = shards4_[shardOf4(addr)]->byAddr.tagOf(addr);
    cidr = host != kNoClass ? kNoClass : prefixes4_->intervals.classOf(addr, kNoClass);
  }
  void classesOf6(const Addr6& addr, uint32_t& host, uint32_t& cidr) const {
    host = shards6_[shardOf6(addr)]->byAddr.tagOf(addr);
    cidr = host != kNoClass ? kNoClass : prefixes6_->intervals.classOf(addr, kNoClass);
  }
  void prefetchClass4(uint32_t addr) const { shards4_[shardOf4(addr)]->byAddr.prefetch(addr); }
  void prefetchClass6(const Addr6& addr) const { shards6_[shardOf6(addr)]->byAddr.prefetch(addr); }
  // The class registry (writer side: ClassTable reads the signatures of new classes).
  const ClassRegistry& classes() const { return *classes_; }

  size_t memberCount() const { return members_; }
  size_t bytes() const;

  class Editor;

 private:
  static size_t shardOf4(uint32_t a) { return size_t(mix64(a) >> 56); }
  static size_t shardOf6(const Addr6& a) { return size_t(mix64(a.hi ^ mix64(a.lo)) >> 56); }

  std::array<std::shared_ptr<const Shard4>, kShards> shards4_;
  std::array<std::shared_ptr<const Shard6>, kShards> shards6_;
  std::shared_ptr<const Prefixes4> prefixes4_;
  std::shared_ptr<const Prefixes6> prefixes6_;
  std::shared_ptr<ClassRegistry> classes_;  // shared by every version; writer-only (see its header)
  size_t members_ = 0;
};

// Stages edits on a copy of a published AddressSets. Not thread-safe.
class AddressSets::Editor {
 public:
  explicit Editor(const AddressSets& base) : next_(base) {}
  bool add4(uint32_t setId, uint32_t addr, uint8_t prefixLen);
  bool remove4(uint32_t setId, uint32_t addr, uint8_t prefixLen);
  bool add6(uint32_t setId, const Addr6& addr, uint8_t prefixLen);
  bool remove6(uint32_t setId, const Addr6& addr, uint8_t prefixLen);
  std::shared_ptr<const AddressSets> finish();

 private:
  Shard4& shard4(size_t i);
  Shard6& shard6(size_t i);
  Prefixes4& prefixes4();
  Prefixes6& prefixes6();

  AddressSets next_;
  std::vector<uint32_t> touched4_;  // host members edited in this batch: re-classed in finish()
  std::vector<Addr6> touched6_;
  std::array<bool, kShards> owned4_{};
  std::array<bool, kShards> owned6_{};
  bool ownedP4_ = false, ownedP6_ = false;
};

}  // namespace palisade
