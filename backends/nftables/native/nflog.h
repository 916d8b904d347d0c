// nflog.h: a reader for the NFLOG group the nftables renderer logs denied flows to. Plain C++ (the
// N-API side is addon/napi/nftables.cc: nflogOpen / nflogDrain / nflogClose).
//
// What:
//   nflogOpen(group, netnsPath): a nonblocking NETLINK_NETFILTER socket (opened inside netnsPath
//     when not "") bound to NFLOG `group` with NFULNL_COPY_PACKET of the first 128 bytes and a
//     queue threshold of 1 (each packet is sent at once); returns its fd, or -1 with `failure`.
//   nflogDrain(fd, max, out): every logged packet waiting on the socket (at most `max`), parsed
//     from the network header: addresses as text, ports for TCP/UDP/SCTP (IPv6 extension headers
//     walked). Packets that are not IPv4/IPv6 are skipped.
//   nflogClose(fd): closes it (the kernel drops the group binding with the socket).
// Raw nfnetlink (linux/netfilter/nfnetlink_log.h), no libnetfilter_log: the message format is small
// and stable. Failures (nft.h Failure): ERR_PALISADE_NFLOG (with `err`), ERR_PALISADE_NETNS.
// Cost: one recv per datagram (the kernel batches up to its queue threshold). Thread-safety: the
// caller owns the fd; drain from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nft.h"

namespace palisade::nft {

struct NflogPacket {
  std::string prefix;
  int family = 0;    // 4 or 6
  int protocol = 0;  // IP protocol number (after IPv6 extension headers)
  std::string src;
  std::string dst;
  bool hasPorts = false;  // TCP/UDP/SCTP, first fragment, ports captured
  uint16_t srcPort = 0;
  uint16_t dstPort = 0;
};

int nflogOpen(uint16_t group, const std::string& netnsPath, Failure& failure);
bool nflogDrain(int fd, uint32_t max, std::vector<NflogPacket>& out, Failure& failure);
void nflogClose(int fd);

// The ERR_PALISADE_NFLOG failure "`what`: strerror(err)".
Failure nflogFailure(const std::string& what, int err);

}  // namespace palisade::nft
