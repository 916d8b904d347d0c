// Set-element batches over netlink; see setelem.h for the contract.
#include "setelem.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "batch.h"

// Linux >= 6.3 (uapi nf_tables.h enum nf_tables_msg_types); older userspace headers lack it
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM 30
#endif

namespace palisade::nft {

namespace {

constexpr const char* kTable = "palisade";
// Room for one element message besides its set name: header, nfgenmsg, table, nests, key (<= 32 bytes).
constexpr size_t kMessageRoom = 176;
constexpr size_t kMaxSetName = 255;

struct SetFree {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};

bool Fail(Failure& f, const char* code, std::string message, int err = 0) {
  f.code = code;
  f.message = std::move(message);
  f.err = err;
  return false;
}

// key length of an element family: 4 / 6 an address, 44 / 66 an address pair; 0 = invalid
size_t KeyLen(uint8_t family) { return family == 4 ? 4 : family == 6 ? 16 : family == 44 ? 8 : family == 66 ? 32 : 0; }

std::string AddressText(const uint8_t* addr, uint8_t family) {
  char text[INET6_ADDRSTRLEN] = {0};
  const bool v4 = family == 4 || family == 44;
  inet_ntop(v4 ? AF_INET : AF_INET6, addr, text, sizeof text);
  if (family != 44 && family != 66) return text;
  char second[INET6_ADDRSTRLEN] = {0};
  inet_ntop(v4 ? AF_INET : AF_INET6, addr + (v4 ? 4 : 16), second, sizeof second);
  return std::string(text) + " . " + second;
}

}  // namespace

bool applySetElements(const SetElementBatch& b, Failure& failure) {
  size_t room = 2 * NLMSG_ALIGN(sizeof(nlmsghdr) + sizeof(nfgenmsg));
  if (b.stride != 16 && b.stride != 32) return Fail(failure, "ERR_PALISADE_NFT_INPUT", "nftSetElements: the address slot must be 16 or 32 bytes");
  for (const auto& name : b.sets) {
    if (name.empty() || name.size() > kMaxSetName) return Fail(failure, "ERR_PALISADE_NFT_INPUT", "nftSetElements: a set name must be 1.." + std::to_string(kMaxSetName) + " bytes");
  }
  for (size_t i = 0; i < b.count; ++i) {
    if (b.ops[i] > 2) return Fail(failure, "ERR_PALISADE_NFT_INPUT", "nftSetElements: element " + std::to_string(i) + ": op must be 0 (delete), 1 (add) or 2 (destroy)");
    if (KeyLen(b.family[i]) == 0 || KeyLen(b.family[i]) > b.stride) return Fail(failure, "ERR_PALISADE_NFT_INPUT", "nftSetElements: element " + std::to_string(i) + ": family must be 4, 6, 44 or 66 (66 needs 32-byte slots)");
    if (b.set[i] >= b.sets.size()) return Fail(failure, "ERR_PALISADE_NFT_INPUT", "nftSetElements: element " + std::to_string(i) + ": set index out of range");
    room += kMessageRoom + NLMSG_ALIGN(b.sets[b.set[i]].size() + 1);
  }
  if (b.count == 0) return true;

  // ---- the batch: begin (seq base), one message per element (seq base+1+i), end --------------
  std::vector<char> buf(room);
  const uint32_t base = static_cast<uint32_t>(time(nullptr));
  uint32_t seq = base;
  size_t at = 0;
  auto advance = [&](nlmsghdr* nlh) { at += NLMSG_ALIGN(nlh->nlmsg_len); };
  advance(nftnl_batch_begin(buf.data() + at, seq++));
  for (size_t i = 0; i < b.count; ++i) {
    const bool add = b.ops[i] == 1;
    const uint16_t type = add ? NFT_MSG_NEWSETELEM : b.ops[i] == 2 ? NFT_MSG_DESTROYSETELEM : NFT_MSG_DELSETELEM;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data() + at, type, NFPROTO_INET, add ? NLM_F_CREATE : 0, seq++);
    std::unique_ptr<nftnl_set, SetFree> set(nftnl_set_alloc());
    nftnl_set_elem* elem = nftnl_set_elem_alloc();
    if (!set || elem == nullptr) {
      if (elem != nullptr) nftnl_set_elem_free(elem);
      return Fail(failure, "ERR_PALISADE_NFT_NETLINK", "nftSetElements: out of memory", ENOMEM);
    }
    nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, kTable);
    nftnl_set_set_str(set.get(), NFTNL_SET_NAME, b.sets[b.set[i]].c_str());
    nftnl_set_elem_set(elem, NFTNL_SET_ELEM_KEY, b.addr + b.stride * i, KeyLen(b.family[i]));
    if (add && b.timeoutMs != nullptr && b.timeoutMs[i] != 0) nftnl_set_elem_set_u64(elem, NFTNL_SET_ELEM_TIMEOUT, b.timeoutMs[i]);
    nftnl_set_elem_add(set.get(), elem);  // the set owns it now
    nftnl_set_elems_nlmsg_build_payload(nlh, set.get());
    advance(nlh);
  }
  nlmsghdr* end = nftnl_batch_end(buf.data() + at, seq);
  end->nlmsg_flags |= NLM_F_ACK;  // acknowledged on commit (Linux >= 6.0); success is judged without it
  advance(end);

  // ---- the exchange -------------------------------------------------------------------------
  BatchReply reply;
  if (!exchangeBatch(buf.data(), at, b.count, "nftSetElements", reply, failure)) return false;
  const int refusal = reply.refusal;
  const long refusedSeq = reply.refusedSeq;
  const bool overflow = reply.overflow;
  if (refusal == 0 && !overflow) return true;

  failure.element = -1;
  std::string what = "the commit";
  if (refusal != 0 && refusedSeq > static_cast<long>(base) && refusedSeq <= static_cast<long>(base + b.count)) {
    const size_t i = static_cast<size_t>(refusedSeq - base - 1);
    failure.element = static_cast<long>(i);
    what = std::string(b.ops[i] == 1 ? "add" : b.ops[i] == 2 ? "destroy" : "delete") + " of element " + AddressText(b.addr + b.stride * i, b.family[i]) + " in set " +
           b.sets[b.set[i]] + " (element " + std::to_string(i) + ")";
  }
  const int err = refusal != 0 ? refusal : ENOBUFS;
  failure.nftError = "netlink: the kernel refused " + what + ": " + std::strerror(err) + "; nothing of the batch was applied";
  return Fail(failure, "ERR_PALISADE_NFT", "nftables rejected the change: " + failure.nftError, err);
}

}  // namespace palisade::nft
