// classifier.cc: compile, publish and look up (design in classifier.h).
#include "classifier.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace palisade {

// ---- RuleTables -----------------------------------------------------------------------------

size_t RuleTables::bytes() const {
  // prefix4 and prefix6 are members: their bytes() include their own sizeof, counted once here
  return sizeof(*this) + (prefix4.bytes() - sizeof(prefix4)) + (prefix6.bytes() - sizeof(prefix6)) +
         sets->bytes() +
         ruleIdOfRank.capacity() * 4 + actionOfRank.capacity() + priorityOfRank.capacity() * 4;
}

uint32_t RuleTables::minRankFor(uint32_t minPriority) const {
  return uint32_t(std::lower_bound(priorityOfRank.begin(), priorityOfRank.end(), minPriority) -
                  priorityOfRank.begin());
}

std::shared_ptr<const RuleTables> Classifier::compile(const std::vector<RuleSpec>& specs,
                                                      std::string* error) {
  auto fail = [&](const std::string& msg) -> std::shared_ptr<const RuleTables> {
    if (error) *error = msg;
    return nullptr;
  };
  if (specs.size() >= (size_t(1) << 31)) return fail("PAL_RULE_TOO_MANY: at most 2^31 - 1 rules");
  std::unordered_set<uint32_t> ids;
  ids.reserve(specs.size() * 2);
  for (size_t i = 0; i < specs.size(); ++i) {
    const RuleSpec& r = specs[i];
    const std::string at = " (rule " + std::to_string(i) + ")";
    if (r.ruleId == kNoRuleId) return fail("PAL_RULE_ID_RESERVED: rule id 4294967295 is reserved" + at);
    if (!ids.insert(r.ruleId).second)
      return fail("PAL_RULE_ID_DUPLICATE: rule id " + std::to_string(r.ruleId) + " used twice" + at);
    if (r.sportLo > r.sportHi || r.dportLo > r.dportHi)
      return fail("PAL_RULE_PORT_RANGE: port range low > high" + at);
    if (r.kind == RuleKind::Prefix4 && (r.srcLen > 32 || r.dstLen > 32))
      return fail("PAL_RULE_PREFIX_LEN: IPv4 prefix length > 32" + at);
    if (r.kind == RuleKind::Prefix6 && (r.srcLen > 128 || r.dstLen > 128))
      return fail("PAL_RULE_PREFIX_LEN: IPv6 prefix length > 128" + at);
    if (r.kind != RuleKind::Prefix4 && r.kind != RuleKind::Prefix6 && r.kind != RuleKind::Sets)
      return fail("PAL_RULE_KIND: unknown rule kind" + at);
  }
  std::vector<uint32_t> order(specs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const RuleSpec &x = specs[a], &y = specs[b];
    return x.priority != y.priority ? x.priority < y.priority : x.ruleId < y.ruleId;
  });

  auto out = std::make_shared<RuleTables>();
  out->ruleIdOfRank.resize(specs.size());
  out->actionOfRank.resize(specs.size());
  out->priorityOfRank.resize(specs.size());
  std::vector<SplitRule> in4;
  std::vector<TupleIndex<Family6>::Input> in6;
  std::vector<SetRuleInput> inSets;
  for (uint32_t rank = 0; rank < order.size(); ++rank) {
    const RuleSpec& r = specs[order[rank]];
    out->ruleIdOfRank[rank] = r.ruleId;
    out->actionOfRank[rank] = r.action;
    out->priorityOfRank[rank] = r.priority;
    switch (r.kind) {
      case RuleKind::Prefix4:
        in4.push_back({r.src4 & mask4(r.srcLen), r.dst4 & mask4(r.dstLen), r.srcLen, r.dstLen,
                       r.sportLo, r.sportHi, r.dportLo, r.dportHi, uint8_t(r.proto & r.protoMask),
                       r.protoMask, rank});
        break;
      case RuleKind::Prefix6:
        in6.push_back({and6(r.src6, mask6(r.srcLen)), and6(r.dst6, mask6(r.dstLen)), r.srcLen,
                       r.dstLen, r.sportLo, r.sportHi, r.dportLo, r.dportHi, r.proto, r.protoMask,
                       rank});
        break;
      case RuleKind::Sets:
        inSets.push_back({r.srcSet, r.dstSet, r.sportLo, r.sportHi, r.dportLo, r.dportHi, r.proto,
                          r.protoMask, rank});
        break;
    }
  }
  // the forest's editor (master form) is only needed for incremental edits; a compile keeps the
  // frozen structure
  out->prefix4 = Prefix4Index::build(in4);
  out->prefix6 = TupleIndex<Family6>::build(in6);
  out->sets = SetRuleForm::build(inSets);
  return out;
}

// ---- snapshots and publication ----------------------------------------------------------------

class Classifier::ReadGuard {
 public:
  explicit ReadGuard(const Classifier& c) : c_(c) {
    c_.readers_.fetch_add(1, std::memory_order_seq_cst);
    snap_ = c_.current_.load(std::memory_order_seq_cst);
  }
  ~ReadGuard() { c_.readers_.fetch_sub(1, std::memory_order_release); }
  const Snapshot& operator*() const { return *snap_; }
  const Snapshot* operator->() const { return snap_; }

 private:
  const Classifier& c_;
  const Snapshot* snap_;
};

Classifier::Classifier() {
  auto rules = std::make_shared<const RuleTables>();
  auto sets = std::make_shared<const AddressSets>();
  auto* s = new Snapshot{0, rules, sets, ClassTable::build(rules->sets, sets->classes())};
  current_.store(s, std::memory_order_seq_cst);
}

Classifier::Classifier(Snapshot* first) { current_.store(first, std::memory_order_seq_cst); }

std::unique_ptr<Classifier> Classifier::fork() {
  std::lock_guard<std::mutex> lock(writeMu_);
  const Snapshot* cur = current_.load(std::memory_order_seq_cst);
  return std::unique_ptr<Classifier>(new Classifier(new Snapshot{cur->version, cur->rules, cur->sets, cur->classes}));
}

Classifier::~Classifier() {
  std::lock_guard<std::mutex> lock(writeMu_);
  for (const Snapshot* s : retired_) delete s;
  delete current_.load();
}

void Classifier::publish(Snapshot* next) {
  const Snapshot* old = current_.exchange(next, std::memory_order_seq_cst);
  retired_.push_back(old);
  reclaim();
}

void Classifier::reclaim() {
  if (readers_.load(std::memory_order_seq_cst) != 0) return;  // try again at the next publish
  for (const Snapshot* s : retired_) delete s;
  retired_.clear();
}

uint64_t Classifier::publishRules(std::shared_ptr<const RuleTables> rules) {
  std::lock_guard<std::mutex> lock(writeMu_);
  const Snapshot* cur = current_.load(std::memory_order_seq_cst);
  auto classes = ClassTable::build(rules->sets, cur->sets->classes());
  auto* next = new Snapshot{cur->version + 1, std::move(rules), cur->sets, std::move(classes)};
  publish(next);
  return next->version;
}

uint64_t Classifier::applySetEdits(const SetEdit* edits, size_t n, size_t* changed) {
  std::lock_guard<std::mutex> lock(writeMu_);
  const Snapshot* cur = current_.load(std::memory_order_seq_cst);
  AddressSets::Editor ed(*cur->sets);
  size_t c = 0;
  for (size_t i = 0; i < n; ++i) {
    const SetEdit& e = edits[i];
    bool ok;
    if (e.family == 4)
      ok = e.add ? ed.add4(e.setId, e.addr4, e.prefixLen) : ed.remove4(e.setId, e.addr4, e.prefixLen);
    else
      ok = e.add ? ed.add6(e.setId, e.addr6, e.prefixLen) : ed.remove6(e.setId, e.addr6, e.prefixLen);
    c += ok ? 1 : 0;
  }
  if (changed) *changed = c;
  auto sets = ed.finish();
  auto classes = ClassTable::extend(cur->classes, sets->classes());
  auto* next = new Snapshot{cur->version + 1, cur->rules, std::move(sets), std::move(classes)};
  publish(next);
  return next->version;
}

// ---- lookups --------------------------------------------------------------------------------

namespace {

inline Match toMatch(const RuleTables& rt, uint32_t rank) {
  Match m;
  if (rank != kNoRank) {
    m.ruleId = rt.ruleIdOfRank[rank];
    m.action = rt.actionOfRank[rank];
  }
  return m;
}

inline Addr6 addr6Of(const uint32_t* w) {
  return Addr6{(uint64_t(w[0]) << 32) | w[1], (uint64_t(w[2]) << 32) | w[3]};
}

constexpr size_t kChunk = 256;

// The set rules of a chunk in two passes: the classes of every address (member probes
// prefetched a few headers ahead), then the bitmap lookups (their first lines prefetched ahead),
// so the cache misses of neighbouring headers overlap. `scalar`: one header at a time, no prefetch.
template <class Header, class ClassesOf, class PrefetchOf>
void lookupSetsChunk(const ClassTable& classes, const Header* hs, size_t m, uint32_t* best,
                     uint32_t minBit, bool scalar, ClassesOf classesOf, PrefetchOf prefetchOf) {
  constexpr size_t kAhead = 4;
  uint32_t cls[kChunk][4];
  for (size_t i = 0; i < m; ++i) {
    if (!scalar && i + kAhead < m) {
      prefetchOf(hs[i + kAhead].src);
      prefetchOf(hs[i + kAhead].dst);
    }
    classesOf(hs[i].src, cls[i][0], cls[i][1]);
    classesOf(hs[i].dst, cls[i][2], cls[i][3]);
  }
  for (size_t i = 0; i < m; ++i) {
    if (!scalar && i + kAhead < m) classes.prefetch(cls[i + kAhead][0], cls[i + kAhead][2], hs[i + kAhead].dport);
    best[i] = classes.lookup(cls[i][0], cls[i][1], cls[i][2], cls[i][3], hs[i].sport, hs[i].dport,
                             hs[i].proto, best[i], minBit);
  }
}

}  // namespace

void Classifier::lookupSetsBatch4(const Snapshot& snap, const TupleIndex<Family4>::Header* hs,
                                  size_t m, uint32_t* best, uint32_t minBit, bool scalar) {
  const AddressSets& sets = *snap.sets;
  lookupSetsChunk(*snap.classes, hs, m, best, minBit, scalar,
                  [&](uint32_t a, uint32_t& h, uint32_t& c) { sets.classesOf4(a, h, c); },
                  [&](uint32_t a) { sets.prefetchClass4(a); });
}
void Classifier::lookupSetsBatch6(const Snapshot& snap, const TupleIndex<Family6>::Header* hs,
                                  size_t m, uint32_t* best, uint32_t minBit, bool scalar) {
  const AddressSets& sets = *snap.sets;
  lookupSetsChunk(*snap.classes, hs, m, best, minBit, scalar,
                  [&](const Addr6& a, uint32_t& h, uint32_t& c) { sets.classesOf6(a, h, c); },
                  [&](const Addr6& a) { sets.prefetchClass6(a); });
}

Match Classifier::lookup4(const Header4& h, uint32_t minPriority) const {
  ReadGuard snap(*this);
  const RuleTables& rt = *snap->rules;
  const uint32_t minRank = minPriority ? rt.minRankFor(minPriority) : 0;
  TupleIndex<Family4>::Header th{h.src, h.dst, packAux(h.sport, h.dport, h.proto), h.sport,
                                 h.dport, h.proto};
  uint32_t best = rt.prefix4.ruleCount() ? rt.prefix4.lookup(th, kNoRank, minRank) : kNoRank;
  if (!rt.sets->empty()) {
    uint32_t sh, sc, dh, dc;
    snap->sets->classesOf4(h.src, sh, sc);
    snap->sets->classesOf4(h.dst, dh, dc);
    best = snap->classes->lookup(sh, sc, dh, dc, h.sport, h.dport, h.proto, best,
                                 rt.sets->firstBitAtOrAbove(minRank));
  }
  return toMatch(rt, best);
}

Match Classifier::lookup6(const Header6& h, uint32_t minPriority) const {
  ReadGuard snap(*this);
  const RuleTables& rt = *snap->rules;
  const uint32_t minRank = minPriority ? rt.minRankFor(minPriority) : 0;
  TupleIndex<Family6>::Header th{h.src, h.dst, packAux(h.sport, h.dport, h.proto), h.sport,
                                 h.dport, h.proto};
  uint32_t best = rt.prefix6.ruleCount() ? rt.prefix6.lookup(th, kNoRank, minRank) : kNoRank;
  if (!rt.sets->empty()) {
    uint32_t sh, sc, dh, dc;
    snap->sets->classesOf6(h.src, sh, sc);
    snap->sets->classesOf6(h.dst, dh, dc);
    best = snap->classes->lookup(sh, sc, dh, dc, h.sport, h.dport, h.proto, best,
                                 rt.sets->firstBitAtOrAbove(minRank));
  }
  return toMatch(rt, best);
}

void Classifier::lookupBatch4(const uint32_t* words, size_t n, uint32_t minPriority, bool scalar,
                              uint32_t* outRuleId, uint8_t* outAction) const {
  ReadGuard snap(*this);
  const RuleTables& rt = *snap->rules;
  const uint32_t minRank = minPriority ? rt.minRankFor(minPriority) : 0;
  TupleIndex<Family4>::Header hs[kChunk];
  uint32_t best[kChunk];
  for (size_t c0 = 0; c0 < n; c0 += kChunk) {
    const size_t m = std::min(kChunk, n - c0);
    const uint32_t* w = words + c0 * 4;
    for (size_t i = 0; i < m; ++i, w += 4) {
      const uint16_t sport = uint16_t(w[2] >> 16), dport = uint16_t(w[2]);
      const uint8_t proto = uint8_t(w[3]);
      hs[i] = {w[0], w[1], packAux(sport, dport, proto), sport, dport, proto};
      best[i] = kNoRank;
    }
    if (rt.prefix4.ruleCount()) {
      if (scalar) {
        for (size_t i = 0; i < m; ++i) best[i] = rt.prefix4.lookup(hs[i], kNoRank, minRank);
      } else {
        rt.prefix4.lookupBatch(hs, best, m, minRank);
      }
    }
    if (!rt.sets->empty()) lookupSetsBatch4(*snap, hs, m, best, rt.sets->firstBitAtOrAbove(minRank), scalar);
    for (size_t i = 0; i < m; ++i) {
      const uint32_t r = best[i];
      outRuleId[c0 + i] = r == kNoRank ? kNoRuleId : rt.ruleIdOfRank[r];
      outAction[c0 + i] = r == kNoRank ? 0 : rt.actionOfRank[r];
    }
  }
}

void Classifier::lookupBatch6(const uint32_t* words, size_t n, uint32_t minPriority, bool scalar,
                              uint32_t* outRuleId, uint8_t* outAction) const {
  ReadGuard snap(*this);
  const RuleTables& rt = *snap->rules;
  const uint32_t minRank = minPriority ? rt.minRankFor(minPriority) : 0;
  std::vector<TupleIndex<Family6>::Header> hs(std::min(n, kChunk));
  uint32_t best[kChunk];
  for (size_t c0 = 0; c0 < n; c0 += kChunk) {
    const size_t m = std::min(kChunk, n - c0);
    const uint32_t* w = words + c0 * 10;
    for (size_t i = 0; i < m; ++i, w += 10) {
      const uint16_t sport = uint16_t(w[8] >> 16), dport = uint16_t(w[8]);
      const uint8_t proto = uint8_t(w[9]);
      hs[i] = {addr6Of(w), addr6Of(w + 4), packAux(sport, dport, proto), sport, dport, proto};
      best[i] = kNoRank;
    }
    if (rt.prefix6.ruleCount()) {
      if (scalar) {
        for (size_t i = 0; i < m; ++i) best[i] = rt.prefix6.lookup(hs[i], kNoRank, minRank);
      } else {
        rt.prefix6.lookupBatch(hs.data(), best, m, minRank);
      }
    }
    if (!rt.sets->empty()) lookupSetsBatch6(*snap, hs.data(), m, best, rt.sets->firstBitAtOrAbove(minRank), scalar);
    for (size_t i = 0; i < m; ++i) {
      const uint32_t r = best[i];
      outRuleId[c0 + i] = r == kNoRank ? kNoRuleId : rt.ruleIdOfRank[r];
      outAction[c0 + i] = r == kNoRank ? 0 : rt.actionOfRank[r];
    }
  }
}

ClassifierStats Classifier::stats() const {
  ReadGuard snap(*this);
  const RuleTables& rt = *snap->rules;
  ClassifierStats s;
  s.version = snap->version;
  s.rules = rt.ruleCount();
  s.prefixRules4 = rt.prefix4.ruleCount();
  s.prefixRules6 = rt.prefix6.ruleCount();
  s.setRules = rt.sets->ruleCount();
  s.addressClasses = snap->classes->classCount();
  s.namedClasses = snap->classes->namedClassCount();
  s.classBytes = snap->classes->bytes();
  s.tables4 = rt.prefix4.tableCount();
  s.tables6 = rt.prefix6.tableCount();
  s.members = snap->sets->memberCount();
  s.ruleBytes = rt.bytes();
  s.memberBytes = snap->sets->bytes();
  return s;
}

}  // namespace palisade
