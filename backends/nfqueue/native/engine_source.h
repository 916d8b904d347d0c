// engine_source.h: EngineSource, the VerdictSource backed by the native classifier
// (addon/classifier/classifier.h): Palisade's compiled policy answering new flows in the loop.
//
// What: two palisade::Classifier instances, one per direction (egress: subject = source address;
// ingress: subject = destination), built from the rule words and set edits that
// src/native/binding.ts packs (layouts in addon/classifier/wire.h). A flow is allowed when both
// directions allow, as Engine.lookup decides (src/engine/engine.ts):
//   - the action byte of each rule (EngineAction) says allow, deny, or Pass;
//   - an Admin-tier Pass continues at the first NetworkPolicy-tier rule (minPriority =
//     npTierStart of that direction); a Baseline Pass ends at the default allow;
//   - no matching rule: allow (default allow / the endpoint is not a pod of any subject set);
//   - source address == destination address: allow (a pod's traffic to itself).
// The deny answer carries the deciding rule id (a RuleSet id, for the JS deny log) and its
// direction; egress is judged first.
//
// Invariants: immutable after build(); both classifiers are private to this source (never
// republished), so a lookup sees exactly the version built here. withEdits forks them (shared
// copy-on-write parts) into a NEW source; the base is never edited.
// Cost: one or two classifier lookups per direction (a second only after an Admin Pass).
// Thread-safety: classify() is const and safe from any number of threads.
#pragma once

#include <memory>
#include <string>

#include "verdict_source.h"

namespace palisade {
class Classifier;
struct RuleTables;
}

namespace palisade::nfq {

// The action byte of a rule as EngineSource reads it.
enum class EngineAction : uint8_t { Deny = 0, Allow = 1, PassAdmin = 2, PassBaseline = 3 };

struct EngineBuildInput {
  const uint32_t* egressRules = nullptr;  // wire.h rule words, kRuleWords each
  size_t egressRuleCount = 0;
  const uint32_t* ingressRules = nullptr;
  size_t ingressRuleCount = 0;
  const uint32_t* setEdits = nullptr;     // wire.h set edits (adds) giving every set's members
  size_t setEditCount = 0;
  uint32_t egressNpTierStart = 0;         // priority of the first NetworkPolicy-tier rule
  uint32_t ingressNpTierStart = 0;
};

class EngineSource final : public VerdictSource {
 public:
  // Builds both classifiers. nullptr and `error` ("CODE: text") on a malformed input.
  static std::shared_ptr<const EngineSource> build(const EngineBuildInput& in, std::string& error);
  // A new source with the same compiled rules and membership as `base` changed by `setEdits`
  // (adds and removes, wire.h), all in one source: a lookup sees all of them or none (the loop
  // publishes the source in one swap). Both classifiers are forks of base's (Classifier::fork):
  // cost O(edits + touched shards + new classes), independent of the members base holds. `base`
  // must not be edited after (it is not: a source is immutable once built); calls serialized
  // (the loop's controlling thread). *changed = edits that changed the egress membership.
  static std::shared_ptr<const EngineSource> withEdits(const EngineSource& base, const uint32_t* setEdits,
                                                       size_t setEditCount, size_t* changed, std::string& error);
  ~EngineSource() override;
  Verdict classify(const FlowKey& key) const override;

 private:
  EngineSource() = default;
  struct DirectionAnswer {
    bool allow;
    uint32_t ruleId;
  };
  DirectionAnswer decide(const Classifier& c, uint32_t npTierStart, const FlowKey& key) const;

  std::unique_ptr<Classifier> egress_, ingress_;
  std::shared_ptr<const RuleTables> egressRules_, ingressRules_;  // immutable, shared by later sources
  uint32_t egressNpStart_ = 0, ingressNpStart_ = 0;
};

}  // namespace palisade::nfq
