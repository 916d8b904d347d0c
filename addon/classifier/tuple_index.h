// tuple_index.h: the index for PREFIX rules (src prefix, dst prefix, port ranges, proto/mask).
//
// What: a TupleMerge-style tuple-space classifier (Daly et al., "TupleMerge: Fast Software Packet
// Processing for Online Packet Classification", IEEE/ACM ToN 2019). The classifier uses it for IPv6
// prefix rules; IPv4 prefix rules moved to SplitForest4 (split_tree.h), which measured 1.5-4x faster
// on ClassBench (bench/RESULTS.md). Both families still build here (bench/native/classbench_core).
//
// Design:
//  - A TABLE is defined by a tuple (srcLen, dstLen, sportExact, dportExact, protoExact). A rule fits
//    a table when its prefixes are at least as long as the table's and every field the table treats
//    as exact is exact in the rule. Its KEY in that table is (src & srcMask, dst & dstMask, and the
//    exact port/proto values), hashed to 64 bits. All rules of one table with the same hash form a
//    BUCKET, stored contiguously in rank order. Equal hashes of different keys merge buckets; that
//    is still correct because every candidate is checked on all five fields.
//  - Build (TupleMerge's online insertion, in rank order): a rule goes into the first existing
//    table it fits whose bucket has fewer than TupleParams::collisionLimit rules; otherwise a new table is made
//    with a RELAXED tuple (prefix lengths rounded down, see relaxLen) so later rules can share it;
//    if that tuple exists already (its bucket is full) the exact tuple is used, and if that is full
//    too the bucket grows past the limit (rules that differ only in port ranges cannot be split by
//    hashing). Why TupleMerge: it builds in one pass (R x T hash inserts: ~3 ms for 10k ClassBench
//    rules), costs ~40-50 bytes per rule, maps 1:1 onto BPF hash maps, and could take rule inserts
//    without a rebuild; decision trees (HyperCuts/CutSplit) and crossproducts (RFC) look up faster
//    but replicate rules (memory, build time) and must be rebuilt on change.
//  - Tables are ordered by their best (lowest) rank, and each records its best and worst rank. A
//    lookup visits tables in that order and stops as soon as the best match found so far beats the
//    next table's best rank (priority pruning). Inside a bucket the scan stops at the first match,
//    or at the first rank that cannot beat the best so far.
//  - CANDIDATE TABLES: two small arrays indexed by the top bits of the source and destination
//    address give, per side, a bitmap of the tables (first 128) holding a rule whose prefix covers
//    those bits; their AND lists the only tables worth probing, in rank order. This replaced a walk
//    over every table and cut the tables probed per lookup 2-4x (acl1/fw1/ipc1: 2-11 per lookup).
//  - Each candidate table is first asked through a one-hash Bloom filter (16 bits per bucket,
//    indexed by the tag): most probes miss, and the filter answers them from L1. Then hash slots,
//    open-addressed (linear probing, load <= 2/3), 8 bytes: {tag, first record}; the last record
//    of a bucket carries a flag. The hash is multiply-shift (two independent multiplies).
//  - Batch lookup walks the headers one by one and prefetches the candidate words of a header a few
//    positions ahead; the scalar lookup is the same walk without prefetch.
//  - BPF lowering: each table is one BPF hash map keyed by the masked tuple, value = bucket
//    (start, count) into an array map of records; the table list is a small array walked in order.
//
// Invariants (after build): tables sorted by minRank ascending; every rule in exactly one bucket;
// buckets sorted by rank; record fields are masked (src & mask(srcLen)).
//
// Costs: build O(R * T) hash inserts (T = tables, typically 20-110 on ClassBench), lookup
// O(C * (1 probe + bucket scan)) where C is the number of candidate tables before pruning stops the
// walk (2-11 per lookup on ClassBench). Measured (bench/RESULTS.md): 55-160 ns per lookup on
// ClassBench 1k-10k, where each probe costs ~10-15 ns; misses of the 25/60 ns targets come
// from the number of candidate tables, not from cache misses. Memory per rule: one record (24 bytes
// IPv4, 48 IPv6), ~6-12 bytes of slots, ~2 bytes of Bloom bits, <= 8 bytes of candidate bitmaps.
//
// Thread-safety: immutable after build(); any number of threads may look up concurrently.
#pragma once

#include <algorithm>
#include <iterator>
#include <cstdint>
#include <vector>

#include "types.h"

namespace palisade {

struct Family4 {
  using Addr = uint32_t;
  static constexpr unsigned kBits = 32;
  static Addr mask(unsigned len) { return mask4(len); }
  static Addr andm(Addr a, Addr m) { return a & m; }
  static bool eq(Addr a, Addr b) { return a == b; }
  static uint64_t fold(Addr s, Addr d) { return (uint64_t(s) << 32) | d; }
};
struct Family6 {
  using Addr = Addr6;
  static constexpr unsigned kBits = 128;
  static Addr mask(unsigned len) { return mask6(len); }
  static Addr andm(const Addr& a, const Addr& m) { return and6(a, m); }
  static bool eq(const Addr& a, const Addr& b) { return a == b; }
  static uint64_t fold(const Addr& s, const Addr& d) {
    return mix64(s.hi ^ 0x9e3779b97f4a7c15ull) ^ (s.lo * 0xbf58476d1ce4e5b9ull) ^
           (d.hi * 0x94d049bb133111ebull) ^ mix64(d.lo + 0x2545f4914f6cdd1dull);
  }
};

#ifdef PAL_TUPLE_STATS
inline uint64_t g_visit, g_pass, g_hit, g_rec;
#endif

// ports and proto packed in one word: sport<<24 | dport<<8 | proto.
inline uint64_t packAux(uint16_t sport, uint16_t dport, uint8_t proto) {
  return (uint64_t(sport) << 24) | (uint64_t(dport) << 8) | proto;
}

// Build knobs (defaults are the shipped configuration; bench/native/ explores others).
// Chosen on ClassBench acl1/fw1/ipc1 1k and 10k with bench/native/classbench_core.cc (which takes
// these knobs on its command line): an exact dport and an exact protocol as key fields keep buckets
// short (ClassBench rules often differ only in dport), lengths rounded down to multiples of 8 and a
// limit of 8 keep the table count at 26-67. Other settings were within +-20% on some sets and worse
// on others.
struct TupleParams {
  unsigned collisionLimit = 8;
  int portDims = 2;       // tuples may treat exact ports as key fields: 0 none, 1 both, 2 dport only
  bool protoDim = true;   // tuples may treat an exact protocol as a key field
  int relax = 1;          // 0: l<8 ? l : l - l%4; 1: round down to a multiple of 8; 2: none
};

template <class F>
class TupleIndex {
 public:
  using Addr = typename F::Addr;

  struct Record {
    Addr src, dst;  // masked
    uint16_t sportLo, sportHi, dportLo, dportHi;
    uint8_t proto, protoMask, srcLen, dstLen;
    uint32_t rankLast;  // rank | kLast on the last record of its bucket
  };
  struct Input {  // one prefix rule with its global rank
    Addr src, dst;
    uint8_t srcLen, dstLen;
    uint16_t sportLo, sportHi, dportLo, dportHi;
    uint8_t proto, protoMask;
    uint32_t rank;
  };
  struct Header {
    Addr src, dst;
    uint64_t aux;  // packAux(sport, dport, proto)
    uint16_t sport, dport;
    uint8_t proto;
  };

  // Build from rules given in ascending rank order.
  static TupleIndex build(const std::vector<Input>& rules, const TupleParams& p = TupleParams());

  // First rank in [minRank, best) that matches, or `best` if none.
  uint32_t lookup(const Header& h, uint32_t best, uint32_t minRank) const;
  // Batch: best[i] is in/out (start with kNoRank or a better rank found elsewhere).
  void lookupBatch(const Header* hs, uint32_t* best, size_t n, uint32_t minRank) const;

  size_t tableCount() const { return tables_.size(); }
  size_t ruleCount() const { return records_.size(); }
  size_t bytes() const {
    return sizeof(*this) + tables_.capacity() * sizeof(Table) + slots_.capacity() * sizeof(Slot) +
           records_.capacity() * sizeof(Record) +
           (srcCand_.capacity() + dstCand_.capacity() + bloom_.capacity() + dportCand_.capacity() +
            protoCand_.capacity()) *
               sizeof(uint64_t);
  }

 private:
  static constexpr uint32_t kLast = 0x80000000u;  // ranks stay below 2^31
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  // 8 bytes: the upper 32 bits of the key hash and the first record of the bucket. Buckets whose
  // hashes agree on the home slot AND the tag are merged at build time, so a lookup that finds
  // its tag on its probe path has found the only bucket that can hold its rules.
  struct Slot {
    uint32_t tag;
    uint32_t start;  // kEmpty: free slot
  };
  struct Table {
    Addr srcMask, dstMask;
    uint64_t auxMask;
    // Quick reject: bit i set when some rule of the table has i as the top 6 bits of its src
    // (dst) address; all ones when the table's prefix is shorter than 6 bits.
    uint64_t srcTop, dstTop;
    uint32_t minRank, maxRank;
    uint32_t slotBase, slotMask;
    uint32_t bloomBase, bloomMask;  // bit offset into bloom_, (bits - 1)
  };
  struct Tuple {
    uint8_t srcLen, dstLen;
    bool sportExact, dportExact, protoExact;
    bool operator==(const Tuple& o) const {
      return srcLen == o.srcLen && dstLen == o.dstLen && sportExact == o.sportExact &&
             dportExact == o.dportExact && protoExact == o.protoExact;
    }
  };

  static uint64_t auxMaskOf(const Tuple& t) {
    return (t.sportExact ? 0xFFFFull << 24 : 0) | (t.dportExact ? 0xFFFFull << 8 : 0) |
           (t.protoExact ? 0xFFull : 0);
  }
  // Multiply-shift (Dietzfelbinger): the HIGH halves of two independent products of the key;
  // low 32 bits of the result index the slots, high 32 bits are the tag (~5 cycles). Hash quality
  // only affects speed: buckets that collide on (slot, tag) are merged at build time and every
  // candidate is checked on all fields.
  static uint64_t hashKey(const Addr& src, const Addr& dst, uint64_t aux) {
    const uint64_t x = F::fold(src, dst) ^ (aux * 0xc2b2ae3d27d4eb4full);
    return ((x * 0x9e3779b97f4a7c15ull) >> 32) | ((x * 0xd6e8feb86659fd93ull) & 0xFFFFFFFF00000000ull);
  }
  static unsigned top6(uint32_t a) { return a >> 26; }
  static unsigned top6(const Addr6& a) { return unsigned(a.hi >> 58); }
  static bool mayHold(const Table& t, const Header& h) {
    return ((t.srcTop >> top6(h.src)) & (t.dstTop >> top6(h.dst)) & 1) != 0;
  }
  uint64_t hashFor(const Table& t, const Header& h) const {
    return hashKey(F::andm(h.src, t.srcMask), F::andm(h.dst, t.dstMask), h.aux & t.auxMask);
  }
  // Lengths are rounded down so that rules with near lengths share a table (TupleMerge's
  // relaxation). Short lengths stay exact: /0, /1, /2 wildcards are common in firewall sets and
  // merging them into one table makes very long buckets.
  static uint8_t relaxLen(uint8_t len, int mode) {
    if (mode == 2) return len;
    if (mode == 1) return uint8_t(len - len % 8);
    return len < 8 ? len : uint8_t(len - len % 4);
  }

  // Branch-free: the five tests are combined with & (one unpredictable branch per record, not five).
  static bool matches(const Record& r, const Header& h) {
    const bool src = F::eq(F::andm(h.src, F::mask(r.srcLen)), r.src);
    const bool dst = F::eq(F::andm(h.dst, F::mask(r.dstLen)), r.dst);
    const bool sp = uint32_t(h.sport - r.sportLo) <= uint32_t(r.sportHi - r.sportLo);
    const bool dp = uint32_t(h.dport - r.dportLo) <= uint32_t(r.dportHi - r.dportLo);
    const bool pr = ((h.proto ^ r.proto) & r.protoMask) == 0;
    return src & dst & sp & dp & pr;
  }
  // The first record of the bucket for `hash`, or nullptr.
  const Record* probe(const Table& t, uint64_t hash) const {
    const uint32_t tag = uint32_t(hash >> 32);
    uint32_t i = uint32_t(hash) & t.slotMask;
    for (;;) {
      const Slot& s = slots_[t.slotBase + i];
      if (s.start == kEmpty) return nullptr;
      if (s.tag == tag) return &records_[s.start];
      i = (i + 1) & t.slotMask;
    }
  }
  // Scan one bucket: the first record with rank in [minRank, best) that matches.
  static uint32_t scan(const Record* r, const Header& h, uint32_t best, uint32_t minRank) {
    for (;; ++r) {
      const uint32_t rank = r->rankLast & ~kLast;
      if (rank >= best) break;
      if (rank >= minRank && matches(*r, h)) return rank;
      if (r->rankLast & kLast) break;
    }
    return best;
  }

  // Candidate tables: bit k of srcCand_[top bits of src] & dstCand_[top bits of dst] is set when
  // table k (< 64) holds a rule whose prefixes cover those top bits. One AND replaces a walk over
  // every table; the bits are exact per rule, so a clear bit proves the table cannot match.
  // Tables 0..127 have candidate bits (two words per entry when there are more than 64 tables);
  // tables beyond that are walked with the coarser per-table top-6-bit test.
  static constexpr unsigned kCandWordsMax = 2;
  static constexpr unsigned kCandTables = 64 * kCandWordsMax;
  static uint32_t topBits(uint32_t a, unsigned b) { return b ? a >> (32 - b) : 0; }
  static uint32_t topBits(const Addr6& a, unsigned b) { return b ? uint32_t(a.hi >> (64 - b)) : 0; }
  const uint64_t* srcCandOf(const Header& h) const {
    return &srcCand_[size_t(topBits(h.src, candBits_)) * candWords_];
  }
  const uint64_t* dstCandOf(const Header& h) const {
    return &dstCand_[size_t(topBits(h.dst, candBits_)) * candWords_];
  }
  // One-hash Bloom filter per table (16 bits per bucket, indexed by the tag): most probes are
  // misses, and this answers them from a bitmap that stays in L1 instead of a slot array that
  // does not (perf showed the slot load dominating).
  bool mayContain(const Table& t, uint64_t hash) const {
    const uint32_t b = t.bloomBase + (uint32_t(hash >> 32) & t.bloomMask);
    return (bloom_[b >> 6] >> (b & 63)) & 1;
  }
  uint32_t visit(const Table& t, const Header& h, uint32_t best, uint32_t minRank) const {
    const uint64_t hash = hashFor(t, h);
    if (!mayContain(t, hash)) return best;
    const Record* r = probe(t, hash);
#ifdef PAL_TUPLE_STATS
    ++g_pass;  // passed the Bloom filter
    if (r) { ++g_hit; for (const Record* q = r;; ++q) { ++g_rec; if (q->rankLast & kLast) break; } }
#endif
    return r ? scan(r, h, best, minRank) : best;
  }

  std::vector<Table> tables_;
  std::vector<Slot> slots_;
  std::vector<Record> records_;
  std::vector<uint64_t> bloom_;
  unsigned candBits_ = 0, candWords_ = 1;
  std::vector<uint64_t> srcCand_, dstCand_;
  // The same idea on the other fields: a table is a candidate only if one of its rules accepts the
  // header's protocol cell (proto % 32) and has a dport range covering the header's dport cell
  // (dport % 64; a range of 64 ports or more covers every cell). Halved the candidates of ipc1.
  static constexpr unsigned kPortCells = 64, kProtoCells = 32;
  std::vector<uint64_t> dportCand_;  // kPortCells * candWords
  std::vector<uint64_t> protoCand_;  // kProtoCells * candWords
};

// ---------------------------------------------------------------------------------------------
// Build

// A flat open-addressing map from bucket hash to a bucket (count + singly linked list of rule
// indexes through `next`), used only while building (std::unordered_map made ipc1_10k's build ~2x slower).
struct BuildBuckets {
  std::vector<uint64_t> slotKey;
  std::vector<uint32_t> slotBucket;  // ~0u: empty
  std::vector<uint64_t> key;         // per bucket
  std::vector<uint32_t> count, head, tail;
  uint32_t mask = 0;

  BuildBuckets() { rehash(16); }
  void rehash(uint32_t cap) {
    slotKey.assign(cap, 0);
    slotBucket.assign(cap, ~0u);
    mask = cap - 1;
    for (uint32_t b = 0; b < key.size(); ++b) place(key[b], b);
  }
  void place(uint64_t k, uint32_t b) {
    uint32_t i = uint32_t(mix64(k)) & mask;
    while (slotBucket[i] != ~0u) i = (i + 1) & mask;
    slotKey[i] = k;
    slotBucket[i] = b;
  }
  uint32_t find(uint64_t k) const {  // ~0u when absent
    uint32_t i = uint32_t(mix64(k)) & mask;
    for (;;) {
      const uint32_t b = slotBucket[i];
      if (b == ~0u || slotKey[i] == k) return b;
      i = (i + 1) & mask;
    }
  }
  void add(uint64_t k, uint32_t b, uint32_t idx, std::vector<uint32_t>& next) {
    if (b == ~0u) {
      b = uint32_t(key.size());
      key.push_back(k);
      count.push_back(0);
      head.push_back(idx);
      tail.push_back(idx);
      if ((key.size() + 1) * 2 > mask + 1) rehash((mask + 1) * 2);
      else place(k, b);
    } else {
      next[tail[b]] = idx;
      tail[b] = idx;
    }
    next[idx] = ~0u;
    ++count[b];
  }
};

template <class F>
TupleIndex<F> TupleIndex<F>::build(const std::vector<Input>& rules, const TupleParams& p) {
  struct TableBuild {
    Tuple tuple;
    uint64_t auxMask;
    Addr srcMask, dstMask;
    uint32_t minRank, maxRank;
    BuildBuckets buckets;
  };
  std::vector<TableBuild> tb;
  std::vector<uint32_t> next(rules.size(), ~0u);  // rule index -> next rule index in its bucket
  auto fits = [](const Input& r, const Tuple& t) {
    return r.srcLen >= t.srcLen && r.dstLen >= t.dstLen &&
           (!t.sportExact || r.sportLo == r.sportHi) && (!t.dportExact || r.dportLo == r.dportHi) &&
           (!t.protoExact || r.protoMask == 0xFF);
  };
  auto keyOf = [](const TableBuild& t, const Input& r) {
    uint64_t aux = packAux(r.sportLo, r.dportLo, r.proto) & t.auxMask;
    return hashKey(F::andm(r.src, t.srcMask), F::andm(r.dst, t.dstMask), aux);
  };
  auto addTable = [&](const Tuple& t, uint32_t rank) -> TableBuild& {
    TableBuild b;
    b.tuple = t;
    b.auxMask = auxMaskOf(t);
    b.srcMask = F::mask(t.srcLen);
    b.dstMask = F::mask(t.dstLen);
    b.minRank = rank;
    b.maxRank = rank;
    tb.push_back(std::move(b));
    return tb.back();
  };
  auto insert = [&](TableBuild& t, uint64_t key, uint32_t bucket, uint32_t idx, uint32_t rank) {
    t.buckets.add(key, bucket, idx, next);
    t.minRank = std::min(t.minRank, rank);
    t.maxRank = std::max(t.maxRank, rank);
  };

  for (uint32_t i = 0; i < rules.size(); ++i) {
    const Input& r = rules[i];
    bool placed = false;
    for (auto& t : tb) {
      if (!fits(r, t.tuple)) continue;
      const uint64_t key = keyOf(t, r);
      const uint32_t b = t.buckets.find(key);
      if (b != ~0u && t.buckets.count[b] >= p.collisionLimit) continue;
      insert(t, key, b, i, r.rank);
      placed = true;
      break;
    }
    if (placed) continue;
    Tuple exact{r.srcLen, r.dstLen, p.portDims == 1 && r.sportLo == r.sportHi,
                p.portDims != 0 && r.dportLo == r.dportHi, p.protoDim && r.protoMask == 0xFF};
    Tuple relaxed = exact;
    relaxed.srcLen = relaxLen(r.srcLen, p.relax);
    relaxed.dstLen = relaxLen(r.dstLen, p.relax);
    TableBuild* target = nullptr;
    TableBuild* exactTable = nullptr;
    bool relaxedExists = false;
    for (auto& t : tb) {
      if (t.tuple == relaxed) relaxedExists = true;
      if (t.tuple == exact) exactTable = &t;
    }
    if (!relaxedExists) target = &addTable(relaxed, r.rank);
    else if (!exactTable) target = &addTable(exact, r.rank);
    else target = exactTable;  // identical key, bucket over the limit: cannot be split by hashing
    const uint64_t key = keyOf(*target, r);
    insert(*target, key, target->buckets.find(key), i, r.rank);
  }

  TupleIndex out;
  std::stable_sort(tb.begin(), tb.end(),
                   [](const TableBuild& a, const TableBuild& b) { return a.minRank < b.minRank; });
  auto capacityFor = [](size_t buckets) {
    uint32_t cap = 2;
    // load <= 2/3: the Bloom filter turns away most misses before they reach the slots
    while (cap < buckets + buckets / 2 + 1) cap <<= 1;
    return cap;
  };
  auto bloomBitsFor = [](size_t buckets) {
    uint32_t bits = 64;
    while (bits < buckets * 16) bits <<= 1;
    return bits;
  };
  size_t totalSlots = 0, totalBloom = 0;
  for (auto& t : tb) {
    totalSlots += capacityFor(t.buckets.key.size());
    totalBloom += bloomBitsFor(t.buckets.key.size());
  }
  out.slots_.assign(totalSlots, Slot{0, kEmpty});
  out.bloom_.assign(totalBloom / 64, 0);
  uint32_t bloomBase = 0;
  out.records_.reserve(rules.size());
  out.tables_.reserve(tb.size());
  uint32_t base = 0;
  std::vector<std::pair<uint64_t, uint32_t>> ids;  // (slot-and-tag id, bucket)
  std::vector<uint32_t> group;
  for (auto& t : tb) {
    const BuildBuckets& bk = t.buckets;
    const uint32_t cap = capacityFor(bk.key.size());
    Table tab;
    tab.srcMask = t.srcMask;
    tab.dstMask = t.dstMask;
    tab.auxMask = t.auxMask;
    tab.srcTop = t.tuple.srcLen >= 6 ? 0 : ~0ull;
    tab.dstTop = t.tuple.dstLen >= 6 ? 0 : ~0ull;
    tab.minRank = t.minRank;
    tab.maxRank = t.maxRank;
    tab.slotBase = base;
    tab.slotMask = cap - 1;
    tab.bloomBase = bloomBase;
    tab.bloomMask = bloomBitsFor(bk.key.size()) - 1;
    bloomBase += tab.bloomMask + 1;
    // Buckets that a lookup cannot tell apart (same home slot and tag) are merged.
    ids.clear();
    for (uint32_t b = 0; b < bk.key.size(); ++b)
      ids.emplace_back((bk.key[b] & 0xFFFFFFFF00000000ull) | (uint32_t(bk.key[b]) & tab.slotMask), b);
    std::sort(ids.begin(), ids.end());
    for (size_t g0 = 0; g0 < ids.size();) {
      size_t g1 = g0 + 1;
      while (g1 < ids.size() && ids[g1].first == ids[g0].first) ++g1;
      group.clear();
      for (size_t g = g0; g < g1; ++g)
        for (uint32_t idx = bk.head[ids[g].second]; idx != ~0u; idx = next[idx]) group.push_back(idx);
      if (g1 - g0 > 1)
        std::sort(group.begin(), group.end(),
                  [&](uint32_t a, uint32_t b) { return rules[a].rank < rules[b].rank; });
      const uint32_t start = uint32_t(out.records_.size());
      for (uint32_t idx : group) {
        const Input& r = rules[idx];
        Record rec;
        rec.src = F::andm(r.src, F::mask(r.srcLen));
        rec.dst = F::andm(r.dst, F::mask(r.dstLen));
        rec.sportLo = r.sportLo;
        rec.sportHi = r.sportHi;
        rec.dportLo = r.dportLo;
        rec.dportHi = r.dportHi;
        rec.proto = uint8_t(r.proto & r.protoMask);
        rec.protoMask = r.protoMask;
        rec.srcLen = r.srcLen;
        rec.dstLen = r.dstLen;
        rec.rankLast = r.rank;
        out.records_.push_back(rec);
        if (t.tuple.srcLen >= 6) tab.srcTop |= 1ull << top6(rec.src);
        if (t.tuple.dstLen >= 6) tab.dstTop |= 1ull << top6(rec.dst);
      }
      out.records_.back().rankLast |= kLast;
      const uint64_t id = ids[g0].first;
      uint32_t i = uint32_t(id) & tab.slotMask;
      while (out.slots_[base + i].start != kEmpty) i = (i + 1) & tab.slotMask;
      out.slots_[base + i] = Slot{uint32_t(id >> 32), start};
      const uint32_t bit = tab.bloomBase + (uint32_t(id >> 32) & tab.bloomMask);
      out.bloom_[bit >> 6] |= 1ull << (bit & 63);
      g0 = g1;
    }
    out.tables_.push_back(tab);
    base += cap;
  }
  // Candidate masks: 2^candBits entries per side of candWords words; candBits is the largest with
  // 2^candBits * candWords <= rules / 2 (so at most 8 bytes per rule), clamped to [4, 12].
  out.candWords_ = out.tables_.size() > 64 ? 2 : 1;
  unsigned bits = 4;
  while (bits < 12 && (size_t(1) << (bits + 1)) * out.candWords_ * 2 <= rules.size()) ++bits;
  out.candBits_ = rules.empty() ? 0 : bits;
  out.srcCand_.assign((size_t(1) << out.candBits_) * out.candWords_, 0);
  out.dportCand_.assign(kPortCells * out.candWords_, 0);
  out.protoCand_.assign(kProtoCells * out.candWords_, 0);
  out.dstCand_.assign((size_t(1) << out.candBits_) * out.candWords_, 0);
  // Each distinct (first entry, span) range is marked once per table: a table holding thousands of
  // /0 rules marks the whole array once, not once per rule.
  std::vector<std::pair<uint32_t, uint32_t>> srcRanges, dstRanges, dports, protos;
  auto markAll = [&](std::vector<uint64_t>& cand, std::vector<std::pair<uint32_t, uint32_t>>& ranges,
                     unsigned k) {
    std::sort(ranges.begin(), ranges.end());
    ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
    uint32_t doneUpTo = 0;  // ranges are prefixes: nested or disjoint; skip covered ones
    for (const auto& [lo, span] : ranges) {
      if (lo + span <= doneUpTo) continue;
      for (uint32_t v = lo; v < lo + span; ++v) cand[size_t(v) * out.candWords_ + k / 64] |= 1ull << (k % 64);
      doneUpTo = std::max(doneUpTo, lo + span);
    }
  };
  auto rangeOf = [&](const Addr& a, unsigned len) {
    return std::make_pair(topBits(a, out.candBits_),
                          len >= out.candBits_ ? 1u : 1u << (out.candBits_ - len));
  };
  for (unsigned k = 0; k < out.tables_.size() && k < 64 * out.candWords_; ++k) {
    const Table& tab = out.tables_[k];
    const uint32_t end = k + 1 < out.tables_.size() ? out.tables_[k + 1].slotBase : uint32_t(out.slots_.size());
    srcRanges.clear();
    dstRanges.clear();
    dports.clear();
    protos.clear();
    for (uint32_t si = tab.slotBase; si < end; ++si) {
      if (out.slots_[si].start == kEmpty) continue;
      for (const Record* r = &out.records_[out.slots_[si].start];; ++r) {
        srcRanges.push_back(rangeOf(r->src, r->srcLen));
        dstRanges.push_back(rangeOf(r->dst, r->dstLen));
        dports.emplace_back(r->dportLo, r->dportHi);
        protos.emplace_back(r->proto, r->protoMask);
        if (r->rankLast & kLast) break;
      }
    }
    markAll(out.srcCand_, srcRanges, k);
    markAll(out.dstCand_, dstRanges, k);
    const size_t word = k / 64;
    const uint64_t bit = 1ull << (k % 64);
    std::sort(dports.begin(), dports.end());
    dports.erase(std::unique(dports.begin(), dports.end()), dports.end());
    for (const auto& [lo, hi] : dports) {
      const uint32_t cells = std::min<uint32_t>(hi - lo + 1, kPortCells);
      for (uint32_t c = 0; c < cells; ++c) out.dportCand_[((lo + c) % kPortCells) * out.candWords_ + word] |= bit;
    }
    std::sort(protos.begin(), protos.end());
    protos.erase(std::unique(protos.begin(), protos.end()), protos.end());
    for (const auto& [value, mask] : protos)
      for (uint32_t pv = 0; pv < 256; ++pv)
        if (((pv ^ value) & mask) == 0) out.protoCand_[(pv % kProtoCells) * out.candWords_ + word] |= bit;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lookup


template <class F>
uint32_t TupleIndex<F>::lookup(const Header& h, uint32_t best, uint32_t minRank) const {
  if (tables_.empty()) return best;
  const uint64_t* sc = srcCandOf(h);
  const uint64_t* dc = dstCandOf(h);
  for (unsigned w = 0; w < candWords_; ++w) {
    uint64_t cand = sc[w] & dc[w] & dportCand_[(h.dport % kPortCells) * candWords_ + w] &
                    protoCand_[(h.proto % kProtoCells) * candWords_ + w];
    for (; cand; cand &= cand - 1) {
      const Table& t = tables_[64 * w + __builtin_ctzll(cand)];
      if (t.minRank >= best) return best;  // tables are sorted by minRank
#ifdef PAL_TUPLE_STATS
      ++g_visit;
#endif
      if (t.maxRank >= minRank) best = visit(t, h, best, minRank);
    }
  }
  for (size_t k = 64 * candWords_; k < tables_.size(); ++k) {
    const Table& t = tables_[k];
    if (t.minRank >= best) break;
    if (t.maxRank < minRank || !mayHold(t, h)) continue;
    best = visit(t, h, best, minRank);
  }
  return best;
}

// Batch: the same walk per header, with the candidate words of the header kAhead positions later
// prefetched. (A lock-step interleave of 16 headers, AMAC-style, was measured slower on every
// ClassBench set: the structures fit in L2, so there are few misses to overlap, and the
// bookkeeping cost more than it hid; see bench/RESULTS.md.)
template <class F>
void TupleIndex<F>::lookupBatch(const Header* hs, uint32_t* best, size_t n,
                                uint32_t minRank) const {
  if (tables_.empty()) return;
  constexpr size_t kAhead = 4;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      __builtin_prefetch(srcCandOf(hs[i + kAhead]));
      __builtin_prefetch(dstCandOf(hs[i + kAhead]));
    }
    best[i] = lookup(hs[i], best[i], minRank);
  }
}

}  // namespace palisade
