// dnsqueue.cc: the FQDN learner's DNS answer queue (docs/fqdn.md §6); the `dnsqueue` sub-module
// (typed in src/native/dnsqueue.ts, driven by src/fqdn/queue.ts and src/fqdn/learner.ts).
//
// What: one NFQUEUE bound in a network namespace, copy-packet mode; a worker thread receives the
// held DNS answers and hands them to JS in batches (one ThreadSafeFunction call per receive
// batch: packet ids, byte offsets, one Buffer of packet bytes, the receive time, and the stage
// times below); JS learns the addresses, writes them into the kernel through the Backend, and
// only then calls accept(ids) — the verdict. The worker never touches N-API (sharp's "baton").
//
// Exports:
//   class DnsQueue({ queueNum, maxLen?, copyRangeBytes?, netnsPath?, kernelTimestamps? }, onPackets)
//       onPackets(ids: Uint32Array, offsets: Uint32Array, bytes: Buffer, recvNs: bigint,
//                 times: Float64Array)
//         times[0] = the worker's wakeup (poll returned), times[1] = the batch received (= recvNs),
//         times[2 + i] = when the kernel stamped packet i (its receive on the node, or the
//         queueing), as CLOCK_MONOTONIC ns; 0 when the kernel sent no NFQA_TIMESTAMP.
//         All CLOCK_MONOTONIC ns, the clock of process.hrtime.bigint().
//       .start()            bind the queue (NFQA_CFG_F_FAIL_OPEN: a full queue accepts)
//       .accept(ids)        NF_ACCEPT the held packets (from JS); ids of one call that are the
//                           oldest held ones go as ONE verdict message (nfq_set_verdict_batch: every
//                           id <= the largest), see "Verdict batching"
//       .stop()             stop the worker; held packets are accepted before the socket closes
//       .stats() -> { received, accepted, recvErrors, verdictErrors, verdictMessages }
// Kernel timestamps: with kernelTimestamps (default true) the queue keeps one UDP socket with
// SO_TIMESTAMPNS open while it runs, which turns on the kernel's receive timestamps
// (net_enable_timestamp, host-wide, a clock read per received packet; any sniffer or NTP daemon
// does the same), so NFQA_TIMESTAMP (CLOCK_REALTIME, microseconds) comes with every packet; it is
// converted to CLOCK_MONOTONIC with the offset between the two clocks read at receive.
// Verdict batching: JS releases batches strictly in receive order (src/fqdn/queue.ts chains
// them), so when accept(ids) is called every packet with an id below the call's smallest id has
// already had its verdict, and the ids of the call are the oldest still held: one
// nfq_set_verdict_batch(max id) releases them all in one sendmsg. accept() checks that the ids
// are exactly the contiguous run [lowest unreleased .. max] it expects (it tracks the next id);
// anything else (a gap, an id out of order) falls back to one verdict per id.
// Bounded hold: the kernel holds at most maxLen packets (then accepts: fail-open flag); a stopped
// or crashed learner is covered by the steering rule's --queue-bypass (src/fqdn/steer.ts).
// Errors thrown into JS carry a stable `code` (DNSQ_BAD_ARGUMENT, DNSQ_START_FAILED).
// Thread-safety: accept() may run on the JS thread while the worker receives: libnetfilter_queue's
// verdict is one sendmsg on the queue socket, which the kernel serializes; mu_ orders verdicts.
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "addon/kernel/netns_scope.h"
#include "glue.h"

namespace palisade::napi {

namespace {

uint64_t clockNs(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t monoNs() { return clockNs(CLOCK_MONOTONIC); }

struct Batch {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> offsets{0};
  std::vector<uint8_t> bytes;
  /** per packet: the kernel's NFQA_TIMESTAMP as CLOCK_REALTIME ns (0: none) */
  std::vector<uint64_t> stampRealNs;
  uint64_t wakeNs = 0;
  uint64_t recvNs = 0;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC at receive */
  int64_t realMinusMonoNs = 0;
};

class DnsQueue : public Napi::ObjectWrap<DnsQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DnsQueue",
                       {InstanceMethod("start", &DnsQueue::Start), InstanceMethod("accept", &DnsQueue::Accept),
                        InstanceMethod("stop", &DnsQueue::Stop), InstanceMethod("stats", &DnsQueue::Stats)});
  }

  explicit DnsQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DnsQueue>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw codedError(env, "DNSQ_BAD_ARGUMENT", "expected (options, onPackets)");
    Napi::Object o = info[0].As<Napi::Object>();
    const double q = o.Get("queueNum").ToNumber().DoubleValue();
    if (!(q >= 0 && q <= 65535) || q != static_cast<double>(static_cast<uint32_t>(q)))
      throw codedError(env, "DNSQ_BAD_ARGUMENT", "queueNum must be an integer 0..65535");
    queueNum_ = static_cast<uint16_t>(q);
    if (!o.Get("maxLen").IsUndefined()) maxLen_ = o.Get("maxLen").ToNumber().Uint32Value();
    if (!o.Get("copyRangeBytes").IsUndefined()) copyRange_ = o.Get("copyRangeBytes").ToNumber().Uint32Value();
    if (maxLen_ < 1 || maxLen_ > 65536 || copyRange_ < 64 || copyRange_ > 65535)
      throw codedError(env, "DNSQ_BAD_ARGUMENT", "maxLen must be 1..65536 and copyRangeBytes 64..65535");
    if (!o.Get("netnsPath").IsUndefined()) netnsPath_ = o.Get("netnsPath").ToString().Utf8Value();
    if (!o.Get("kernelTimestamps").IsUndefined()) kernelTimestamps_ = o.Get("kernelTimestamps").ToBoolean().Value();
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "dnsqueue", 0, 1);
  }

  ~DnsQueue() override { shutdown(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (h_ != nullptr) throw codedError(env, "DNSQ_START_FAILED", "already started");
    std::string error;
    {
      kernel::NetnsScope ns(netnsPath_);
      if (!ns.ok()) throw codedError(env, "DNSQ_START_FAILED", "cannot enter network namespace " + netnsPath_);
      h_ = nfq_open();
      if (h_ == nullptr) throw codedError(env, "DNSQ_START_FAILED", std::string("nfq_open: ") + std::strerror(errno));
      qh_ = nfq_create_queue(h_, queueNum_, &DnsQueue::OnPacket, this);
      if (qh_ == nullptr) error = std::string("nfq_create_queue: ") + std::strerror(errno);
      else if (nfq_set_mode(qh_, NFQNL_COPY_PACKET, copyRange_) < 0 || nfq_set_queue_maxlen(qh_, maxLen_) < 0 ||
               nfq_set_queue_flags(qh_, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
        error = std::string("configuring the queue: ") + std::strerror(errno);
    }
    if (!error.empty()) {
      if (qh_ != nullptr) nfq_destroy_queue(qh_);
      nfq_close(h_);
      qh_ = nullptr;
      h_ = nullptr;
      throw codedError(env, "DNSQ_START_FAILED", error);
    }
    nfnl_rcvbufsiz(nfq_nfnlh(h_), 4 << 20);
    fd_ = nfq_fd(h_);
    if (kernelTimestamps_) {
      // any socket asking for receive timestamps makes the kernel stamp every skb (see the header)
      stampFd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      const int on = 1;
      if (stampFd_ >= 0 && setsockopt(stampFd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) {
        close(stampFd_);
        stampFd_ = -1;
      }
    }
    nextId_ = 0;
    haveNextId_ = false;
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    stopping_.store(false);
    worker_ = std::thread([this] { Run(); });
    return env.Undefined();
  }

  Napi::Value Accept(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) throw codedError(env, "DNSQ_BAD_ARGUMENT", "expected a Uint32Array of packet ids");
    auto ids = info[0].As<Napi::Uint32Array>();
    const size_t n = ids.ElementLength();
    std::lock_guard<std::mutex> lock(mu_);
    if (qh_ == nullptr || n == 0) return Napi::Number::New(env, 0);
    // the oldest held packets, contiguous, in order: one verdict message for all of them
    bool run = n > 1 && haveNextId_ && ids[0] == nextId_;
    for (size_t i = 1; run && i < n; ++i) run = ids[i] == ids[i - 1] + 1;
    uint32_t done = 0;
    if (run) {
      if (nfq_set_verdict_batch(qh_, ids[n - 1], NF_ACCEPT) < 0) verdictErrors_.fetch_add(n);
      else done = static_cast<uint32_t>(n);
      verdictMessages_.fetch_add(1);
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (nfq_set_verdict(qh_, ids[i], NF_ACCEPT, 0, nullptr) < 0) verdictErrors_.fetch_add(1);
        else ++done;
      }
      verdictMessages_.fetch_add(n);
    }
    nextId_ = ids[n - 1] + 1;
    haveNextId_ = true;
    accepted_.fetch_add(done);
    return Napi::Number::New(env, done);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("received", static_cast<double>(received_.load()));
    o.Set("accepted", static_cast<double>(accepted_.load()));
    o.Set("recvErrors", static_cast<double>(recvErrors_.load()));
    o.Set("verdictErrors", static_cast<double>(verdictErrors_.load()));
    o.Set("verdictMessages", static_cast<double>(verdictMessages_.load()));
    return o;
  }

  static int OnPacket(nfq_q_handle*, nfgenmsg*, nfq_data* nfad, void* self) {
    auto* q = static_cast<DnsQueue*>(self);
    const nfqnl_msg_packet_hdr* hdr = nfq_get_msg_packet_hdr(nfad);
    if (hdr == nullptr) return 0;
    unsigned char* payload = nullptr;
    const int len = nfq_get_payload(nfad, &payload);
    Batch& b = *q->batch_;
    b.ids.push_back(ntohl(hdr->packet_id));
    timeval tv{};
    b.stampRealNs.push_back(nfq_get_timestamp(nfad, &tv) == 0 && tv.tv_sec > 0
                                ? static_cast<uint64_t>(tv.tv_sec) * 1000000000ull + static_cast<uint64_t>(tv.tv_usec) * 1000ull
                                : 0);
    if (len > 0) b.bytes.insert(b.bytes.end(), payload, payload + len);
    b.offsets.push_back(static_cast<uint32_t>(b.bytes.size()));
    return 0;
  }

  void Run() {
    std::vector<char> buf(70000);
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    while (!stopping_.load()) {
      const int r = poll(fds, 2, 100);
      if (r < 0 && errno != EINTR) break;
      if (fds[1].revents != 0) break;
      if (r <= 0 || (fds[0].revents & POLLIN) == 0) continue;
      batch_ = std::make_unique<Batch>();
      batch_->wakeNs = monoNs();
      for (int k = 0; k < 64; ++k) {
        const ssize_t n = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) recvErrors_.fetch_add(1);
          break;
        }
        nfq_handle_packet(h_, buf.data(), static_cast<int>(n));
      }
      if (batch_->ids.empty()) continue;
      batch_->recvNs = monoNs();
      batch_->realMinusMonoNs = static_cast<int64_t>(clockNs(CLOCK_REALTIME)) - static_cast<int64_t>(batch_->recvNs);
      received_.fetch_add(batch_->ids.size());
      Batch* out = batch_.release();
      const napi_status st = tsfn_.NonBlockingCall(out, [](Napi::Env env, Napi::Function cb, Batch* b) {
        std::unique_ptr<Batch> own(b);
        auto ids = Napi::Uint32Array::New(env, b->ids.size());
        std::memcpy(ids.Data(), b->ids.data(), b->ids.size() * 4);
        auto offsets = Napi::Uint32Array::New(env, b->offsets.size());
        std::memcpy(offsets.Data(), b->offsets.data(), b->offsets.size() * 4);
        auto bytes = Napi::Buffer<uint8_t>::Copy(env, b->bytes.data(), b->bytes.size());
        auto times = Napi::Float64Array::New(env, 2 + b->ids.size());
        times[0] = static_cast<double>(b->wakeNs);
        times[1] = static_cast<double>(b->recvNs);
        for (size_t i = 0; i < b->ids.size(); ++i) {
          const uint64_t real = b->stampRealNs[i];
          times[2 + i] = real == 0 ? 0.0 : static_cast<double>(static_cast<int64_t>(real) - b->realMinusMonoNs);
        }
        cb.Call({ids, offsets, bytes, Napi::BigInt::New(env, b->recvNs), times});
      });
      if (st != napi_ok) {
        // JS is gone: accept what we hold rather than leave the answers to the queue's timeout
        std::unique_ptr<Batch> own(out);
        std::lock_guard<std::mutex> lock(mu_);
        for (uint32_t id : own->ids) nfq_set_verdict(qh_, id, NF_ACCEPT, 0, nullptr);
      }
    }
  }

  void shutdown() {
    if (h_ == nullptr) return;
    stopping_.store(true);
    if (wakeFd_ >= 0) {
      const uint64_t one = 1;
      (void)!write(wakeFd_, &one, sizeof one);
    }
    if (worker_.joinable()) worker_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      // the learner accepts what it holds before stop(); whatever is still queued here is dropped
      // by the kernel as the queue goes (the client's DNS retry then passes: --queue-bypass)
      nfq_destroy_queue(qh_);
      nfq_close(h_);
      qh_ = nullptr;
      h_ = nullptr;
    }
    if (wakeFd_ >= 0) close(wakeFd_);
    wakeFd_ = -1;
    if (stampFd_ >= 0) close(stampFd_);
    stampFd_ = -1;
    tsfn_.Release();
  }

  uint16_t queueNum_ = 0;
  uint32_t maxLen_ = 4096;
  uint32_t copyRange_ = 65535;
  std::string netnsPath_;
  nfq_handle* h_ = nullptr;
  nfq_q_handle* qh_ = nullptr;
  int fd_ = -1;
  int wakeFd_ = -1;
  int stampFd_ = -1;
  bool kernelTimestamps_ = true;
  /** the id accept() expects next when batches are released in order (guarded by mu_) */
  uint32_t nextId_ = 0;
  bool haveNextId_ = false;
  std::thread worker_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unique_ptr<Batch> batch_;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<uint64_t> received_{0}, accepted_{0}, recvErrors_{0}, verdictErrors_{0}, verdictMessages_{0};
};

}  // namespace

Napi::Object InitDnsQueue(Napi::Env env) {
  Napi::Object m = Napi::Object::New(env);
  m.Set("DnsQueue", DnsQueue::Define(env));
  return m;
}

}  // namespace palisade::napi
