// nfqueue.cc: N-API glue for backends/nfqueue/native (packet.h, loop.h, rule_table.h,
// engine_source.h); the `nfqueue` sub-module (typed in src/native/nfqueue.ts).
//
// Exports:
//   nfqParsePacket(bytes: Uint8Array) -> { status, family, proto, srcPort, dstPort, icmpType,
//       icmpCode, src: Uint8Array(16), dst: Uint8Array(16), l4Offset, firstFragment }
//   nfqParseStatuses(bytes: Uint8Array, offsets: Uint32Array) -> Uint8Array of ParseStatus, one per
//       packet [offsets[i], offsets[i+1]) (fuzzing and throughput tests without a JS object per packet)
//   class NfqLoop(options, onDenied?: (records: Buffer) => void)
//       .start() .stop() .publishRules(packed, defaultAllow) .publishEngine(...) .editMembership(...)
//       .decide(packet) .timeDecide(packet, n) .setPaused(b) .cutDenied() .cutReverse() .stats()
//       .resetLatency()
//   nfqConstants -> { denyRecordBytes, ruleBytes, parseStatus: string[] }
// Errors thrown into JS carry a stable `code` (NFQ_BAD_ARGUMENT, NFQ_START_FAILED, NFQ_BAD_RULES,
// NFQ_NO_ENGINE). Worker threads never touch N-API: deny records reach JS through one
// ThreadSafeFunction, as a packed Buffer per batch.
#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backends/nfqueue/native/engine_source.h"
#include "backends/nfqueue/native/loop.h"
#include "backends/nfqueue/native/packet.h"
#include "backends/nfqueue/native/rule_table.h"
#include "glue.h"

namespace palisade::napi {

namespace {

using namespace palisade::nfq;

Napi::Value ParsePacketJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw codedError(env, "NFQ_BAD_ARGUMENT", "expected a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  FlowKey key;
  const ParseResult r = parsePacket(bytes.Data(), bytes.ElementLength(), key);
  Napi::Object o = Napi::Object::New(env);
  o.Set("status", parseStatusName(r.status));
  o.Set("family", key.family);
  o.Set("proto", key.proto);
  o.Set("srcPort", key.srcPort);
  o.Set("dstPort", key.dstPort);
  o.Set("icmpType", key.icmpType);
  o.Set("icmpCode", key.icmpCode);
  o.Set("src", Napi::Buffer<uint8_t>::Copy(env, key.srcAddrNet, 16));
  o.Set("dst", Napi::Buffer<uint8_t>::Copy(env, key.dstAddrNet, 16));
  o.Set("l4Offset", r.l4Offset);
  o.Set("firstFragment", r.firstFragment);
  return o;
}

Napi::Value ParseStatusesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray())
    throw codedError(env, "NFQ_BAD_ARGUMENT", "expected (Uint8Array, Uint32Array)");
  auto bytes = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  const size_t n = offsets.ElementLength();
  if (n == 0) return Napi::Uint8Array::New(env, 0);
  auto out = Napi::Uint8Array::New(env, n - 1);
  for (size_t i = 0; i + 1 < n; ++i) {
    const uint32_t a = offsets[i], b = offsets[i + 1];
    if (a > b || b > bytes.ElementLength()) throw codedError(env, "NFQ_BAD_ARGUMENT", "offsets out of range");
    FlowKey key;
    // Copy into an exact-size heap buffer so that a sanitizer build catches any over-read.
    std::vector<uint8_t> exact(bytes.Data() + a, bytes.Data() + b);
    out[i] = static_cast<uint8_t>(parsePacket(exact.empty() ? nullptr : exact.data(), exact.size(), key).status);
  }
  return out;
}

using DenyBatch = std::vector<DenyRecord>;

void CallOnDenied(Napi::Env env, Napi::Function fn, DenyBatch* batch) {
  std::unique_ptr<DenyBatch> owned(batch);
  if (env == nullptr || fn.IsEmpty()) return;
  auto buf = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(owned->data()),
                                         owned->size() * kDenyRecordBytes);
  fn.Call({buf});
}

class NfqLoopJs : public Napi::ObjectWrap<NfqLoopJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NfqLoop",
                       {InstanceMethod<&NfqLoopJs::Start>("start"), InstanceMethod<&NfqLoopJs::Stop>("stop"),
                        InstanceMethod<&NfqLoopJs::PublishRules>("publishRules"),
                        InstanceMethod<&NfqLoopJs::PublishEngine>("publishEngine"),
                        InstanceMethod<&NfqLoopJs::EditMembership>("editMembership"),
                        InstanceMethod<&NfqLoopJs::PublishObserved>("publishObserved"),
                        InstanceMethod<&NfqLoopJs::Decide>("decide"),
                        InstanceMethod<&NfqLoopJs::CutDenied>("cutDenied"),
                        InstanceMethod<&NfqLoopJs::CutReverse>("cutReverse"),
                        InstanceMethod<&NfqLoopJs::TimeDecide>("timeDecide"),
                        InstanceMethod<&NfqLoopJs::SetPaused>("setPaused"),
                        InstanceMethod<&NfqLoopJs::Stats>("stats"),
                        InstanceMethod<&NfqLoopJs::ResetLatency>("resetLatency")});
  }

  explicit NfqLoopJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NfqLoopJs>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw codedError(env, "NFQ_BAD_ARGUMENT", "expected options");
    Napi::Object o = info[0].As<Napi::Object>();
    LoopOptions opts;
    Napi::Value queues = o.Get("queues");
    if (!queues.IsArray()) throw codedError(env, "NFQ_BAD_ARGUMENT", "options.queues must be an array");
    Napi::Array qa = queues.As<Napi::Array>();
    for (uint32_t i = 0; i < qa.Length(); ++i) {
      Napi::Value v = qa.Get(i);
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0 && d <= 65535) || d != static_cast<double>(static_cast<uint32_t>(d)))
        throw codedError(env, "NFQ_BAD_ARGUMENT", "queue numbers must be integers 0..65535");
      opts.queues.push_back(static_cast<uint16_t>(d));
    }
    auto u32 = [&](const char* name, uint32_t& field) {
      Napi::Value v = o.Get(name);
      if (v.IsUndefined()) return;
      if (!v.IsNumber()) throw codedError(env, "NFQ_BAD_ARGUMENT", std::string("options.") + name + " must be a number");
      field = v.As<Napi::Number>().Uint32Value();
    };
    auto boolean = [&](const char* name, bool& field) {
      Napi::Value v = o.Get(name);
      if (!v.IsUndefined()) field = v.ToBoolean().Value();
    };
    u32("acceptMark", opts.acceptMark);
    u32("queueMaxLen", opts.queueMaxLen);
    u32("copyRangeBytes", opts.copyRangeBytes);
    u32("rcvbufBytes", opts.rcvbufBytes);
    u32("maxBatch", opts.maxBatch);
    u32("eventFlushMs", opts.eventFlushMs);
    if (opts.maxBatch == 0 || opts.maxBatch > 4096) throw codedError(env, "NFQ_BAD_ARGUMENT", "maxBatch must be 1..4096");
    if (opts.copyRangeBytes < 64 || opts.copyRangeBytes > 0xffff)
      throw codedError(env, "NFQ_BAD_ARGUMENT", "copyRangeBytes must be 64..65535");
    boolean("failOpen", opts.failOpen);
    boolean("logDenied", opts.logDenied);
    Napi::Value mode = o.Get("mode");
    if (!mode.IsUndefined()) {
      const std::string m = mode.ToString().Utf8Value();
      if (m == "enforce") opts.mode = LoopMode::Enforce;
      else if (m == "accept-all") opts.mode = LoopMode::AcceptAll;
      else throw codedError(env, "NFQ_BAD_ARGUMENT", "mode must be 'enforce' or 'accept-all'");
    }
    Napi::Value netns = o.Get("netnsPath");
    if (!netns.IsUndefined()) opts.netnsPath = netns.ToString().Utf8Value();

    Loop::EventSink sink;
    if (info.Length() >= 2 && info[1].IsFunction()) {
      tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "palisade-nfq-denied", 0, 1);
      tsfn_.Unref(env);
      hasTsfn_ = true;
      Napi::ThreadSafeFunction tsfn = tsfn_;
      sink = [tsfn](std::vector<DenyRecord>&& records) mutable {
        auto* batch = new DenyBatch(std::move(records));
        if (tsfn.NonBlockingCall(batch, CallOnDenied) != napi_ok) delete batch;
      };
    }
    loop_ = std::make_unique<Loop>(std::move(opts), std::move(sink));
  }

  ~NfqLoopJs() override {
    if (loop_) loop_->stop();
    if (hasTsfn_) tsfn_.Release();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    std::string error;
    if (!loop_->start(error)) throw codedError(info.Env(), "NFQ_START_FAILED", error);
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    loop_->stop();
    return info.Env().Undefined();
  }
  Napi::Value PublishRules(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsBoolean())
      throw codedError(env, "NFQ_BAD_ARGUMENT", "expected (Uint8Array, boolean)");
    auto bytes = info[0].As<Napi::Uint8Array>();
    std::string error;
    auto table = LinearRuleTable::fromPacked(bytes.Data(), bytes.ElementLength(), info[1].As<Napi::Boolean>(), error);
    if (!table) throw codedError(env, "NFQ_BAD_RULES", error);
    return Napi::Number::New(env, static_cast<double>(loop_->publish(table)));
  }
  // publishEngine(egressRules: Uint32Array, ingressRules: Uint32Array, setEdits: Uint32Array,
  //               egressNpTierStart: number, ingressNpTierStart: number) -> version
  // Builds both classifiers on the calling thread (compile is ~ms for 10k rules), then publishes.
  Napi::Value PublishEngine(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto words = [&](size_t i, size_t unit, const char* what) -> std::pair<const uint32_t*, size_t> {
      if (info.Length() <= i || !info[i].IsTypedArray() ||
          info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
        throw codedError(env, "NFQ_BAD_ARGUMENT", std::string(what) + " must be a Uint32Array");
      auto a = info[i].As<Napi::Uint32Array>();
      if (a.ElementLength() % unit != 0) throw codedError(env, "NFQ_BAD_ARGUMENT", std::string(what) + " has a partial record");
      return {a.Data(), a.ElementLength() / unit};
    };
    EngineBuildInput in;
    std::tie(in.egressRules, in.egressRuleCount) = words(0, 16, "egressRules");
    std::tie(in.ingressRules, in.ingressRuleCount) = words(1, 16, "ingressRules");
    std::tie(in.setEdits, in.setEditCount) = words(2, 6, "setEdits");
    if (info.Length() < 5 || !info[3].IsNumber() || !info[4].IsNumber())
      throw codedError(env, "NFQ_BAD_ARGUMENT", "tier starts must be numbers");
    in.egressNpTierStart = info[3].As<Napi::Number>().Uint32Value();
    in.ingressNpTierStart = info[4].As<Napi::Number>().Uint32Value();
    std::string error;
    auto source = EngineSource::build(in, error);
    if (!source) throw codedError(env, "NFQ_BAD_RULES", error);
    return Napi::Number::New(env, static_cast<double>(loop_->publish(source)));
  }
  // editMembership(setEdits: Uint32Array) -> { version, changed }: the current EngineSource with
  // these adds and removes applied (EngineSource::withEdits: forks, cost O(edits), not O(members)),
  // published in one swap. changed = edits that changed a membership (an add of a member held or
  // a remove of one absent changes nothing).
  Napi::Value EditMembership(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      throw codedError(env, "NFQ_BAD_ARGUMENT", "setEdits must be a Uint32Array");
    auto a = info[0].As<Napi::Uint32Array>();
    if (a.ElementLength() % 6 != 0) throw codedError(env, "NFQ_BAD_ARGUMENT", "setEdits has a partial record");
    const auto snap = loop_->current();
    const auto* base = snap ? dynamic_cast<const EngineSource*>(snap->source.get()) : nullptr;
    if (base == nullptr) throw codedError(env, "NFQ_NO_ENGINE", "editMembership needs a published engine (publishEngine)");
    std::string error;
    size_t changed = 0;
    auto source = EngineSource::withEdits(*base, a.Data(), a.ElementLength() / 6, &changed, error);
    if (!source) throw codedError(env, "NFQ_BAD_RULES", error);
    const uint64_t version = loop_->publish(source);
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", Napi::Number::New(env, static_cast<double>(version)));
    out.Set("changed", Napi::Number::New(env, static_cast<double>(changed)));
    return out;
  }
  // publishObserved(keys: Uint8Array): the observed subjects, 17 bytes each (family, address
  // network order, IPv4 zero-padded); empty: observing off. Returns nothing.
  Napi::Value PublishObserved(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw codedError(env, "NFQ_BAD_ARGUMENT", "observed keys must be a Uint8Array");
    auto a = info[0].As<Napi::Uint8Array>();
    if (a.ElementLength() % 17 != 0) throw codedError(env, "NFQ_BAD_ARGUMENT", "observed keys have a partial record");
    for (size_t i = 0; i < a.ElementLength(); i += 17)
      if (a.Data()[i] != 4 && a.Data()[i] != 6) throw codedError(env, "NFQ_BAD_ARGUMENT", "observed key family must be 4 or 6");
    loop_->publishObserved(std::make_shared<const ObservedSet>(a.Data(), a.ElementLength() / 17));
    return env.Undefined();
  }
  // decide(packet: Uint8Array) -> { status, allow, direction, ruleId } (ruleId -1: none)
  Napi::Value Decide(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) throw codedError(env, "NFQ_BAD_ARGUMENT", "expected a Uint8Array");
    auto bytes = info[0].As<Napi::Uint8Array>();
    const Loop::Decision d = loop_->decide(bytes.Data(), bytes.ElementLength());
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", parseStatusName(d.status));
    o.Set("hasPolicy", d.hasPolicy);
    o.Set("allow", d.allow);
    o.Set("direction", d.verdict.direction == Direction::Egress ? "egress" : d.verdict.direction == Direction::Ingress ? "ingress" : "none");
    o.Set("ruleId", d.verdict.ruleId == kNoRuleId ? -1.0 : static_cast<double>(d.verdict.ruleId));
    return o;
  }
  // timeDecide(packet, iterations) -> mean ns of parse + classify in C++ (benchmark helper)
  Napi::Value TimeDecide(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber())
      throw codedError(env, "NFQ_BAD_ARGUMENT", "expected (Uint8Array, iterations)");
    auto bytes = info[0].As<Napi::Uint8Array>();
    const uint32_t n = info[1].As<Napi::Number>().Uint32Value();
    if (n == 0 || n > 100000000) throw codedError(env, "NFQ_BAD_ARGUMENT", "iterations must be 1..1e8");
    volatile bool sink = false;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < n; ++i) sink = loop_->decide(bytes.Data(), bytes.ElementLength()).allow;
    const auto t1 = std::chrono::steady_clock::now();
    (void)sink;
    return Napi::Number::New(env, std::chrono::duration<double, std::nano>(t1 - t0).count() / n);
  }
  Napi::Value SetPaused(const Napi::CallbackInfo& info) {
    loop_->setPaused(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }
  static Napi::Object cutReport(Napi::Env env, const Loop::CutReport& r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("scanned", static_cast<double>(r.scanned));
    o.Set("cut", static_cast<double>(r.cut));
    o.Set("errors", static_cast<double>(r.errors));
    if (!r.firstError.empty()) o.Set("firstError", r.firstError);
    return o;
  }
  Napi::Value CutDenied(const Napi::CallbackInfo& info) { return cutReport(info.Env(), loop_->cutDenied()); }
  Napi::Value CutReverse(const Napi::CallbackInfo& info) { return cutReport(info.Env(), loop_->cutReverse()); }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const LoopStats s = loop_->stats();
    Napi::Object o = Napi::Object::New(env);
    auto num = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
    num("packets", s.packets);
    num("accepted", s.accepted);
    num("denied", s.denied);
    num("unclassifiable", s.unclassifiable);
    num("verdictMessages", s.verdictMessages);
    num("batches", s.batches);
    num("recvErrors", s.recvErrors);
    num("verdictErrors", s.verdictErrors);
    num("recordsDropped", s.recordsDropped);
    num("snapshotVersion", s.snapshotVersion);
    num("latencySamples", s.latencyCount);
    num("latencyP50Ns", s.latencyQuantileNs(0.50));
    num("latencyP99Ns", s.latencyQuantileNs(0.99));
    num("latencyP999Ns", s.latencyQuantileNs(0.999));
    Napi::Object byStatus = Napi::Object::New(env);
    for (int i = 0; i < kParseStatusCount; ++i)
      byStatus.Set(parseStatusName(static_cast<ParseStatus>(i)), Napi::Number::New(env, static_cast<double>(s.byParseStatus[i])));
    o.Set("byParseStatus", byStatus);
    return o;
  }
  Napi::Value ResetLatency(const Napi::CallbackInfo& info) {
    loop_->resetLatency();
    return info.Env().Undefined();
  }

  std::unique_ptr<Loop> loop_;
  Napi::ThreadSafeFunction tsfn_;
  bool hasTsfn_ = false;
};

}  // namespace

Napi::Object InitNfqueue(Napi::Env env) {
  Napi::Object m = Napi::Object::New(env);
  m.Set("nfqParsePacket", Napi::Function::New(env, ParsePacketJs, "nfqParsePacket"));
  m.Set("nfqParseStatuses", Napi::Function::New(env, ParseStatusesJs, "nfqParseStatuses"));
  m.Set("NfqLoop", NfqLoopJs::Define(env));
  Napi::Object c = Napi::Object::New(env);
  c.Set("denyRecordBytes", static_cast<double>(kDenyRecordBytes));
  c.Set("ruleBytes", static_cast<double>(kRuleBytes));
  Napi::Array names = Napi::Array::New(env, kParseStatusCount);
  for (int i = 0; i < kParseStatusCount; ++i) names.Set(i, parseStatusName(static_cast<ParseStatus>(i)));
  c.Set("parseStatus", names);
  m.Set("nfqConstants", c);
  return m;
}

}  // namespace palisade::napi
