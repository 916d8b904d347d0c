// loop.cc: see loop.h for the design. This file is the only one that talks to libnetfilter_queue.
#include "loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "kernel/netns_scope.h"

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace palisade::nfq {

namespace {

uint64_t nowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int latencyBucket(uint64_t ns) {
  if (ns < 4) return static_cast<int>(ns);
  const int e = 63 - __builtin_clzll(ns);
  const int sub = static_cast<int>((ns >> (e - 2)) & 3);
  return e * 4 + sub;
}

enum class Action : uint8_t { Drop, AcceptMarked, AcceptPlain };

struct Pending {
  uint32_t id;
  uint32_t markOrig;
  uint64_t recvNs;
  Action action;
};

// The loop's message for a namespace it could not enter (addon/kernel/netns_scope.h).
std::string netnsError(const std::string& path, const kernel::NetnsScope& ns) {
  return std::string("cannot enter network namespace ") + path + ": " + std::strerror(ns.err());
}

}  // namespace

struct Loop::Worker {
  Loop* owner = nullptr;
  uint16_t queueNum = 0;
  nfq_handle* h = nullptr;
  nfq_q_handle* qh = nullptr;
  int fd = -1;
  std::thread thread;
  std::vector<Pending> pending;
  std::vector<DenyRecord> records;  // this batch's deny records, handed to the owner after the batch
  std::shared_ptr<const Snapshot> snapshot;
  std::shared_ptr<const Tombstones> tombstones;  // loaded with the snapshot, per batch
  std::shared_ptr<const ObservedSet> observed;   // loaded with the snapshot, per batch
  uint64_t batchRecvNs = 0;

  std::atomic<uint64_t> packets{0}, accepted{0}, denied{0}, unclassifiable{0};
  std::atomic<uint64_t> byParseStatus[kParseStatusCount] = {};
  std::atomic<uint64_t> verdictMessages{0}, batches{0}, recvErrors{0}, verdictErrors{0};
  std::atomic<uint64_t> latency[kLatencyBuckets] = {};

  static int onPacket(nfq_q_handle*, nfgenmsg*, nfq_data* nfad, void* self) {
    static_cast<Worker*>(self)->handle(nfad);
    return 0;
  }

  void addRecord(const FlowKey& key, const Verdict& v, DenyReason reason, ParseStatus ps) {
    if (!owner->opts_.logDenied) return;
    DenyRecord r{};
    uint8_t* b = r.bytes;
    const uint64_t t = nowNs(CLOCK_REALTIME);
    std::memcpy(b, &t, 8);
    b[8] = key.family;
    b[9] = key.proto;
    b[10] = static_cast<uint8_t>(v.direction);
    b[11] = static_cast<uint8_t>(reason);
    std::memcpy(b + 12, &key.srcPort, 2);
    std::memcpy(b + 14, &key.dstPort, 2);
    std::memcpy(b + 16, &v.ruleId, 4);
    std::memcpy(b + 20, &queueNum, 2);
    b[22] = key.icmpType;
    b[23] = static_cast<uint8_t>(ps);
    std::memcpy(b + 24, key.srcAddrNet, 16);
    std::memcpy(b + 40, key.dstAddrNet, 16);
    const uint64_t version = snapshot ? snapshot->version : 0;
    std::memcpy(b + 56, &version, 8);
    records.push_back(r);
  }

  void handle(nfq_data* nfad) {
    const nfqnl_msg_packet_hdr* hdr = nfq_get_msg_packet_hdr(nfad);
    if (hdr == nullptr) return;  // not a packet message
    Pending p{ntohl(hdr->packet_id), nfq_get_nfmark(nfad), batchRecvNs, Action::Drop};
    packets.fetch_add(1, std::memory_order_relaxed);
    if (owner->opts_.mode == LoopMode::AcceptAll) {
      p.action = Action::AcceptPlain;
      pending.push_back(p);
      return;
    }
    unsigned char* payload = nullptr;
    const int len = nfq_get_payload(nfad, &payload);
    FlowKey key;
    const ParseResult pr = parsePacket(payload, len > 0 ? static_cast<size_t>(len) : 0, key);
    const bool failOpen = owner->opts_.failOpen;
    if (pr.status != ParseStatus::Ok && pr.status != ParseStatus::Unported) {
      byParseStatus[static_cast<int>(pr.status)].fetch_add(1, std::memory_order_relaxed);
      unclassifiable.fetch_add(1, std::memory_order_relaxed);
      p.action = failOpen ? Action::AcceptPlain : Action::Drop;
      if (!failOpen) addRecord(key, Verdict{}, DenyReason::Unclassifiable, pr.status);
    } else if (!snapshot || !snapshot->source) {
      unclassifiable.fetch_add(1, std::memory_order_relaxed);
      p.action = failOpen ? Action::AcceptPlain : Action::Drop;
      if (!failOpen) addRecord(key, Verdict{}, DenyReason::NoPolicy, pr.status);
    } else {
      byParseStatus[static_cast<int>(pr.status)].fetch_add(1, std::memory_order_relaxed);
      const Verdict v = snapshot->source->classify(key);
      if (observed) {
        // egress is judged first; ingress only when egress let the packet through (as every
        // backend reports, src/enforce/backend.ts)
        if (observed->contains(key.family, key.srcAddrNet)) addRecord(key, Verdict{v.allow, Direction::Egress, v.ruleId}, DenyReason::Observed, pr.status);
        if ((v.allow || v.direction == Direction::Ingress) && observed->contains(key.family, key.dstAddrNet))
          addRecord(key, Verdict{v.allow, Direction::Ingress, v.ruleId}, DenyReason::Observed, pr.status);
      }
      if (v.allow && tombstones && tombstones->refuses(key, batchRecvNs)) {
        p.action = Action::Drop;
        addRecord(key, Verdict{}, DenyReason::StrictCut, pr.status);
      } else if (v.allow) {
        p.action = Action::AcceptMarked;
      } else {
        p.action = Action::Drop;
        addRecord(key, v, DenyReason::Policy, pr.status);
      }
    }
    pending.push_back(p);
  }

  void verdictOne(uint32_t id, uint32_t verdict, uint32_t mark, bool setMark) {
    const int rc = setMark ? nfq_set_verdict2(qh, id, verdict, mark, 0, nullptr)
                           : nfq_set_verdict(qh, id, verdict, 0, nullptr);
    verdictMessages.fetch_add(1, std::memory_order_relaxed);
    if (rc < 0) verdictErrors.fetch_add(1, std::memory_order_relaxed);
  }

  void flushVerdicts() {
    if (pending.empty()) return;
    const uint32_t acceptMark = owner->opts_.acceptMark;
    const uint32_t acceptVerdict = acceptMark != 0 ? NF_REPEAT : NF_ACCEPT;
    bool haveBatch = false;
    uint32_t batchMark = 0, batchMaxId = 0;
    uint64_t nAccepted = 0, nDenied = 0;
    for (const Pending& p : pending) {
      switch (p.action) {
        case Action::Drop:
          verdictOne(p.id, NF_DROP, 0, false);
          ++nDenied;
          break;
        case Action::AcceptPlain:
          ++nAccepted;
          if (owner->opts_.mode == LoopMode::AcceptAll) {  // NF_ACCEPT keeps every mark: one batch
            haveBatch = true;
            batchMaxId = p.id;
            break;
          }
          verdictOne(p.id, NF_ACCEPT, 0, false);
          break;
        case Action::AcceptMarked:
          ++nAccepted;
          if (!haveBatch) { haveBatch = true; batchMark = p.markOrig; }
          if (p.markOrig == batchMark) {
            batchMaxId = p.id;
          } else {
            verdictOne(p.id, acceptVerdict, p.markOrig | acceptMark, acceptMark != 0);
          }
          break;
      }
    }
    if (haveBatch) {
      const bool plainBatch = owner->opts_.mode == LoopMode::AcceptAll || acceptMark == 0;
      const int rc = plainBatch ? nfq_set_verdict_batch(qh, batchMaxId, NF_ACCEPT)
                                : nfq_set_verdict_batch2(qh, batchMaxId, acceptVerdict, batchMark | acceptMark);
      verdictMessages.fetch_add(1, std::memory_order_relaxed);
      if (rc < 0) verdictErrors.fetch_add(1, std::memory_order_relaxed);
    }
    const uint64_t done = nowNs(CLOCK_MONOTONIC);
    for (const Pending& p : pending) {
      latency[latencyBucket(done - p.recvNs)].fetch_add(1, std::memory_order_relaxed);
    }
    accepted.fetch_add(nAccepted, std::memory_order_relaxed);
    denied.fetch_add(nDenied, std::memory_order_relaxed);
    batches.fetch_add(1, std::memory_order_relaxed);
    pending.clear();
  }

  void run(int wakeFd) {
    // One recvmmsg drains up to maxBatch netlink messages (one per packet) per system call. Each
    // slot holds a whole message: the packet copy is at most copyRangeBytes, plus attributes.
    const uint32_t maxBatch = owner->opts_.maxBatch;
    const size_t slotBytes = owner->opts_.copyRangeBytes + 4096;
    std::vector<char> buf(slotBytes * maxBatch);
    std::vector<iovec> iov(maxBatch);
    std::vector<mmsghdr> msgs(maxBatch);
    for (uint32_t i = 0; i < maxBatch; ++i) {
      iov[i] = iovec{buf.data() + i * slotBytes, slotBytes};
      msgs[i] = mmsghdr{};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    pollfd fds[2] = {{fd, POLLIN, 0}, {wakeFd, POLLIN, 0}};
    while (!owner->stopping_.load(std::memory_order_acquire)) {
      if (owner->paused_.load(std::memory_order_acquire)) {
        poll(&fds[1], 1, 5);
        if (fds[1].revents != 0) break;
        continue;
      }
      const int r = poll(fds, 2, static_cast<int>(owner->opts_.eventFlushMs));
      if (r < 0 && errno != EINTR) break;
      if (fds[1].revents != 0) break;
      if (r > 0 && (fds[0].revents & POLLIN) != 0) {
        snapshot = owner->slot_.load();
        tombstones = std::atomic_load(&owner->tombstones_);
        observed = std::atomic_load(&owner->observed_);
        if (observed && observed->empty()) observed.reset();
        if (tombstones && nowNs(CLOCK_MONOTONIC) >= tombstones->expiresAtNs()) tombstones.reset();
        const int n = recvmmsg(fd, msgs.data(), maxBatch, MSG_DONTWAIT, nullptr);
        if (n < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) recvErrors.fetch_add(1, std::memory_order_relaxed);
        } else {
          batchRecvNs = nowNs(CLOCK_MONOTONIC);
          for (int i = 0; i < n; ++i) {
            if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
              recvErrors.fetch_add(1, std::memory_order_relaxed);  // cannot happen with slotBytes; never parse a cut message
              continue;
            }
            nfq_handle_packet(h, static_cast<char*>(iov[i].iov_base), static_cast<int>(msgs[i].msg_len));
          }
        }
        flushVerdicts();
        if (!records.empty()) owner->pushRecords(records);
        snapshot.reset();
        tombstones.reset();
        observed.reset();
      }
      owner->maybeFlushRecords(false);
    }
    // Anything received but not yet verdicted is verdicted before the socket closes.
    flushVerdicts();
  }
};

uint64_t latencyBucketUpperNs(int bucket) {
  if (bucket < 4) return static_cast<uint64_t>(bucket);
  const int e = bucket / 4, sub = bucket % 4;
  // bucket holds [ (4+sub) << (e-2), (5+sub) << (e-2) )
  return (static_cast<uint64_t>(5 + sub) << (e - 2)) - 1;
}

uint64_t LoopStats::latencyQuantileNs(double q) const {
  if (latencyCount == 0) return 0;
  const double target = q * static_cast<double>(latencyCount);
  uint64_t seen = 0;
  for (int i = 0; i < kLatencyBuckets; ++i) {
    seen += latencyBuckets[i];
    if (static_cast<double>(seen) >= target && latencyBuckets[i] != 0) return latencyBucketUpperNs(i);
  }
  return latencyBucketUpperNs(kLatencyBuckets - 1);
}

Loop::Loop(LoopOptions options, EventSink onEvents) : opts_(std::move(options)), onEvents_(std::move(onEvents)) {}

Loop::~Loop() { stop(); }

bool Loop::start(std::string& error) {
  if (started_) {
    error = "loop already started";
    return false;
  }
  if (opts_.queues.empty()) {
    error = "no queues";
    return false;
  }
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) {
    error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }
  {
    kernel::NetnsScope ns(opts_.netnsPath);
    if (!ns.ok()) {
      error = netnsError(opts_.netnsPath, ns);
      close(wakeFd_);
      wakeFd_ = -1;
      return false;
    }
    for (uint16_t q : opts_.queues) {
      auto w = std::make_unique<Worker>();
      w->owner = this;
      w->queueNum = q;
      w->h = nfq_open();
      if (w->h == nullptr) {
        error = std::string("nfq_open: ") + std::strerror(errno);
        break;
      }
      w->qh = nfq_create_queue(w->h, q, &Worker::onPacket, w.get());
      if (w->qh == nullptr) {
        error = "cannot bind queue " + std::to_string(q) + ": " + std::strerror(errno) +
                " (is another process bound to it?)";
        nfq_close(w->h);
        break;
      }
      bool ok = nfq_set_mode(w->qh, NFQNL_COPY_PACKET, opts_.copyRangeBytes) >= 0 &&
                nfq_set_queue_maxlen(w->qh, opts_.queueMaxLen) >= 0 &&
                nfq_set_queue_flags(w->qh, NFQA_CFG_F_FAIL_OPEN, opts_.failOpen ? NFQA_CFG_F_FAIL_OPEN : 0) >= 0;
      if (!ok) {
        error = "cannot configure queue " + std::to_string(q) + ": " + std::strerror(errno);
        nfq_destroy_queue(w->qh);
        nfq_close(w->h);
        break;
      }
      nfnl_rcvbufsiz(nfq_nfnlh(w->h), opts_.rcvbufBytes);
      w->fd = nfq_fd(w->h);
      const int one = 1;
      setsockopt(w->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
      w->pending.reserve(opts_.maxBatch);
      workers_.push_back(std::move(w));
    }
  }
  if (!error.empty()) {
    for (auto& w : workers_) {
      nfq_destroy_queue(w->qh);
      nfq_close(w->h);
    }
    workers_.clear();
    close(wakeFd_);
    wakeFd_ = -1;
    return false;
  }
  stopping_.store(false);
  lastFlushNs_.store(nowNs(CLOCK_MONOTONIC));
  for (auto& w : workers_) {
    Worker* raw = w.get();
    const int wake = wakeFd_;
    w->thread = std::thread([raw, wake] { raw->run(wake); });
  }
  started_ = true;
  return true;
}

void Loop::stop() {
  if (!started_) return;
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  if (write(wakeFd_, &one, sizeof one) < 0) { /* the poll timeout still ends the loop */ }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  for (auto& w : workers_) {
    nfq_destroy_queue(w->qh);
    nfq_close(w->h);
  }
  maybeFlushRecords(true);
  close(wakeFd_);
  wakeFd_ = -1;
  started_ = false;
}

void Loop::pushRecords(std::vector<DenyRecord>& local) {
  std::lock_guard<std::mutex> lock(recordsMu_);
  for (const DenyRecord& r : local) {
    if (records_.size() >= opts_.maxPendingRecords) {
      recordsDropped_.fetch_add(1, std::memory_order_relaxed);
    } else {
      records_.push_back(r);
    }
  }
  local.clear();
}

void Loop::maybeFlushRecords(bool force) {
  const uint64_t now = nowNs(CLOCK_MONOTONIC);
  const uint64_t last = lastFlushNs_.load(std::memory_order_relaxed);
  if (!force && now - last < static_cast<uint64_t>(opts_.eventFlushMs) * 1000000ull) return;
  std::vector<DenyRecord> out;
  {
    std::lock_guard<std::mutex> lock(recordsMu_);
    lastFlushNs_.store(now, std::memory_order_relaxed);
    if (records_.empty()) return;
    out.swap(records_);
  }
  if (onEvents_) onEvents_(std::move(out));
}

Loop::Decision Loop::decide(const uint8_t* packet, size_t len) const {
  FlowKey key;
  const ParseResult pr = parsePacket(packet, len, key);
  const auto snap = slot_.load();
  Decision d{pr.status, snap && snap->source, opts_.failOpen, Verdict{}};
  if (pr.status != ParseStatus::Ok && pr.status != ParseStatus::Unported) return d;
  if (!d.hasPolicy) return d;
  d.verdict = snap->source->classify(key);
  d.allow = d.verdict.allow;
  return d;
}

Loop::CutReport Loop::cutDenied() {
  CutReport r;
  lastCut_.clear();
  const auto snap = slot_.load();
  if (!snap || !snap->source) return r;
  kernel::NetnsScope ns(opts_.netnsPath);
  if (!ns.ok()) {
    r.errors = 1;
    r.firstError = netnsError(opts_.netnsPath, ns);
    return r;
  }
  std::vector<CtEntry> entries;
  std::string error;
  if (!ctDump(entries, error)) {
    r.errors = 1;
    r.firstError = error;
    return r;
  }
  r.scanned = entries.size();
  for (const CtEntry& e : entries) {
    if (snap->source->classify(e.key).allow) continue;
    if (ctDelete(e, error)) {
      ++r.cut;
      lastCut_.push_back(e);
    } else {
      if (r.errors++ == 0) r.firstError = error;
    }
  }
  if (!lastCut_.empty()) {
    std::vector<FlowKey> keys;
    keys.reserve(lastCut_.size());
    for (const CtEntry& c : lastCut_) keys.push_back(c.key);
    auto t = std::make_shared<const Tombstones>(keys, nowNs(CLOCK_MONOTONIC) + uint64_t(tombstoneTtlMs_) * 1000000ull);
    std::atomic_store(&tombstones_, std::shared_ptr<const Tombstones>(std::move(t)));
  }
  return r;
}

Loop::CutReport Loop::cutReverse() {
  CutReport r;
  if (lastCut_.empty()) return r;
  kernel::NetnsScope ns(opts_.netnsPath);
  if (!ns.ok()) {
    r.errors = 1;
    r.firstError = netnsError(opts_.netnsPath, ns);
    return r;
  }
  std::vector<CtEntry> entries;
  std::string error;
  if (!ctDump(entries, error)) {
    r.errors = 1;
    r.firstError = error;
    return r;
  }
  r.scanned = entries.size();
  const size_t addrBytes = 16;
  for (const CtEntry& e : entries) {
    for (const CtEntry& c : lastCut_) {
      const bool reverse = e.zone == c.zone && e.key.family == c.key.family && e.key.proto == c.key.proto &&
                           e.key.srcPort == c.key.dstPort && e.key.dstPort == c.key.srcPort &&
                           std::memcmp(e.key.srcAddrNet, c.key.dstAddrNet, addrBytes) == 0 &&
                           std::memcmp(e.key.dstAddrNet, c.key.srcAddrNet, addrBytes) == 0;
      if (!reverse) continue;
      if (ctDelete(e, error)) ++r.cut;
      else if (r.errors++ == 0) r.firstError = error;
      break;
    }
  }
  return r;
}

LoopStats Loop::stats() const {
  LoopStats s;
  for (const auto& w : workers_) {
    s.packets += w->packets.load(std::memory_order_relaxed);
    s.accepted += w->accepted.load(std::memory_order_relaxed);
    s.denied += w->denied.load(std::memory_order_relaxed);
    s.unclassifiable += w->unclassifiable.load(std::memory_order_relaxed);
    for (int i = 0; i < kParseStatusCount; ++i) s.byParseStatus[i] += w->byParseStatus[i].load(std::memory_order_relaxed);
    s.verdictMessages += w->verdictMessages.load(std::memory_order_relaxed);
    s.batches += w->batches.load(std::memory_order_relaxed);
    s.recvErrors += w->recvErrors.load(std::memory_order_relaxed);
    s.verdictErrors += w->verdictErrors.load(std::memory_order_relaxed);
    for (int i = 0; i < kLatencyBuckets; ++i) {
      const uint64_t c = w->latency[i].load(std::memory_order_relaxed);
      s.latencyBuckets[i] += c;
      s.latencyCount += c;
    }
  }
  s.recordsDropped = recordsDropped_.load(std::memory_order_relaxed);
  const auto snap = slot_.load();
  s.snapshotVersion = snap ? snap->version : 0;
  return s;
}

void Loop::resetLatency() {
  for (auto& w : workers_) {
    for (auto& b : w->latency) b.store(0, std::memory_order_relaxed);
  }
}

}  // namespace palisade::nfq
