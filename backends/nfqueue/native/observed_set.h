// observed_set.h: the observed subjects (src/enforce/observed.ts) as the packet loop sees them:
// an immutable sorted set of (family, address) keys. A new flow whose subject is in it (egress:
// the source, ingress: the destination) gets a record of reason Observed (loop.h), allowed or not;
// the TypeScript side names it (src/enforce/observe.ts). It changes no verdict.
//
// Invariants: immutable once published (Loop::publishObserved swaps a shared_ptr atomically).
// Cost: contains() is a binary search over 17-byte keys, once per direction of a queued packet.
// Thread-safety: any number of readers once published.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace palisade::nfq {

class ObservedSet {
 public:
  using Key = std::array<uint8_t, 17>;  // family, then 16 address bytes (IPv4 in the first 4)

  // `packed`: n records of 17 bytes (family 4|6, address in network order, IPv4 zero-padded)
  ObservedSet(const uint8_t* packed, size_t n) {
    keys_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      Key k{};
      std::memcpy(k.data(), packed + 17 * i, 17);
      keys_.push_back(k);
    }
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
  }

  bool empty() const { return keys_.empty(); }

  bool contains(uint8_t family, const uint8_t* addrNet) const {
    Key k{};
    k[0] = family;
    std::memcpy(k.data() + 1, addrNet, family == 4 ? 4 : 16);
    return std::binary_search(keys_.begin(), keys_.end(), k);
  }

 private:
  std::vector<Key> keys_;
};

}  // namespace palisade::nfq
