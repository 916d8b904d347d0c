// NFLOG reader; see nflog.h for the contract.
#include "nflog.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kernel/netns_scope.h"

namespace palisade::nft {

namespace {

constexpr uint32_t kCopyRange = 128;

// One NFULNL_MSG_CONFIG request with one attribute, acknowledged (NLM_F_ACK). 0 or an errno.
int SendConfig(int fd, uint16_t group, uint16_t attrType, const void* attr, uint16_t attrLen, uint32_t seq) {
  alignas(4) unsigned char buf[64] = {};
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* nfg = reinterpret_cast<nfgenmsg*>(buf + NLMSG_HDRLEN);
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(group);
  const size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
  auto* nla = reinterpret_cast<nlattr*>(buf + off);
  nla->nla_type = attrType;
  nla->nla_len = static_cast<uint16_t>(NLA_HDRLEN + attrLen);
  std::memcpy(buf + off + NLA_HDRLEN, attr, attrLen);
  nlh->nlmsg_len = static_cast<uint32_t>(off + NLA_ALIGN(nla->nla_len));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, buf, nlh->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return errno;
  // wait (bounded) for the ack
  for (int tries = 0; tries < 50; tries++) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    alignas(4) unsigned char rb[512];
    ssize_t n = recv(fd, rb, sizeof rb, 0);
    if (n < 0) return errno == EAGAIN ? ETIMEDOUT : errno;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(rb); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq) {
        return -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
      }
    }
  }
  return ETIMEDOUT;
}

std::string AddrText(int family, const unsigned char* p) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, p, text, sizeof text);
  return text;
}

// Fills `o` from a packet starting at its network header; false when it is not IPv4/IPv6.
bool ParsePacket(const unsigned char* p, size_t len, NflogPacket& o) {
  if (len < 1) return false;
  const int version = p[0] >> 4;
  size_t l4 = 0;
  int proto = -1;
  bool firstFragment = true;
  if (version == 4 && len >= 20) {
    const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    proto = p[9];
    firstFragment = ((p[6] & 0x1f) | p[7]) == 0;
    o.family = 4;
    o.src = AddrText(AF_INET, p + 12);
    o.dst = AddrText(AF_INET, p + 16);
    l4 = ihl;
  } else if (version == 6 && len >= 40) {
    o.family = 6;
    o.src = AddrText(AF_INET6, p + 8);
    o.dst = AddrText(AF_INET6, p + 24);
    int nh = p[6];
    size_t off = 40;
    for (int hops = 0; hops < 8; hops++) {
      if ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= len) {
        const int next = p[off];
        off += (static_cast<size_t>(p[off + 1]) + 1) * 8;
        nh = next;
      } else if (nh == 44 && off + 8 <= len) {  // fragment header
        firstFragment = ((p[off + 2] << 8 | p[off + 3]) & 0xfff8) == 0;
        nh = p[off];
        off += 8;
      } else {
        break;
      }
    }
    proto = nh;
    l4 = off;
  } else {
    return false;
  }
  o.protocol = proto;
  if ((proto == 6 || proto == 17 || proto == 132) && firstFragment && l4 + 4 <= len) {
    o.hasPorts = true;
    o.srcPort = static_cast<uint16_t>((p[l4] << 8) | p[l4 + 1]);
    o.dstPort = static_cast<uint16_t>((p[l4 + 2] << 8) | p[l4 + 3]);
  }
  return true;
}

}  // namespace

Failure nflogFailure(const std::string& what, int err) {
  Failure f;
  f.code = "ERR_PALISADE_NFLOG";
  f.err = err;
  f.message = what + ": " + std::strerror(err);
  return f;
}

int nflogOpen(uint16_t group, const std::string& netnsPath, Failure& failure) {
  int fd;
  {
    kernel::NetnsScope scope(netnsPath);
    if (!scope.ok()) {
      failure = netnsFailure(scope);
      return -1;
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  }
  if (fd < 0) {
    failure = nflogFailure("socket(NETLINK_NETFILTER)", errno);
    return -1;
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  int rcvbuf = 4 << 20;
  // best effort: the default buffer only makes ENOBUFS (dropped logs, counted by the kernel) likelier
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    close(fd);
    failure = nflogFailure("bind netlink socket", err);
    return -1;
  }
  nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
  int err = SendConfig(fd, group, NFULA_CFG_CMD, &cmd, sizeof cmd, 1);
  if (err == 0) {
    nfulnl_msg_config_mode mode{};
    mode.copy_range = htonl(kCopyRange);
    mode.copy_mode = NFULNL_COPY_PACKET;
    err = SendConfig(fd, group, NFULA_CFG_MODE, &mode, sizeof mode, 2);
  }
  if (err == 0) {
    // deliver each logged packet at once (the kernel default batches 100 packets or 1 s)
    uint32_t qthresh = htonl(1);
    err = SendConfig(fd, group, NFULA_CFG_QTHRESH, &qthresh, sizeof qthresh, 3);
  }
  if (err != 0) {
    close(fd);
    failure = nflogFailure("bind NFLOG group " + std::to_string(group), err);
    return -1;
  }
  return fd;
}

bool nflogDrain(int fd, uint32_t max, std::vector<NflogPacket>& out, Failure& failure) {
  std::vector<unsigned char> buf(1 << 16);
  while (out.size() < max) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) continue;  // the kernel dropped some logs; keep reading what is there
      failure = nflogFailure("recv NFLOG", errno);
      return false;
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
      auto* base = reinterpret_cast<unsigned char*>(NLMSG_DATA(h));
      const size_t attrStart = NLMSG_ALIGN(sizeof(nfgenmsg));
      const size_t total = h->nlmsg_len - NLMSG_HDRLEN;
      NflogPacket pkt;
      const unsigned char* payload = nullptr;
      size_t payloadLen = 0;
      for (size_t off = attrStart; off + NLA_HDRLEN <= total;) {
        auto* a = reinterpret_cast<nlattr*>(base + off);
        if (a->nla_len < NLA_HDRLEN || off + a->nla_len > total) break;
        const unsigned char* data = base + off + NLA_HDRLEN;
        const size_t dlen = a->nla_len - NLA_HDRLEN;
        const int type = a->nla_type & NLA_TYPE_MASK;
        if (type == NFULA_PREFIX) pkt.prefix.assign(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), dlen));
        if (type == NFULA_PAYLOAD) {
          payload = data;
          payloadLen = dlen;
        }
        off += NLA_ALIGN(a->nla_len);
      }
      if (payload == nullptr || !ParsePacket(payload, payloadLen, pkt)) continue;
      out.push_back(std::move(pkt));
      if (out.size() >= max) break;
    }
  }
  return true;
}

void nflogClose(int fd) { close(fd); }

}  // namespace palisade::nft
