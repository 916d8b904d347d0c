/*
 * Palisade's nftables glue: libnftables' JSON API, optionally inside a network namespace.
 *
 * What: `RegisterNftables(env, exports)` adds to the addon's exports
 *   nftRun(jsonDocument: string, netnsPath?: string, echo?: boolean): string
 *     Runs one JSON document ({"nftables":[...]}) through a fresh libnftables context with
 *     NFT_CTX_OUTPUT_JSON and buffered output/error; returns the output buffer (JSON text, empty
 *     for pure changes unless `echo`). All commands of the document go to the kernel as ONE
 *     netlink batch: either all apply or none does.
 *   nftWithNetns(netnsPath: string, fn: () => T): T
 *     Calls fn with the calling thread switched (setns CLONE_NEWNET) into the namespace at
 *     netnsPath, and switches back afterwards, also when fn throws. For synchronous native calls
 *     only: Node sockets created in fn are created later, in the original namespace.
 *
 * Invariants:
 * - Input is JSON only: the document must be a JSON object (first non-blank byte '{'); nft text
 *   is never built or parsed from caller strings. (libnftables 1.0.6 falls back to its text
 *   parser when the JSON does not parse; a text document cannot start with '{', so that fallback
 *   can only produce a syntax error.)
 * - Errors come back as JS errors with a stable `code`:
 *     ERR_PALISADE_NFT         the kernel or libnftables rejected the document; `nftError` holds
 *                              libnftables' error text; nothing was changed
 *     ERR_PALISADE_NFT_INPUT   the document is not a JSON object
 *     ERR_PALISADE_NFT_CTX     nft_ctx_new failed
 *     ERR_PALISADE_NETNS       the namespace could not be opened or entered (`errno` set)
 *   If switching BACK to the original namespace fails, the process aborts: carrying on would run
 *   later calls (and other code on this thread) in the wrong namespace.
 *
 * Cost: ~85 us per nftRun on a small ruleset plus a full cache load of the target table's family
 * (grows with ruleset size, ~3 ms at 2000 set elements); setns pair ~14 us (toolchain.md §6).
 * Thread-safety: each call makes its own context; the namespace switch affects only the calling
 * thread, for the duration of the call.
 */
#pragma once
#include <napi.h>

void RegisterNftables(Napi::Env env, Napi::Object exports);
