// conntrack.h: the two conntrack operations --strict needs, over raw ctnetlink (no
// libnetfilter_conntrack: only its runtime library is on Debian's minimal set, not the headers).
//
// What: ctDump lists the conntrack table of the CALLING THREAD's network namespace (IPv4 and
// IPv6, original-direction tuple, mark, zone); ctDelete removes one entry by its original tuple
// and zone. Only TCP, UDP and SCTP entries are returned (ICMP entries are short-lived and have no
// ports to judge).
// Invariants: every attribute read is bounds-checked against its netlink message; a malformed
// message is skipped, never trusted.
// Cost: one netlink dump (~1 us per entry) and one request + ack per delete.
// Thread-safety: each call opens and closes its own socket.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "packet.h"

namespace palisade::nfq {

struct CtEntry {
  FlowKey key;  // original direction
  uint16_t zone = 0;
  uint32_t mark = 0;
};

bool ctDump(std::vector<CtEntry>& out, std::string& error);
bool ctDelete(const CtEntry& entry, std::string& error);

}  // namespace palisade::nfq
