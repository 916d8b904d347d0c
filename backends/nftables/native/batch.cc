// One nf_tables netlink batch and its replies; see batch.h for the contract.
#include "batch.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "signals.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

namespace palisade::nft {

namespace {

struct SocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// Raises a socket buffer to `bytes` (SO_*BUFFORCE needs CAP_NET_ADMIN, which writing nf_tables needs anyway).
void RaiseBuffer(int fd, int force, int plain, size_t bytes) {
  const int v = bytes > (1u << 30) ? (1 << 30) : static_cast<int>(bytes);
  if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof v) != 0) setsockopt(fd, SOL_SOCKET, plain, &v, sizeof v);
}

bool SocketFail(Failure& f, const char* who, const char* step) {
  f.code = "ERR_PALISADE_NFT_NETLINK";
  f.err = errno;
  f.message = std::string(who) + ": netlink " + step + ": " + std::strerror(errno);
  return false;
}

// The one kept socket (batch.h, "Why one socket is kept"): the namespace it was opened in, by the
// device and inode of its nsfs file; guarded by its mutex (learners may write from other threads).
struct KeptSocket {
  std::mutex mu;
  std::unique_ptr<mnl_socket, SocketCloser> nl;
  dev_t dev = 0;
  ino_t ino = 0;
  uint32_t portid = 0;
};
KeptSocket& kept() {
  static KeptSocket* k = new KeptSocket();  // never destroyed: the process exit closes it
  return *k;
}

// Reads every reply queued on `fd` (MSG_DONTWAIT) and records the first error reply for `portid`.
bool DrainReplies(int fd, uint32_t portid, std::vector<char>& rx, const char* who, BatchReply& reply, Failure& failure) {
  for (;;) {
    const ssize_t n = recv(fd, rx.data(), rx.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        reply.overflow = true;
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return SocketFail(failure, who, "receive");
    }
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(rx.data()); mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_pid != portid && nlh->nlmsg_pid != 0) continue;
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) continue;
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (e->error != 0 && reply.refusal == 0) {
        reply.refusal = -e->error;
        reply.refusedSeq = nlh->nlmsg_seq;
      }
    }
  }
}

}  // namespace

bool exchangeBatch(const char* buf, size_t len, size_t replies, const char* who, BatchReply& reply, Failure& failure) {
  struct stat here {};
  if (stat("/proc/thread-self/ns/net", &here) != 0) return SocketFail(failure, who, "namespace stat");
  KeptSocket& k = kept();
  std::lock_guard<std::mutex> lock(k.mu);
  if (!k.nl || k.dev != here.st_dev || k.ino != here.st_ino) {
    k.nl.reset();  // the previous namespace's socket (its close may wait for nf_tables' release work)
    std::unique_ptr<mnl_socket, SocketCloser> nl(mnl_socket_open(NETLINK_NETFILTER));
    if (!nl) return SocketFail(failure, who, "socket");
    if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return SocketFail(failure, who, "bind");
    int one = 1;
    mnl_socket_setsockopt(nl.get(), NETLINK_CAP_ACK, &one, sizeof one);  // error replies without the message echoed
    k.portid = mnl_socket_get_portid(nl.get());
    k.nl = std::move(nl);
    k.dev = here.st_dev;
    k.ino = here.st_ino;
  }
  const int fd = mnl_socket_get_fd(k.nl.get());
  if (len > 200'000) RaiseBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, len + 4096);
  if (replies > 2'000) RaiseBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, replies * 128);

  SignalsDeferred deferred;
  std::vector<char> rx(MNL_SOCKET_BUFFER_SIZE > 65536 ? MNL_SOCKET_BUFFER_SIZE : 65536);
  // nothing of an earlier exchange may be read as this one's answer (every exchange drains, so
  // this finds nothing unless a receive failed half-way)
  BatchReply stale;
  Failure ignored;
  if (!DrainReplies(fd, k.portid, rx, who, stale, ignored)) {
    k.nl.reset();
    return SocketFail(failure, who, "receive");
  }
  if (mnl_socket_sendto(k.nl.get(), buf, len) < 0) {
    const int err = errno;
    k.nl.reset();
    errno = err;
    return SocketFail(failure, who, "send");
  }
  if (!DrainReplies(fd, k.portid, rx, who, reply, failure)) {
    k.nl.reset();
    return false;
  }
  return true;
}

}  // namespace palisade::nft
