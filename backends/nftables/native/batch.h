/*
 * batch.h: one nf_tables netlink batch sent and its replies read, shared by the set-element batch
 * (setelem.h) and the table program (table.h). Plain C++ over libmnl.
 *
 * What: exchangeBatch(buf, len, ...) takes the NETLINK_NETFILTER socket kept for the calling
 * thread's network namespace (opening one there when the kept socket is another namespace's, or
 * none), raises its buffers to fit the batch (SO_*BUFFORCE: writing nf_tables needs CAP_NET_ADMIN
 * anyway), sends the already built batch (NFNL_MSG_BATCH_BEGIN .. END) in one sendto(2), then reads
 * every reply queued for it and records the first error reply.
 *
 * Why one socket is kept: closing a NETLINK_NETFILTER socket runs nf_tables' NETLINK_URELEASE
 * notifier, which flushes the transaction-release work (nf_tables_trans_destroy_flush_work) when
 * an earlier commit freed anything, and that work waits for an RCU grace period: measured 8-17 ms
 * per close after a set-element delete on this 2-core machine at load 7 (strace -T: close(2)),
 * against 16-27 us for the sendto(2) that did the commit. So a delta's cost was the close, not the
 * change. One socket (of the namespace used last: a node agent uses one) stays open for the
 * process; a change to another namespace closes it first. A socket holds its namespace: a deleted
 * namespace lives on until the next exchange elsewhere or the process exit.
 *
 * Invariants:
 * - nfnetlink processes a batch synchronously inside sendto(2): when it returns, every reply is
 *   queued, and an aborted batch always produced at least one error reply (the failing message's,
 *   or the commit's). "No error reply and no receive overflow" therefore means "committed".
 * - A receive-buffer overflow (ENOBUFS) can only lose error replies: reported as `overflow`.
 * - Signals are deferred for the exchange (signals.h).
 * Cost: one stat(2) plus the kernel's work on the batch (a socket open/bind when the namespace
 * changes, ~10 us, and that of the previous namespace's close).
 * Thread-safety: one mutex around the kept socket: safe from any thread, one exchange at a time.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "nft.h"

namespace palisade::nft {

struct BatchReply {
  int refusal = 0;        // errno of the first error reply, 0 when none
  long refusedSeq = -1;   // the seq of the message it answered
  bool overflow = false;  // replies were lost (receive buffer overflow)
};

// Sends the batch; false (and `failure` filled, code ERR_PALISADE_NFT_NETLINK) when the socket
// failed; true otherwise, with the kernel's answer in `reply`. `replies` bounds how many error
// replies can come back (one per message), to size the receive buffer.
bool exchangeBatch(const char* buf, size_t len, size_t replies, const char* who, BatchReply& reply, Failure& failure);

}  // namespace palisade::nft
