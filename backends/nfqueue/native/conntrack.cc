// conntrack.cc: see conntrack.h. Message layout: nlmsghdr, nfgenmsg, then nested attributes
// CTA_TUPLE_ORIG { CTA_TUPLE_IP { CTA_IP_V4_SRC/DST | CTA_IP_V6_SRC/DST },
//                  CTA_TUPLE_PROTO { CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT } },
// CTA_MARK (be32), CTA_ZONE (be16)  (linux/netfilter/nfnetlink_conntrack.h).
#include "conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace palisade::nfq {

namespace {

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t(3); }

class Socket {
 public:
  Socket() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd_ >= 0) {
      sockaddr_nl sa{};
      sa.nl_family = AF_NETLINK;
      if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        close(fd_);
        fd_ = -1;
      }
      timeval tv{2, 0};
      if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
  }
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// A growing netlink message.
struct Msg {
  std::vector<uint8_t> b;
  Msg(uint16_t type, uint16_t flags, uint8_t family) {
    b.resize(NLMSG_HDRLEN + sizeof(nfgenmsg));
    auto* h = reinterpret_cast<nlmsghdr*>(b.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = 1;
    auto* g = reinterpret_cast<nfgenmsg*>(b.data() + NLMSG_HDRLEN);
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = 0;
  }
  void put(uint16_t type, const void* data, size_t len) {
    const size_t at = b.size();
    b.resize(at + align4(NLA_HDRLEN + len));
    auto* a = reinterpret_cast<nlattr*>(b.data() + at);
    a->nla_type = type;
    a->nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    std::memcpy(b.data() + at + NLA_HDRLEN, data, len);
  }
  size_t nestStart(uint16_t type) {
    const size_t at = b.size();
    b.resize(at + NLA_HDRLEN);
    auto* a = reinterpret_cast<nlattr*>(b.data() + at);
    a->nla_type = type | NLA_F_NESTED;
    return at;
  }
  void nestEnd(size_t at) { reinterpret_cast<nlattr*>(b.data() + at)->nla_len = static_cast<uint16_t>(b.size() - at); }
  const uint8_t* finish() {
    reinterpret_cast<nlmsghdr*>(b.data())->nlmsg_len = static_cast<uint32_t>(b.size());
    return b.data();
  }
};

bool sendMsg(int fd, Msg& m, std::string& error) {
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  const uint8_t* data = m.finish();
  if (sendto(fd, data, m.b.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
    error = std::string("netlink send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

// Calls fn(type, payload, len) for each attribute in [p, p+len).
template <class F>
void eachAttr(const uint8_t* p, size_t len, F fn) {
  size_t off = 0;
  while (off + NLA_HDRLEN <= len) {
    nlattr a;
    std::memcpy(&a, p + off, sizeof a);
    if (a.nla_len < NLA_HDRLEN || off + a.nla_len > len) return;
    fn(static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK), p + off + NLA_HDRLEN, static_cast<size_t>(a.nla_len - NLA_HDRLEN));
    off += align4(a.nla_len);
  }
}

bool parseEntry(const uint8_t* payload, size_t len, uint8_t family, CtEntry& e) {
  bool haveTuple = false;
  e.key.family = family == AF_INET ? 4 : 6;
  eachAttr(payload, len, [&](uint16_t type, const uint8_t* v, size_t n) {
    if (type == CTA_TUPLE_ORIG) {
      haveTuple = true;
      eachAttr(v, n, [&](uint16_t t2, const uint8_t* v2, size_t n2) {
        if (t2 == CTA_TUPLE_IP) {
          eachAttr(v2, n2, [&](uint16_t t3, const uint8_t* v3, size_t n3) {
            if ((t3 == CTA_IP_V4_SRC || t3 == CTA_IP_V4_DST) && n3 == 4) std::memcpy(t3 == CTA_IP_V4_SRC ? e.key.srcAddrNet : e.key.dstAddrNet, v3, 4);
            if ((t3 == CTA_IP_V6_SRC || t3 == CTA_IP_V6_DST) && n3 == 16) std::memcpy(t3 == CTA_IP_V6_SRC ? e.key.srcAddrNet : e.key.dstAddrNet, v3, 16);
          });
        } else if (t2 == CTA_TUPLE_PROTO) {
          eachAttr(v2, n2, [&](uint16_t t3, const uint8_t* v3, size_t n3) {
            if (t3 == CTA_PROTO_NUM && n3 >= 1) e.key.proto = v3[0];
            if ((t3 == CTA_PROTO_SRC_PORT || t3 == CTA_PROTO_DST_PORT) && n3 >= 2) {
              const uint16_t port = static_cast<uint16_t>((v3[0] << 8) | v3[1]);
              (t3 == CTA_PROTO_SRC_PORT ? e.key.srcPort : e.key.dstPort) = port;
            }
          });
        }
      });
    } else if (type == CTA_MARK && n == 4) {
      uint32_t m;
      std::memcpy(&m, v, 4);
      e.mark = ntohl(m);
    } else if (type == CTA_ZONE && n >= 2) {
      e.zone = static_cast<uint16_t>((v[0] << 8) | v[1]);
    }
  });
  return haveTuple && (e.key.proto == kProtoTcp || e.key.proto == kProtoUdp || e.key.proto == kProtoSctp);
}

}  // namespace

bool ctDump(std::vector<CtEntry>& out, std::string& error) {
  Socket s;
  if (s.fd() < 0) {
    error = std::string("netlink socket: ") + std::strerror(errno);
    return false;
  }
  Msg m((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, AF_UNSPEC);
  if (!sendMsg(s.fd(), m, error)) return false;
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    const ssize_t n = recv(s.fd(), buf.data(), buf.size(), 0);
    if (n < 0) {
      error = std::string("conntrack dump: ") + std::strerror(errno);
      return false;
    }
    size_t off = 0;
    while (off + NLMSG_HDRLEN <= static_cast<size_t>(n)) {
      nlmsghdr h;
      std::memcpy(&h, buf.data() + off, sizeof h);
      if (h.nlmsg_len < NLMSG_HDRLEN || off + h.nlmsg_len > static_cast<size_t>(n)) break;
      if (h.nlmsg_type == NLMSG_DONE) return true;
      if (h.nlmsg_type == NLMSG_ERROR) {
        int code = 0;
        if (h.nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) std::memcpy(&code, buf.data() + off + NLMSG_HDRLEN, sizeof code);
        if (code == 0) return true;
        error = std::string("conntrack dump: ") + std::strerror(-code);
        return false;
      }
      const size_t payloadAt = NLMSG_HDRLEN + sizeof(nfgenmsg);
      if (h.nlmsg_len >= payloadAt) {
        nfgenmsg g;
        std::memcpy(&g, buf.data() + off + NLMSG_HDRLEN, sizeof g);
        CtEntry e;
        if ((g.nfgen_family == AF_INET || g.nfgen_family == AF_INET6) &&
            parseEntry(buf.data() + off + payloadAt, h.nlmsg_len - payloadAt, g.nfgen_family, e))
          out.push_back(e);
      }
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
  }
}

bool ctDelete(const CtEntry& e, std::string& error) {
  Socket s;
  if (s.fd() < 0) {
    error = std::string("netlink socket: ") + std::strerror(errno);
    return false;
  }
  const bool v4 = e.key.family == 4;
  Msg m((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, v4 ? AF_INET : AF_INET6);
  const size_t tuple = m.nestStart(CTA_TUPLE_ORIG);
  const size_t ip = m.nestStart(CTA_TUPLE_IP);
  m.put(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, e.key.srcAddrNet, v4 ? 4 : 16);
  m.put(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, e.key.dstAddrNet, v4 ? 4 : 16);
  m.nestEnd(ip);
  const size_t proto = m.nestStart(CTA_TUPLE_PROTO);
  m.put(CTA_PROTO_NUM, &e.key.proto, 1);
  const uint16_t sport = htons(e.key.srcPort), dport = htons(e.key.dstPort);
  m.put(CTA_PROTO_SRC_PORT, &sport, 2);
  m.put(CTA_PROTO_DST_PORT, &dport, 2);
  m.nestEnd(proto);
  m.nestEnd(tuple);
  if (e.zone != 0) {
    const uint16_t zone = htons(e.zone);
    m.put(CTA_ZONE, &zone, 2);
  }
  if (!sendMsg(s.fd(), m, error)) return false;
  uint8_t buf[512];
  const ssize_t n = recv(s.fd(), buf, sizeof buf, 0);
  if (n < static_cast<ssize_t>(NLMSG_HDRLEN + sizeof(int))) {
    error = "conntrack delete: no acknowledgement";
    return false;
  }
  nlmsghdr h;
  std::memcpy(&h, buf, sizeof h);
  int code = 0;
  std::memcpy(&code, buf + NLMSG_HDRLEN, sizeof code);
  if (h.nlmsg_type != NLMSG_ERROR || (code != 0 && code != -ENOENT)) {  // ENOENT: gone meanwhile
    error = std::string("conntrack delete: ") + std::strerror(-code);
    return false;
  }
  return true;
}

}  // namespace palisade::nfq
