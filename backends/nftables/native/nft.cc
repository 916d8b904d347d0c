// libnftables JSON glue; see nft.h for the contract.
#include "nft.h"
#include "netns_scope.h"
#include "nflog.h"

#include <nftables/libnftables.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <unistd.h>

namespace {

Napi::Error NftError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

class NftContext {
 public:
  explicit NftContext(Napi::Env env) : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
    if (ctx_ == nullptr) throw NftError(env, "ERR_PALISADE_NFT_CTX", "nft_ctx_new failed");
  }
  ~NftContext() { nft_ctx_free(ctx_); }
  NftContext(const NftContext&) = delete;
  NftContext& operator=(const NftContext&) = delete;
  nft_ctx* get() const { return ctx_; }

 private:
  nft_ctx* ctx_;
};

bool IsJsonObject(const std::string& doc) {
  for (char c : doc) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

std::string RunJson(Napi::Env env, const std::string& doc, bool echo) {
  if (!IsJsonObject(doc)) throw NftError(env, "ERR_PALISADE_NFT_INPUT", "nftRun takes a JSON object ({\"nftables\":[...]})");
  NftContext ctx(env);
  unsigned flags = nft_ctx_output_get_flags(ctx.get()) | NFT_CTX_OUTPUT_JSON;
  if (echo) flags |= NFT_CTX_OUTPUT_ECHO | NFT_CTX_OUTPUT_HANDLE;
  nft_ctx_output_set_flags(ctx.get(), flags);
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    throw NftError(env, "ERR_PALISADE_NFT_CTX", "cannot buffer libnftables output");
  }
  int rc = nft_run_cmd_from_buffer(ctx.get(), doc.c_str());
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  const char* err = nft_ctx_get_error_buffer(ctx.get());
  if (rc != 0) {
    std::string text = err != nullptr ? err : "";
    Napi::Error e = NftError(env, "ERR_PALISADE_NFT", "nftables rejected the change: " + (text.empty() ? std::string("(no error text)") : text));
    e.Set("nftError", Napi::String::New(env, text));
    throw e;
  }
  return out != nullptr ? out : "";
}

Napi::Value NftRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw NftError(env, "ERR_PALISADE_NFT_INPUT", "nftRun(json: string, netnsPath?: string, echo?: boolean)");
  std::string doc = info[0].As<Napi::String>().Utf8Value();
  bool echo = info.Length() >= 3 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  if (info.Length() >= 2 && info[1].IsString()) {
    palisade::nft::NetnsScope scope(env, info[1].As<Napi::String>().Utf8Value());
    return Napi::String::New(env, RunJson(env, doc, echo));
  }
  return Napi::String::New(env, RunJson(env, doc, echo));
}

Napi::Value NftWithNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction()) {
    throw NftError(env, "ERR_PALISADE_NFT_INPUT", "nftWithNetns(netnsPath: string, fn: () => T)");
  }
  palisade::nft::NetnsScope scope(env, info[0].As<Napi::String>().Utf8Value());
  return info[1].As<Napi::Function>().Call({});
}

}  // namespace

void RegisterNftables(Napi::Env env, Napi::Object exports) {
  exports.Set("nftRun", Napi::Function::New(env, NftRun, "nftRun"));
  exports.Set("nftWithNetns", Napi::Function::New(env, NftWithNetns, "nftWithNetns"));
  RegisterNflog(env, exports);
}
