/*
 * setelem.h: set-element adds and deletes for `table inet palisade` as ONE nf_tables netlink batch
 * (libnftnl builds the messages, libmnl the socket), without libnftables and its cache. Plain C++
 * (the N-API side is addon/napi/nftables.cc, which exposes this to JS as `nftSetElements`).
 *
 * What: applySetElements(batch, failure) sends NFNL_MSG_BATCH_BEGIN, one NFT_MSG_DELSETELEM or
 * NFT_MSG_NEWSETELEM (NLM_F_CREATE, so adding a present element is not an error, as libnftables'
 * `add element`) or NFT_MSG_DESTROYSETELEM (Linux >= 6.3: a delete that is no error when the
 * element is absent, for sets whose elements time out in the kernel) per element in the given order, NFNL_MSG_BATCH_END (NLM_F_ACK), on a fresh
 * NETLINK_NETFILTER socket of the calling thread's network namespace (the glue enters --netns with
 * addon/kernel/netns_scope.h first), then reads every reply queued for it. Elements are packed
 * typed data, never text: per element an op (0 delete, 1 add, 2 destroy), a set-name index, a
 * family (4 or 6; 44 or 66 for an address pair of a concatenated `ip saddr . ip daddr` set, key
 * 8 or 32 bytes), a 16- or 32-byte address slot (the key at its start) and, optionally, a timeout in ms (adds to
 * a set with the timeout flag; 0 = none: the element never expires). One element per message, so a kernel error names the
 * element it refused.
 *
 * Invariants:
 * - All or nothing: the kernel applies an nf_tables batch atomically; an error on any message (or
 *   on the commit) aborts the whole batch. Success is "no error reply": nfnetlink processes the
 *   batch synchronously inside sendto(2), so every reply is queued when it returns, and an aborted
 *   batch always produces at least one error reply (the failing message's, or the commit's against
 *   the batch begin). A receive-buffer overflow (ENOBUFS) can only lose error replies, so it is
 *   reported as a refusal too.
 * - Only plain (non-interval) sets: an interval set needs its range end elements and overlap
 *   checks, which are libnftables' job (the backend keeps the JSON path for those, backend.ts).
 * - Failures are results: a false return fills nft.h's Failure with code ERR_PALISADE_NFT (the
 *   kernel refused; `err` its errno, `element` the failing element's index or -1 for the commit,
 *   `nftError` the text), ERR_PALISADE_NFT_INPUT (bad arguments: a bug in the caller; nothing was
 *   sent) or ERR_PALISADE_NFT_NETLINK (the socket could not be opened, bound or written; `err`).
 * - Signals are deferred for the exchange (signals.h).
 *
 * Cost: O(elements); a few microseconds per element plus one socket open/bind/close (~10 us),
 * independent of how many sets and elements the table holds.
 * Thread-safety: each call has its own socket; safe from any thread.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nft.h"

namespace palisade::nft {

struct SetElementBatch {
  std::vector<std::string> sets;  // set names in table inet palisade
  const uint8_t* ops = nullptr;   // per element: 0 delete, 1 add
  const uint32_t* set = nullptr;  // per element: index into `sets`
  const uint8_t* family = nullptr;  // per element: 4 or 6 (an address), 44 or 66 (a pair: key = two addresses)
  const uint8_t* addr = nullptr;  // `stride` bytes per element, the key at its start (IPv4: 4 bytes, pair 8 / 32)
  size_t stride = 16;             // 16, or 32 (needed by an IPv6 pair)
  const uint32_t* timeoutMs = nullptr;  // per element (adds only): 0 = no timeout; null = none at all
  size_t count = 0;
};

// Sends `batch` as one kernel transaction; false (and `failure` filled) when nothing was applied.
bool applySetElements(const SetElementBatch& batch, Failure& failure);

}  // namespace palisade::nft
