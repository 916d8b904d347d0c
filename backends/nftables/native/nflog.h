// nflog.h: a reader for the NFLOG group the nftables renderer logs denied flows to.
//
// What: RegisterNflog adds to the addon's exports
//   nflogOpen(group: number, netnsPath?: string): number
//     A nonblocking NETLINK_NETFILTER socket (opened inside netnsPath when given) bound to NFLOG
//     `group` with NFULNL_COPY_PACKET of the first 128 bytes and a queue threshold of 1 (each
//     packet is sent at once); returns its fd.
//   nflogDrain(fd: number, max?: number): Array<{prefix, family, protocol, src, dst, srcPort?, dstPort?}>
//     Every logged packet waiting on the socket (at most `max`, default 4096), parsed from the
//     network header: addresses as text, ports for TCP/UDP/SCTP (IPv6 extension headers walked).
//   nflogClose(fd: number): void   (the kernel drops the group binding with the socket)
// Raw nfnetlink (linux/netfilter/nfnetlink_log.h), no libnetfilter_log: the message format is small
// and stable. Errors: ERR_PALISADE_NFLOG (with `errno`); ERR_PALISADE_NETNS from netns_scope.h.
// Cost: one recv per datagram (the kernel batches up to its queue threshold). Thread-safety: the
// caller owns the fd; drain from one thread.
#pragma once
#include <napi.h>

void RegisterNflog(Napi::Env env, Napi::Object exports);
