// module.cc: entry point of the PRIVATE test addon (build-ebpf/Release/palisade_ebpf.node) used
// until the project's single addon calls RegisterEbpf. Not part of the main build (not globbed).
#include <napi.h>

#include "../ebpf.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterEbpf(env, exports);
  return exports;
}

NODE_API_MODULE(palisade_ebpf, Init)
