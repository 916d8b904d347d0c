// set_rules.cc: build and lookup of the set-rule index (design in set_rules.h).
#include "set_rules.h"

#include <algorithm>
#include <utility>

namespace palisade {

namespace {

void buildLists(std::vector<std::pair<uint32_t, uint32_t>>& keyed,  // (set id, rule index)
                std::vector<uint32_t>& keys, std::vector<uint32_t>& starts,
                std::vector<uint32_t>& items) {
  // stable: rule indexes stay in rank order inside each list
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i == 0 || keyed[i].first != keyed[i - 1].first) {
      keys.push_back(keyed[i].first);
      starts.push_back(uint32_t(items.size()));
    }
    items.push_back(keyed[i].second);
  }
  starts.push_back(uint32_t(items.size()));
}

}  // namespace

void SetRuleIndex::Lists::index() {
  dense.clear();
  if (keys.empty() || keys.back() >= 16 * keys.size() + 4096) return;
  dense.assign(size_t(keys.back()) + 1, 0);
  for (uint32_t k = 0; k < keys.size(); ++k) dense[keys[k]] = k + 1;
}

bool SetRuleIndex::Lists::find(uint32_t key, uint32_t& start, uint32_t& count) const {
  size_t k;
  if (!dense.empty()) {
    if (key >= dense.size() || dense[key] == 0) return false;
    k = dense[key] - 1;
  } else {
    auto it = std::lower_bound(keys.begin(), keys.end(), key);
    if (it == keys.end() || *it != key) return false;
    k = size_t(it - keys.begin());
  }
  start = starts[k];
  count = starts[k + 1] - starts[k];
  return true;
}

SetRuleIndex SetRuleIndex::build(const std::vector<Input>& in) {
  SetRuleIndex out;
  std::vector<Rule> rules;
  rules.reserve(in.size());
  std::vector<std::pair<uint32_t, uint32_t>> src, dst;
  std::vector<uint32_t> anyAny;
  for (uint32_t i = 0; i < in.size(); ++i) {
    const Input& r = in[i];
    rules.push_back(Rule{r.srcSet, r.dstSet, r.sportLo, r.sportHi, r.dportLo, r.dportHi,
                         uint8_t(r.proto & r.protoMask), r.protoMask, r.rank});
    if (r.srcSet != kAnySet) src.emplace_back(r.srcSet, i);
    else if (r.dstSet != kAnySet) dst.emplace_back(r.dstSet, i);
    else anyAny.push_back(i);
  }
  std::vector<uint32_t> srcItems, dstItems;
  buildLists(src, out.bySrc_.keys, out.bySrc_.starts, srcItems);
  buildLists(dst, out.byDst_.keys, out.byDst_.starts, dstItems);
  // lay the rules out list by list, so each list is one contiguous run
  out.rules_.reserve(in.size());
  for (uint32_t i : srcItems) out.rules_.push_back(rules[i]);
  for (auto& st : out.byDst_.starts) st += uint32_t(srcItems.size());
  for (uint32_t i : dstItems) out.rules_.push_back(rules[i]);
  out.anyStart_ = uint32_t(out.rules_.size());
  for (uint32_t i : anyAny) out.rules_.push_back(rules[i]);
  out.anyCount_ = uint32_t(anyAny.size());
  out.bySrc_.index();
  out.byDst_.index();
  return out;
}

uint32_t SetRuleIndex::walk(const Rule* rules, uint32_t count, const IdSet* D,
                            uint16_t sport, uint16_t dport,
                            uint8_t proto, uint32_t best, uint32_t minRank) const {
  for (uint32_t k = 0; k < count; ++k) {
    const Rule& r = rules[k];
    if (r.rank >= best) break;
    if (r.rank < minRank) continue;
    if (sport < r.sportLo || sport > r.sportHi || dport < r.dportLo || dport > r.dportHi) continue;
    if (((proto ^ r.proto) & r.protoMask) != 0) continue;
    if (D && r.dstSet != kAnySet && !D->contains(r.dstSet)) continue;
    return r.rank;
  }
  return best;
}

uint32_t SetRuleIndex::lookup(const IdSet& S, const IdSet& D, uint16_t sport, uint16_t dport,
                              uint8_t proto, uint32_t best, uint32_t minRank) const {
  if (rules_.empty()) return best;
  uint32_t start, count;
  for (uint32_t s : S.ids())
    if (bySrc_.find(s, start, count))
      best = walk(&rules_[start], count, &D, sport, dport, proto, best, minRank);
  for (uint32_t d : D.ids())
    if (byDst_.find(d, start, count))
      best = walk(&rules_[start], count, nullptr, sport, dport, proto, best, minRank);
  if (anyCount_)
    best = walk(&rules_[anyStart_], anyCount_, nullptr, sport, dport, proto, best, minRank);
  return best;
}

size_t SetRuleIndex::bytes() const {
  return sizeof(*this) + rules_.capacity() * sizeof(Rule) +
         (bySrc_.keys.capacity() + bySrc_.starts.capacity() + byDst_.keys.capacity() +
          byDst_.starts.capacity() + bySrc_.dense.capacity() + byDst_.dense.capacity()) *
             sizeof(uint32_t);
}

}  // namespace palisade
