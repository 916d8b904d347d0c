// id_set.h: a per-lookup set of address-set ids (the sets containing one address).
//
// What: scratch space for one lookup. add() and contains() are O(1) for ids below kDense (a stamp
// array indexed by id: an entry is present when its stamp equals the current generation, so
// clear() is O(1)); larger ids fall back to a short unsorted vector (linear contains()).
// Why: the set path used to collect ids into a vector and sort + dedup it for every lookup, and
// binary-search it per rule; with a pod in ~100 sets that cost microseconds per flow.
// Invariants: ids() lists each present id once, in insertion order.
// Cost: memory 4 bytes x (largest dense id seen + 1), kept across lookups (per thread).
// Thread-safety: none; one instance per thread (the classifier keeps them thread_local).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace palisade {

class IdSet {
 public:
  static constexpr uint32_t kDense = 1u << 22;

  void clear() {
    list_.clear();
    sparse_.clear();
    if (++gen_ == 0) {  // wrapped: forget every stamp
      std::fill(stamp_.begin(), stamp_.end(), 0);
      gen_ = 1;
    }
  }
  void add(uint32_t id) {
    if (id < kDense) {
      if (id >= stamp_.size()) stamp_.resize(std::max<size_t>(size_t(id) + 1, stamp_.size() * 2), 0);
      if (stamp_[id] == gen_) return;
      stamp_[id] = gen_;
    } else {
      if (std::find(sparse_.begin(), sparse_.end(), id) != sparse_.end()) return;
      sparse_.push_back(id);
    }
    list_.push_back(id);
  }
  bool contains(uint32_t id) const {
    if (id < kDense) return id < stamp_.size() && stamp_[id] == gen_;
    return std::find(sparse_.begin(), sparse_.end(), id) != sparse_.end();
  }
  const std::vector<uint32_t>& ids() const { return list_; }

 private:
  std::vector<uint32_t> stamp_;
  std::vector<uint32_t> list_, sparse_;
  uint32_t gen_ = 1;
};

}  // namespace palisade
