// rule_table.h: LinearRuleTable, the trivial VerdictSource: an ordered rule list, first match wins.
//
// What: a test double and oracle for the packet loop, and the policy the loop tests use until the
// native classifier (addon/classifier) answers. Not for production rule counts: O(rules) per flow.
//
// Packed form (what JS hands over, little-endian, kRuleBytes per rule, in match order):
//   0  u8  family (0 any, 4, 6)        1  u8  proto (0 any)
//   2  u8  srcPrefixLen                 3  u8  dstPrefixLen
//   4  u16 dstPortLo (host order)       6  u16 dstPortHi (inclusive; 0..65535 = any)
//   8  u8  action (0 deny, 1 allow)     9  u8  direction (0 egress, 1 ingress, 2 none)
//   10 u16 reserved (0)                 12 u32 ruleId
//   16 u8[16] srcAddrNet                32 u8[16] dstAddrNet   (network order, IPv4 in the first 4)
// A rule with a port range only matches protocols that have ports (TCP/UDP/SCTP) unless the range
// is the full 0..65535. `defaultAllow` answers when nothing matches.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "verdict_source.h"

namespace palisade::nfq {

constexpr size_t kRuleBytes = 48;

struct LinearRule {
  uint8_t family, proto, srcPrefixLen, dstPrefixLen;
  uint16_t dstPortLo, dstPortHi;
  bool allow;
  Direction direction;
  uint32_t ruleId;
  uint8_t srcAddrNet[16], dstAddrNet[16];
};

class LinearRuleTable final : public VerdictSource {
 public:
  // Returns nullptr and sets `error` when the buffer is not a whole number of valid rules.
  static std::shared_ptr<const LinearRuleTable> fromPacked(const uint8_t* data, size_t len, bool defaultAllow,
                                                           std::string& error);
  Verdict classify(const FlowKey& key) const override;
  size_t size() const { return rules_.size(); }

 private:
  std::vector<LinearRule> rules_;
  bool defaultAllow_ = false;
};

}  // namespace palisade::nfq
