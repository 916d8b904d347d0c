// A table program as one nf_tables netlink batch; see table.h for the contract.
#include "table.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch.h"

namespace palisade::nft {

namespace {

constexpr const char* kTable = "palisade";
constexpr uint32_t kNone = 0xffffffffu;
constexpr size_t kElementsPerMessage = 512;  // keeps the element list nest far below 64 KiB
constexpr size_t kMessageHeadroom = 64 * 1024;
constexpr size_t kMaxName = 255;
constexpr size_t kMaxComment = 200;  // NFT_USERDATA_MAXLEN is 256 with the TLV header

enum Op : uint32_t { kTableAdd = 1, kTableDel, kChainAdd, kChainFlush, kChainDel, kSetAdd, kSetFlush, kSetDel, kElements, kRule };
enum Ex : uint32_t { kMeta = 1, kCt, kPayload, kCmp, kBitwise, kLookup, kCounter, kLimit, kLog, kVerdict, kPayloadTo };
// a set key is at most 32 bytes (an IPv6 pair); an element's key then spans two 16-byte slots
constexpr uint32_t kMaxKeyLen = 32;

const char* const kOpName[] = {"", "add table", "delete table", "add chain", "flush chain", "delete chain", "add set", "flush set", "delete set", "elements of set", "add rule in chain"};

template <typename T, void (*F)(const T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using TablePtr = std::unique_ptr<nftnl_table, Free<nftnl_table, nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Free<nftnl_chain, nftnl_chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Free<nftnl_set, nftnl_set_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, Free<nftnl_rule, nftnl_rule_free>>;
using UdataPtr = std::unique_ptr<nftnl_udata_buf, Free<nftnl_udata_buf, nftnl_udata_buf_free>>;

bool Fail(Failure& f, const char* code, std::string message, int err = 0) {
  f.code = code;
  f.message = std::move(message);
  f.err = err;
  return false;
}

// The batch under construction: messages appended to one growing buffer.
class Batch {
 public:
  explicit Batch(uint32_t seq) : seq_(seq) {}
  // Room for one more message; the returned pointer is valid until the next call.
  char* next() {
    if (buf_.size() - at_ < kMessageHeadroom) buf_.resize(buf_.size() * 2 + kMessageHeadroom);
    return buf_.data() + at_;
  }
  void commit(nlmsghdr* nlh) { at_ += NLMSG_ALIGN(nlh->nlmsg_len); }
  nlmsghdr* header(uint16_t type, uint16_t flags, uint32_t cmd) {
    commands_.push_back(cmd);
    return nftnl_nlmsg_build_hdr(next(), type, NFPROTO_INET, flags, seq_++);
  }
  void begin() { commit(nftnl_batch_begin(next(), seq_++)); }
  void end() {
    nlmsghdr* e = nftnl_batch_end(next(), seq_);
    e->nlmsg_flags |= NLM_F_ACK;  // acknowledged on commit (Linux >= 6.0); success is judged without it
    commit(e);
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return at_; }
  size_t messages() const { return commands_.size(); }
  // The command (word offset) a message seq answered, or kNone for the batch begin/end.
  uint32_t commandOf(long seq, uint32_t base) const {
    if (seq <= static_cast<long>(base) || seq > static_cast<long>(base + commands_.size())) return kNone;
    return commands_[static_cast<size_t>(seq - base - 1)];
  }

 private:
  std::vector<char> buf_;
  size_t at_ = 0;
  uint32_t seq_;
  std::vector<uint32_t> commands_;
};

// Bounds-checked reading of the word stream.
class Reader {
 public:
  Reader(const TableProgram& p) : p_(p) {}
  bool done() const { return at_ >= p_.wordCount; }
  size_t at() const { return at_; }
  bool word(uint32_t& out) {
    if (at_ >= p_.wordCount) return false;
    out = p_.words[at_++];
    return true;
  }
  bool string(const char*& out, size_t max = kMaxName) {
    uint32_t i;
    if (!word(i) || i >= p_.strings.size() || p_.strings[i].empty() || p_.strings[i].size() > max) return false;
    out = p_.strings[i].c_str();
    last_ = i;
    return true;
  }
  // the string index the last string() read
  uint32_t lastString() const { return last_; }
  // a string index or kNone (out = nullptr)
  bool optString(const char*& out) {
    if (at_ < p_.wordCount && p_.words[at_] == kNone) {
      ++at_;
      out = nullptr;
      return true;
    }
    return string(out);
  }
  // `len` bytes stored in ceil(len/4) words
  bool bytes(uint32_t len, const void*& out) {
    const size_t n = (len + 3) / 4;
    if (len == 0 || len > 16 || p_.wordCount - at_ < n) return false;
    out = p_.words + at_;
    at_ += n;
    return true;
  }

 private:
  const TableProgram& p_;
  size_t at_ = 0;
  uint32_t last_ = kNone;
};

nftnl_expr* Expr(const char* name) { return nftnl_expr_alloc(name); }

// One expression from the reader into `r`; false on a malformed one.
bool ReadExpr(Reader& in, nftnl_rule* r, const std::unordered_map<uint32_t, uint32_t>& setIds) {
  uint32_t kind, a, b, c;
  if (!in.word(kind)) return false;
  nftnl_expr* e = nullptr;
  switch (kind) {
    case kMeta:
      if (!in.word(a)) return false;
      e = Expr("meta");
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, a);
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
      break;
    case kCt:
      if (!in.word(a)) return false;
      e = Expr("ct");
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, a);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
      break;
    case kPayload:
      if (!in.word(a) || !in.word(b) || !in.word(c) || c == 0 || c > 16) return false;
      e = Expr("payload");
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, a);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, b);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, c);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
      break;
    case kPayloadTo: {
      // a field of a concatenation: loaded into the register nft gives it (NFT_REG_2, NFT_REG32_*)
      uint32_t reg;
      if (!in.word(a) || !in.word(b) || !in.word(c) || !in.word(reg) || c == 0 || c > 16 || !(reg == NFT_REG_1 || reg == NFT_REG_2 || (reg >= NFT_REG32_00 && reg <= NFT_REG32_15))) return false;
      e = Expr("payload");
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, a);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, b);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, c);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
      break;
    }
    case kCmp: {
      const void* data;
      if (!in.word(a) || !in.word(b) || !in.bytes(b, data)) return false;
      e = Expr("cmp");
      nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, a);
      nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, b);
      break;
    }
    case kBitwise: {
      const void *mask, *x;
      if (!in.word(a) || !in.bytes(a, mask) || !in.bytes(a, x)) return false;
      e = Expr("bitwise");
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, a);
      nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, a);
      nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, x, a);
      break;
    }
    case kLookup: {
      const char* set;
      if (!in.string(set)) return false;
      e = Expr("lookup");
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
      nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
      auto id = setIds.find(in.lastString());
      if (id != setIds.end()) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id->second);
      break;
    }
    case kCounter:
      e = Expr("counter");
      break;
    case kLimit:
      if (!in.word(a) || !in.word(b)) return false;
      e = Expr("limit");
      nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, a);
      nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, b);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
      break;
    case kLog: {
      const char* prefix;
      if (!in.string(prefix, 127) || !in.word(a) || a > 0xffff) return false;
      e = Expr("log");
      nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
      nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, static_cast<uint16_t>(a));
      break;
    }
    case kVerdict: {
      const char* chain = nullptr;
      if (!in.word(a) || !in.optString(chain)) return false;
      e = Expr("immediate");
      nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
      nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, a);
      if (chain != nullptr) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
      break;
    }
    default:
      return false;
  }
  if (e == nullptr) return false;
  nftnl_rule_add_expr(r, e);
  return true;
}

}  // namespace

bool applyProgram(const TableProgram& p, Failure& failure) {
  const char* bad = nullptr;
  const uint32_t base = static_cast<uint32_t>(time(nullptr));
  Batch batch(base);
  std::unordered_map<uint32_t, uint32_t> setIds;  // sets added by this program, by their name's string index
  uint32_t nextSetId = 1;
  Reader in(p);
  batch.begin();
  while (!in.done() && bad == nullptr) {
    const uint32_t cmd = static_cast<uint32_t>(in.at());
    uint32_t op;
    in.word(op);
    const char* name = nullptr;
    switch (op) {
      case kTableAdd:
      case kTableDel: {
        TablePtr t(nftnl_table_alloc());
        nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, kTable);
        nlmsghdr* nlh = batch.header(op == kTableAdd ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE, op == kTableAdd ? NLM_F_CREATE : 0, cmd);
        nftnl_table_nlmsg_build_payload(nlh, t.get());
        batch.commit(nlh);
        break;
      }
      case kChainAdd:
      case kChainFlush:
      case kChainDel: {
        uint32_t hook = kNone, prio = 0, policy = 0;
        if (!in.string(name) || (op == kChainAdd && (!in.word(hook) || !in.word(prio) || !in.word(policy)))) {
          bad = "chain command";
          break;
        }
        if (op == kChainFlush) {
          RulePtr r(nftnl_rule_alloc());
          nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
          nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, name);
          nlmsghdr* nlh = batch.header(NFT_MSG_DELRULE, 0, cmd);
          nftnl_rule_nlmsg_build_payload(nlh, r.get());
          batch.commit(nlh);
          break;
        }
        ChainPtr c(nftnl_chain_alloc());
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, kTable);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name);
        if (op == kChainAdd && hook != kNone) {
          nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook);
          nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, static_cast<int32_t>(prio));
          nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
          nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, policy);
        }
        nlmsghdr* nlh = batch.header(op == kChainAdd ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, op == kChainAdd ? NLM_F_CREATE : 0, cmd);
        nftnl_chain_nlmsg_build_payload(nlh, c.get());
        batch.commit(nlh);
        break;
      }
      case kSetAdd:
      case kSetDel: {
        uint32_t keyType = 0, keyLen = 0, flags = 0;
        if (!in.string(name) || (op == kSetAdd && (!in.word(keyType) || !in.word(keyLen) || !in.word(flags) || keyLen == 0 || keyLen > kMaxKeyLen))) {
          bad = "set command";
          break;
        }
        SetPtr s(nftnl_set_alloc());
        nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, kTable);
        nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name);
        if (op == kSetAdd) {
          const uint32_t id = nextSetId++;
          setIds[in.lastString()] = id;
          nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
          nftnl_set_set_u32(s.get(), NFTNL_SET_ID, id);
          nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, keyType);
          nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, keyLen);
          nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, flags);
        } else {
          setIds.erase(in.lastString());
        }
        nlmsghdr* nlh = batch.header(op == kSetAdd ? NFT_MSG_NEWSET : NFT_MSG_DELSET, op == kSetAdd ? NLM_F_CREATE : 0, cmd);
        nftnl_set_nlmsg_build_payload(nlh, s.get());
        batch.commit(nlh);
        break;
      }
      case kSetFlush: {
        if (!in.string(name)) {
          bad = "set command";
          break;
        }
        // DELSETELEM without an element list flushes the set
        nlmsghdr* nlh = batch.header(NFT_MSG_DELSETELEM, 0, cmd);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, kTable);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
        batch.commit(nlh);
        break;
      }
      case kElements: {
        uint32_t add = 0, keyLen = 0, first = 0, count = 0;
        if (!in.string(name) || !in.word(add) || !in.word(keyLen) || !in.word(first) || !in.word(count) || add > 1 || keyLen == 0 ||
            keyLen > kMaxKeyLen || first > p.elementCount || count > p.elementCount - first || count % ((keyLen + 15) / 16) != 0) {
          bad = "elements command";
          break;
        }
        auto id = setIds.find(in.lastString());
        // a key longer than 16 bytes spans consecutive slots; flags and timeout are its first slot's
        const uint32_t slots = (keyLen + 15) / 16;
        // attributes written directly (no libnftnl object per element: ~500k at 5,000 pods)
        for (uint32_t from = first; from < first + count; from += slots * kElementsPerMessage) {
          const uint32_t to = std::min<uint32_t>(first + count, from + slots * static_cast<uint32_t>(kElementsPerMessage));
          nlmsghdr* nlh = batch.header(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, add ? NLM_F_CREATE : 0, cmd);
          mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, kTable);
          mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
          if (id != setIds.end()) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id->second));
          nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
          for (uint32_t i = from; i < to; i += slots) {
            nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
            if (p.elementFlags[i] != 0) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(p.elementFlags[i]));
            if (p.elementTimeoutMs != nullptr && p.elementTimeoutMs[i] != 0) mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(p.elementTimeoutMs[i]));
            nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
            mnl_attr_put(nlh, NFTA_DATA_VALUE, keyLen, p.elementKeys + 16 * i);
            mnl_attr_nest_end(nlh, key);
            mnl_attr_nest_end(nlh, elem);
          }
          mnl_attr_nest_end(nlh, list);
          batch.commit(nlh);
        }
        break;
      }
      case kRule: {
        const char* comment = nullptr;
        uint32_t exprs = 0;
        if (!in.string(name) || !in.optString(comment) || !in.word(exprs) || exprs > 64 || (comment != nullptr && std::strlen(comment) > kMaxComment)) {
          bad = "rule command";
          break;
        }
        RulePtr r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, name);
        for (uint32_t k = 0; k < exprs && bad == nullptr; ++k) {
          if (!ReadExpr(in, r.get(), setIds)) bad = "rule expression";
        }
        if (bad != nullptr) break;
        if (comment != nullptr) {
          UdataPtr u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
          nftnl_udata_put_strz(u.get(), NFTNL_UDATA_RULE_COMMENT, comment);
          nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u.get()), nftnl_udata_buf_len(u.get()));
        }
        nlmsghdr* nlh = batch.header(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, cmd);
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
        batch.commit(nlh);
        break;
      }
      default:
        bad = "command code";
    }
    if (bad != nullptr) {
      return Fail(failure, "ERR_PALISADE_NFT_INPUT", std::string("nftApplyProgram: malformed ") + bad + " at word " + std::to_string(cmd) + "; nothing was sent");
    }
  }
  if (batch.messages() == 0) return true;
  batch.end();

  BatchReply reply;
  if (!exchangeBatch(batch.data(), batch.size(), batch.messages(), "nftApplyProgram", reply, failure)) return false;
  if (reply.refusal == 0 && !reply.overflow) return true;
  std::string what = "the commit";
  const uint32_t cmd = reply.refusal != 0 ? batch.commandOf(reply.refusedSeq, base) : kNone;
  if (cmd != kNone) {
    const uint32_t op = p.words[cmd];
    what = std::string(op < sizeof kOpName / sizeof *kOpName ? kOpName[op] : "?");
    if (op != kTableAdd && op != kTableDel && cmd + 1 < p.wordCount && p.words[cmd + 1] < p.strings.size()) what += " " + p.strings[p.words[cmd + 1]];
    what += " (program word " + std::to_string(cmd) + ")";
  }
  const int err = reply.refusal != 0 ? reply.refusal : ENOBUFS;
  failure.nftError = "netlink: the kernel refused " + what + ": " + std::strerror(err) + "; nothing of the batch was applied";
  return Fail(failure, "ERR_PALISADE_NFT", "nftables rejected the change: " + failure.nftError, err);
}

}  // namespace palisade::nft
