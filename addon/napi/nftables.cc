// nftables.cc: N-API glue for backends/nftables/native (nft.h, nflog.h); the `nftables` sub-module.
//
// Exports (typed in src/native/nftables.ts):
//   nftRun(jsonDocument: string, netnsPath?: string, echo?: boolean): string
//     nft.h runJson, inside netnsPath when given (addon/kernel/netns_scope.h).
//   nftSetElements(sets: string[], ops: Uint8Array, setIndex: Uint32Array, family: Uint8Array,
//                  addrs: Uint8Array, timeoutMs: Uint32Array, netnsPath?: string): void
//     setelem.h applySetElements: one netlink batch of element deletes/adds (one per index i:
//     ops[i] 0 delete / 1 add / 2 destroy, in set sets[setIndex[i]], family[i] 4|6 (an address)
//     or 44|66 (an address pair of a concatenated set), its key at the start of a 16-byte slot
//     addrs[16i..) (32-byte slots, addrs of 32 x count bytes, when any element is a pair),
//     timeoutMs[i] for an add to a set with the timeout flag, 0 = none),
//     inside netnsPath when given. ERR_PALISADE_NFT failures carry `errno` and `element`.
//   nftApplyProgram(words: Uint32Array, strings: string[], elementKeys: Uint8Array (16 per element),
//                   elementFlags: Uint8Array, elementTimeoutMs: Uint32Array, netnsPath?: string): void
//     table.h applyProgram: a whole table change (full install, set contents) as one netlink
//     batch built from the program, inside netnsPath when given.
//   nftWithNetns(netnsPath: string, fn: () => T): T
//     Calls fn with the calling thread inside the namespace at netnsPath and switches back
//     afterwards, also when fn throws. For synchronous native calls only: Node sockets created in
//     fn are created later, in the original namespace.
//   nflogOpen(group: number, netnsPath?: string): number
//   nflogDrain(fd: number, max?: number): Array<{prefix, family, protocol, src, dst, srcPort?, dstPort?}>
//   nflogClose(fd: number): void
// Errors: a JS Error with `code` from nft.h's Failure (plus `nftError`, `errno`, `path` when set).
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "backends/nftables/native/nflog.h"
#include "backends/nftables/native/nft.h"
#include "backends/nftables/native/setelem.h"
#include "backends/nftables/native/table.h"
#include "glue.h"
#include "kernel/netns_scope.h"

namespace palisade::napi {

namespace {

using palisade::kernel::NetnsScope;
using palisade::nft::Failure;

Napi::Error FailureError(Napi::Env env, const Failure& f) {
  Napi::Error e = codedError(env, f.code.c_str(), f.message);
  if (f.code == "ERR_PALISADE_NFT") e.Set("nftError", Napi::String::New(env, f.nftError));
  if (f.code == "ERR_PALISADE_NETNS" || f.code == "ERR_PALISADE_NFLOG" || f.code == "ERR_PALISADE_NFT_NETLINK" || f.err != 0) {
    e.Set("errno", Napi::Number::New(env, f.err));
  }
  if (f.element >= 0) e.Set("element", Napi::Number::New(env, static_cast<double>(f.element)));
  if (f.code == "ERR_PALISADE_NETNS") e.Set("path", Napi::String::New(env, f.path));
  return e;
}

// A namespace path that is an empty string names no namespace: the same failure open("") gives.
Failure EmptyPathFailure() {
  Failure f;
  f.code = "ERR_PALISADE_NETNS";
  f.err = ENOENT;
  f.message = std::string("cannot open : ") + std::strerror(ENOENT);
  return f;
}

// Runs `apply` (a kernel change returning false with `failure` filled) inside the namespace named by
// info[at] (a string; absent: the current one); throws the failure as a JS error.
template <typename F>
void InNetns(const Napi::CallbackInfo& info, size_t at, F&& apply) {
  Napi::Env env = info.Env();
  const bool inNetns = info.Length() > at && info[at].IsString();
  const std::string netns = inNetns ? info[at].As<Napi::String>().Utf8Value() : "";
  if (inNetns && netns.empty()) throw FailureError(env, EmptyPathFailure());
  Failure failure;
  bool ok;
  {
    NetnsScope scope(netns);
    if (!scope.ok()) throw FailureError(env, palisade::nft::netnsFailure(scope));
    ok = apply(failure);
  }
  if (!ok) throw FailureError(env, failure);
}

Napi::Value NftRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw codedError(env, "ERR_PALISADE_NFT_INPUT", "nftRun(json: string, netnsPath?: string, echo?: boolean)");
  const std::string doc = info[0].As<Napi::String>().Utf8Value();
  const bool echo = info.Length() >= 3 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  const bool inNetns = info.Length() >= 2 && info[1].IsString();
  const std::string netns = inNetns ? info[1].As<Napi::String>().Utf8Value() : "";
  if (inNetns && netns.empty()) throw FailureError(env, EmptyPathFailure());
  std::string output;
  Failure failure;
  bool ok;
  {
    NetnsScope scope(netns);
    if (!scope.ok()) throw FailureError(env, palisade::nft::netnsFailure(scope));
    ok = palisade::nft::runJson(doc, echo, output, failure);
  }
  if (!ok) throw FailureError(env, failure);
  return Napi::String::New(env, output);
}

template <typename T>
bool TypedOf(const Napi::Value& v, napi_typedarray_type type, size_t length, Napi::TypedArrayOf<T>& out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) return false;
  out = v.As<Napi::TypedArrayOf<T>>();
  return out.ElementLength() == length;
}

Napi::Value NftSetElements(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "nftSetElements(sets: string[], ops: Uint8Array (0 delete, 1 add, 2 destroy), setIndex: Uint32Array, family: Uint8Array, addrs: Uint8Array (16 or 32 per element), timeoutMs: Uint32Array (0 = none), netnsPath?: string)";
  if (info.Length() < 5 || !info[0].IsArray() || !info[1].IsTypedArray()) throw codedError(env, "ERR_PALISADE_NFT_INPUT", usage);
  palisade::nft::SetElementBatch batch;
  Napi::Array names = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    Napi::Value n = names.Get(i);
    if (!n.IsString()) throw codedError(env, "ERR_PALISADE_NFT_INPUT", usage);
    batch.sets.push_back(n.As<Napi::String>().Utf8Value());
  }
  const size_t count = info[1].As<Napi::TypedArray>().ElementLength();
  Napi::TypedArrayOf<uint8_t> ops, family, addrs;
  Napi::TypedArrayOf<uint32_t> setIndex, timeoutMs;
  // the address slot is 16 bytes, or 32 when the batch holds IPv6 pairs (the array's length says which)
  const size_t stride = count > 0 && info[4].IsTypedArray() && info[4].As<Napi::TypedArray>().ElementLength() == 32 * count ? 32 : 16;
  if (info.Length() < 6 || !TypedOf(info[1], napi_uint8_array, count, ops) || !TypedOf(info[2], napi_uint32_array, count, setIndex) ||
      !TypedOf(info[3], napi_uint8_array, count, family) || !TypedOf(info[4], napi_uint8_array, stride * count, addrs) ||
      !TypedOf(info[5], napi_uint32_array, count, timeoutMs)) {
    throw codedError(env, "ERR_PALISADE_NFT_INPUT", usage);
  }
  batch.stride = stride;
  batch.ops = ops.Data();
  batch.set = setIndex.Data();
  batch.family = family.Data();
  batch.addr = addrs.Data();
  batch.timeoutMs = timeoutMs.Data();
  batch.count = count;
  InNetns(info, 6, [&](Failure& failure) { return palisade::nft::applySetElements(batch, failure); });
  return env.Undefined();
}

Napi::Value NftApplyProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage =
      "nftApplyProgram(words: Uint32Array, strings: string[], elementKeys: Uint8Array (16 per element), elementFlags: Uint8Array, "
      "elementTimeoutMs: Uint32Array, netnsPath?: string)";
  if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsArray() || !info[3].IsTypedArray()) throw codedError(env, "ERR_PALISADE_NFT_INPUT", usage);
  palisade::nft::TableProgram program;
  Napi::TypedArrayOf<uint32_t> words, timeouts;
  Napi::TypedArrayOf<uint8_t> keys, flags;
  const size_t count = info[3].As<Napi::TypedArray>().ElementLength();
  if (!TypedOf(info[0], napi_uint32_array, info[0].As<Napi::TypedArray>().ElementLength(), words) || !TypedOf(info[2], napi_uint8_array, 16 * count, keys) ||
      !TypedOf(info[3], napi_uint8_array, count, flags) || !TypedOf(info[4], napi_uint32_array, count, timeouts)) {
    throw codedError(env, "ERR_PALISADE_NFT_INPUT", usage);
  }
  Napi::Array strings = info[1].As<Napi::Array>();
  program.strings.reserve(strings.Length());
  for (uint32_t i = 0; i < strings.Length(); ++i) {
    Napi::Value v = strings.Get(i);
    if (!v.IsString()) throw codedError(env, "ERR_PALISADE_NFT_INPUT", usage);
    program.strings.push_back(v.As<Napi::String>().Utf8Value());
  }
  program.words = words.Data();
  program.wordCount = words.ElementLength();
  program.elementKeys = keys.Data();
  program.elementFlags = flags.Data();
  program.elementTimeoutMs = timeouts.Data();
  program.elementCount = count;
  InNetns(info, 5, [&](Failure& failure) { return palisade::nft::applyProgram(program, failure); });
  return env.Undefined();
}

Napi::Value NftWithNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction()) {
    throw codedError(env, "ERR_PALISADE_NFT_INPUT", "nftWithNetns(netnsPath: string, fn: () => T)");
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty()) throw FailureError(env, EmptyPathFailure());
  NetnsScope scope(path);
  if (!scope.ok()) throw FailureError(env, palisade::nft::netnsFailure(scope));
  return info[1].As<Napi::Function>().Call({});
}

Napi::Value NflogOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw FailureError(env, palisade::nft::nflogFailure("nflogOpen(group, netnsPath?)", EINVAL));
  const double g = info[0].As<Napi::Number>().DoubleValue();
  if (!(g >= 0 && g <= 65535) || g != static_cast<uint16_t>(g)) throw FailureError(env, palisade::nft::nflogFailure("NFLOG group must be 0..65535", EINVAL));
  const std::string ns = info.Length() >= 2 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  Failure failure;
  const int fd = palisade::nft::nflogOpen(static_cast<uint16_t>(g), ns, failure);
  if (fd < 0) throw FailureError(env, failure);
  return Napi::Number::New(env, fd);
}

Napi::Value NflogDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw FailureError(env, palisade::nft::nflogFailure("nflogDrain(fd, max?)", EINVAL));
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const uint32_t max = info.Length() >= 2 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 4096;
  std::vector<palisade::nft::NflogPacket> packets;
  Failure failure;
  if (!palisade::nft::nflogDrain(fd, max, packets, failure)) throw FailureError(env, failure);
  Napi::Array out = Napi::Array::New(env, packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    const auto& p = packets[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("prefix", p.prefix);
    o.Set("family", p.family);
    o.Set("src", p.src);
    o.Set("dst", p.dst);
    o.Set("protocol", p.protocol);
    if (p.hasPorts) {
      o.Set("srcPort", p.srcPort);
      o.Set("dstPort", p.dstPort);
    }
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value NflogClose(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) palisade::nft::nflogClose(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

Napi::Object InitNftables(Napi::Env env) {
  Napi::Object m = Napi::Object::New(env);
  m.Set("nftRun", Napi::Function::New(env, NftRun, "nftRun"));
  m.Set("nftSetElements", Napi::Function::New(env, NftSetElements, "nftSetElements"));
  m.Set("nftApplyProgram", Napi::Function::New(env, NftApplyProgram, "nftApplyProgram"));
  m.Set("nftWithNetns", Napi::Function::New(env, NftWithNetns, "nftWithNetns"));
  m.Set("nflogOpen", Napi::Function::New(env, NflogOpen, "nflogOpen"));
  m.Set("nflogDrain", Napi::Function::New(env, NflogDrain, "nflogDrain"));
  m.Set("nflogClose", Napi::Function::New(env, NflogClose, "nflogClose"));
  return m;
}

}  // namespace palisade::napi
