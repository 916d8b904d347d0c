// glue.h: what every addon/napi/*.cc module shares: the coded JS error and the module inits that
// the registration table in module.cc lists.
//
// Each init builds its module's exports as a fresh object (module.cc sets exports[name] = it), so
// src/native/binding.ts hands each backend its own typed sub-module. Errors cross as JS errors with
// a stable `code` (the native side's own codes, passed through unchanged); only Napi::Error is ever
// thrown here, and node-addon-api turns it into a JS exception at the boundary (NAPI_CPP_EXCEPTIONS).
// Thread-safety: inits run once per environment on the main thread.
#pragma once

#include <napi.h>

#include <string>

namespace palisade::napi {

inline Napi::Error codedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

Napi::Object InitClassifier(Napi::Env env);
Napi::Object InitNftables(Napi::Env env);
Napi::Object InitEbpf(Napi::Env env);
Napi::Object InitNfqueue(Napi::Env env);
Napi::Object InitDnsQueue(Napi::Env env);

}  // namespace palisade::napi
