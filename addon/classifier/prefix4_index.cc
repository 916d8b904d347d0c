// prefix4_index.cc: build and batch lookup of Prefix4Index (design and cost model in
// prefix4_index.h).
#include "prefix4_index.h"

#include <algorithm>

namespace palisade {

Prefix4Index Prefix4Index::build(const std::vector<SplitRule>& rules, Choice choice,
                                 const SplitParams& p) {
  Prefix4Index out;
  if (rules.empty()) return out;
  std::vector<TupleIndex<Family4>::Input> in;
  if (choice != Choice::Forest) {
    in.reserve(rules.size());
    for (const SplitRule& r : rules)
      in.push_back({r.src, r.dst, r.srcLen, r.dstLen, r.sportLo, r.sportHi, r.dportLo, r.dportHi,
                    r.proto, r.protoMask, r.rank});
    out.tuples_ = TupleIndex<Family4>::build(in);
    if (choice == Choice::Tuples) return out;
  }
  SplitForestEditor ed(p);
  if (choice == Choice::Forest) {
    ed.build(rules);
    out.forest_ = ed.freeze();
    return out;
  }
  // Auto: the forest must cost less than the tables: sum of depths < tables / kTablesPerLevel
  const size_t tables = out.tuples_.tableCount();
  if (tables == 0) return out;
  const unsigned bound = unsigned((tables - 1) / kTablesPerLevel);
  for (unsigned scheme = p.firstScheme; scheme < SplitForestEditor::kSchemes; ++scheme) {
    size_t sizes[SplitForest4::kGroups];
    ed.groupSizes(rules, scheme, sizes);
    unsigned lb = 0;
    for (size_t n : sizes) lb += n ? ed.minDepth(n) : 0;
    if (lb > bound) continue;  // cannot win: no build
    if (ed.buildScheme(rules, scheme, scheme + 1 < SplitForestEditor::kSchemes, bound)) {
      out.forest_ = ed.freeze();
      out.tuples_ = TupleIndex<Family4>();
      return out;
    }
  }
  return out;  // TupleMerge
}

void Prefix4Index::lookupBatch(const uint32_t* src, const uint32_t* dst, const uint16_t* sport,
                               const uint16_t* dport, const uint8_t* proto, uint32_t* best,
                               size_t n, uint32_t minRank) const {
  if (usesForest()) {
    forest_.lookupBatch(src, dst, sport, dport, proto, best, n, minRank);
    return;
  }
  constexpr size_t kChunk = 64;
  TupleIndex<Family4>::Header hs[kChunk];
  for (size_t c0 = 0; c0 < n; c0 += kChunk) {
    const size_t m = std::min(kChunk, n - c0);
    for (size_t i = 0; i < m; ++i) {
      const size_t k = c0 + i;
      hs[i] = {src[k], dst[k], packAux(sport[k], dport[k], proto[k]), sport[k], dport[k], proto[k]};
    }
    tuples_.lookupBatch(hs, best + c0, m, minRank);
  }
}

void Prefix4Index::lookupBatch(const Header* hs, uint32_t* best, size_t n, uint32_t minRank) const {
  if (!usesForest()) {
    tuples_.lookupBatch(hs, best, n, minRank);
    return;
  }
  constexpr size_t kChunk = 64;
  uint32_t src[kChunk], dst[kChunk];
  uint16_t sport[kChunk], dport[kChunk];
  uint8_t proto[kChunk];
  for (size_t c0 = 0; c0 < n; c0 += kChunk) {
    const size_t m = std::min(kChunk, n - c0);
    for (size_t i = 0; i < m; ++i) {
      const Header& h = hs[c0 + i];
      src[i] = h.src, dst[i] = h.dst, sport[i] = h.sport, dport[i] = h.dport, proto[i] = h.proto;
    }
    forest_.lookupBatch(src, dst, sport, dport, proto, best + c0, m, minRank);
  }
}

}  // namespace palisade
