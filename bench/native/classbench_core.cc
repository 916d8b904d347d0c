// classbench_core.cc: the classifier core on ClassBench files, without Node (build/classbench_core).
// Checks every answer against the *.firstmatch oracle, then times batch and scalar lookups.
// Used to explore TupleParams; the product numbers come from `npm run bench`.
// Usage: classbench_core RULES TRACE FIRSTMATCH [collisionLimit portDims protoDim relax] [reps]
// Files may be gzip (read through `zcat -f`).
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <algorithm>

#include "core_util.h"
#include "../../addon/classifier/tuple_index.h"

using namespace palisade;
using TI = TupleIndex<Family4>;


int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s RULES TRACE FIRSTMATCH [C portDims protoDim relax] [reps]\n", argv[0]);
    return 2;
  }
  TupleParams p;
  if (argc > 7) {
    p.collisionLimit = unsigned(atoi(argv[4]));
    p.portDims = atoi(argv[5]);
    p.protoDim = atoi(argv[6]) != 0;
    p.relax = atoi(argv[7]);
  }
  int reps = argc > 8 ? atoi(argv[8]) : 20;
  std::vector<TI::Input> rules;
  for (auto& l : readLines(argv[1])) {
    TI::Input r;
    if (parseClassBenchRule(l, uint32_t(rules.size()), mask4, r)) rules.push_back(r);
  }
  std::vector<TI::Header> hs;
  for (auto& l : readLines(argv[2])) {
    TraceHeader t;
    if (parseTraceLine(l, t))
      hs.push_back(TI::Header{t.src, t.dst, packAux(t.sport, t.dport, t.proto), t.sport, t.dport, t.proto});
  }
  std::vector<long> want;
  for (auto& l : readLines(argv[3])) want.push_back(atol(l.c_str()));
  const double t0 = threadNs();
  TI idx = TI::build(rules, p);
  const double buildMs = (threadNs() - t0) / 1e6;
  std::vector<uint32_t> best(hs.size());
  long bad = 0;
  for (int mode = 0; mode < 2; ++mode) {
    std::fill(best.begin(), best.end(), kNoRank);
    if (mode == 0) idx.lookupBatch(hs.data(), best.data(), hs.size(), 0);
    else for (size_t i = 0; i < hs.size(); ++i) best[i] = idx.lookup(hs[i], kNoRank, 0);
    for (size_t i = 0; i < hs.size() && i < want.size(); ++i)
      if ((best[i] == kNoRank ? -1 : long(best[i])) != want[i]) ++bad;
  }
  double ns[2] = {1e18, 1e18};
  for (int trial = 0; trial < 3; ++trial)
  for (int mode = 0; mode < 2; ++mode) {
    const double s = threadNs();
    for (int k = 0; k < reps; ++k) {
      std::fill(best.begin(), best.end(), kNoRank);
      if (mode == 0) idx.lookupBatch(hs.data(), best.data(), hs.size(), 0);
      else for (size_t i = 0; i < hs.size(); ++i) best[i] = idx.lookup(hs[i], kNoRank, 0);
    }
    ns[mode] = std::min(ns[mode], (threadNs() - s) / (double(reps) * hs.size()));
  }
#ifdef PAL_TUPLE_STATS
  g_visit = g_pass = g_hit = g_rec = 0;
  for (size_t i = 0; i < hs.size(); ++i) idx.lookup(hs[i], kNoRank, 0);
  printf("per lookup: visited %.1f passed %.1f hit %.2f bucketRecs %.2f\n", double(g_visit) / hs.size(),
         double(g_pass) / hs.size(), double(g_hit) / hs.size(), double(g_rec) / hs.size());
#endif
  printf("rules=%zu tables=%zu buildMs=%.2f bytesPerRule=%.1f batchNs=%.1f scalarNs=%.1f mismatches=%ld\n",
         rules.size(), idx.tableCount(), buildMs, double(idx.bytes()) / rules.size(), ns[0], ns[1], bad);
  return bad == 0 ? 0 : 1;
}
