// loop.h: the nfqueue verdict loop: N kernel queues, one native thread each, verdicts set in C++.
//
// What: binds queues (libnetfilter_queue), and for every queued packet parses it (packet.h), asks
// the current VerdictSource snapshot (verdict_source.h), and sets the verdict without touching
// JavaScript. JS is reached only through `onEvents` (batched deny records, from a loop thread) and
// by calling publish()/stats() from its own thread.
//
// Verdicts (per receive batch of up to `maxBatch` packets, in packet-id order):
// - denied packets: one NF_DROP verdict each (nfq_set_verdict);
// - accepted packets: ONE nfq_set_verdict_batch2(maxId) for every accepted packet whose original
//   skb mark equals the first one's; a packet with a different mark gets its own verdict first.
//   With `acceptMark` != 0 the verdict is NF_REPEAT with mark = original | acceptMark: the hook's
//   base chain runs again and Palisade's steering chain (steer.ts) copies the bit into the
//   conntrack mark, clears it from the packet and returns, so the flow's later packets skip the
//   queue. acceptMark == 0 gives plain NF_ACCEPT (tests without steering, the bare loop).
//   NF_REPEAT without that steering chain would queue the packet again: never combine them.
// Unclassifiable packets (parse status Truncated, Malformed, NonFirstFragment, ExtHeaderLimit, or no
// policy published yet): NF_DROP when fail-closed; NF_ACCEPT WITHOUT the mark when fail-open (so
// every later packet of such a flow is judged again).
// Fail modes in the kernel: failOpen sets NFQA_CFG_F_FAIL_OPEN (a full queue or a failed netlink
// delivery accepts instead of dropping); fail-closed leaves it unset (the kernel drops). Whether a
// packet passes when NO process listens is the steering rule's `--queue-bypass` (steer.ts).
//
// Modes: Enforce (above) and AcceptAll (the benchmark baseline: no parse, no lookup, the same batched
// NF_ACCEPT verdicts).
//
// Cost: one recvmmsg per batch (the kernel sends one netlink message per packet), one parse
// (~30 ns), one classify, and about 1 + (denied) verdict messages per batch. The snapshot is loaded
// once per batch. Latency (recv -> verdict sent) is recorded per packet in a log-linear histogram
// (4 sub-buckets per power of two, so percentiles are exact to within 25 %).
// Thread-safety: start/stop/publish/stats from one controlling thread; each queue's worker thread
// owns its netlink socket. `onEvents` is called from worker threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conntrack.h"
#include "observed_set.h"
#include "packet.h"
#include "tombstones.h"
#include "verdict_source.h"

namespace palisade::nfq {

enum class LoopMode : uint8_t { Enforce = 0, AcceptAll = 1 };

// Why a deny record exists.
enum class DenyReason : uint8_t {
  Policy = 0,         // the VerdictSource said deny
  Unclassifiable = 1, // fail-closed drop of a packet that could not be parsed (see parseStatus)
  NoPolicy = 2,       // fail-closed drop before the first publish
  StrictCut = 3,      // the reverse of a flow --strict just cut (tombstones.h)
  Observed = 4,       // not a drop: a new flow whose subject is observed (observed_set.h); direction
                      // = the observed direction, ruleId = the verdict's deciding rule
};

// One denied packet, as JS receives it: kDenyRecordBytes each, little-endian, packed.
//   0 u64 timeNs (CLOCK_REALTIME)  8 u8 family  9 u8 proto  10 u8 direction  11 u8 reason
//   12 u16 srcPort  14 u16 dstPort  16 u32 ruleId  20 u16 queue  22 u8 icmpType  23 u8 parseStatus
//   24 u8[16] srcAddrNet  40 u8[16] dstAddrNet  56 u64 snapshotVersion
constexpr size_t kDenyRecordBytes = 64;
struct DenyRecord {
  uint8_t bytes[kDenyRecordBytes];
};

struct LoopOptions {
  std::vector<uint16_t> queues;      // queue numbers, one worker each
  LoopMode mode = LoopMode::Enforce;
  bool failOpen = false;
  uint32_t acceptMark = 0;           // see "Verdicts"
  uint32_t queueMaxLen = 4096;       // packets the kernel may hold per queue
  uint32_t copyRangeBytes = 256;     // bytes of each packet copied to us (headers only)
  uint32_t rcvbufBytes = 8u << 20;
  uint32_t maxBatch = 64;
  bool logDenied = false;
  uint32_t maxPendingRecords = 16384;   // beyond this, deny records are counted, not kept
  uint32_t eventFlushMs = 50;
  std::string netnsPath;             // when set, sockets are opened inside this network namespace
};

constexpr int kLatencyBuckets = 256;

struct LoopStats {
  uint64_t packets = 0, accepted = 0, denied = 0, unclassifiable = 0;
  uint64_t byParseStatus[kParseStatusCount] = {};
  uint64_t verdictMessages = 0, batches = 0, recvErrors = 0, verdictErrors = 0, recordsDropped = 0;
  uint64_t snapshotVersion = 0;
  uint64_t latencyBuckets[kLatencyBuckets] = {};
  uint64_t latencyCount = 0;
  // upper bound of the bucket holding the given quantile, ns (0 when no samples)
  uint64_t latencyQuantileNs(double q) const;
};

uint64_t latencyBucketUpperNs(int bucket);

class Loop {
 public:
  using EventSink = std::function<void(std::vector<DenyRecord>&&)>;
  Loop(LoopOptions options, EventSink onEvents);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Binds every queue and starts the workers. Returns false and sets `error` on failure (then
  // nothing stays bound).
  bool start(std::string& error);
  // Stops the workers (each finishes its batch) and unbinds. Idempotent.
  void stop();
  uint64_t publish(std::shared_ptr<const VerdictSource> source) { return slot_.publish(std::move(source)); }
  // The observed subjects (observed_set.h); an empty set turns observing off. Needs logDenied.
  void publishObserved(std::shared_ptr<const ObservedSet> set) { std::atomic_store(&observed_, std::move(set)); }
  std::shared_ptr<const Snapshot> current() const { return slot_.load(); }
  LoopStats stats() const;
  void resetLatency();
  // Tests only: while paused the workers stop reading their sockets, so the kernel queue fills
  // (this is how the overflow behaviour of the fail modes is shown).
  void setPaused(bool paused) { paused_.store(paused, std::memory_order_release); }

  // What the loop would decide for this packet now (parse + the current snapshot), without a
  // queue: for differential tests. `allow` follows the fail mode for unclassifiable packets.
  struct Decision {
    ParseStatus status;
    bool hasPolicy;
    bool allow;
    Verdict verdict;
  };
  Decision decide(const uint8_t* packet, size_t len) const;

  // --strict: in the loop's namespace, delete every TCP/UDP/SCTP conntrack entry whose original
  // tuple the current snapshot denies. Runs on the calling thread.
  struct CutReport {
    uint64_t scanned = 0, cut = 0, errors = 0;
    std::string firstError;
  };
  CutReport cutDenied();
  // The reply race: a reply already in flight when its flow was cut creates a NEW entry in the
  // opposite direction (server -> client), which the policy may allow, and the client's later
  // packets would then pass as its replies. cutReverse() deletes entries whose original tuple is
  // the reverse of a flow the last cutDenied() cut; the caller runs it again shortly after.
  CutReport cutReverse();
  // How long the reverse tuples of cut flows are refused (tombstones.h). Default 10 s.
  void setTombstoneTtlMs(uint32_t ms) { tombstoneTtlMs_ = ms; }

  struct Worker;  // one per queue (loop.cc)

 private:
  friend struct Worker;
  void pushRecords(std::vector<DenyRecord>& local);
  void maybeFlushRecords(bool force);

  LoopOptions opts_;
  EventSink onEvents_;
  SnapshotSlot slot_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  int wakeFd_ = -1;
  bool started_ = false;
  std::mutex recordsMu_;
  std::vector<DenyRecord> records_;
  std::atomic<uint64_t> recordsDropped_{0};
  std::atomic<uint64_t> lastFlushNs_{0};
  std::vector<CtEntry> lastCut_;  // controlling thread only
  std::shared_ptr<const Tombstones> tombstones_;  // atomic_load / atomic_store
  std::shared_ptr<const ObservedSet> observed_;   // atomic_load / atomic_store
  uint32_t tombstoneTtlMs_ = 10000;
};

}  // namespace palisade::nfq
