// wire.h: the packed typed-array layouts that cross the N-API door, decoded into core types
// (plain C++: used by the glue, addon/napi/classifier_object.cc, and by backends/nfqueue/native).
//
// What: the ONE place that knows how JavaScript packs rules and set edits (src/native/binding.ts
// writes exactly these layouts). Everything is host-order u32 words in a Uint32Array.
//
//   Rule, 16 words:
//     [0] kind | action << 8          kind: 0 = IPv4 prefixes, 1 = IPv6 prefixes, 2 = address sets
//     [1] priority                    [2] ruleId (!= 0xFFFFFFFF)
//     [3] srcLen | dstLen << 8        (prefix kinds)
//     [4..7]  src address words (IPv4: word 4 only; IPv6: 4 words, most significant first;
//             sets: word 4 = src set id, 0xFFFFFFFF = any)
//     [8..11] dst, the same way
//     [12] sportLo | sportHi << 16    [13] dportLo | dportHi << 16
//     [14] proto | protoMask << 8     [15] 0
//   Set edit, 6 words:
//     [0] op | family << 8 | prefixLen << 16   op: 1 = add, 2 = remove; family 4 or 6
//     [1] set id   [2..5] address words (IPv4: word 2 only)
//
// Thread-safety: pure functions over caller-owned memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "classifier.h"

namespace palisade::wire {

constexpr size_t kRuleWords = 16;
constexpr size_t kEditWords = 6;

inline Addr6 addr6(const uint32_t* w) {
  return Addr6{(uint64_t(w[0]) << 32) | w[1], (uint64_t(w[2]) << 32) | w[3]};
}

// Decodes rules; returns false and sets *error on a malformed word.
inline bool decodeRules(const uint32_t* w, size_t count, std::vector<RuleSpec>& out,
                        std::string* error) {
  out.resize(count);
  for (size_t i = 0; i < count; ++i, w += kRuleWords) {
    RuleSpec& r = out[i];
    const uint32_t kind = w[0] & 0xFF;
    if (kind > 2) {
      *error = "PAL_RULE_KIND: unknown rule kind " + std::to_string(kind) + " (rule " +
               std::to_string(i) + ")";
      return false;
    }
    r.kind = RuleKind(kind);
    r.action = uint8_t(w[0] >> 8);
    r.priority = w[1];
    r.ruleId = w[2];
    r.srcLen = uint8_t(w[3]);
    r.dstLen = uint8_t(w[3] >> 8);
    if (r.kind == RuleKind::Prefix4) {
      r.src4 = w[4];
      r.dst4 = w[8];
    } else if (r.kind == RuleKind::Prefix6) {
      r.src6 = addr6(w + 4);
      r.dst6 = addr6(w + 8);
    } else {
      r.srcSet = w[4];
      r.dstSet = w[8];
    }
    r.sportLo = uint16_t(w[12]);
    r.sportHi = uint16_t(w[12] >> 16);
    r.dportLo = uint16_t(w[13]);
    r.dportHi = uint16_t(w[13] >> 16);
    r.proto = uint8_t(w[14]);
    r.protoMask = uint8_t(w[14] >> 8);
  }
  return true;
}

inline bool decodeEdits(const uint32_t* w, size_t count, std::vector<SetEdit>& out,
                        std::string* error) {
  out.resize(count);
  for (size_t i = 0; i < count; ++i, w += kEditWords) {
    SetEdit& e = out[i];
    const uint32_t op = w[0] & 0xFF, family = (w[0] >> 8) & 0xFF, len = (w[0] >> 16) & 0xFF;
    if ((op != 1 && op != 2) || (family != 4 && family != 6) || len > (family == 4 ? 32u : 128u)) {
      *error = "PAL_SET_EDIT: malformed set edit " + std::to_string(i);
      return false;
    }
    if (w[1] == kAnySet) {
      *error = "PAL_SET_EDIT: set id 4294967295 means any and has no members (edit " +
               std::to_string(i) + ")";
      return false;
    }
    e.add = op == 1;
    e.family = uint8_t(family);
    e.prefixLen = uint8_t(len);
    e.setId = w[1];
    if (family == 4) e.addr4 = w[2];
    else e.addr6 = addr6(w + 2);
  }
  return true;
}

}  // namespace palisade::wire
