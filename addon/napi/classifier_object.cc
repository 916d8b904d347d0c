// classifier_object.cc: the N-API face of palisade::Classifier: the `classifier` sub-module,
// holding class `Classifier`.
//
// What: argument unwrapping, the compile worker and error translation. No classification logic
// lives here; src/native/binding.ts is the only JS caller and checks arguments before they cross.
//
// Design: compile() copies the rule words into a C++ vector on the main thread, then a
// Napi::AsyncWorker runs Classifier::compile() (pure C++ on plain structs) on the libuv pool and
// publishes the result with an atomic snapshot swap; the promise resolves on the main thread.
// Every native failure becomes a JS Error whose `code` is a stable PAL_* string; no C++ exception
// crosses into JS unconverted.
// Thread-safety: the wrapped Classifier is safe for concurrent publish + lookup (see classifier.h);
// the worker touches only the Classifier and the copied vector, never N-API values.
#include "glue.h"

#include <chrono>
#include <memory>
#include <string>

#include "../classifier/classifier.h"
#include "../classifier/wire.h"

namespace palisade::napi {

namespace {

Napi::Error prefixedError(Napi::Env env, const std::string& msg) {
  // msg is "CODE: text"
  auto colon = msg.find(':');
  std::string code = colon == std::string::npos ? "PAL_NATIVE" : msg.substr(0, colon);
  auto err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

template <class T>
T* typedData(const Napi::Value& v, napi_typedarray_type type, size_t* length, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw prefixedError(v.Env(), std::string("PAL_NATIVE_ARG: ") + what + " has the wrong type");
  auto arr = v.As<Napi::TypedArray>();
  *length = arr.ElementLength();
  auto buf = arr.ArrayBuffer();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(buf.Data()) + arr.ByteOffset());
}

Napi::Object statsObject(Napi::Env env, const ClassifierStats& s, uint64_t lookups) {
  auto o = Napi::Object::New(env);
  o.Set("version", Napi::Number::New(env, double(s.version)));
  o.Set("rules", Napi::Number::New(env, double(s.rules)));
  o.Set("prefixRules4", Napi::Number::New(env, double(s.prefixRules4)));
  o.Set("prefixRules6", Napi::Number::New(env, double(s.prefixRules6)));
  o.Set("setRules", Napi::Number::New(env, double(s.setRules)));
  o.Set("tables4", Napi::Number::New(env, double(s.tables4)));
  o.Set("tables6", Napi::Number::New(env, double(s.tables6)));
  o.Set("members", Napi::Number::New(env, double(s.members)));
  o.Set("ruleBytes", Napi::Number::New(env, double(s.ruleBytes)));
  o.Set("memberBytes", Napi::Number::New(env, double(s.memberBytes)));
  o.Set("addressClasses", Napi::Number::New(env, double(s.addressClasses)));
  o.Set("namedClasses", Napi::Number::New(env, double(s.namedClasses)));
  o.Set("classBytes", Napi::Number::New(env, double(s.classBytes)));
  o.Set("nativeLookups", Napi::Number::New(env, double(lookups)));
  return o;
}

}  // namespace

class ClassifierObject : public Napi::ObjectWrap<ClassifierObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Classifier",
        {InstanceMethod<&ClassifierObject::Compile>("compile"),
         InstanceMethod<&ClassifierObject::CompileSync>("compileSync"),
         InstanceMethod<&ClassifierObject::UpdateSets>("updateSets"),
         InstanceMethod<&ClassifierObject::Lookup4>("lookup4"),
         InstanceMethod<&ClassifierObject::Lookup6>("lookup6"),
         InstanceMethod<&ClassifierObject::LookupBatch4>("lookupBatch4"),
         InstanceMethod<&ClassifierObject::LookupBatch6>("lookupBatch6"),
         InstanceMethod<&ClassifierObject::Stats>("stats")});
  }

  explicit ClassifierObject(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<ClassifierObject>(info), core_(std::make_shared<Classifier>()) {}

 private:
  class CompileWorker : public Napi::AsyncWorker {
   public:
    CompileWorker(Napi::Env env, std::shared_ptr<Classifier> core, std::vector<RuleSpec> specs)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
          core_(std::move(core)), specs_(std::move(specs)) {}
    Napi::Promise Promise() { return deferred_.Promise(); }

    void Execute() override {  // libuv pool thread: plain C++ only
      auto t0 = std::chrono::steady_clock::now();
      std::string err;
      auto tables = Classifier::compile(specs_, &err);
      buildNs_ = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      if (!tables) {
        error_ = err;
        return;
      }
      version_ = core_->publishRules(std::move(tables));
    }
    void OnOK() override {
      Napi::Env env = Env();
      if (!error_.empty()) {
        deferred_.Reject(prefixedError(env, error_).Value());
        return;
      }
      auto o = Napi::Object::New(env);
      o.Set("version", Napi::Number::New(env, double(version_)));
      o.Set("buildNs", Napi::Number::New(env, buildNs_));
      deferred_.Resolve(o);
    }
    void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

   private:
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<Classifier> core_;
    std::vector<RuleSpec> specs_;
    std::string error_;
    double buildNs_ = 0;
    uint64_t version_ = 0;
  };

  std::vector<RuleSpec> decodeRulesArg(const Napi::Value& v) {
    size_t len;
    const uint32_t* w = typedData<uint32_t>(v, napi_uint32_array, &len, "rules");
    if (len % wire::kRuleWords != 0)
      throw prefixedError(v.Env(), "PAL_NATIVE_ARG: rules length is not a multiple of 16");
    std::vector<RuleSpec> specs;
    std::string err;
    if (!wire::decodeRules(w, len / wire::kRuleWords, specs, &err)) throw prefixedError(v.Env(), err);
    return specs;
  }

  Napi::Value Compile(const Napi::CallbackInfo& info) {
    auto* worker = new CompileWorker(info.Env(), core_, decodeRulesArg(info[0]));
    auto promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value CompileSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto specs = decodeRulesArg(info[0]);
    auto t0 = std::chrono::steady_clock::now();
    std::string err;
    auto tables = Classifier::compile(specs, &err);
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (!tables) throw prefixedError(env, err);
    uint64_t version = core_->publishRules(std::move(tables));
    auto o = Napi::Object::New(env);
    o.Set("version", Napi::Number::New(env, double(version)));
    o.Set("buildNs", Napi::Number::New(env, ns));
    return o;
  }

  Napi::Value UpdateSets(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t len;
    const uint32_t* w = typedData<uint32_t>(info[0], napi_uint32_array, &len, "edits");
    if (len % wire::kEditWords != 0)
      throw prefixedError(env, "PAL_NATIVE_ARG: edits length is not a multiple of 6");
    std::string err;
    if (!wire::decodeEdits(w, len / wire::kEditWords, edits_, &err)) throw prefixedError(env, err);
    size_t changed = 0;
    uint64_t version = core_->applySetEdits(edits_.data(), edits_.size(), &changed);
    auto o = Napi::Object::New(env);
    o.Set("version", Napi::Number::New(env, double(version)));
    o.Set("changed", Napi::Number::New(env, double(changed)));
    return o;
  }

  static Napi::Value encodeMatch(Napi::Env env, const Match& m) {
    // -1 = no match; otherwise ruleId + action * 2^32 (exact in a double: < 2^40)
    if (!m.matched()) return Napi::Number::New(env, -1);
    return Napi::Number::New(env, double(m.ruleId) + double(m.action) * 4294967296.0);
  }

  Napi::Value Lookup4(const Napi::CallbackInfo& info) {
    // (src, dst, sport, dport, proto, minPriority): all numbers, checked in TS
    Header4 h{info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
              uint16_t(info[2].As<Napi::Number>().Uint32Value()),
              uint16_t(info[3].As<Napi::Number>().Uint32Value()),
              uint8_t(info[4].As<Napi::Number>().Uint32Value())};
    uint32_t minPriority = info[5].As<Napi::Number>().Uint32Value();
    ++lookups_;
    return encodeMatch(info.Env(), core_->lookup4(h, minPriority));
  }

  Napi::Value Lookup6(const Napi::CallbackInfo& info) {
    size_t len;
    const uint32_t* w = typedData<uint32_t>(info[0], napi_uint32_array, &len, "header");
    if (len < 10) throw prefixedError(info.Env(), "PAL_NATIVE_ARG: an IPv6 header has 10 words");
    Header6 h{wire::addr6(w), wire::addr6(w + 4), uint16_t(w[8] >> 16), uint16_t(w[8]),
              uint8_t(w[9])};
    uint32_t minPriority = info[1].As<Napi::Number>().Uint32Value();
    ++lookups_;
    return encodeMatch(info.Env(), core_->lookup6(h, minPriority));
  }

  Napi::Value LookupBatch(const Napi::CallbackInfo& info, size_t words, bool v6) {
    // (headers: Uint32Array, outRuleId: Uint32Array, outAction: Uint8Array, minPriority, scalar)
    Napi::Env env = info.Env();
    size_t hl, rl, al;
    const uint32_t* hw = typedData<uint32_t>(info[0], napi_uint32_array, &hl, "headers");
    uint32_t* outId = typedData<uint32_t>(info[1], napi_uint32_array, &rl, "outRuleId");
    uint8_t* outAction = typedData<uint8_t>(info[2], napi_uint8_array, &al, "outAction");
    const size_t n = hl / words;
    if (hl % words != 0 || rl < n || al < n)
      throw prefixedError(env, "PAL_NATIVE_ARG: batch arrays have inconsistent lengths");
    const uint32_t minPriority = info[3].As<Napi::Number>().Uint32Value();
    const bool scalar = info[4].ToBoolean().Value();
    if (v6) core_->lookupBatch6(hw, n, minPriority, scalar, outId, outAction);
    else core_->lookupBatch4(hw, n, minPriority, scalar, outId, outAction);
    lookups_ += n;
    return Napi::Number::New(env, double(n));
  }
  Napi::Value LookupBatch4(const Napi::CallbackInfo& info) { return LookupBatch(info, 4, false); }
  Napi::Value LookupBatch6(const Napi::CallbackInfo& info) { return LookupBatch(info, 10, true); }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    return statsObject(info.Env(), core_->stats(), lookups_);
  }

  std::shared_ptr<Classifier> core_;  // shared with in-flight compile workers
  std::vector<SetEdit> edits_;        // reused decode buffer (main thread only)
  uint64_t lookups_ = 0;              // headers classified natively (main thread only)
};

Napi::Object InitClassifier(Napi::Env env) {
  Napi::Object m = Napi::Object::New(env);
  m.Set("Classifier", ClassifierObject::Define(env));
  return m;
}

}  // namespace palisade::napi
