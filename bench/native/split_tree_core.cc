// split_tree_core.cc: the IPv4 split tree (addon/classifier/split_tree.h) on ClassBench files,
// without Node (build/split_tree_core). Checks every answer against the *.firstmatch oracle (or
// a linear scan when the oracle is "-"), then times batch and scalar lookups, build, and edits.
// Usage: split_tree_core RULES TRACE FIRSTMATCH|- [leafRules] [specificLen] [reps]
// Prints one JSON object as its last line. Times are thread CPU time (the machine is shared).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core_util.h"
#include "../../addon/classifier/prefix4_index.h"

using namespace palisade;


static double wallNs() {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now().time_since_epoch()).count());
}

struct Hdr { uint32_t s, d; uint16_t sp, dp; uint8_t pr; };

static long linearFirst(const std::vector<SplitRule>& rules, const Hdr& h) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const SplitRule& r = rules[i];
    if ((h.s & mask4(r.srcLen)) == r.src && (h.d & mask4(r.dstLen)) == r.dst && h.sp >= r.sportLo &&
        h.sp <= r.sportHi && h.dp >= r.dportLo && h.dp <= r.dportHi && ((h.pr ^ r.proto) & r.protoMask) == 0)
      return long(i);
  }
  return -1;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s RULES TRACE FIRSTMATCH|- [leafRules] [specificLen] [reps]\n", argv[0]);
    return 2;
  }
  SplitParams p;
  if (argc > 4) p.leafRules = unsigned(atoi(argv[4]));
  if (argc > 5) p.specificLen = unsigned(atoi(argv[5]));
  const int reps = argc > 6 ? atoi(argv[6]) : 20;
  if (argc > 7) p.effectivePerRule = atof(argv[7]);
  if (argc > 8) p.firstScheme = unsigned(atoi(argv[8]));
  std::vector<SplitRule> rules;
  for (auto& l : readLines(argv[1])) {
    SplitRule r;
    if (parseClassBenchRule(l, uint32_t(rules.size()), mask4, r)) rules.push_back(r);
  }
  std::vector<Hdr> hs;
  for (auto& l : readLines(argv[2])) {
    TraceHeader t;
    if (parseTraceLine(l, t)) hs.push_back(Hdr{t.src, t.dst, t.sport, t.dport, t.proto});
  }
  std::vector<long> want;
  if (std::string(argv[3]) != "-") for (auto& l : readLines(argv[3])) want.push_back(atol(l.c_str()));
  else for (auto& h : hs) want.push_back(linearFirst(rules, h));
  const size_t n = hs.size();
  std::vector<uint32_t> S(n), D(n), best(n);
  std::vector<uint16_t> SP(n), DP(n);
  std::vector<uint8_t> PR(n);
  for (size_t i = 0; i < n; ++i) { S[i] = hs[i].s; D[i] = hs[i].d; SP[i] = hs[i].sp; DP[i] = hs[i].dp; PR[i] = hs[i].pr; }

  // build: min of 5 (thread CPU), build + freeze
  double buildMs = 1e18;
  SplitForestEditor ed(p);
  SplitForest4 t;
  for (int k = 0; k < 5; ++k) {
    const double t0 = threadNs();
    ed.build(rules);
    t = ed.freeze();
    buildMs = std::min(buildMs, (threadNs() - t0) / 1e6);
  }
  long bad = 0;
  for (int mode = 0; mode < 2; ++mode) {
    std::fill(best.begin(), best.end(), kNoRank);
    if (mode == 0) t.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, 0);
    else for (size_t i = 0; i < n; ++i) best[i] = t.lookup(S[i], D[i], SP[i], DP[i], PR[i], kNoRank, 0);
    for (size_t i = 0; i < n && i < want.size(); ++i)
      if ((best[i] == kNoRank ? -1 : long(best[i])) != want[i]) ++bad;
  }
  double ns[2] = {1e18, 1e18}, wall[2] = {1e18, 1e18};
  for (int trial = 0; trial < 3; ++trial)
    for (int mode = 0; mode < 2; ++mode) {
      const double s = threadNs(), w = wallNs();
      for (int k = 0; k < reps; ++k) {
        std::fill(best.begin(), best.end(), kNoRank);
        if (mode == 0) t.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, 0);
        else for (size_t i = 0; i < n; ++i) best[i] = t.lookup(S[i], D[i], SP[i], DP[i], PR[i], kNoRank, 0);
      }
      ns[mode] = std::min(ns[mode], (threadNs() - s) / (double(reps) * n));
      wall[mode] = std::min(wall[mode], (wallNs() - w) / (double(reps) * n));
    }
  const double bytesAfterBuild = double(t.bytes()) / rules.size();
  // the product path: Prefix4Index chooses the forest or TupleMerge per rule set (min of 5 builds)
  double chosenBuildMs = 1e18, chosenNs = 1e18;
  Prefix4Index chosen;
  for (int k = 0; k < 5; ++k) {
    const double t0 = threadNs();
    chosen = Prefix4Index::build(rules, Prefix4Index::Choice::Auto, p);
    chosenBuildMs = std::min(chosenBuildMs, (threadNs() - t0) / 1e6);
  }
  long chosenBad = 0;
  std::fill(best.begin(), best.end(), kNoRank);
  chosen.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, 0);
  for (size_t i = 0; i < n && i < want.size(); ++i)
    if ((best[i] == kNoRank ? -1 : long(best[i])) != want[i]) ++chosenBad;
  for (int trial = 0; trial < 3; ++trial) {
    const double s = threadNs();
    for (int k = 0; k < reps; ++k) {
      std::fill(best.begin(), best.end(), kNoRank);
      chosen.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, 0);
    }
    chosenNs = std::min(chosenNs, (threadNs() - s) / (double(reps) * n));
  }
  // edits: remove and re-insert random rules (ranks kept), in batches of 1000, each batch frozen
  // (one published version per batch).
  std::mt19937 rng(7);
  std::vector<uint32_t> slotOf(rules.size());
  for (uint32_t i = 0; i < rules.size(); ++i) slotOf[i] = ed.handleOf(i);
  const size_t batch = 1000, batches = 20;
  size_t edits = 0;
  const double e0 = threadNs();
  for (size_t b = 0; b < batches; ++b) {
    for (size_t k = 0; k < batch / 2; ++k) {
      const uint32_t i = rng() % rules.size();
      ed.remove(slotOf[i]);
      slotOf[i] = ed.insert(rules[i]);
      edits += 2;
    }
    t = ed.freeze();
  }
  const double editNs = threadNs() - e0;
  if (getenv("SPLIT_DEBUG"))
    for (size_t k = 0; k < t.treeCount(); ++k)
      fprintf(stderr, "tree %zu: nodes %zu entries %zu rules %zu bytes %zu\n", k, t.tree(k).nodeCount(),
              t.tree(k).leafEntries(), t.tree(k).ruleCount(), t.tree(k).bytes());
  const double e1 = threadNs();
  size_t edits1 = 0;
  for (size_t k = 0; k < 2000; ++k) {
    const uint32_t i = rng() % rules.size();
    ed.remove(slotOf[i]);
    slotOf[i] = ed.insert(rules[i]);
    edits1 += 2;
  }
  const double editOnlyNs = threadNs() - e1;
  t = ed.freeze();
  long badAfter = 0;
  std::fill(best.begin(), best.end(), kNoRank);
  t.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, 0);
  for (size_t i = 0; i < n && i < want.size(); ++i)
    if ((best[i] == kNoRank ? -1 : long(best[i])) != want[i]) ++badAfter;
  size_t nodes = 0, entries = 0;
  unsigned depth = 0;
  for (size_t k = 0; k < t.treeCount(); ++k) {
    nodes += t.tree(k).nodeCount();
    entries += t.tree(k).leafEntries();
    depth = std::max(depth, t.tree(k).depth());
  }
  printf("{\"rules\":%zu,\"leafRules\":%u,\"specificLen\":%u,\"scheme\":%u,\"trees\":%zu,\"nodes\":%zu,\"leafEntries\":%zu,\"depth\":%u,\"buildMs\":%.2f,"
         "\"bytesPerRule\":%.1f,\"bytesPerRuleAfterEdits\":%.1f,\"masterBytesPerRule\":%.1f,\"batchNs\":%.1f,\"scalarNs\":%.1f,"
         "\"batchWallNs\":%.1f,\"scalarWallNs\":%.1f,\"updatesPerSecBatched\":%.0f,\"updatesPerSecEditOnly\":%.0f,"
         "\"mismatches\":%ld,\"mismatchesAfterEdits\":%ld,\"chosen\":\"%s\",\"chosenTables\":%zu,"
         "\"chosenBuildMs\":%.2f,\"chosenBytesPerRule\":%.1f,\"chosenBatchNs\":%.1f,\"chosenMismatches\":%ld}\n",
         rules.size(), p.leafRules, p.specificLen, ed.scheme(), t.treeCount(), nodes, entries, depth, buildMs,
         bytesAfterBuild, double(t.bytes()) / rules.size(), double(ed.masterBytes()) / rules.size(), ns[0], ns[1], wall[0], wall[1],
         edits / (editNs / 1e9), edits1 / (editOnlyNs / 1e9), bad, badAfter,
         chosen.usesForest() ? "forest" : "tuples", chosen.tableCount(), chosenBuildMs,
         double(chosen.bytes()) / rules.size(), chosenNs, chosenBad);
  return bad == 0 && badAfter == 0 && chosenBad == 0 ? 0 : 1;
}
