// register.h: how native code outside addon/ adds its exports to build/Release/palisade.node.
//
// What: the addon has ONE module init (addon/napi/module.cc). Any backends/*/native/*.cc file that
// wants to export functions writes, at namespace scope:
//     static void RegisterMyBackend(Napi::Env env, Napi::Object exports) { ... }
//     PALISADE_NATIVE_EXPORTS(RegisterMyBackend)
// The root CMakeLists.txt compiles every backends/*/native/*.cc (except standalone_module.cc,
// *_fuzz.cc and *_test.cc) into the addon, so the registration runs when the module loads.
// Registration order = static-initialisation order (unspecified across files): an init must only add
// its own names to `exports`.
// Thread-safety: registration happens during static initialisation, before any JS runs.
#pragma once

#include <napi.h>

#include <vector>

namespace palisade::napi {

using ExportsInit = void (*)(Napi::Env, Napi::Object);

inline std::vector<ExportsInit>& exportInits() {
  static std::vector<ExportsInit> inits;
  return inits;
}

struct ExportsRegistrar {
  explicit ExportsRegistrar(ExportsInit fn) { exportInits().push_back(fn); }
};

}  // namespace palisade::napi

#define PALISADE_NATIVE_CONCAT2(a, b) a##b
#define PALISADE_NATIVE_CONCAT(a, b) PALISADE_NATIVE_CONCAT2(a, b)
#define PALISADE_NATIVE_EXPORTS(fn)                                                     \
  static ::palisade::napi::ExportsRegistrar PALISADE_NATIVE_CONCAT(palisadeExports_, \
                                                                   __LINE__)(fn);
