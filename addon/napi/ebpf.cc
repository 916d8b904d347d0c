/*
 * ebpf.cc: N-API glue for backends/ebpf/native/datapath.h; the `ebpf` sub-module (typed in
 * src/native/ebpf.ts): the `EbpfDatapath` class and the standalone test-run helpers
 * (ebpfLoadStandalone, ebpfTestRunFd, ebpfCloseFd, ebpfLayout). Arguments arrive as typed arrays
 * (no object per entry); native failures (datapath.h's negative errno + message) become JS errors
 * with `code` (ERR_PALISADE_EBPF_PERMISSION, ERR_PALISADE_EBPF_SYSCALL, ERR_PALISADE_NATIVE_ARGUMENT: docs/error-codes.md) and `errno`. No C++ exception crosses
 * into JS except Napi::Error.
 */
#include <cerrno>
#include <cstring>
#include <memory>

#include <arpa/inet.h>
#include <unistd.h>

#include "backends/ebpf/native/datapath.h"
#include "glue.h"

namespace palisade::napi {

using palisade::ebpf::AddrEntry;
using palisade::ebpf::Datapath;

namespace {

[[noreturn]] void throwErr(Napi::Env env, int rc, const std::string &msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  int en = rc < 0 ? -rc : rc;
  e.Set("code", Napi::String::New(env, (en == EPERM || en == EACCES) ? "ERR_PALISADE_EBPF_PERMISSION" : "ERR_PALISADE_EBPF_SYSCALL"));
  e.Set("errno", Napi::Number::New(env, en));
  throw e;
}

[[noreturn]] void throwArg(Napi::Env env, const std::string &msg) {
  Napi::TypeError e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_PALISADE_NATIVE_ARGUMENT"));
  throw e;
}

template <typename T>
napi_typedarray_type kindOf();
template <>
napi_typedarray_type kindOf<uint8_t>() { return napi_uint8_array; }
template <>
napi_typedarray_type kindOf<uint32_t>() { return napi_uint32_array; }
template <>
napi_typedarray_type kindOf<uint64_t>() { return napi_biguint64_array; }

template <typename T>
Napi::TypedArrayOf<T> typed(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (info.Length() <= i || !info[i].IsTypedArray()) throwArg(info.Env(), std::string("expected a typed array: ") + what);
  auto a = info[i].As<Napi::TypedArray>();
  if (a.TypedArrayType() != kindOf<T>()) throwArg(info.Env(), std::string("wrong typed array kind: ") + what);
  return info[i].As<Napi::TypedArrayOf<T>>();
}

uint32_t u32(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (info.Length() <= i || !info[i].IsNumber()) throwArg(info.Env(), std::string("expected a number: ") + what);
  return info[i].As<Napi::Number>().Uint32Value();
}

std::string str(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (info.Length() <= i || !info[i].IsString()) throwArg(info.Env(), std::string("expected a string: ") + what);
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object testRunResult(Napi::Env env, const palisade::ebpf::TestRunResult &r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("retval", r.retval);
  o.Set("durationNs", r.durationNs);
  return o;
}

std::vector<AddrEntry> addrEntries(const Napi::CallbackInfo &info, size_t at, bool withClass) {
  auto fam = typed<uint8_t>(info, at, "families");
  auto plen = typed<uint8_t>(info, at + 1, "prefixLens");
  auto addrs = typed<uint8_t>(info, at + 2, "addrs (16 bytes each)");
  size_t n = fam.ElementLength();
  if (plen.ElementLength() != n || addrs.ElementLength() != n * 16) throwArg(info.Env(), "address arrays disagree in length");
  const uint32_t *cls = nullptr;
  if (withClass) {
    auto c = typed<uint32_t>(info, at + 3, "classIds");
    if (c.ElementLength() != n) throwArg(info.Env(), "classIds length");
    cls = c.Data();
  }
  // optional, host entries of `learned` sets: the class once expired, and the expiry
  // (CLOCK_MONOTONIC ns, 0 = never; palisade_maps.h pal_host_class)
  const uint32_t *expired = nullptr;
  const uint64_t *expires = nullptr;
  if (withClass && info.Length() > at + 5 && !info[at + 4].IsUndefined()) {
    auto x = typed<uint32_t>(info, at + 4, "expiredClassIds");
    auto t = typed<uint64_t>(info, at + 5, "expiresNs");
    if (x.ElementLength() != n || t.ElementLength() != n) throwArg(info.Env(), "expiry arrays length");
    expired = x.Data();
    expires = t.Data();
  }
  std::vector<AddrEntry> v(n);
  for (size_t i = 0; i < n; i++) {
    v[i].family = fam[i];
    v[i].prefixLen = plen[i];
    memcpy(v[i].addrNet, addrs.Data() + i * 16, 16);
    v[i].classId = cls ? cls[i] : 0;
    v[i].expiredClassId = expired ? expired[i] : v[i].classId;
    v[i].expiresNs = expires ? expires[i] : 0;
    if (v[i].family != 4 && v[i].family != 6) throwArg(info.Env(), "family must be 4 or 6");
  }
  return v;
}

class EbpfDatapath : public Napi::ObjectWrap<EbpfDatapath> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "EbpfDatapath",
                       {
                           InstanceMethod("adopted", &EbpfDatapath::Adopted),
                           InstanceMethod("progInfo", &EbpfDatapath::ProgInfo),
                           InstanceMethod("attach", &EbpfDatapath::Attach),
                           InstanceMethod("detach", &EbpfDatapath::Detach),
                           InstanceMethod("query", &EbpfDatapath::Query),
                           InstanceMethod("activeGeneration", &EbpfDatapath::ActiveGeneration),
                           InstanceMethod("activate", &EbpfDatapath::Activate),
                           InstanceMethod("setFlags", &EbpfDatapath::SetFlags),
                           InstanceMethod("clearAddresses", &EbpfDatapath::ClearAddresses),
                           InstanceMethod("writeAddresses", &EbpfDatapath::WriteAddresses),
                           InstanceMethod("deleteAddresses", &EbpfDatapath::DeleteAddresses),
                           InstanceMethod("writePortClasses", &EbpfDatapath::WritePortClasses),
                           InstanceMethod("writeRowHeads", &EbpfDatapath::WriteRowHeads),
                           InstanceMethod("writeRows", &EbpfDatapath::WriteRows),
                           InstanceMethod("writeRowIndex", &EbpfDatapath::WriteRowIndex),
                           InstanceMethod("writeVerdicts", &EbpfDatapath::WriteVerdicts),
                           InstanceMethod("writeRedirects", &EbpfDatapath::WriteRedirects),
                           InstanceMethod("readCounters", &EbpfDatapath::ReadCounters),
                           InstanceMethod("clearCounters", &EbpfDatapath::ClearCounters),
                           InstanceMethod("readStats", &EbpfDatapath::ReadStats),
                           InstanceMethod("drainDenyEvents", &EbpfDatapath::DrainDenyEvents),
                           InstanceMethod("flowCount", &EbpfDatapath::FlowCount),
                           InstanceMethod("clearFlows", &EbpfDatapath::ClearFlows),
                           InstanceMethod("testRun", &EbpfDatapath::TestRun),
                           InstanceMethod("unpin", &EbpfDatapath::Unpin),
                           InstanceMethod("close", &EbpfDatapath::Close),
                       });
  }

  // new EbpfDatapath(objPath, pinDir, forceReload)
  explicit EbpfDatapath(const Napi::CallbackInfo &info) : Napi::ObjectWrap<EbpfDatapath>(info) {
    std::string obj = str(info, 0, "objPath");
    std::string pin = str(info, 1, "pinDir");
    bool force = info.Length() > 2 && info[2].ToBoolean().Value();
    std::string err;
    int rc = 0;
    dp_.reset(Datapath::open(obj, pin, force, rc, err));
    if (!dp_) throwErr(info.Env(), rc ? rc : -EIO, err);
  }

 private:
  Datapath &dp(const Napi::CallbackInfo &info) {
    if (!dp_) throwArg(info.Env(), "EbpfDatapath is closed");
    return *dp_;
  }
  void check(const Napi::CallbackInfo &info, int rc, const std::string &err) {
    if (rc < 0) throwErr(info.Env(), rc, err);
  }

  Napi::Value Adopted(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), dp(info).adopted()); }

  Napi::Value ProgInfo(const Napi::CallbackInfo &info) {
    palisade::ebpf::ProgInfo pi;
    std::string err;
    check(info, dp(info).progInfo(str(info, 0, "program"), pi, err), err);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("id", pi.id);
    o.Set("verifiedInsns", pi.verifiedInsns);
    o.Set("xlatedBytes", pi.xlatedBytes);
    o.Set("jitedBytes", pi.jitedBytes);
    return o;
  }

  // attach(netnsPath | "", ifname, role)
  Napi::Value Attach(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).attach(str(info, 0, "netnsPath"), str(info, 1, "ifname"), str(info, 2, "role"), err), err);
    return info.Env().Undefined();
  }
  Napi::Value Detach(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).detach(str(info, 0, "netnsPath"), str(info, 1, "ifname"), err), err);
    return info.Env().Undefined();
  }
  Napi::Value Query(const Napi::CallbackInfo &info) {
    palisade::ebpf::HookState hs;
    std::string err;
    check(info, dp(info).query(str(info, 0, "netnsPath"), str(info, 1, "ifname"), hs, err), err);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("ingressProgId", hs.ingressProgId);
    o.Set("egressProgId", hs.egressProgId);
    return o;
  }

  Napi::Value ActiveGeneration(const Napi::CallbackInfo &info) {
    uint32_t gen;
    uint64_t version;
    std::string err;
    check(info, dp(info).activeGeneration(gen, version, err), err);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("gen", gen);
    o.Set("version", Napi::Number::New(info.Env(), double(version)));
    return o;
  }
  Napi::Value Activate(const Napi::CallbackInfo &info) {
    std::string err;
    uint64_t version = info.Length() > 1 && info[1].IsNumber() ? uint64_t(info[1].As<Napi::Number>().Int64Value()) : 0;
    check(info, dp(info).activate(u32(info, 0, "gen"), version, err), err);
    return info.Env().Undefined();
  }
  Napi::Value SetFlags(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).setFlags(u32(info, 0, "flags"), err), err);
    return info.Env().Undefined();
  }
  Napi::Value ClearAddresses(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).clearAddresses(u32(info, 0, "gen"), err), err);
    return info.Env().Undefined();
  }
  // writeAddresses(gen, families: Uint8Array, prefixLens: Uint8Array, addrs: Uint8Array(n*16), classIds: Uint32Array[, expiredClassIds: Uint32Array, expiresNs: BigUint64Array])
  Napi::Value WriteAddresses(const Napi::CallbackInfo &info) {
    std::string err;
    auto entries = addrEntries(info, 1, true);
    check(info, dp(info).writeAddresses(u32(info, 0, "gen"), entries, err), err);
    return info.Env().Undefined();
  }
  Napi::Value DeleteAddresses(const Napi::CallbackInfo &info) {
    std::string err;
    auto entries = addrEntries(info, 1, false);
    check(info, dp(info).deleteAddresses(u32(info, 0, "gen"), entries, err), err);
    return info.Env().Undefined();
  }
  // writePortClasses(gen, classes: Uint32Array(PAL_PORT_TABLES * 65536): destination-port tables, then source-port tables)
  Napi::Value WritePortClasses(const Napi::CallbackInfo &info) {
    auto c = typed<uint32_t>(info, 1, "classes");
    if (c.ElementLength() != size_t(PAL_PORT_TABLES) * PAL_PORTS) throwArg(info.Env(), "port table must have 8 * 65536 entries");
    std::string err;
    check(info, dp(info).writePortClasses(u32(info, 0, "gen"), c.Data(), err), err);
    return info.Env().Undefined();
  }
  // writeRowIndex(firstIndex, rows: Uint32Array)
  Napi::Value WriteRowIndex(const Napi::CallbackInfo &info) {
    auto rows = typed<uint32_t>(info, 1, "rows");
    std::string err;
    check(info, dp(info).writeRowIndex(u32(info, 0, "firstIndex"), uint32_t(rows.ElementLength()), rows.Data(), err), err);
    return info.Env().Undefined();
  }
  // writeRowHeads(gen, dir, dim, firstClass, masks: BigUint64Array, firstIndexes: Uint32Array)
  Napi::Value WriteRowHeads(const Napi::CallbackInfo &info) {
    auto masks = typed<uint64_t>(info, 4, "masks");
    auto rows = typed<uint32_t>(info, 5, "firstIndexes");
    if (masks.ElementLength() != rows.ElementLength()) throwArg(info.Env(), "masks and firstIndexes disagree");
    std::string err;
    check(info, dp(info).writeRowHeads(u32(info, 0, "gen"), u32(info, 1, "dir"), u32(info, 2, "dim"), u32(info, 3, "firstClass"),
                                       uint32_t(masks.ElementLength()), masks.Data(), rows.Data(), err),
          err);
    return info.Env().Undefined();
  }
  // writeRows(firstRow, words: BigUint64Array(n * 8))
  Napi::Value WriteRows(const Napi::CallbackInfo &info) {
    auto words = typed<uint64_t>(info, 1, "words");
    if (words.ElementLength() % PAL_CHUNK_WORDS) throwArg(info.Env(), "words must be whole chunks of 8");
    std::string err;
    check(info, dp(info).writeRows(u32(info, 0, "firstRow"), uint32_t(words.ElementLength() / PAL_CHUNK_WORDS), words.Data(), err), err);
    return info.Env().Undefined();
  }
  // writeVerdicts(gen, dir, actions: Uint8Array, tiers: Uint8Array, passTargets, counterIndexes, ruleIds: Uint32Array)
  Napi::Value WriteVerdicts(const Napi::CallbackInfo &info) {
    auto act = typed<uint8_t>(info, 2, "actions");
    auto tier = typed<uint8_t>(info, 3, "tiers");
    auto pass = typed<uint32_t>(info, 4, "passTargets");
    auto ctr = typed<uint32_t>(info, 5, "counterIndexes");
    auto ids = typed<uint32_t>(info, 6, "ruleIds");
    size_t n = act.ElementLength();
    if (tier.ElementLength() != n || pass.ElementLength() != n || ctr.ElementLength() != n || ids.ElementLength() != n)
      throwArg(info.Env(), "verdict arrays disagree in length");
    std::vector<pal_verdict> v(n);
    for (size_t i = 0; i < n; i++) {
      v[i].action = act[i];
      v[i].tier = tier[i];
      v[i].pad = 0;
      v[i].passTarget = pass[i];
      v[i].counterIndex = ctr[i];
      v[i].ruleId = ids[i];
    }
    std::string err;
    check(info, dp(info).writeVerdicts(u32(info, 0, "gen"), u32(info, 1, "dir"), uint32_t(n), v.data(), err), err);
    return info.Env().Undefined();
  }
  // writeRedirects(gen, rules: Uint32Array(n), addrs: Uint8Array(n * 32: IPv4 in the first 4 of 16, then IPv6),
  //                ports: Uint32Array(n * 2: IPv4, IPv6; host order), present: Uint8Array(n * 2: has IPv4, has IPv6))
  Napi::Value WriteRedirects(const Napi::CallbackInfo &info) {
    auto rules = typed<uint32_t>(info, 1, "rules");
    auto addrs = typed<uint8_t>(info, 2, "addrs");
    auto ports = typed<uint32_t>(info, 3, "ports");
    auto present = typed<uint8_t>(info, 4, "present");
    size_t n = rules.ElementLength();
    if (addrs.ElementLength() != n * 32 || ports.ElementLength() != n * 2 || present.ElementLength() != n * 2)
      throwArg(info.Env(), "redirect arrays disagree in length");
    std::vector<pal_redirect> v(n);
    for (size_t i = 0; i < n; i++) {
      std::memset(&v[i], 0, sizeof(pal_redirect));
      std::memcpy(&v[i].addr4Net, addrs.Data() + i * 32, 4);
      std::memcpy(v[i].addr6Net, addrs.Data() + i * 32 + 16, 16);
      v[i].port4Net = htons(uint16_t(ports[i * 2]));
      v[i].port6Net = htons(uint16_t(ports[i * 2 + 1]));
      v[i].has4 = present[i * 2] ? 1 : 0;
      v[i].has6 = present[i * 2 + 1] ? 1 : 0;
    }
    std::string err;
    check(info, dp(info).writeRedirects(u32(info, 0, "gen"), uint32_t(n), rules.Data(), v.data(), err), err);
    return info.Env().Undefined();
  }
  Napi::Value ReadCounters(const Napi::CallbackInfo &info) {
    auto slots = typed<uint32_t>(info, 0, "slots");
    std::vector<uint32_t> s(slots.Data(), slots.Data() + slots.ElementLength());
    std::vector<pal_counter> out;
    std::string err;
    check(info, dp(info).readCounters(s, out, err), err);
    auto pk = Napi::BigUint64Array::New(info.Env(), out.size());
    auto by = Napi::BigUint64Array::New(info.Env(), out.size());
    for (size_t i = 0; i < out.size(); i++) {
      pk[i] = out[i].packets;
      by[i] = out[i].bytes;
    }
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("packets", pk);
    o.Set("bytes", by);
    return o;
  }
  Napi::Value ClearCounters(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).clearCounters(err), err);
    return info.Env().Undefined();
  }
  Napi::Value ReadStats(const Napi::CallbackInfo &info) {
    std::vector<uint64_t> out;
    std::string err;
    check(info, dp(info).readStats(out, err), err);
    auto a = Napi::BigUint64Array::New(info.Env(), out.size());
    for (size_t i = 0; i < out.size(); i++) a[i] = out[i];
    return a;
  }
  Napi::Value DrainDenyEvents(const Napi::CallbackInfo &info) {
    size_t max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 4096;
    std::vector<pal_deny_event> evs;
    std::string err;
    check(info, dp(info).drainDenyEvents(evs, max, err), err);
    Napi::Env env = info.Env();
    Napi::Array arr = Napi::Array::New(env, evs.size());
    for (size_t i = 0; i < evs.size(); i++) {
      const auto &e = evs[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("timeNs", Napi::BigInt::New(env, uint64_t(e.timeNs)));
      o.Set("ifindex", e.ifindex);
      o.Set("ruleId", e.ruleId);
      o.Set("counterIndex", e.counterIndex);
      o.Set("family", e.family);
      o.Set("proto", e.proto);
      o.Set("direction", e.direction);
      o.Set("tier", e.tier);
      o.Set("srcPort", (uint32_t(reinterpret_cast<const uint8_t *>(&e.srcPortNet)[0]) << 8) | reinterpret_cast<const uint8_t *>(&e.srcPortNet)[1]);
      o.Set("dstPort", (uint32_t(reinterpret_cast<const uint8_t *>(&e.dstPortNet)[0]) << 8) | reinterpret_cast<const uint8_t *>(&e.dstPortNet)[1]);
      o.Set("reason", e.reason);
      o.Set("src", Napi::Buffer<uint8_t>::Copy(env, e.srcNet, 16));
      o.Set("dst", Napi::Buffer<uint8_t>::Copy(env, e.dstNet, 16));
      arr.Set(uint32_t(i), o);
    }
    return arr;
  }
  Napi::Value FlowCount(const Napi::CallbackInfo &info) {
    uint32_t n;
    std::string err;
    check(info, dp(info).flowCount(n, err), err);
    return Napi::Number::New(info.Env(), n);
  }
  Napi::Value ClearFlows(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).clearFlows(err), err);
    return info.Env().Undefined();
  }
  // testRun(program, packet: Uint8Array, repeat)
  Napi::Value TestRun(const Napi::CallbackInfo &info) {
    auto pkt = typed<uint8_t>(info, 1, "packet");
    palisade::ebpf::TestRunResult r;
    std::string err;
    check(info, dp(info).testRun(str(info, 0, "program"), pkt.Data(), uint32_t(pkt.ElementLength()), u32(info, 2, "repeat"), r, err), err);
    return testRunResult(info.Env(), r);
  }
  Napi::Value Unpin(const Napi::CallbackInfo &info) {
    std::string err;
    check(info, dp(info).unpin(err), err);
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo &info) {
    dp_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Datapath> dp_;
};

// ebpfLoadStandalone(objPath, program) -> fd
Napi::Value LoadStandalone(const Napi::CallbackInfo &info) {
  std::string err;
  int fd = Datapath::loadStandalone(str(info, 0, "objPath"), str(info, 1, "program"), err);
  if (fd < 0) throwErr(info.Env(), fd, err);
  return Napi::Number::New(info.Env(), fd);
}

// ebpfTestRunFd(fd, packet, repeat)
Napi::Value TestRunFd(const Napi::CallbackInfo &info) {
  auto pkt = typed<uint8_t>(info, 1, "packet");
  palisade::ebpf::TestRunResult r;
  std::string err;
  int rc = Datapath::testRunFd(int(u32(info, 0, "fd")), pkt.Data(), uint32_t(pkt.ElementLength()), u32(info, 2, "repeat"), r, err);
  if (rc < 0) throwErr(info.Env(), rc, err);
  return testRunResult(info.Env(), r);
}

Napi::Value CloseFd(const Napi::CallbackInfo &info) {
  ::close(int(u32(info, 0, "fd")));
  return info.Env().Undefined();
}

Napi::Value Layout(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("generations", PAL_GENERATIONS);
  o.Set("maxRules", PAL_MAX_RULES);
  o.Set("maxClasses", PAL_MAX_CLASSES);
  o.Set("rowsPerGen", PAL_ROWS_PER_GEN);
  o.Set("indexPerGen", PAL_INDEX_PER_GEN);
  o.Set("chunkRules", PAL_CHUNK_RULES);
  o.Set("maxCounters", PAL_MAX_COUNTERS);
  o.Set("stats", PAL_STATS);
  o.Set("exactEntries", PAL_EXACT_ENTRIES);
  o.Set("lpmEntries", PAL_LPM_ENTRIES);
  o.Set("flagLogDenied", PAL_CFG_LOG_DENIED);
  return o;
}

}  // namespace

Napi::Object InitEbpf(Napi::Env env) {
  Napi::Object m = Napi::Object::New(env);
  m.Set("EbpfDatapath", EbpfDatapath::Init(env));
  m.Set("ebpfLoadStandalone", Napi::Function::New(env, LoadStandalone, "ebpfLoadStandalone"));
  m.Set("ebpfTestRunFd", Napi::Function::New(env, TestRunFd, "ebpfTestRunFd"));
  m.Set("ebpfCloseFd", Napi::Function::New(env, CloseFd, "ebpfCloseFd"));
  m.Set("ebpfLayout", Napi::Function::New(env, Layout, "ebpfLayout"));
  return m;
}

}  // namespace palisade::napi
