/*
 * batch.h: one nf_tables netlink batch sent and its replies read, shared by the set-element batch
 * (setelem.h) and the table program (table.h). Plain C++ over libmnl.
 *
 * What: exchangeBatch(buf, len, ...) opens a fresh NETLINK_NETFILTER socket in the calling thread's
 * network namespace, raises its buffers to fit the batch (SO_*BUFFORCE: writing nf_tables needs
 * CAP_NET_ADMIN anyway), sends the already built batch (NFNL_MSG_BATCH_BEGIN .. END) in one
 * sendto(2), then reads every reply queued for it and records the first error reply.
 *
 * Invariants:
 * - nfnetlink processes a batch synchronously inside sendto(2): when it returns, every reply is
 *   queued, and an aborted batch always produced at least one error reply (the failing message's,
 *   or the commit's). "No error reply and no receive overflow" therefore means "committed".
 * - A receive-buffer overflow (ENOBUFS) can only lose error replies: reported as `overflow`.
 * - Signals are deferred for the exchange (signals.h).
 * Cost: one socket open/bind/close (~10 us) plus the kernel's work on the batch.
 * Thread-safety: each call has its own socket; safe from any thread.
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
