// prefix_intervals.h: every CIDR member prefix of a family, flattened into disjoint intervals.
//
// What: the member prefixes shorter than a host (/32, /128) cut the address space into
// elementary intervals; each interval keeps the sorted union of the set ids of every prefix that
// contains it. "Which sets contain this address through a CIDR" is then one binary search
// (upper_bound over the interval starts) instead of one hash probe per distinct prefix length.
// Design: derived data, rebuilt from the per-length member maps by AddressSets::Editor::finish()
// whenever an edit batch touched a CIDR member (rare: ipBlocks change with policies, pods are hosts).
// Invariants: starts[0] is the zero address; starts strictly increasing; interval k is
// [starts[k], starts[k+1]); its ids are pool[off[k], off[k] + len[k]), sorted, unique.
// Costs: lookup O(log I) with I <= 2P + 1 intervals for P prefixes; build O(P log P + I * depth)
// where depth is the prefix nesting depth; memory 4-16 bytes per interval + the id lists.
// Thread-safety: immutable after build.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "id_set.h"
#include "types.h"

namespace palisade {

// Address arithmetic the interval build needs, per family.
struct Span4 {
  using A = uint32_t;
  static A low(A a, unsigned len) { return a & mask4(len); }
  static A high(A a, unsigned len) { return a | ~mask4(len); }
  static bool less(A a, A b) { return a < b; }
  static bool isMax(A a) { return a == 0xFFFFFFFFu; }
  static A next(A a) { return a + 1; }
};
struct Span6 {
  using A = Addr6;
  static A low(const A& a, unsigned len) { return and6(a, mask6(len)); }
  static A high(const A& a, unsigned len) {
    const Addr6 m = mask6(len);
    return Addr6{a.hi | ~m.hi, a.lo | ~m.lo};
  }
  static bool less(const A& a, const A& b) { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; }
  static bool isMax(const A& a) { return a.hi == ~0ull && a.lo == ~0ull; }
  static A next(const A& a) { return a.lo == ~0ull ? Addr6{a.hi + 1, 0} : Addr6{a.hi, a.lo + 1}; }
};

template <class S>
class PrefixIntervals {
 public:
  using A = typename S::A;
  struct Prefix {
    A addr;
    uint8_t len;
    const uint32_t* ids;
    uint32_t n;
  };

  bool empty() const { return starts_.empty(); }

  void idsOf(const A& addr, IdSet& out) const {
    if (starts_.empty()) return;
    const size_t k = indexOf(addr);
    for (uint32_t i = 0; i < len_[k]; ++i) out.add(pool_[off_[k] + i]);
  }

  // Appends the ids of the interval holding `addr` (sorted) to `out`.
  void appendIds(const A& addr, std::vector<uint32_t>& out) const {
    if (starts_.empty()) return;
    const size_t k = indexOf(addr);
    out.insert(out.end(), pool_.begin() + off_[k], pool_.begin() + off_[k] + len_[k]);
  }

  // The address class of the interval holding `addr` (set by assignClasses), or `none`.
  uint32_t classOf(const A& addr, uint32_t none) const {
    return starts_.empty() ? none : classes_[indexOf(addr)];
  }
  // classes_[k] = fn(ids of interval k, their count) for every interval (the writer, after build)
  template <class Fn>
  void assignClasses(Fn&& fn) {
    classes_.resize(starts_.size());
    for (size_t k = 0; k < starts_.size(); ++k) classes_[k] = fn(pool_.data() + off_[k], len_[k]);
  }

  static PrefixIntervals build(std::vector<Prefix> ps) {
    PrefixIntervals out;
    if (ps.empty()) return out;
    for (auto& p : ps) p.addr = S::low(p.addr, p.len);
    // containing prefixes first among equal starts
    std::sort(ps.begin(), ps.end(), [](const Prefix& a, const Prefix& b) {
      if (S::less(a.addr, b.addr) || S::less(b.addr, a.addr)) return S::less(a.addr, b.addr);
      return a.len < b.len;
    });
    std::vector<A> bounds;
    bounds.reserve(ps.size() * 2 + 1);
    bounds.push_back(A{});
    for (const auto& p : ps) {
      bounds.push_back(p.addr);
      const A hi = S::high(p.addr, p.len);
      if (!S::isMax(hi)) bounds.push_back(S::next(hi));
    }
    std::sort(bounds.begin(), bounds.end(), [](const A& a, const A& b) { return S::less(a, b); });
    bounds.erase(std::unique(bounds.begin(), bounds.end(),
                             [](const A& a, const A& b) { return !S::less(a, b) && !S::less(b, a); }),
                 bounds.end());
    std::vector<size_t> stack;  // indexes into ps, outermost first (prefixes nest or are disjoint)
    std::vector<uint32_t> ids;
    size_t nextPrefix = 0;
    for (const A& b : bounds) {
      while (!stack.empty() && S::less(S::high(ps[stack.back()].addr, ps[stack.back()].len), b))
        stack.pop_back();
      while (nextPrefix < ps.size() && !S::less(b, ps[nextPrefix].addr)) stack.push_back(nextPrefix++);
      ids.clear();
      for (size_t k : stack) ids.insert(ids.end(), ps[k].ids, ps[k].ids + ps[k].n);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      out.starts_.push_back(b);
      out.off_.push_back(uint32_t(out.pool_.size()));
      out.len_.push_back(uint32_t(ids.size()));
      out.pool_.insert(out.pool_.end(), ids.begin(), ids.end());
    }
    return out;
  }

  size_t bytes() const {
    return starts_.capacity() * sizeof(A) +
           (off_.capacity() + len_.capacity() + classes_.capacity() + pool_.capacity()) * 4;
  }

 private:
  size_t indexOf(const A& addr) const {
    return size_t(std::upper_bound(starts_.begin(), starts_.end(), addr,
                                   [](const A& x, const A& y) { return S::less(x, y); }) -
                  starts_.begin()) - 1;
  }

  std::vector<A> starts_;
  std::vector<uint32_t> off_, len_, classes_, pool_;
};

}  // namespace palisade
