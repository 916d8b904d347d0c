// rule_table.cc: see rule_table.h.
#include "rule_table.h"

#include <cstring>

namespace palisade::nfq {

namespace {

bool prefixMatches(const uint8_t* rule, const uint8_t* addr, unsigned prefixLen) {
  const unsigned whole = prefixLen / 8, rest = prefixLen % 8;
  if (std::memcmp(rule, addr, whole) != 0) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (rule[whole] & mask) == (addr[whole] & mask);
}

bool hasPorts(uint8_t proto) { return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp; }

}  // namespace

std::shared_ptr<const LinearRuleTable> LinearRuleTable::fromPacked(const uint8_t* data, size_t len,
                                                                   bool defaultAllow, std::string& error) {
  if (len % kRuleBytes != 0) {
    error = "rule buffer length is not a multiple of " + std::to_string(kRuleBytes);
    return nullptr;
  }
  auto table = std::make_shared<LinearRuleTable>();
  table->defaultAllow_ = defaultAllow;
  table->rules_.reserve(len / kRuleBytes);
  for (size_t off = 0; off < len; off += kRuleBytes) {
    const uint8_t* p = data + off;
    LinearRule r{};
    r.family = p[0];
    r.proto = p[1];
    r.srcPrefixLen = p[2];
    r.dstPrefixLen = p[3];
    std::memcpy(&r.dstPortLo, p + 4, 2);
    std::memcpy(&r.dstPortHi, p + 6, 2);
    r.allow = p[8] != 0;
    r.direction = static_cast<Direction>(p[9] <= 2 ? p[9] : 2);
    std::memcpy(&r.ruleId, p + 12, 4);
    std::memcpy(r.srcAddrNet, p + 16, 16);
    std::memcpy(r.dstAddrNet, p + 32, 16);
    const unsigned maxLen = r.family == 4 ? 32 : r.family == 6 ? 128 : 0;
    if ((r.family != 0 && r.family != 4 && r.family != 6) || r.srcPrefixLen > maxLen || r.dstPrefixLen > maxLen ||
        r.dstPortLo > r.dstPortHi || p[8] > 1) {
      error = "invalid rule at index " + std::to_string(off / kRuleBytes);
      return nullptr;
    }
    table->rules_.push_back(r);
  }
  return table;
}

Verdict LinearRuleTable::classify(const FlowKey& key) const {
  for (const LinearRule& r : rules_) {
    if (r.family != 0 && r.family != key.family) continue;
    if (r.proto != 0 && r.proto != key.proto) continue;
    const bool anyPort = r.dstPortLo == 0 && r.dstPortHi == 65535;
    if (!anyPort && (!hasPorts(key.proto) || key.dstPort < r.dstPortLo || key.dstPort > r.dstPortHi)) continue;
    if (!prefixMatches(r.srcAddrNet, key.srcAddrNet, r.srcPrefixLen)) continue;
    if (!prefixMatches(r.dstAddrNet, key.dstAddrNet, r.dstPrefixLen)) continue;
    return Verdict{r.allow, r.direction, r.ruleId};
  }
  return Verdict{defaultAllow_, Direction::None, kNoRuleId};
}

}  // namespace palisade::nfq
