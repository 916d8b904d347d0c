// module.cc: the ONE module init of build/Release/palisade.node.
//
// What: exports the classifier (`Classifier`), then every init registered through register.h,
// then the backends' known entry points if they are linked in (declared weak, so the addon also
// builds and loads when a backend's sources are absent). `abi` lets binding.ts refuse a stale
// binary. `exportsLoaded` lists what was registered, for diagnostics.
// Thread-safety: runs once per environment on the main thread.
#include <napi.h>

#include "classifier_object.h"
#include "register.h"

// Backend entry points (backends/*/native). Weak: null when the backend is not compiled in.
void RegisterNfqueue(Napi::Env env, Napi::Object exports) __attribute__((weak));
void RegisterEbpf(Napi::Env env, Napi::Object exports) __attribute__((weak));

static Napi::Object InitPalisade(Napi::Env env, Napi::Object exports) {
  auto loaded = Napi::Array::New(env);
  uint32_t k = 0;
  palisade::napi::RegisterClassifier(env, exports);
  loaded.Set(k++, Napi::String::New(env, "classifier"));
  if (RegisterNfqueue) {
    RegisterNfqueue(env, exports);
    loaded.Set(k++, Napi::String::New(env, "nfqueue"));
  }
  if (RegisterEbpf) {
    RegisterEbpf(env, exports);
    loaded.Set(k++, Napi::String::New(env, "ebpf"));
  }
  for (palisade::napi::ExportsInit fn : palisade::napi::exportInits()) fn(env, exports);
  exports.Set("abi", Napi::Number::New(env, 1));
  exports.Set("exportsLoaded", loaded);
  return exports;
}

NODE_API_MODULE(palisade, InitPalisade)
