// libnftables JSON glue; see nft.h for the contract.
#include "nft.h"
#include "signals.h"

#include <nftables/libnftables.h>

#include <cstring>

namespace palisade::nft {

namespace {

class NftContext {
 public:
  NftContext() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {}
  ~NftContext() {
    if (ctx_ != nullptr) nft_ctx_free(ctx_);
  }
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

bool Fail(Failure& f, const char* code, std::string message) {
  f.code = code;
  f.message = std::move(message);
  return false;
}

}  // namespace

bool runJson(const std::string& doc, bool echo, std::string& output, Failure& failure) {
  if (!IsJsonObject(doc)) return Fail(failure, "ERR_PALISADE_NFT_INPUT", "nftRun takes a JSON object ({\"nftables\":[...]})");
  NftContext ctx;
  if (ctx.get() == nullptr) return Fail(failure, "ERR_PALISADE_NFT_CTX", "nft_ctx_new failed");
  unsigned flags = nft_ctx_output_get_flags(ctx.get()) | NFT_CTX_OUTPUT_JSON;
  if (echo) flags |= NFT_CTX_OUTPUT_ECHO | NFT_CTX_OUTPUT_HANDLE;
  nft_ctx_output_set_flags(ctx.get(), flags);
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return Fail(failure, "ERR_PALISADE_NFT_CTX", "cannot buffer libnftables output");
  }
  int rc;
  {
    SignalsDeferred deferred;
    rc = nft_run_cmd_from_buffer(ctx.get(), doc.c_str());
  }
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  const char* err = nft_ctx_get_error_buffer(ctx.get());
  if (rc != 0) {
    failure.nftError = err != nullptr ? err : "";
    return Fail(failure, "ERR_PALISADE_NFT",
                "nftables rejected the change: " + (failure.nftError.empty() ? std::string("(no error text)") : failure.nftError));
  }
  output = out != nullptr ? out : "";
  return true;
}

Failure netnsFailure(const kernel::NetnsScope& scope) {
  Failure f;
  f.code = "ERR_PALISADE_NETNS";
  f.err = scope.err();
  f.path = scope.failedPath();
  const char* what = scope.step() == kernel::NetnsScope::Step::Enter ? "cannot enter" : "cannot open";
  f.message = std::string(what) + " " + f.path + ": " + std::strerror(f.err);
  return f;
}

}  // namespace palisade::nft
