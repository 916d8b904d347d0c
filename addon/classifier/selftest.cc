// selftest.cc: a Node-free differential check of the core: the classifier against a linear scan on
// random rules (IPv4/IPv6 prefixes and address sets, random set edits, half of them to forks), and the IPv4 split forest
// under random inserts and removes interleaved with lookups. Built as
// build/classifier_selftest; test/native/ runs it. Exit code 0 = no mismatch.
// Usage: classifier_selftest [seed] [rounds]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "classifier.h"

using namespace palisade;

namespace {

struct Member { uint32_t set; uint8_t family, len; uint32_t a4; Addr6 a6; };
bool operator<(const Member& x, const Member& y) {
  return std::tie(x.set, x.family, x.len, x.a4, x.a6.hi, x.a6.lo) <
         std::tie(y.set, y.family, y.len, y.a4, y.a6.hi, y.a6.lo);
}

bool in4(uint32_t a, uint32_t p, uint8_t l) { return (a & mask4(l)) == (p & mask4(l)); }
bool in6(const Addr6& a, const Addr6& p, uint8_t l) { return and6(a, mask6(l)) == and6(p, mask6(l)); }

bool inSet4(const std::set<Member>& ms, uint32_t set, uint32_t a) {
  if (set == kAnySet) return true;
  for (const auto& m : ms) if (m.set == set && m.family == 4 && in4(a, m.a4, m.len)) return true;
  return false;
}
bool inSet6(const std::set<Member>& ms, uint32_t set, const Addr6& a) {
  if (set == kAnySet) return true;
  for (const auto& m : ms) if (m.set == set && m.family == 6 && in6(a, m.a6, m.len)) return true;
  return false;
}

Match linear(const std::vector<RuleSpec>& rules, const std::set<Member>& ms, int family,
             uint32_t s4, uint32_t d4, const Addr6& s6, const Addr6& d6, uint16_t sp, uint16_t dp,
             uint8_t pr, uint32_t minPriority) {
  const RuleSpec* best = nullptr;
  for (const auto& r : rules) {
    if (r.priority < minPriority) continue;
    if (sp < r.sportLo || sp > r.sportHi || dp < r.dportLo || dp > r.dportHi) continue;
    if (((pr ^ r.proto) & r.protoMask) != 0) continue;
    bool ok;
    if (r.kind == RuleKind::Prefix4) ok = family == 4 && in4(s4, r.src4, r.srcLen) && in4(d4, r.dst4, r.dstLen);
    else if (r.kind == RuleKind::Prefix6) ok = family == 6 && in6(s6, r.src6, r.srcLen) && in6(d6, r.dst6, r.dstLen);
    else ok = family == 4 ? inSet4(ms, r.srcSet, s4) && inSet4(ms, r.dstSet, d4)
                          : inSet6(ms, r.srcSet, s6) && inSet6(ms, r.dstSet, d6);
    if (!ok) continue;
    if (!best || std::tie(r.priority, r.ruleId) < std::tie(best->priority, best->ruleId)) best = &r;
  }
  Match m;
  if (best) { m.ruleId = best->ruleId; m.action = best->action; }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned seed = argc > 1 ? unsigned(atoi(argv[1])) : 1;
  int rounds = argc > 2 ? atoi(argv[2]) : 20;
  std::mt19937_64 rng(seed);
  auto U = [&](uint64_t n) { return uint64_t(rng() % n); };
  // Small address pools so that random prefixes and packets overlap often.
  std::vector<uint32_t> pool4;
  std::vector<Addr6> pool6;
  for (int i = 0; i < 16; ++i) pool4.push_back(0x0AF40000u | uint32_t(U(1u << 16)));
  for (int i = 0; i < 16; ++i) pool6.push_back(Addr6{0xfd000010024400ull << 8, U(1u << 16)});
  auto rndLen4 = [&] { int c = int(U(6)); return uint8_t(c == 0 ? 0 : c == 1 ? 16 : c == 2 ? 24 : c == 3 ? 30 : 32); };
  auto rndLen6 = [&] { int c = int(U(5)); return uint8_t(c == 0 ? 0 : c == 1 ? 64 : c == 2 ? 112 : 128); };
  // Port ranges: wildcard, exact, short, ranges across a multiple of 64 (the dport cells), long.
  auto rndPorts = [&](uint16_t& lo, uint16_t& hi) {
    int c = int(U(5));
    if (c == 0) { lo = 0; hi = 65535; }
    else if (c == 1) { lo = hi = uint16_t(U(8) + 80); }
    else if (c == 2) { lo = uint16_t(U(8) + 78); hi = uint16_t(lo + U(6)); }
    else if (c == 3) { lo = uint16_t(60 + U(6)); hi = uint16_t(lo + 3 + U(8)); }
    else { lo = uint16_t(U(100)); hi = uint16_t(lo + 60 + U(200)); }
  };
  auto rndPort = [&] { return uint16_t(U(4) == 0 ? U(400) : U(16) + 60 + (U(2) ? 16 : 0)); };
  // Set ids: some small (dense paths), some large (the sparse IdSet path and binary-searched lists).
  auto setId = [](uint64_t k) {
    return uint32_t(k < 6 ? k : k < 9 ? 5000000 + k : 3000000000u + k);
  };
  long checked = 0, mismatches = 0;
  for (int round = 0; round < rounds; ++round) {
    auto cls = std::make_unique<Classifier>();
    std::vector<RuleSpec> rules;
    std::set<Member> members;
    const int nRules = 1 + int(U(300));
    std::set<uint32_t> ids;
    for (int i = 0; i < nRules; ++i) {
      RuleSpec r;
      r.kind = RuleKind(U(3));
      r.priority = uint32_t(U(20));
      do r.ruleId = uint32_t(U(100000)); while (!ids.insert(r.ruleId).second);
      r.action = uint8_t(U(4));
      if (r.kind == RuleKind::Prefix4) {
        r.srcLen = rndLen4(); r.dstLen = rndLen4();
        r.src4 = pool4[U(pool4.size())]; r.dst4 = pool4[U(pool4.size())];
      } else if (r.kind == RuleKind::Prefix6) {
        r.srcLen = rndLen6(); r.dstLen = rndLen6();
        r.src6 = pool6[U(pool6.size())]; r.dst6 = pool6[U(pool6.size())];
      } else {
        r.srcSet = U(4) == 0 ? kAnySet : setId(U(12));
        r.dstSet = U(4) == 0 ? kAnySet : setId(U(12));
      }
      rndPorts(r.sportLo, r.sportHi);
      rndPorts(r.dportLo, r.dportHi);
      if (U(2)) { r.proto = uint8_t(U(2) ? 6 : 17); r.protoMask = 0xFF; }
      else if (U(4) == 0) { r.proto = 0x06; r.protoMask = 0x0F; }  // partial mask: 6, 22, 38, ...
      rules.push_back(r);
    }
    std::string err;
    auto tables = Classifier::compile(rules, &err);
    if (!tables) { fprintf(stderr, "compile failed: %s\n", err.c_str()); return 2; }
    cls->publishRules(tables);
    for (int phase = 0; phase < 4; ++phase) {
      // random membership edits, applied in one batch; in odd phases to a FORK (Classifier::fork),
      // after which the base must still answer the membership before them
      const std::set<Member> before = members;
      std::unique_ptr<Classifier> base;
      if (phase % 2 == 1) {
        base = std::move(cls);
        cls = base->fork();
      }
      std::vector<SetEdit> edits;
      for (int k = 0; k < 40; ++k) {
        SetEdit e;
        e.add = U(3) != 0;
        e.setId = setId(U(12));
        e.family = U(2) ? 4 : 6;
        if (e.family == 4) { e.prefixLen = rndLen4(); e.addr4 = pool4[U(pool4.size())] & mask4(e.prefixLen); }
        else { e.prefixLen = rndLen6(); e.addr6 = and6(pool6[U(pool6.size())], mask6(e.prefixLen)); }
        edits.push_back(e);
        Member m{e.setId, e.family, e.prefixLen, e.addr4, e.addr6};
        if (e.add) members.insert(m); else members.erase(m);
      }
      size_t changed = 0;
      cls->applySetEdits(edits.data(), edits.size(), &changed);
      // packets
      const size_t n = 2000;
      std::vector<uint32_t> w4(n * 4), w6(n * 10), out(n), out6(n);
      std::vector<uint8_t> act(n), act6(n);
      std::vector<std::tuple<uint32_t, uint32_t, Addr6, Addr6, uint16_t, uint16_t, uint8_t>> pk;
      for (size_t i = 0; i < n; ++i) {
        uint32_t s4 = pool4[U(pool4.size())] ^ uint32_t(U(4) == 0 ? U(256) : 0);
        uint32_t d4 = pool4[U(pool4.size())] ^ uint32_t(U(4) == 0 ? U(256) : 0);
        Addr6 s6 = pool6[U(pool6.size())], d6 = pool6[U(pool6.size())];
        if (U(4) == 0) s6.lo ^= U(256);
        uint16_t sp = rndPort(), dp = rndPort();
        uint8_t pr = uint8_t(U(5) == 0 ? 22 : U(3) == 0 ? 17 : 6);
        pk.emplace_back(s4, d4, s6, d6, sp, dp, pr);
        uint32_t* w = &w4[i * 4];
        w[0] = s4; w[1] = d4; w[2] = uint32_t(sp) << 16 | dp; w[3] = pr;
        uint32_t* v = &w6[i * 10];
        v[0] = uint32_t(s6.hi >> 32); v[1] = uint32_t(s6.hi); v[2] = uint32_t(s6.lo >> 32); v[3] = uint32_t(s6.lo);
        v[4] = uint32_t(d6.hi >> 32); v[5] = uint32_t(d6.hi); v[6] = uint32_t(d6.lo >> 32); v[7] = uint32_t(d6.lo);
        v[8] = uint32_t(sp) << 16 | dp; v[9] = pr;
      }
      const uint32_t minPriority = phase == 3 ? uint32_t(U(20)) : 0;
      for (int mode = 0; mode < 3; ++mode) {
        bool scalar = mode == 1;
        if (mode < 2) {
          cls->lookupBatch4(w4.data(), n, minPriority, scalar, out.data(), act.data());
          cls->lookupBatch6(w6.data(), n, minPriority, scalar, out6.data(), act6.data());
        }
        for (size_t i = 0; i < n; ++i) {
          auto [s4, d4, s6, d6, sp, dp, pr] = pk[i];
          Match e4 = linear(rules, members, 4, s4, d4, s6, d6, sp, dp, pr, minPriority);
          Match e6 = linear(rules, members, 6, s4, d4, s6, d6, sp, dp, pr, minPriority);
          Match g4, g6;
          if (mode == 2) {
            g4 = cls->lookup4(Header4{s4, d4, sp, dp, pr}, minPriority);
            g6 = cls->lookup6(Header6{s6, d6, sp, dp, pr}, minPriority);
            if (base) {
              const Match b4 = base->lookup4(Header4{s4, d4, sp, dp, pr}, minPriority);
              const Match b6 = base->lookup6(Header6{s6, d6, sp, dp, pr}, minPriority);
              const Match w4b = linear(rules, before, 4, s4, d4, s6, d6, sp, dp, pr, minPriority);
              const Match w6b = linear(rules, before, 6, s4, d4, s6, d6, sp, dp, pr, minPriority);
              checked += 2;
              if (b4.ruleId != w4b.ruleId || b6.ruleId != w6b.ruleId) {
                if (++mismatches < 10) fprintf(stderr, "forked base changed round %d phase %d pkt %zu\n", round, phase, i);
              }
            }
          } else {
            g4.ruleId = out[i]; g4.action = act[i];
            g6.ruleId = out6[i]; g6.action = act6[i];
          }
          checked += 2;
          if (g4.ruleId != e4.ruleId || g4.action != e4.action) {
            if (++mismatches < 10) fprintf(stderr, "v4 mismatch round %d phase %d mode %d pkt %zu: got %u want %u\n", round, phase, mode, i, g4.ruleId, e4.ruleId);
          }
          if (g6.ruleId != e6.ruleId || g6.action != e6.action) {
            if (++mismatches < 10) fprintf(stderr, "v6 mismatch round %d phase %d mode %d pkt %zu: got %u want %u\n", round, phase, mode, i, g6.ruleId, e6.ruleId);
          }
        }
      }
    }
  }
  // TupleIndex alone with every prefix length (no relaxation, limit 1): hundreds of tables, so the
  // two-word candidate bitmaps and the walk beyond the first 128 tables are exercised too.
  for (int round = 0; round < 4; ++round) {
    using TI = TupleIndex<Family4>;
    std::vector<TI::Input> in;
    const int nRules = 400 + int(U(400));
    for (int i = 0; i < nRules; ++i) {
      TI::Input r;
      r.srcLen = uint8_t(U(33));
      r.dstLen = uint8_t(U(33));
      r.src = pool4[U(pool4.size())] & mask4(r.srcLen);
      r.dst = pool4[U(pool4.size())] & mask4(r.dstLen);
      rndPorts(r.sportLo, r.sportHi);
      rndPorts(r.dportLo, r.dportHi);
      r.protoMask = U(3) == 0 ? 0x0F : U(2) ? 0xFF : 0;
      r.proto = r.protoMask ? uint8_t((U(2) ? 6 : 17) & r.protoMask) : 0;
      r.rank = uint32_t(i);
      in.push_back(r);
    }
    TupleParams p;
    p.collisionLimit = 1;
    p.relax = 2;
    p.portDims = 1;
    TI idx = TI::build(in, p);
    if (round == 0) fprintf(stderr, "many-table round: %zu tables\n", idx.tableCount());
    std::vector<TI::Header> hs;
    for (int i = 0; i < 3000; ++i) {
      uint32_t s4 = pool4[U(pool4.size())] ^ uint32_t(U(3) == 0 ? U(1u << 20) : 0);
      uint32_t d4 = pool4[U(pool4.size())] ^ uint32_t(U(3) == 0 ? U(1u << 20) : 0);
      uint16_t sp = rndPort(), dp = rndPort();
      uint8_t pr = uint8_t(U(5) == 0 ? 22 : U(3) == 0 ? 17 : 6);
      hs.push_back(TI::Header{s4, d4, packAux(sp, dp, pr), sp, dp, pr});
    }
    std::vector<uint32_t> best(hs.size(), kNoRank);
    idx.lookupBatch(hs.data(), best.data(), hs.size(), 0);
    for (size_t i = 0; i < hs.size(); ++i) {
      const auto& h = hs[i];
      uint32_t want = kNoRank;
      for (const auto& r : in) {
        if (in4(h.src, r.src, r.srcLen) && in4(h.dst, r.dst, r.dstLen) && h.sport >= r.sportLo &&
            h.sport <= r.sportHi && h.dport >= r.dportLo && h.dport <= r.dportHi &&
            ((h.proto ^ r.proto) & r.protoMask) == 0) {
          want = r.rank;
          break;
        }
      }
      const uint32_t got1 = idx.lookup(h, kNoRank, 0);
      checked += 2;
      if (best[i] != want || got1 != want) {
        if (++mismatches < 10) fprintf(stderr, "many-table mismatch: batch %u scalar %u want %u\n", best[i], got1, want);
      }
    }
  }
  // random IPv4 headers near the pool's addresses, as parallel arrays
  auto rndHeaders4 = [&](size_t n, std::vector<uint32_t>& S, std::vector<uint32_t>& D,
                         std::vector<uint16_t>& SP, std::vector<uint16_t>& DP, std::vector<uint8_t>& PR) {
    S.resize(n), D.resize(n), SP.resize(n), DP.resize(n), PR.resize(n);
    for (size_t i = 0; i < n; ++i) {
      S[i] = pool4[U(pool4.size())] ^ uint32_t(U(3) == 0 ? U(1u << 20) : 0);
      D[i] = pool4[U(pool4.size())] ^ uint32_t(U(3) == 0 ? U(1u << 14) : 0);
      SP[i] = rndPort();
      DP[i] = rndPort();
      PR[i] = uint8_t(U(5) == 0 ? 22 : U(3) == 0 ? 17 : 6);
    }
  };
  // a random IPv4 prefix rule without its rank; anyLenSrc: any source length (else rndLen4)
  auto rndSplitRule = [&](bool anyLenSrc) {
    SplitRule r;
    r.srcLen = anyLenSrc && U(3) == 0 ? uint8_t(U(33)) : rndLen4();
    r.dstLen = U(4) == 0 ? uint8_t(U(33)) : rndLen4();
    r.src = pool4[U(pool4.size())] & mask4(r.srcLen);
    r.dst = (pool4[U(pool4.size())] ^ uint32_t(U(2) ? U(1u << 12) : 0)) & mask4(r.dstLen);
    rndPorts(r.sportLo, r.sportHi);
    rndPorts(r.dportLo, r.dportHi);
    r.protoMask = U(4) == 0 ? 0x0F : U(2) ? 0xFF : 0;
    r.proto = r.protoMask ? uint8_t((U(2) ? 6 : 17) & r.protoMask) : 0;
    return r;
  };
  auto splitMatches = [](const SplitRule& r, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t pr) {
    return in4(s, r.src, r.srcLen) && in4(d, r.dst, r.dstLen) && sp >= r.sportLo && sp <= r.sportHi &&
           dp >= r.dportLo && dp <= r.dportHi && ((pr ^ r.proto) & r.protoMask) == 0;
  };
  // The IPv4 split forest alone under edits: random inserts and removes interleaved with lookups
  // (batch, scalar, random minRank) against a linear scan over the live rules. Small leaves and
  // random pattern thresholds force deep trees, re-split leaves and every forest scheme.
  long splitChecked = 0;
  for (int round = 0; round < 6; ++round) {
    SplitParams p;
    p.leafRules = 1 + unsigned(U(8));
    p.specificLen = unsigned(U(33));
    p.effectivePerRule = U(2) ? 1.0 : 4.0;
    std::set<uint32_t> usedRanks;
    auto rndRule = [&] {
      SplitRule r = rndSplitRule(false);
      do r.rank = uint32_t(U(1u << 20)); while (!usedRanks.insert(r.rank).second);
      return r;
    };
    std::vector<SplitRule> initial;
    const int nRules = int(U(400));
    for (int i = 0; i < nRules; ++i) initial.push_back(rndRule());
    SplitForestEditor ed(p);
    ed.build(initial);
    std::vector<std::pair<uint32_t, SplitRule>> live;  // (handle, rule)
    for (size_t i = 0; i < initial.size(); ++i) live.emplace_back(ed.handleOf(i), initial[i]);
    for (int step = 0; step < 40; ++step) {
      const int ops = 1 + int(U(60));
      for (int k = 0; k < ops; ++k) {
        if (!live.empty() && U(2)) {
          const size_t j = U(live.size());
          if (!ed.remove(live[j].first)) {
            if (++mismatches < 10) fprintf(stderr, "split: remove of a live rule failed\n");
          }
          usedRanks.erase(live[j].second.rank);
          live[j] = live.back();
          live.pop_back();
        } else {
          SplitRule r = rndRule();
          live.emplace_back(ed.insert(r), r);
        }
      }
      const SplitForest4 f = ed.freeze();
      if (f.ruleCount() != live.size()) {
        if (++mismatches < 10) fprintf(stderr, "split: %zu rules, want %zu\n", f.ruleCount(), live.size());
      }
      const size_t n = 300;
      std::vector<uint32_t> S, D, best(n);
      std::vector<uint16_t> SP, DP;
      std::vector<uint8_t> PR;
      rndHeaders4(n, S, D, SP, DP, PR);
      const uint32_t minRank = U(3) == 0 ? uint32_t(U(1u << 20)) : 0;
      std::fill(best.begin(), best.end(), kNoRank);
      f.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, minRank);
      for (size_t i = 0; i < n; ++i) {
        uint32_t want = kNoRank;
        for (const auto& [h, r] : live) {
          if (r.rank < minRank || r.rank >= want) continue;
          if (splitMatches(r, S[i], D[i], SP[i], DP[i], PR[i]))
            want = r.rank;
        }
        const uint32_t got1 = f.lookup(S[i], D[i], SP[i], DP[i], PR[i], kNoRank, minRank);
        checked += 2;
        splitChecked += 2;
        if (best[i] != want || got1 != want) {
          if (++mismatches < 10)
            fprintf(stderr, "split mismatch round %d step %d: batch %u scalar %u want %u (minRank %u)\n",
                    round, step, best[i], got1, want, minRank);
        }
      }
    }
  }
  // Prefix4Index (the classifier's IPv4 prefix path) with each choice - forest, TupleMerge and the
  // cost-model choice - against a linear scan; rules in ascending rank as compile() gives them.
  long indexChecked = 0;
  size_t autoForest = 0, autoTuples = 0;
  for (int round = 0; round < 12; ++round) {
    SplitParams p;
    p.leafRules = 1 + unsigned(U(16));
    p.specificLen = unsigned(U(33));
    std::vector<SplitRule> rules;
    const int nRules = 1 + int(U(round < 6 ? 300 : 1500));
    for (int i = 0; i < nRules; ++i) {
      SplitRule r = rndSplitRule(true);
      r.rank = uint32_t(3 * i + int(U(3)));
      rules.push_back(r);
    }
    const size_t n = 400;
    std::vector<uint32_t> S, D, best(n);
    std::vector<uint16_t> SP, DP;
    std::vector<uint8_t> PR;
    rndHeaders4(n, S, D, SP, DP, PR);
    const uint32_t minRank = U(3) == 0 ? uint32_t(U(3 * nRules)) : 0;
    for (auto choice : {Prefix4Index::Choice::Forest, Prefix4Index::Choice::Tuples,
                        Prefix4Index::Choice::Auto}) {
      const Prefix4Index idx = Prefix4Index::build(rules, choice, p);
      if (choice == Prefix4Index::Choice::Auto) ++(idx.usesForest() ? autoForest : autoTuples);
      if (idx.ruleCount() != rules.size() ||
          (choice == Prefix4Index::Choice::Forest && !idx.usesForest()) ||
          (choice == Prefix4Index::Choice::Tuples && idx.usesForest())) {
        if (++mismatches < 10) fprintf(stderr, "prefix4 index round %d: %zu rules, forest %d\n", round, idx.ruleCount(), idx.usesForest());
      }
      std::fill(best.begin(), best.end(), kNoRank);
      idx.lookupBatch(S.data(), D.data(), SP.data(), DP.data(), PR.data(), best.data(), n, minRank);
      for (size_t i = 0; i < n; ++i) {
        uint32_t want = kNoRank;
        for (const auto& r : rules) {
          if (r.rank < minRank) continue;
          if (splitMatches(r, S[i], D[i], SP[i], DP[i], PR[i])) {
            want = r.rank;
            break;
          }
        }
        const uint32_t got1 = idx.lookup(S[i], D[i], SP[i], DP[i], PR[i], kNoRank, minRank);
        checked += 2;
        indexChecked += 2;
        if (best[i] != want || got1 != want) {
          if (++mismatches < 10)
            fprintf(stderr, "prefix4 index mismatch round %d choice %d: batch %u scalar %u want %u\n",
                    round, int(choice), best[i], got1, want);
        }
      }
    }
  }
  // DportClasses alone, both forms (few bounds: the compare-and-count; many: the two-level table):
  // the class of every port against the bounds it was built from. Bounds cluster in a few 256-port
  // blocks (cut blocks beside uniform ones) and include the edges 1, 255, 256 and 65535.
  size_t dportSmall = 0, dportLarge = 0;
  for (int round = 0; round < 40; ++round) {
    const uint64_t draws = round < 20 ? U(DportClasses::kSmallDportBounds + 1)
                                      : DportClasses::kSmallDportBounds + 1 + U(round < 30 ? 64 : 3000);
    std::vector<uint32_t> bounds{0};
    for (uint64_t k = 0; k < draws; ++k) {
      const int c = int(U(4));
      bounds.push_back(c == 0   ? uint32_t(1 + U(65535))
                       : c == 1 ? uint32_t((U(6) << 8) | U(256)) | 1u
                       : c == 2 ? uint32_t(U(2) ? 65535 : 1)
                                : uint32_t(U(2) ? 255 : 256));
    }
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    DportClasses dc;
    dc.build(bounds);
    ++(dc.small() ? dportSmall : dportLarge);
    for (uint32_t port = 0; port < 65536; ++port) {
      const uint32_t want = uint32_t(std::upper_bound(bounds.begin(), bounds.end(), port) - bounds.begin()) - 1;
      ++checked;
      if (dc.classOf(uint16_t(port)) != want && ++mismatches < 10)
        fprintf(stderr, "dport class mismatch round %d (%zu bounds): port %u got %u want %u\n", round,
                bounds.size(), port, dc.classOf(uint16_t(port)), want);
    }
  }
  fprintf(stderr, "dport classes: %zu small forms, %zu two-level forms\n", dportSmall, dportLarge);
  // a rule set without set rules allocates nothing for their form
  if (SetRuleForm::build({})->bytes() != sizeof(SetRuleForm) && ++mismatches < 10)
    fprintf(stderr, "empty set-rule form holds %zu bytes\n", SetRuleForm::build({})->bytes());
  fprintf(stderr, "prefix4 index: auto chose the forest %zu times, TupleMerge %zu times\n", autoForest, autoTuples);
  printf("{\"checked\":%ld,\"splitChecked\":%ld,\"indexChecked\":%ld,\"mismatches\":%ld}\n", checked,
         splitChecked, indexChecked, mismatches);
  return mismatches == 0 ? 0 : 1;
}
