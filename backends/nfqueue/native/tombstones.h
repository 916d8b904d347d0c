// tombstones.h: the reverse tuples of flows --strict has just cut, refused for a while.
//
// Why: when --strict deletes the conntrack entry of a now-denied flow, a reply already in flight
// (or a server that keeps sending) opens a NEW entry the other way, server -> client, which the
// policy may well allow (the client is not isolated); the client's packets would then pass as that
// entry's replies and the cut would not hold. For `ttlNs` after a cut, a NEW packet whose 5-tuple is
// exactly the reverse of a cut flow is dropped as if the policy denied it. The price: a genuine
// server-initiated flow on exactly those addresses and ports within the window is refused too.
//
// Invariants: immutable once published (Loop::publishTombstones swaps an atomic shared_ptr).
// Cost: one hash lookup per queued packet while any tombstone is live; nothing otherwise.
// Thread-safety: const after construction; read from any number of worker threads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "packet.h"

namespace palisade::nfq {

class Tombstones {
 public:
  Tombstones(const std::vector<FlowKey>& cutFlows, uint64_t expiresAtNs) : expiresAtNs_(expiresAtNs) {
    for (const FlowKey& k : cutFlows) reversed_.insert(keyOf(k, true));
  }
  uint64_t expiresAtNs() const { return expiresAtNs_; }
  size_t size() const { return reversed_.size(); }
  // true when `k` (a new packet's flow) is the reverse of a cut flow and the window is still open
  bool refuses(const FlowKey& k, uint64_t nowNs) const {
    return nowNs < expiresAtNs_ && !reversed_.empty() && reversed_.count(keyOf(k, false)) != 0;
  }

 private:
  static std::string keyOf(const FlowKey& k, bool reverse) {
    std::string s(38, '\0');
    s[0] = static_cast<char>(k.family);
    s[1] = static_cast<char>(k.proto);
    const uint16_t sp = reverse ? k.dstPort : k.srcPort, dp = reverse ? k.srcPort : k.dstPort;
    std::memcpy(&s[2], &sp, 2);
    std::memcpy(&s[4], &dp, 2);
    std::memcpy(&s[6], reverse ? k.dstAddrNet : k.srcAddrNet, 16);
    std::memcpy(&s[22], reverse ? k.srcAddrNet : k.dstAddrNet, 16);
    return s;
  }
  std::unordered_set<std::string> reversed_;
  uint64_t expiresAtNs_;
};

}  // namespace palisade::nfq
