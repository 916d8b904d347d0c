/*
 * table.h: a whole change of `table inet palisade` (a full install, or set contents) as ONE
 * nf_tables netlink batch built with libnftnl, without libnftables (no JSON parse, no cache
 * load, no nft text). Plain C++ (the N-API side is addon/napi/nftables.cc: `nftApplyProgram`).
 *
 * What: applyProgram(p, failure) turns a table program (backends/nftables/netlink-program.ts
 * writes it) into NFNL_MSG_BATCH_BEGIN, one message per command, NFNL_MSG_BATCH_END, and sends it
 * (batch.h). The program is a little-endian u32 word stream of commands; every name, log prefix
 * and comment is an index into `strings`, every key and compared value is raw bytes; nothing is
 * parsed as text. Commands (operands in words):
 *   1 table add              []                          NEWTABLE, NLM_F_CREATE
 *   2 table delete           []                          DELTABLE
 *   3 chain add              [name, hook, prio, policy]  NEWCHAIN, NLM_F_CREATE (hook ~0: regular chain;
 *                                                        else NF_INET_* with type filter)
 *   4 chain flush            [name]                      DELRULE of the chain (all its rules)
 *   5 chain delete           [name]
 *   6 set add                [name, keyType, keyLen, flags]  NEWSET, NLM_F_CREATE, with a set id;
 *                            later lookups and elements naming the same string INDEX carry that id
 *                            (an anonymous set, "__set%d" with NFT_SET_ANONYMOUS, gets its own index)
 *   7 set flush              [name]                      DELSETELEM without elements
 *   8 set delete             [name]
 *   9 elements               [name, op 0 del / 1 add, keyLen, first, count]  elements first..first+count
 *                            of the element arrays (16 key bytes, flags, timeout ms each), in messages
 *                            of at most kElementsPerMessage; a key of more than 16 bytes (keyLen <= 32:
 *                            an IPv6 pair of a concatenated set) spans two consecutive slots, the
 *                            flags and timeout being the first one's; count counts slots
 *  10 rule                   [chain, comment (~0 none), exprs, expr...]  NEWRULE, NLM_F_CREATE|APPEND
 * Expressions (register 1 throughout, as nft emits them):
 *   1 meta [key]  2 ct [key]  3 payload [base, offset, len]  4 cmp [op, len, ceil(len/4) data words]
 *   5 bitwise [len, mask words, xor words]  6 lookup [set name]  7 counter []  8 limit [rate/s, burst]
 *   9 log [prefix, group]  10 verdict [code (int32), chain (~0 none)]
 *  11 payload to a register [base, offset, len, dreg]  (a field of a concatenation `ip saddr . ip daddr`:
 *     dreg as nft allocates it, NFT_REG_1 then NFT_REG32_01 for IPv4, NFT_REG_2 for IPv6)
 *
 * Invariants:
 * - All or nothing: the kernel applies the batch atomically (batch.h says how success is judged).
 * - Bad programs are refused before anything is sent (ERR_PALISADE_NFT_INPUT: a caller bug).
 * - Failures are results: ERR_PALISADE_NFT (refused; `err`, `nftError` naming the command),
 *   ERR_PALISADE_NFT_NETLINK (socket), ERR_PALISADE_NFT_INPUT.
 * Cost: O(program words + elements); the batch is built in memory (~100 bytes per rule, ~40 per
 * element) and sent in one sendto(2).
 * Thread-safety: no shared state; safe from any thread.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nft.h"

namespace palisade::nft {

struct TableProgram {
  const uint32_t* words = nullptr;
  size_t wordCount = 0;
  std::vector<std::string> strings;
  const uint8_t* elementKeys = nullptr;      // 16 bytes per element slot
  const uint8_t* elementFlags = nullptr;     // per element: NFT_SET_ELEM_* flags (1 = interval end)
  const uint32_t* elementTimeoutMs = nullptr;  // per element: 0 = none (sets with the timeout flag)
  size_t elementCount = 0;
};

bool applyProgram(const TableProgram& program, Failure& failure);

}  // namespace palisade::nft
