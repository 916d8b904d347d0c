// engine_source.cc: see engine_source.h.
#include "engine_source.h"

#include <cstring>
#include <vector>

#include "classifier/classifier.h"
#include "classifier/wire.h"

namespace palisade::nfq {

namespace {

uint32_t load32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint64_t load64(const uint8_t* p) { return (uint64_t(load32(p)) << 32) | load32(p + 4); }

std::shared_ptr<const RuleTables> buildOne(Classifier& c, const uint32_t* words, size_t count,
                                           const std::vector<SetEdit>& edits, std::string& error) {
  std::vector<RuleSpec> specs;
  if (!wire::decodeRules(words, count, specs, &error)) return nullptr;
  auto tables = Classifier::compile(specs, &error);
  if (!tables) return nullptr;
  size_t changed = 0;
  if (!edits.empty()) c.applySetEdits(edits.data(), edits.size(), &changed);
  c.publishRules(tables);
  return tables;
}

}  // namespace

EngineSource::~EngineSource() = default;

std::shared_ptr<const EngineSource> EngineSource::build(const EngineBuildInput& in, std::string& error) {
  std::vector<SetEdit> edits;
  if (in.setEditCount > 0 && !wire::decodeEdits(in.setEdits, in.setEditCount, edits, &error)) return nullptr;
  std::shared_ptr<EngineSource> s(new EngineSource());
  s->egress_ = std::make_unique<Classifier>();
  s->ingress_ = std::make_unique<Classifier>();
  s->egressRules_ = buildOne(*s->egress_, in.egressRules, in.egressRuleCount, edits, error);
  if (!s->egressRules_) return nullptr;
  s->ingressRules_ = buildOne(*s->ingress_, in.ingressRules, in.ingressRuleCount, edits, error);
  if (!s->ingressRules_) return nullptr;
  s->egressNpStart_ = in.egressNpTierStart;
  s->ingressNpStart_ = in.ingressNpTierStart;
  return s;
}

std::shared_ptr<const EngineSource> EngineSource::withEdits(const EngineSource& base, const uint32_t* setEdits,
                                                             size_t setEditCount, size_t* changed, std::string& error) {
  std::vector<SetEdit> edits;
  if (setEditCount > 0 && !wire::decodeEdits(setEdits, setEditCount, edits, &error)) return nullptr;
  std::shared_ptr<EngineSource> s(new EngineSource());
  s->egress_ = base.egress_->fork();
  s->ingress_ = base.ingress_->fork();
  size_t egressChanged = 0, ingressChanged = 0;
  if (!edits.empty()) {
    s->egress_->applySetEdits(edits.data(), edits.size(), &egressChanged);
    s->ingress_->applySetEdits(edits.data(), edits.size(), &ingressChanged);
  }
  if (changed) *changed = egressChanged;
  s->egressRules_ = base.egressRules_;
  s->ingressRules_ = base.ingressRules_;
  s->egressNpStart_ = base.egressNpStart_;
  s->ingressNpStart_ = base.ingressNpStart_;
  return s;
}

EngineSource::DirectionAnswer EngineSource::decide(const Classifier& c, uint32_t npTierStart, const FlowKey& key) const {
  uint32_t minPriority = 0;
  for (int step = 0; step < 3; ++step) {
    Match m;
    if (key.family == 4) {
      const Header4 h{load32(key.srcAddrNet), load32(key.dstAddrNet), key.srcPort, key.dstPort, key.proto};
      m = c.lookup4(h, minPriority);
    } else {
      const Header6 h{Addr6{load64(key.srcAddrNet), load64(key.srcAddrNet + 8)},
                      Addr6{load64(key.dstAddrNet), load64(key.dstAddrNet + 8)}, key.srcPort, key.dstPort, key.proto};
      m = c.lookup6(h, minPriority);
    }
    if (!m.matched()) return {true, kNoRuleId};
    switch (static_cast<EngineAction>(m.action)) {
      case EngineAction::Allow: return {true, m.ruleId};
      case EngineAction::PassBaseline: return {true, kNoRuleId};
      case EngineAction::PassAdmin:
        if (npTierStart <= minPriority) return {false, m.ruleId};  // inconsistent tiers: fail closed
        minPriority = npTierStart;
        continue;
      default: return {false, m.ruleId};  // Deny and any unknown byte: fail closed
    }
  }
  return {false, kNoRuleId};
}

Verdict EngineSource::classify(const FlowKey& key) const {
  const size_t addrBytes = key.family == 4 ? 4 : 16;
  if (std::memcmp(key.srcAddrNet, key.dstAddrNet, addrBytes) == 0) return Verdict{true, Direction::None, kNoRuleId};
  const DirectionAnswer e = decide(*egress_, egressNpStart_, key);
  if (!e.allow) return Verdict{false, Direction::Egress, e.ruleId};
  const DirectionAnswer i = decide(*ingress_, ingressNpStart_, key);
  if (!i.allow) return Verdict{false, Direction::Ingress, i.ruleId};
  return Verdict{true, Direction::None, kNoRuleId};
}

}  // namespace palisade::nfq
