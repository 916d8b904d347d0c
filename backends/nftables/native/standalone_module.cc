// Module entry for the private build (build-nft/palisade_nft.node) only. The product is the
// single addon build/Release/palisade.node, whose entry calls RegisterNftables; the root
// CMakeLists leaves standalone_module.cc files out of that addon.
#include "nft.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterNftables(env, exports);
  return exports;
}

NODE_API_MODULE(palisade_nft, Init)
