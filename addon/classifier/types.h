// types.h: the value types every classifier structure shares.
//
// What: addresses (IPv4 as a host-order u32, IPv6 as two host-order u64 halves), prefixes, port
// ranges, the rule specification the caller hands in (RuleSpec) and the answer (Match).
//
// Byte order: every address and port here is in HOST order, most significant bit = first bit of
// the address on the wire. `10.0.0.1` is 0x0A000001. An IPv6 address is {hi, lo}: `fd00::1` is
// hi = 0xFD00000000000000, lo = 1. The N-API glue converts; nothing in this folder sees network order.
//
// Total order: rules are ordered by (priority, ruleId), lower first. The classifier answers the
// FIRST rule in that order that matches all fields. Two rules never tie (ruleId is unique).
// After a build each rule has a dense `rank` (its position in that order); all hot structures
// compare ranks, never (priority, ruleId) pairs.
//
// Thread-safety: plain values, no shared state.
#pragma once

#include <cstdint>
#include <cstring>

namespace palisade {

constexpr uint32_t kAnySet = 0xFFFFFFFFu;   // "any address" in a set-rule address field
constexpr uint32_t kNoRank = 0xFFFFFFFFu;   // "no match" rank
constexpr uint32_t kNoRuleId = 0xFFFFFFFFu; // reserved: a rule id may not take this value

struct Addr6 {
  uint64_t hi = 0, lo = 0;
  bool operator==(const Addr6& o) const { return hi == o.hi && lo == o.lo; }
  bool operator!=(const Addr6& o) const { return !(*this == o); }
};

inline uint32_t mask4(unsigned prefixLen) { return prefixLen == 0 ? 0u : ~0u << (32 - prefixLen); }
inline Addr6 mask6(unsigned prefixLen) {
  Addr6 m;
  if (prefixLen >= 64) {
    m.hi = ~0ull;
    m.lo = prefixLen == 64 ? 0ull : ~0ull << (128 - prefixLen);
  } else {
    m.hi = prefixLen == 0 ? 0ull : ~0ull << (64 - prefixLen);
    m.lo = 0;
  }
  return m;
}
inline Addr6 and6(const Addr6& a, const Addr6& m) { return Addr6{a.hi & m.hi, a.lo & m.lo}; }

// Kinds of address field a rule may have.
enum class RuleKind : uint8_t {
  Prefix4 = 0,  // src/dst are IPv4 prefixes (ClassBench shape)
  Prefix6 = 1,  // src/dst are IPv6 prefixes
  Sets = 2,     // src/dst are address-set ids (or kAnySet): Kubernetes shape, either family
};

// One rule as the caller describes it. Port ranges are inclusive; a wildcard is [0, 65535].
// Protocol matches when (packetProto & protoMask) == (proto & protoMask); mask 0 = any.
struct RuleSpec {
  RuleKind kind = RuleKind::Prefix4;
  uint8_t action = 0;        // opaque byte returned with the match
  uint32_t priority = 0;     // lower wins
  uint32_t ruleId = 0;       // unique; second key of the total order; != kNoRuleId
  uint8_t srcLen = 0, dstLen = 0;  // prefix lengths (Prefix4/Prefix6)
  uint32_t src4 = 0, dst4 = 0;     // Prefix4 (host order, host bits cleared by the builder)
  Addr6 src6, dst6;                // Prefix6
  uint32_t srcSet = kAnySet, dstSet = kAnySet;  // Sets
  uint16_t sportLo = 0, sportHi = 65535, dportLo = 0, dportHi = 65535;
  uint8_t proto = 0, protoMask = 0;
};

// A packet header to classify. For family 4 only src4/dst4 are read.
struct Header4 {
  uint32_t src, dst;
  uint16_t sport, dport;
  uint8_t proto;
};
struct Header6 {
  Addr6 src, dst;
  uint16_t sport, dport;
  uint8_t proto;
};

// The answer: the rank of the first matching rule (kNoRank if none). The Classifier turns a rank
// into (ruleId, action) through its rank tables.
struct Match {
  uint32_t ruleId = kNoRuleId;
  uint8_t action = 0;
  bool matched() const { return ruleId != kNoRuleId; }
};

// A 64-bit mixer (from SplitMix64 / Murmur3 finaliser): good avalanche, 3 multiplies-worth of work.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace palisade
