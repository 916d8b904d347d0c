// member_map.h: a flat hash map from an address (or masked prefix) to a sorted list of set ids.
//
// What: the storage of AddressSets. Open addressing (linear probing, load <= 1/2 counting
// tombstones); every entry's ids live in one shared pool (off, len), sorted and unique.
// Why flat: AddressSets copies a map on the first edit of a batch (copy-on-write); a node-based
// std::unordered_map with a std::vector per entry cost one allocation per entry on every copy and
// ~20 ns per probe. Here a copy is four vector copies and a probe touches one or two cache lines.
// Each entry also carries a TAG, a u32 the owner sets (AddressSets stores the address class of the
// entry's id list there, so one probe answers both "which sets" and "which class"); a new entry's
// tag is kNoTag until set, and rehashing keeps it.
// Invariants: no entry with an empty list is kept (it becomes a tombstone); pool garbage (space of
// lists that moved) is compacted when it exceeds the live ids.
// Costs: find O(1) expected; add = find + copy of the entry's list to the pool end (lists are short:
// the sets one address belongs to); remove = find + in-place erase.
// Thread-safety: none; AddressSets publishes immutable copies.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace palisade {

template <class A, class H>
class MemberMap {
 public:
  static constexpr uint32_t kNoTag = 0xFFFFFFFFu;
  struct Span {
    const uint32_t* ids;
    uint32_t len;
    uint32_t tag;
  };

  // ids and tag of `key`, or {nullptr, 0, kNoTag}
  Span find(const A& key) const {
    if (live_ == 0) return {nullptr, 0, kNoTag};
    for (size_t i = H()(key) & mask_;; i = (i + 1) & mask_) {
      if (state_[i] == kEmpty) return {nullptr, 0, kNoTag};
      if (state_[i] == kFull && keys_[i] == key) return {pool_.data() + off_[i], len_[i], tag_[i]};
    }
  }

  // tag of `key` only (the lookup path), kNoTag when absent
  uint32_t tagOf(const A& key) const {
    if (live_ == 0) return kNoTag;
    for (size_t i = H()(key) & mask_;; i = (i + 1) & mask_) {
      if (state_[i] == kEmpty) return kNoTag;
      if (state_[i] == kFull && keys_[i] == key) return tag_[i];
    }
  }

  // brings the first probe slot of `key` towards the cache (batch lookups, a few keys ahead)
  void prefetch(const A& key) const {
    if (live_ == 0) return;
    const size_t i = H()(key) & mask_;
    __builtin_prefetch(&state_[i]);
    __builtin_prefetch(&keys_[i]);
    __builtin_prefetch(&tag_[i]);
  }

  // sets the tag of a present entry; false when `key` is absent
  bool setTag(const A& key, uint32_t tag) {
    if (live_ == 0) return false;
    for (size_t i = H()(key) & mask_;; i = (i + 1) & mask_) {
      if (state_[i] == kEmpty) return false;
      if (state_[i] == kFull && keys_[i] == key) {
        tag_[i] = tag;
        return true;
      }
    }
  }

  bool add(const A& key, uint32_t id) {
    if ((live_ + dead_ + 1) * 2 > cap()) grow();
    size_t slot = ~size_t(0);
    for (size_t i = H()(key) & mask_;; i = (i + 1) & mask_) {
      if (state_[i] == kFull && keys_[i] == key) {
        slot = i;
        break;
      }
      if (state_[i] == kEmpty) {
        slot = i;
        break;
      }
    }
    if (state_[slot] == kEmpty) {
      state_[slot] = kFull;
      keys_[slot] = key;
      tag_[slot] = kNoTag;
      off_[slot] = uint32_t(pool_.size());
      len_[slot] = 1;
      pool_.push_back(id);
      ++live_;
      ++ids_;
      return true;
    }
    const uint32_t off = off_[slot], len = len_[slot];
    const uint32_t* b = pool_.data() + off;
    const uint32_t pos = uint32_t(std::lower_bound(b, b + len, id) - b);
    if (pos < len && b[pos] == id) return false;
    // move the list to the end of the pool with `id` inserted
    const uint32_t noff = uint32_t(pool_.size());
    pool_.resize(pool_.size() + len + 1);
    uint32_t* nb = pool_.data() + noff;
    const uint32_t* ob = pool_.data() + off;
    std::copy(ob, ob + pos, nb);
    nb[pos] = id;
    std::copy(ob + pos, ob + len, nb + pos + 1);
    off_[slot] = noff;
    len_[slot] = len + 1;
    garbage_ += len;
    ++ids_;
    if (garbage_ > ids_ + 64) compact();
    return true;
  }

  bool remove(const A& key, uint32_t id) {
    if (live_ == 0) return false;
    for (size_t i = H()(key) & mask_;; i = (i + 1) & mask_) {
      if (state_[i] == kEmpty) return false;
      if (state_[i] != kFull || keys_[i] != key) continue;
      uint32_t* b = pool_.data() + off_[i];
      const uint32_t len = len_[i];
      uint32_t* p = std::lower_bound(b, b + len, id);
      if (p == b + len || *p != id) return false;
      std::copy(p + 1, b + len, p);
      --len_[i];
      ++garbage_;
      --ids_;
      if (len_[i] == 0) {
        state_[i] = kDead;
        --live_;
        ++dead_;
      }
      return true;
    }
  }

  // fn(key, ids, len) for every entry
  template <class Fn>
  void forEach(Fn&& fn) const {
    for (size_t i = 0; i < state_.size(); ++i)
      if (state_[i] == kFull) fn(keys_[i], pool_.data() + off_[i], len_[i]);
  }

  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }
  size_t bytes() const {
    return keys_.capacity() * sizeof(A) +
           (off_.capacity() + len_.capacity() + tag_.capacity() + pool_.capacity()) * 4 +
           state_.capacity();
  }

 private:
  static constexpr uint8_t kEmpty = 0, kFull = 1, kDead = 2;
  size_t cap() const { return state_.size(); }

  void rebuild(size_t newCap) {
    std::vector<A> keys(newCap);
    std::vector<uint32_t> off(newCap), len(newCap), tag(newCap, kNoTag), pool;
    std::vector<uint8_t> state(newCap, kEmpty);
    pool.reserve(ids_);
    const size_t m = newCap - 1;
    for (size_t i = 0; i < cap(); ++i) {
      if (state_[i] != kFull) continue;
      size_t j = H()(keys_[i]) & m;
      while (state[j] != kEmpty) j = (j + 1) & m;
      state[j] = kFull;
      keys[j] = keys_[i];
      tag[j] = tag_[i];
      off[j] = uint32_t(pool.size());
      len[j] = len_[i];
      pool.insert(pool.end(), pool_.begin() + off_[i], pool_.begin() + off_[i] + len_[i]);
    }
    keys_.swap(keys);
    off_.swap(off);
    len_.swap(len);
    tag_.swap(tag);
    pool_.swap(pool);
    state_.swap(state);
    mask_ = newCap - 1;
    dead_ = 0;
    garbage_ = 0;
  }
  void grow() {
    size_t c = cap() ? cap() : 8;
    while ((live_ + 1) * 2 > c) c *= 2;
    rebuild(c);
  }
  void compact() { rebuild(cap()); }

  std::vector<A> keys_;
  std::vector<uint32_t> off_, len_, tag_, pool_;
  std::vector<uint8_t> state_;
  size_t mask_ = 0, live_ = 0, dead_ = 0, ids_ = 0, garbage_ = 0;
};

}  // namespace palisade
