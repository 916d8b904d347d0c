/*
 * nft.h: Palisade's nftables kernel glue, libnftables' JSON API. Plain C++ (the N-API side is
 * addon/napi/nftables.cc, which exposes this to JS as `nftRun`).
 *
 * What: runJson(doc, echo) runs one JSON document ({"nftables":[...]}) through a fresh libnftables
 * context with NFT_CTX_OUTPUT_JSON and buffered output/error, in the calling thread's network
 * namespace (the glue enters --netns with addon/kernel/netns_scope.h first). All commands of the
 * document go to the kernel as ONE netlink batch: either all apply or none does. `output` is
 * libnftables' output buffer (JSON text, empty for pure changes unless `echo`).
 *
 * Invariants:
 * - Input is JSON only: the document must be a JSON object (first non-blank byte '{'); nft text
 *   is never built or parsed from caller strings. (libnftables 1.0.6 falls back to its text
 *   parser when the JSON does not parse; a text document cannot start with '{', so that fallback
 *   can only produce a syntax error.)
 * - Failures are results, never exceptions: a false return fills `Failure`, whose `code` is one of
 *     ERR_PALISADE_NFT         the kernel or libnftables rejected the document; `nftError` holds
 *                              libnftables' error text; nothing was changed
 *     ERR_PALISADE_NFT_INPUT   the document is not a JSON object (or bad arguments, from the glue)
 *     ERR_PALISADE_NFT_CTX     nft_ctx_new failed
 *     ERR_PALISADE_NETNS       the namespace could not be opened or entered (`err`, `path` set)
 *     ERR_PALISADE_NFLOG       an NFLOG socket operation failed (nflog.h; `err` set)
 *     ERR_PALISADE_NFT_NETLINK a set-element batch's netlink socket failed (setelem.h; `err` set)
 *
 * Cost: ~85 us per run on a small ruleset plus a full cache load of the target table's family
 * (grows with ruleset size, ~3 ms at 2000 set elements); a netns switch pair ~14 us.
 * Thread-safety: each call makes its own context; safe from any thread.
 */
#pragma once

#include <string>

#include "kernel/netns_scope.h"

namespace palisade::nft {

struct Failure {
  std::string code;
  std::string message;
  int err = 0;           // errno, for ERR_PALISADE_NETNS, ERR_PALISADE_NFLOG, and set-element batches (setelem.h)
  std::string path;      // the namespace path, for ERR_PALISADE_NETNS
  std::string nftError;  // libnftables' (or setelem.h's) error text, for ERR_PALISADE_NFT
  long element = -1;     // setelem.h: the index of the element the kernel refused, -1 when none
};

// Runs `doc` in one kernel transaction; false (and `failure` filled) when nothing was applied.
bool runJson(const std::string& doc, bool echo, std::string& output, Failure& failure);

// The ERR_PALISADE_NETNS failure for a scope that did not enter (scope.ok() is false).
Failure netnsFailure(const kernel::NetnsScope& scope);

}  // namespace palisade::nft
