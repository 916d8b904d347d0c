// module.cc: the ONE module init of build/Release/palisade.node, and its ONE registration table.
//
// What: the addon's exports are one sub-object per native module, in the order of kModules:
//   exports.classifier  addon/classifier via classifier_object.cc
//   exports.nftables    backends/nftables/native via nftables.cc
//   exports.ebpf        backends/ebpf/native via ebpf.cc
//   exports.nfqueue     backends/nfqueue/native via nfqueue.cc
//   exports.dnsqueue    the FQDN learner's DNS answer queue (src/fqdn) via dnsqueue.cc
// plus `abi` (src/native/binding.ts refuses a binary whose abi differs from its NATIVE_ABI) and
// `modules` (the names, in table order). Every module is always linked in: a module that is
// missing is a build error, not a silently absent export.
// ABI history: 1 = flat exports (Classifier, nftRun, NfqLoop, ... side by side); 2 = sub-objects.
// Thread-safety: runs once per environment on the main thread.
#include <napi.h>

#include <iterator>

#include "glue.h"

namespace {

constexpr uint32_t kAbi = 2;

struct ModuleEntry {
  const char* name;
  Napi::Object (*init)(Napi::Env);
};

constexpr ModuleEntry kModules[] = {
    {"classifier", palisade::napi::InitClassifier},
    {"nftables", palisade::napi::InitNftables},
    {"ebpf", palisade::napi::InitEbpf},
    {"nfqueue", palisade::napi::InitNfqueue},
    {"dnsqueue", palisade::napi::InitDnsQueue},
};

Napi::Object InitPalisade(Napi::Env env, Napi::Object exports) {
  Napi::Array names = Napi::Array::New(env, std::size(kModules));
  uint32_t k = 0;
  for (const ModuleEntry& m : kModules) {
    exports.Set(m.name, m.init(env));
    names.Set(k++, Napi::String::New(env, m.name));
  }
  exports.Set("abi", Napi::Number::New(env, kAbi));
  exports.Set("modules", names);
  return exports;
}

}  // namespace

NODE_API_MODULE(palisade, InitPalisade)
