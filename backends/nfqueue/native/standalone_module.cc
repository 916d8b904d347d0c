// standalone_module.cc: module init for the PRIVATE test addon build-nfq/palisade_nfq.node only
// (backends/nfqueue/native/CMakeLists.txt). The product addon has its own init that calls
// RegisterNfqueue; the root CMakeLists must not compile this file (it is excluded by name).
#include "nfqueue.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterNfqueue(env, exports);
  return exports;
}
NODE_API_MODULE(palisade_nfq, Init)
