// verdict_source.h: what the packet loop asks about a new flow, and the immutable snapshot that
// answers.
//
// What: `VerdictSource::classify(FlowKey)` returns allow/deny for a new flow plus what a deny log
// needs (the deciding rule id and the direction that decided). The native classifier's snapshot
// implements it (see classifier_source.h when present); LinearRuleTable (rule_table.h) is the
// trivial first-match implementation used as a test double and oracle.
//
// Invariants: a VerdictSource is immutable once published; `classify` is const, total (every key
// gets a verdict) and callable from any number of threads at once. A policy change publishes a
// NEW source (SnapshotSlot::publish); readers that still hold the old one finish with it.
//
// Cost: SnapshotSlot::load is one atomic shared_ptr load (a short lock from libstdc++'s pool plus a
// reference count increment); the loop loads once per receive batch, not per packet.
// Thread-safety: SnapshotSlot is safe for one writer and many readers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "packet.h"

namespace palisade::nfq {

constexpr uint32_t kNoRuleId = 0xFFFFFFFFu;

enum class Direction : uint8_t { Egress = 0, Ingress = 1, None = 2 };

struct Verdict {
  bool allow = false;
  Direction direction = Direction::None;  // the direction whose policy decided (for deny logs)
  uint32_t ruleId = kNoRuleId;            // the deciding rule, kNoRuleId for a default decision
};

class VerdictSource {
 public:
  virtual ~VerdictSource() = default;
  virtual Verdict classify(const FlowKey& key) const = 0;
};

// One published snapshot plus its version number (1, 2, ... in publish order).
struct Snapshot {
  std::shared_ptr<const VerdictSource> source;
  uint64_t version = 0;
};

class SnapshotSlot {
 public:
  std::shared_ptr<const Snapshot> load() const { return std::atomic_load(&current_); }
  // Publishes `source` as the next version; returns that version.
  uint64_t publish(std::shared_ptr<const VerdictSource> source) {
    auto next = std::make_shared<Snapshot>();
    next->source = std::move(source);
    next->version = ++version_;
    std::atomic_store(&current_, std::shared_ptr<const Snapshot>(std::move(next)));
    return version_;
  }

 private:
  std::shared_ptr<const Snapshot> current_;
  uint64_t version_ = 0;  // writer-only
};

}  // namespace palisade::nfq
