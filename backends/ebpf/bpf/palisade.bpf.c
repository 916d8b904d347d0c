// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * palisade.bpf.c: the tc (clsact) classifier that enforces a compiled Palisade rule set.
 *
 * Two programs, one per policy direction; which tc hook each goes on depends on the interface:
 *   pal_egress   judges the packet's SOURCE as the subject (its egress rules), peer = destination
 *                  -> pod veth (host side) tc ingress, node interface tc egress
 *   pal_ingress  judges the packet's DESTINATION as the subject (its ingress rules), peer = source
 *                  -> pod veth (host side) tc egress, node interface tc ingress
 *
 * Per packet:
 *   1. parse eth / IPv4 / IPv6 (<= PAL_MAX_EXT_HDRS extension headers) / TCP / UDP / SCTP / ICMP;
 *      anything unparsable that claims to be IP is dropped (stat MALFORMED);
 *   2. fragments: a first fragment is classified with its ports and, when allowed, remembered
 *      by (addresses, protocol, IP id); later fragments take the ports of their first fragment,
 *      or are dropped when it was not seen (out of order, or denied). As Cilium's fragment map.
 *   3. flows (LRU, canonical 5-tuple): a packet in the reply orientation of a known flow, or in
 *      the original orientation once this direction allowed it, passes without classification;
 *      a per-CPU hint (pal_flow_hints4 / pal_flow_hints6) is asked first: an array slot that the
 *      flow map confirmed less than PAL_FLOW_HINT_REFRESH_S ago (an inlined array read instead of
 *      a hash lookup);
 *   4. classification in the active generation: address class of subject and peer (exact hash,
 *      then LPM), port class (flat array), then the first rule set in all three rule bitmaps
 *      (aggregated bit vectors: a 64-bit chunk mask, then 512-bit chunks); Pass continues at the
 *      next tier. No rule: the default allows. Deny: TC_ACT_SHOT and a ring-buffer event.
 *   5. observed subjects (config flag PAL_CFG_OBSERVE): a classified packet whose subject has an
 *      exact entry of key generation PAL_GEN_OBSERVED gets a ring-buffer event (reason
 *      PAL_REASON_OBSERVED, the deciding rule), allowed or denied; src/enforce/observe.ts names it.
 * Cost: established packet = the fast path's checks + one array read (hint hit), else parse + one LRU lookup; new flow = + 2..4 address lookups, one
 *   array read, three row heads, and 3 chunk reads per candidate chunk.
 * The program never changes with policy: every policy datum is in maps (data-only updates).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "../include/palisade_maps.h"

#define PAL_MAX_EXT_HDRS 8
#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif
#define PAL_L3_OFF ETH_HLEN
/* a stack buffer that load() fills with word copies */
#define PAL_HDR_BUF __attribute__((aligned(8))) __u8

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* read by the loader before loading: must equal the PAL_LAYOUT_SIG it was compiled with */
const volatile __u32 pal_layout_sig = PAL_LAYOUT_SIG;

/* ---- maps (layout: palisade_maps.h) ------------------------------------------------------ */

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pal_config);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PAL_EXACT_ENTRIES);
  __type(key, struct pal_addr_key);
  __type(value, struct pal_host_class);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_addr_exact SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PAL_EXACT_ENTRIES);
  __type(key, struct pal_addr4_key);
  __type(value, struct pal_host_class);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_addr_exact4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, PAL_LPM_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct pal_lpm4_key);
  __type(value, struct pal_addr_class);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_addr_lpm4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, PAL_LPM_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct pal_lpm6_key);
  __type(value, struct pal_addr_class);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_addr_lpm6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PAL_GENERATIONS * PAL_PORT_TABLES * PAL_PORTS);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, __u32);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_port_class SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PAL_GENERATIONS * PAL_DIRS * PAL_DIMS * PAL_MAX_CLASSES);
  __type(key, __u32);
  __type(value, struct pal_row_head);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_row_head SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PAL_GENERATIONS * PAL_INDEX_PER_GEN);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, __u32);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_row_index SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PAL_GENERATIONS * PAL_ROWS_PER_GEN);
  __type(key, __u32);
  __type(value, struct pal_chunk);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_rows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PAL_GENERATIONS * PAL_DIRS * PAL_MAX_RULES);
  __type(key, __u32);
  __type(value, struct pal_verdict);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_verdicts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PAL_MAX_COUNTERS);
  __type(key, __u32);
  __type(value, struct pal_counter);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_rule_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PAL_FLOW_ENTRIES);
  /* per-CPU LRU lists: inserting a new flow takes no global lock (measured: -25% per insert) */
  __uint(map_flags, BPF_F_NO_COMMON_LRU);
  __type(key, struct pal_flow_key);
  __type(value, struct pal_flow);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PAL_FLOW_ENTRIES);
  __uint(map_flags, BPF_F_NO_COMMON_LRU);
  __type(key, struct pal_flow4_key);
  __type(value, struct pal_flow);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_flows4 SEC(".maps");

/* in front of pal_flows4: see struct pal_flow_hint4 and flow_hint_slot() */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PAL_FLOW_HINT_ENTRIES);
  __type(key, __u32);
  __type(value, struct pal_flow_hint4);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_flow_hints4 SEC(".maps");

/* in front of pal_flows (IPv6): see struct pal_flow_hint6 and flow_hint6_slot() */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PAL_FLOW_HINT_ENTRIES);
  __type(key, __u32);
  __type(value, struct pal_flow_hint6);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_flow_hints6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PAL_FRAG_ENTRIES);
  __type(key, struct pal_frag_key);
  __type(value, struct pal_frag);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_frags SEC(".maps");

/* S14 Redirect: the target of each egress Redirect rule (gen * PAL_MAX_RULES + rule position) */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PAL_GENERATIONS * PAL_MAX_RULES);
  __type(key, __u32);
  __type(value, struct pal_redirect);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_redirects SEC(".maps");

/* S14 Redirect: per redirected IPv4 flow (the original and the translated canonical key) the
 * address and port its packets are rewritten to; see PAL_NAT_ORIG / PAL_NAT_XLAT */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PAL_NAT_ENTRIES);
  __type(key, struct pal_flow4_key);
  __type(value, struct pal_nat);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_nat4 SEC(".maps");

/* the same for IPv6 flows, under the 40-byte canonical key */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PAL_NAT_ENTRIES);
  __type(key, struct pal_flow_key);
  __type(value, struct pal_nat);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_nat6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PAL_STATS);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, PAL_RINGBUF_BYTES);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pal_deny_events SEC(".maps");

/* ---- small helpers -------------------------------------------------------------------------- */

static __always_inline void stat_inc(__u32 slot) {
  __u64 *v = bpf_map_lookup_elem(&pal_stats, &slot);
  if (v) *v += 1;
}

static __always_inline __u32 popcount64(__u64 x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (__u32)((x * 0x0101010101010101ULL) >> 56);
}

/* index of the lowest set bit; x != 0 */
static __always_inline __u32 ctz64(__u64 x) { return popcount64((x & -x) - 1); }

/* ---- the parsed packet ---------------------------------------------------------------------- */

#define PAL_FRAG_NONE 0
#define PAL_FRAG_FIRST 1
#define PAL_FRAG_LATER 2

/* the packet an ICMP error quotes (valid = 1 when it was read) */
struct pal_inner {
  __u8 src[16];
  __u8 dst[16];
  __u16 srcPortNet;
  __u16 dstPortNet;
  __u8 proto;
  __u8 valid;
  __u8 pad[2];
};

struct pal_pkt {
  struct pal_inner inner;
  __u8 src[16];
  __u8 dst[16];
  __u32 l4Off;
  __u32 fragId;
  __u16 srcPortNet;
  __u16 dstPortNet;
  __u8 family;
  __u8 proto;
  __u8 frag;
  __u8 icmpType;
  __u8 tcpFlags;
  __u8 pad[3];
};

#define PARSE_OK 0
#define PARSE_NOT_IP 1
#define PARSE_MALFORMED 2
#define PARSE_PASS_CONTROL 3 /* IPv6 neighbour discovery / MLD: link control, never policy */

/*
 * Copy `len` header bytes at `off`: straight from the linear packet data when it is there (the
 * common case), through bpf_skb_load_bytes otherwise (non-linear skbs). Returns < 0 when the
 * packet is shorter than off + len.
 */
static __always_inline int load(struct __sk_buff *skb, __u32 off, void *to, __u32 len) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  if (off <= 512 && data + off + len <= end) {
    /* Word copies, not byte copies: clang copies an alignment-1 source byte by byte (the IPv4
     * header's 20 bytes were 20 loads, 20 shifts and ors: ~8 ns per packet). The alignment
     * claimed is the usual one of a struct iphdr pointer; the load may be unaligned at run time,
     * which the verifier allows where unaligned access is efficient (x86-64, arm64). The
     * destinations are PAL_HDR_BUF buffers (8-aligned). */
    __builtin_memcpy(to, __builtin_assume_aligned(data + off, 4), len);
    return 0;
  }
  return bpf_skb_load_bytes(skb, off, to, len);
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, struct pal_pkt *p) {
  PAL_HDR_BUF h[20];
  if (load(skb, PAL_L3_OFF, h, sizeof(h)) < 0) return PARSE_MALFORMED;
  __u32 ihl = h[0] & 0x0f;
  if ((h[0] >> 4) != 4 || ihl < 5) return PARSE_MALFORMED;
  __u32 totLen = ((__u32)h[2] << 8) | h[3];
  if (totLen < ihl * 4 || skb->len < PAL_L3_OFF + totLen) return PARSE_MALFORMED;
  __u32 fragField = ((__u32)h[6] << 8) | h[7];
  __u32 fragOffset = fragField & 0x1fff;
  if (fragOffset) p->frag = PAL_FRAG_LATER;
  else if (fragField & 0x2000) p->frag = PAL_FRAG_FIRST;
  p->fragId = ((__u32)h[4] << 8) | h[5];
  p->proto = h[9];
  p->family = 4;
  __builtin_memcpy(p->src, &h[12], 4);
  __builtin_memcpy(p->dst, &h[16], 4);
  p->l4Off = PAL_L3_OFF + ihl * 4;
  return PARSE_OK;
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, struct pal_pkt *p) {
  PAL_HDR_BUF h[40];
  if (load(skb, PAL_L3_OFF, h, sizeof(h)) < 0) return PARSE_MALFORMED;
  if ((h[0] >> 4) != 6) return PARSE_MALFORMED;
  __u32 payloadLen = ((__u32)h[4] << 8) | h[5];
  if (skb->len < PAL_L3_OFF + 40 + payloadLen) return PARSE_MALFORMED;
  __u8 next = h[6];
  __u32 off = PAL_L3_OFF + 40;
  __u32 end = PAL_L3_OFF + 40 + payloadLen;
  p->family = 6;
  __builtin_memcpy(p->src, &h[8], 16);
  __builtin_memcpy(p->dst, &h[24], 16);
  PAL_HDR_BUF e[8];
#pragma clang loop unroll(disable)
  for (int i = 0; i < PAL_MAX_EXT_HDRS; i++) {
    if (next == 0 /* hop-by-hop */ || next == 43 /* routing */ || next == 60 /* destination opts */ ||
        next == 51 /* AH */) {
      if (off + 8 > end || load(skb, off, e, 2) < 0) return PARSE_MALFORMED;
      __u32 len = next == 51 ? ((__u32)e[1] + 2) * 4 : ((__u32)e[1] + 1) * 8;
      next = e[0];
      off += len;
    } else if (next == 44 /* fragment */) {
      if (off + 8 > end || load(skb, off, e, 8) < 0) return PARSE_MALFORMED;
      next = e[0];
      __u32 fo = ((__u32)e[2] << 8) | e[3];
      if (fo & 0xfff8) p->frag = PAL_FRAG_LATER;
      else if (fo & 1) p->frag = PAL_FRAG_FIRST;
      p->fragId = ((__u32)e[4] << 24) | ((__u32)e[5] << 16) | ((__u32)e[6] << 8) | e[7];
      off += 8;
    } else {
      p->proto = next;
      p->l4Off = off;
      return off > end ? PARSE_MALFORMED : PARSE_OK;
    }
  }
  return PARSE_MALFORMED; /* more extension headers than we read: fail closed */
}

/*
 * The packet quoted by an ICMP error (destination unreachable, packet too big, time exceeded,
 * parameter problem): its addresses, protocol and ports, so that the error can pass as RELATED
 * to a tracked flow (PMTU discovery needs "packet too big" / "fragmentation needed" to arrive).
 * Best effort: a quote that cannot be read leaves inner.valid = 0 and the error is classified as
 * an ordinary ICMP packet.
 */
static __always_inline void parse_inner(struct __sk_buff *skb, struct pal_pkt *p, __u32 off) {
  __u32 l4off;
  if (p->family == 4) {
    PAL_HDR_BUF ih[20];
    if (load(skb, off, ih, sizeof(ih)) < 0 || (ih[0] >> 4) != 4 || (ih[0] & 0x0f) < 5) return;
    __builtin_memcpy(p->inner.src, &ih[12], 4);
    __builtin_memcpy(p->inner.dst, &ih[16], 4);
    p->inner.proto = ih[9];
    l4off = off + (ih[0] & 0x0f) * 4;
  } else {
    PAL_HDR_BUF ih[40];
    if (load(skb, off, ih, sizeof(ih)) < 0 || (ih[0] >> 4) != 6) return;
    __builtin_memcpy(p->inner.src, &ih[8], 16);
    __builtin_memcpy(p->inner.dst, &ih[24], 16);
    p->inner.proto = ih[6]; /* a quoted extension header is not followed: not related */
    l4off = off + 40;
  }
  PAL_HDR_BUF q[8];
  if (load(skb, l4off, q, sizeof(q)) < 0) return;
  if (p->inner.proto == IPPROTO_ICMP || p->inner.proto == IPPROTO_ICMPV6) {
    __builtin_memcpy(&p->inner.srcPortNet, &q[4], 2); /* the echo id, as flows key echoes */
    p->inner.dstPortNet = p->inner.srcPortNet;
  } else if (p->inner.proto == IPPROTO_TCP || p->inner.proto == IPPROTO_UDP || p->inner.proto == IPPROTO_SCTP) {
    __builtin_memcpy(&p->inner.srcPortNet, &q[0], 2);
    __builtin_memcpy(&p->inner.dstPortNet, &q[2], 2);
  } else {
    return;
  }
  p->inner.valid = 1;
}

/* L4 ports (or the ICMP echo id, as both ports, so that request and reply share a flow) */
static __always_inline int parse_l4(struct __sk_buff *skb, struct pal_pkt *p) {
  if (p->frag == PAL_FRAG_LATER) return PARSE_OK; /* no L4 header here: ports come from frags */
  __u32 need;
  switch (p->proto) {
  case IPPROTO_TCP: need = 20; break;
  case IPPROTO_UDP: need = 8; break;
  case IPPROTO_SCTP: need = 12; break;
  case IPPROTO_ICMP:
  case IPPROTO_ICMPV6: need = 8; break;
  default: return PARSE_OK;
  }
  /* TCP: ports and flags (byte 13) in one copy; the others need the first 8 bytes */
  PAL_HDR_BUF l4[16];
  if (skb->len < p->l4Off + need) return PARSE_MALFORMED;
  if ((p->proto == IPPROTO_TCP ? load(skb, p->l4Off, l4, 16) : load(skb, p->l4Off, l4, 8)) < 0) return PARSE_MALFORMED;
  if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
    p->icmpType = l4[0];
    if (p->proto == IPPROTO_ICMPV6 && ((l4[0] >= 130 && l4[0] <= 137) || l4[0] == 143))
      return PARSE_PASS_CONTROL;
    int echo = p->proto == IPPROTO_ICMP ? (l4[0] == 8 || l4[0] == 0) : (l4[0] == 128 || l4[0] == 129);
    if (echo) {
      __builtin_memcpy(&p->srcPortNet, &l4[4], 2);
      p->dstPortNet = p->srcPortNet;
    }
    int error = p->proto == IPPROTO_ICMP ? (l4[0] == 3 || l4[0] == 11 || l4[0] == 12) : (l4[0] >= 1 && l4[0] <= 4);
    if (error) parse_inner(skb, p, p->l4Off + 8);
    return PARSE_OK;
  }
  __builtin_memcpy(&p->srcPortNet, &l4[0], 2);
  __builtin_memcpy(&p->dstPortNet, &l4[2], 2);
  if (p->proto == IPPROTO_TCP) p->tcpFlags = l4[13];
  return PARSE_OK;
}

static __always_inline int parse(struct __sk_buff *skb, struct pal_pkt *p) {
  int r;
  if (skb->protocol == bpf_htons(ETH_P_IP)) r = parse_ipv4(skb, p);
  else if (skb->protocol == bpf_htons(ETH_P_IPV6)) r = parse_ipv6(skb, p);
  else return PARSE_NOT_IP;
  if (r != PARSE_OK) return r;
  return parse_l4(skb, p);
}

/* ---- classification ------------------------------------------------------------------------- */

static __always_inline __u32 addr_class(__u32 gen, const struct pal_pkt *p, const __u8 *addr) {
  struct pal_host_class *h;
  struct pal_addr_class *c;
  if (p->family == 4) {
    struct pal_addr4_key k4;
    __builtin_memset(&k4, 0, sizeof(k4));
    k4.gen = gen;
    __builtin_memcpy(&k4.addrNet, addr, 4);
    h = bpf_map_lookup_elem(&pal_addr_exact4, &k4);
  } else {
    struct pal_addr_key k;
    __builtin_memset(&k, 0, sizeof(k));
    k.gen = gen;
    k.family = p->family;
    __builtin_memcpy(k.addrNet, addr, 16);
    h = bpf_map_lookup_elem(&pal_addr_exact, &k);
  }
  if (h) {
    /* a learned (DNS) member past its expiry no longer counts for this new flow: the helper call
     * is paid only by entries that carry an expiry (learned addresses), never by pod addresses */
    __u64 expiresNs = h->expiresNs;
    if (expiresNs && bpf_ktime_get_coarse_ns() >= expiresNs) return h->expiredClassId;
    return h->classId;
  }
  if (p->family == 4) {
    struct pal_lpm4_key l;
    __builtin_memset(&l, 0, sizeof(l));
    l.prefixLen = 8 + 32;
    l.gen = gen;
    __builtin_memcpy(l.addrNet, addr, 4);
    c = bpf_map_lookup_elem(&pal_addr_lpm4, &l);
  } else {
    struct pal_lpm6_key l;
    __builtin_memset(&l, 0, sizeof(l));
    l.prefixLen = 8 + 128;
    l.gen = gen;
    __builtin_memcpy(l.addrNet, addr, 16);
    c = bpf_map_lookup_elem(&pal_addr_lpm6, &l);
  }
  return c ? c->classId : 0; /* class 0: member of no set */
}

static __always_inline __u32 proto_class(__u8 proto) {
  switch (proto) {
  case IPPROTO_TCP: return PAL_PROTO_TCP;
  case IPPROTO_UDP: return PAL_PROTO_UDP;
  case IPPROTO_SCTP: return PAL_PROTO_SCTP;
  default: return PAL_PROTO_OTHER;
  }
}

static __always_inline struct pal_row_head *row_head(__u32 genDir, __u32 dim, __u32 cls) {
  if (cls >= PAL_MAX_CLASSES) return 0;
  __u32 k = (genDir * PAL_DIMS + dim) * PAL_MAX_CLASSES + cls;
  return bpf_map_lookup_elem(&pal_row_head, &k);
}

static __always_inline __u32 chunk_row(const struct pal_row_head *h, __u32 k) {
  __u32 idx = h->firstIndex + popcount64(h->chunkMask & ((1ULL << k) - 1));
  __u32 *row = bpf_map_lookup_elem(&pal_row_index, &idx);
  return row ? *row : 0xffffffffu; /* a missing index reads as no chunk: pal_chunk_first finds none */
}

/*
 * The lowest bit >= fromBit set in all three 512-bit chunks (rows rs, rp, ro: subject, peer,
 * destination port), or PAL_CHUNK_RULES. A global function: the verifier checks it once, not
 * once per call site. The path of every generation in which no rule narrows source ports.
 */
__attribute__((noinline)) __u32 pal_chunk_first(__u32 rs, __u32 rp, __u32 ro, __u32 fromBit) {
  struct pal_chunk *cs = bpf_map_lookup_elem(&pal_rows, &rs);
  struct pal_chunk *cp = bpf_map_lookup_elem(&pal_rows, &rp);
  struct pal_chunk *co = bpf_map_lookup_elem(&pal_rows, &ro);
  if (!cs || !cp || !co || fromBit >= PAL_CHUNK_RULES) return PAL_CHUNK_RULES;
  __u32 fromWord = fromBit >> 6;
  __u64 fromMask = ~0ULL << (fromBit & 63);
#pragma unroll
  for (__u32 w = 0; w < PAL_CHUNK_WORDS; w++) {
    __u64 x = cs->w[w] & cp->w[w] & co->w[w];
    if (w < fromWord) x = 0;
    if (w == fromWord) x &= fromMask;
    if (x) return (w << 6) + ctz64(x);
  }
  return PAL_CHUNK_RULES;
}

/* pal_chunk_first with a fourth row rq (source port, S25): used only when some rule of the
 * generation narrows source ports. Global: verified once. */
__attribute__((noinline)) __u32 pal_chunk_first4(__u32 rs, __u32 rp, __u32 ro, __u32 rq, __u32 fromBit) {
  struct pal_chunk *cs = bpf_map_lookup_elem(&pal_rows, &rs);
  struct pal_chunk *cp = bpf_map_lookup_elem(&pal_rows, &rp);
  struct pal_chunk *co = bpf_map_lookup_elem(&pal_rows, &ro);
  struct pal_chunk *cq = bpf_map_lookup_elem(&pal_rows, &rq);
  if (!cs || !cp || !co || !cq || fromBit >= PAL_CHUNK_RULES) return PAL_CHUNK_RULES;
  __u32 fromWord = fromBit >> 6;
  __u64 fromMask = ~0ULL << (fromBit & 63);
#pragma unroll
  for (__u32 w = 0; w < PAL_CHUNK_WORDS; w++) {
    __u64 x = cs->w[w] & cp->w[w] & co->w[w] & cq->w[w];
    if (w < fromWord) x = 0;
    if (w == fromWord) x &= fromMask;
    if (x) return (w << 6) + ctz64(x);
  }
  return PAL_CHUNK_RULES;
}

/*
 * The first rule >= start (in first-match order) present in all four rule bitmaps, or
 * PAL_NO_RULE. genDir = gen * PAL_DIRS + dir; portClasses = destination-port class | source-port
 * class << 16 (PAL_SPORT_ANY: no source-port row). Global: verified once.
 */
__attribute__((noinline)) __u32 pal_first_rule(__u32 genDir, __u32 subjectClass, __u32 peerClass, __u32 portClasses,
                                               __u32 start) {
  if (genDir >= PAL_GENERATIONS * PAL_DIRS || start >= PAL_MAX_RULES) return PAL_NO_RULE;
  __u32 sportClass = portClasses >> 16;
  struct pal_row_head *hs = row_head(genDir, PAL_DIM_SUBJECT, subjectClass);
  struct pal_row_head *hp = row_head(genDir, PAL_DIM_PEER, peerClass);
  struct pal_row_head *ho = row_head(genDir, PAL_DIM_PORT, portClasses & 0xffffu);
  struct pal_row_head *hq = sportClass == PAL_SPORT_ANY ? ho : row_head(genDir, PAL_DIM_PORT, sportClass);
  if (!hs || !hp || !ho || !hq) return PAL_NO_RULE;
  __u32 startChunk = start >> PAL_CHUNK_SHIFT;
  __u64 m = hs->chunkMask & hp->chunkMask & ho->chunkMask & hq->chunkMask & (~0ULL << startChunk);
  for (__u32 i = 0; i < PAL_MAX_CHUNKS; i++) {
    if (!m) break;
    __u32 k = ctz64(m) & (PAL_MAX_CHUNKS - 1);
    m &= m - 1;
    __u32 from = k == startChunk ? (start & (PAL_CHUNK_RULES - 1)) : 0;
    __u32 bit = hq == ho ? pal_chunk_first(chunk_row(hs, k), chunk_row(hp, k), chunk_row(ho, k), from)
                         : pal_chunk_first4(chunk_row(hs, k), chunk_row(hp, k), chunk_row(ho, k), chunk_row(hq, k), from);
    if (bit < PAL_CHUNK_RULES) return (k << PAL_CHUNK_SHIFT) + bit;
  }
  return PAL_NO_RULE;
}

struct pal_decision {
  __u32 allow;
  __u32 tier;
  __u32 ruleId;
  __u32 counterIndex;
  __u32 reason;
  __u32 action; /* the deciding rule's PAL_ACT_* (0: none) */
  __u32 rule;   /* its position in the direction's list (valid with action) */
};

static __always_inline void classify(struct __sk_buff *skb, __u32 gen, __u32 dir, const struct pal_pkt *p,
                                     struct pal_decision *d) {
  d->allow = 1;
  d->tier = PAL_TIER_DEFAULT;
  d->ruleId = PAL_NO_RULE;
  d->counterIndex = PAL_NO_RULE;
  d->reason = PAL_REASON_RULE;
  d->action = 0;
  d->rule = 0;
  const __u8 *subject = dir == PAL_DIR_EGRESS ? p->src : p->dst;
  const __u8 *peer = dir == PAL_DIR_EGRESS ? p->dst : p->src;
  __u32 sc = addr_class(gen, p, subject);
  if (sc == 0) {
    /* class 0 is in no set; no rule has an empty subject, so nothing can match */
    stat_inc(PAL_STAT_NO_POLICY);
    return;
  }
  __u32 pc = addr_class(gen, p, peer);
  __u32 pcl = proto_class(p->proto);
  __u32 dport = pcl == PAL_PROTO_OTHER ? 0 : bpf_ntohs(p->dstPortNet);
  __u32 sport = pcl == PAL_PROTO_OTHER ? 0 : bpf_ntohs(p->srcPortNet);
  __u32 portKey = (gen * PAL_PORT_TABLES + pcl) * PAL_PORTS + dport;
  __u32 sportKey = (gen * PAL_PORT_TABLES + PAL_PROTO_CLASSES + pcl) * PAL_PORTS + sport;
  __u32 *oc = bpf_map_lookup_elem(&pal_port_class, &portKey);
  __u32 *qc = bpf_map_lookup_elem(&pal_port_class, &sportKey);
  if (!oc || !qc) return;
  __u32 portClasses = (*oc & 0xffffu) | (*qc << 16);
  __u32 genDir = gen * PAL_DIRS + dir;
  __u32 start = 0;
#pragma unroll
  for (int pass = 0; pass < 3; pass++) {
    __u32 r = pal_first_rule(genDir, sc, pc, portClasses, start);
    if (r >= PAL_MAX_RULES) return; /* no rule: the default allows */
    __u32 vk = genDir * PAL_MAX_RULES + r;
    struct pal_verdict *v = bpf_map_lookup_elem(&pal_verdicts, &vk);
    if (!v) {
      d->allow = 0;
      d->reason = PAL_REASON_MAP_MISS;
      stat_inc(PAL_STAT_MAP_MISS);
      return;
    }
    __u32 ci = v->counterIndex;
    struct pal_counter *ctr = bpf_map_lookup_elem(&pal_rule_counters, &ci);
    if (ctr) {
      ctr->packets += 1;
      ctr->bytes += skb->len;
    }
    if (v->action == PAL_ACT_PASS) {
      start = v->passTarget;
      continue;
    }
    /* allow and redirect accept (bits PAL_ACT_ALLOW, PAL_ACT_REDIRECT), without a branch: a branch
     * here doubles the states the verifier walks through the second classify() of the host role */
    d->allow = (((1u << PAL_ACT_ALLOW) | (1u << PAL_ACT_REDIRECT)) >> (v->action & 7)) & 1;
    d->action = v->action;
    d->rule = r;
    d->tier = v->tier;
    d->ruleId = v->ruleId;
    d->counterIndex = v->counterIndex;
    return;
  }
}

/*
 * The host role (config flag PAL_CFG_BOTH_DIRECTIONS, set while some subject is not pods: node
 * subjects, S20, or a Service subject whose tuples are node addresses): a new flow is judged
 * egress (its source as the subject) and then, when egress allows, ingress (its destination), at
 * whichever hook sees it first, and the flow entry gets both directions' bits. This is the
 * nftables backend's one path at input, output and forward (egress chains, then ingress chains),
 * so a node's own traffic (its source or destination a node address, which no pod veth program
 * judges as a subject otherwise) is judged at the pod veth or node interface it crosses, once;
 * the other hook of a pod-to-pod flow finds the entry and passes. Returns the direction whose
 * decision `d` holds (the deny, or ingress's allow). `ingressOnly`: the translated flow of a Redirect
 * (PAL_NAT_XLAT), whose egress its Redirect rule decided (nftables: the ct mark skips egress). Cost: a second classification per new flow
 * while the flag is set; none otherwise (the flag is read from the config already loaded).
 */
static __always_inline __u32 host_judge(struct __sk_buff *skb, __u32 gen, const struct pal_pkt *p, struct pal_decision *d,
                                        int ingressOnly) {
  if (!ingressOnly) {
    classify(skb, gen, PAL_DIR_EGRESS, p, d);
    /* a Redirect decides the flow's egress, and its ingress is the target's, judged where the
     * rewritten flow meets its next hook (ingressOnly there): the redirect is never overwritten */
    if (!d->allow || d->action == PAL_ACT_REDIRECT) return PAL_DIR_EGRESS;
  }
  classify(skb, gen, PAL_DIR_INGRESS, p, d);
  return PAL_DIR_INGRESS;
}

/* ---- flows ----------------------------------------------------------------------------------- */

/*
 * The flow clock: jiffies when the kernel's HZ is known (CONFIG_HZ, read by libbpf from the
 * kernel config at load), else coarse ns / 2^20 (~1.05 ms ticks). bpf_jiffies64() is inlined by
 * the verifier into one load; bpf_ktime_get_coarse_ns() is a helper call, and a call costs: with
 * the SRSO "safe RET" mitigation of the bench machine (AMD EPYC), +14 ns per established packet
 * out of ~95 (bench/RESULTS.md). CONFIG_HZ is a load-time constant: the verifier drops the branch.
 */
extern const unsigned int CONFIG_HZ __kconfig __weak;

static __always_inline __u64 flow_clock(void) {
  return CONFIG_HZ ? bpf_jiffies64() : bpf_ktime_get_coarse_ns() >> 20;
}

static __always_inline __u64 flow_ticks_per_s(void) { return CONFIG_HZ ? CONFIG_HZ : 954 /* 1e9 / 2^20, rounded up */; }

/* the canonical orientation of a 16-byte address pair: 1 when (src, srcPort) is the A side. Any
 * total order makes the key canonical: the addresses compared as four 32-bit words (the IPv6 fast
 * path reads them from the packet, the full path from pal_pkt: the same words, the same key). */
static __always_inline int flow_src_first(const __u32 *sa, const __u32 *da, __u16 srcPortNet, __u16 dstPortNet) {
  if (sa[0] != da[0]) return sa[0] < da[0];
  if (sa[1] != da[1]) return sa[1] < da[1];
  if (sa[2] != da[2]) return sa[2] < da[2];
  if (sa[3] != da[3]) return sa[3] < da[3];
  return srcPortNet <= dstPortNet;
}

/* canonical key; returns 1 when the packet goes from A to B */
static __always_inline int flow_key_of(__u8 family, __u8 proto, const __u32 *sa, const __u32 *da, __u16 srcPortNet,
                                       __u16 dstPortNet, struct pal_flow_key *k) {
  __builtin_memset(k, 0, sizeof(*k));
  k->family = family;
  k->proto = proto;
  int srcFirst = flow_src_first(sa, da, srcPortNet, dstPortNet);
  if (srcFirst) {
    __builtin_memcpy(k->addrANet, sa, 16);
    __builtin_memcpy(k->addrBNet, da, 16);
    k->portANet = srcPortNet;
    k->portBNet = dstPortNet;
  } else {
    __builtin_memcpy(k->addrANet, da, 16);
    __builtin_memcpy(k->addrBNet, sa, 16);
    k->portANet = dstPortNet;
    k->portBNet = srcPortNet;
  }
  return srcFirst;
}

/* IPv4 flows live in pal_flows4 under a 16-byte key (cheaper to hash), IPv6 in pal_flows */
union pal_any_flow_key {
  struct pal_flow_key k6;
  struct pal_flow4_key k4;
  __u64 words[5]; /* k6 as 64-bit words (8-aligned): the hint compares and copies these */
};

/* the IPv4 canonical key; returns 1 when src/srcPort is the A side */
static __always_inline int flow4_key_of(__u8 proto, __u32 srcNet, __u32 dstNet, __u16 srcPortNet, __u16 dstPortNet,
                                        struct pal_flow4_key *k) {
  int srcFirst = srcNet != dstNet ? srcNet < dstNet : srcPortNet <= dstPortNet;
  k->proto = proto;
  k->pad = 0;
  k->pad2 = 0;
  k->addrANet = srcFirst ? srcNet : dstNet;
  k->addrBNet = srcFirst ? dstNet : srcNet;
  k->portANet = srcFirst ? srcPortNet : dstPortNet;
  k->portBNet = srcFirst ? dstPortNet : srcPortNet;
  return srcFirst;
}

/* canonical key in the family's form; returns 1 when src/srcPort is the A side */
static __always_inline int any_flow_key(__u8 family, __u8 proto, const __u8 *src, const __u8 *dst, __u16 srcPortNet,
                                        __u16 dstPortNet, union pal_any_flow_key *k) {
  if (family == 4) {
    __u32 sa, da;
    __builtin_memcpy(&sa, src, 4);
    __builtin_memcpy(&da, dst, 4);
    return flow4_key_of(proto, sa, da, srcPortNet, dstPortNet, &k->k4);
  }
  return flow_key_of(family, proto, (const __u32 *)src, (const __u32 *)dst, srcPortNet, dstPortNet, &k->k6);
}

static __always_inline struct pal_flow *flow_lookup(__u8 family, const union pal_any_flow_key *k) {
  if (family == 4) return bpf_map_lookup_elem(&pal_flows4, &k->k4);
  return bpf_map_lookup_elem(&pal_flows, &k->k6);
}

static __always_inline void flow_insert(__u8 family, const union pal_any_flow_key *k, const struct pal_flow *v) {
  if (family == 4) bpf_map_update_elem(&pal_flows4, &k->k4, v, BPF_ANY);
  else bpf_map_update_elem(&pal_flows, &k->k6, v, BPF_ANY);
}

/* this CPU's hint slot of an IPv4 canonical key (multiply-xor hash, top bits); never null in practice */
static __always_inline struct pal_flow_hint4 *flow_hint_slot(const struct pal_flow4_key *k) {
  __u32 x = (k->addrANet * 0x9E3779B1u) ^ (k->addrBNet * 0x85EBCA77u) ^
            ((((__u32)k->portANet << 16) | k->portBNet) * 0xC2B2AE3Du) ^ k->proto;
  __u32 slot = x >> (32 - PAL_FLOW_HINT_BITS);
  return bpf_map_lookup_elem(&pal_flow_hints4, &slot);
}

static __always_inline int flow_hint_is(const struct pal_flow_hint4 *h, const struct pal_flow4_key *k) {
  return h->addrANet == k->addrANet && h->addrBNet == k->addrBNet && h->portANet == k->portANet &&
         h->portBNet == k->portBNet && h->proto == k->proto;
}

/* the hint bits (isA << 1 | hook direction) the flow entry passes: the reply orientation at both
 * hooks, the original orientation at the hooks whose direction allowed it (okMask) */
static __always_inline __u32 flow_pass_mask(const struct pal_flow *f) {
  __u32 orig = f->origIsA ? 1 : 0;
  __u32 reply = orig ^ 1;
  __u32 m = (1u << ((reply << 1) | PAL_DIR_INGRESS)) | (1u << ((reply << 1) | PAL_DIR_EGRESS));
  if (f->okMask & PAL_FLOW_INGRESS_OK) m |= 1u << ((orig << 1) | PAL_DIR_INGRESS);
  if (f->okMask & PAL_FLOW_EGRESS_OK) m |= 1u << ((orig << 1) | PAL_DIR_EGRESS);
  /* a redirected flow's packets that are rewritten never pass by a hint: the full path rewrites them */
  if (f->natFlags & PAL_NAT_ORIG) m &= ~(1u << ((orig << 1) | PAL_DIR_EGRESS));
  if (f->natFlags & PAL_NAT_XLAT) m &= ~(1u << ((reply << 1) | PAL_DIR_INGRESS));
  return m;
}

static __always_inline __u64 flow_timeout_ticks(__u8 proto) {
  return (proto == IPPROTO_TCP ? PAL_FLOW_TIMEOUT_TCP_S : PAL_FLOW_TIMEOUT_OTHER_S) * flow_ticks_per_s();
}

/* is a hint (of either family) with these times fresh at flow clock `now`: not idle longer than
 * the protocol's timeout, and confirmed by the flow map less than PAL_FLOW_HINT_REFRESH_S ago? */
static __always_inline int flow_hint_fresh(__u64 lastSeenTicks, __u64 checkedTicks, __u8 proto, __u64 now) {
  return now - lastSeenTicks <= flow_timeout_ticks(proto) && now - checkedTicks < PAL_FLOW_HINT_REFRESH_S * flow_ticks_per_s();
}

/* does this CPU's hint pass the packet (key k, hint bit (isA << 1 | dir)) at flow clock `now`?
 * Refreshes the hint's idle time when it does. */
static __always_inline int flow_hint_pass(struct pal_flow_hint4 *h, const struct pal_flow4_key *k, __u32 bit, __u64 now) {
  if (!h || !(h->passMask & bit) || !flow_hint_is(h, k) || !flow_hint_fresh(h->lastSeenTicks, h->checkedTicks, k->proto, now))
    return 0;
  h->lastSeenTicks = now;
  return 1;
}

/* this CPU's IPv6 hint slot of a canonical key: multiply-xor over its five 64-bit words, top bits
 * (a product's top bits depend on every bit of the word) */
static __always_inline struct pal_flow_hint6 *flow_hint6_slot(const union pal_any_flow_key *k) {
  __u64 x = (k->words[0] * 0x9E3779B97F4A7C15ull) ^ (k->words[1] * 0xC2B2AE3D27D4EB4Full) ^
            (k->words[2] * 0x165667B19E3779F9ull) ^ (k->words[3] * 0x85EBCA77C2B2AE63ull) ^
            (k->words[4] * 0x27D4EB2F165667C5ull);
  __u32 slot = (__u32)(x >> (64 - PAL_FLOW_HINT_BITS));
  return bpf_map_lookup_elem(&pal_flow_hints6, &slot);
}

/* the IPv6 form of flow_hint_pass: the slot's whole 40-byte key must equal k (five 64-bit words) */
static __always_inline int flow_hint6_pass(struct pal_flow_hint6 *h, const union pal_any_flow_key *k, __u32 bit, __u64 now) {
  if (!h || !(h->passMask & bit)) return 0;
  const __u64 *hw = (const __u64 *)&h->key;
  if ((hw[0] ^ k->words[0]) | (hw[1] ^ k->words[1]) | (hw[2] ^ k->words[2]) | (hw[3] ^ k->words[3]) |
      (hw[4] ^ k->words[4]))
    return 0;
  if (!flow_hint_fresh(h->lastSeenTicks, h->checkedTicks, k->k6.proto, now)) return 0;
  h->lastSeenTicks = now;
  return 1;
}

/* the L4 header bytes parse_l4() needs of a fast-path packet (TCP 20, UDP 8), or 0: the full path
 * decides (another protocol, or a TCP SYN, which opens a flow and is classified). l4 has 20 bytes
 * of linear data. */
static __always_inline __u32 fast_l4_need(__u8 proto, const __u8 *l4) {
  if (proto == IPPROTO_TCP) return (l4[13] & 0x12) == 0x02 ? 0 : 20;
  return proto == IPPROTO_UDP ? 8 : 0;
}

/*
 * The established fast path, before any other work: an IPv4 TCP or UDP packet without IP options,
 * not a fragment, not a TCP SYN, with its headers in the linear data, passes when this CPU's hint
 * says so. The checks are parse()'s for such a packet (a packet failing one takes the full path,
 * which decides it, malformed or not); the key comes straight from the header words, without the
 * zeroed pal_pkt and the general parser (measured: 42 -> 35 ns per established packet). 1 = passed
 * (counted as established); 0 = the full path decides, and asks the hint again.
 */
static __always_inline int established_fast4(struct __sk_buff *skb, __u32 dir) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  if (data + PAL_L3_OFF + 20 + 20 > end) return 0;
  const __u8 *ip = data + PAL_L3_OFF;
  if (ip[0] != 0x45) return 0; /* version 4, IHL 5: options take the full path */
  __u32 totLen = ((__u32)ip[2] << 8) | ip[3];
  if (totLen < 20 || skb->len < PAL_L3_OFF + totLen) return 0;
  if ((ip[6] & 0x3f) | ip[7]) return 0; /* MF or a fragment offset */
  __u8 proto = ip[9];
  const __u8 *l4 = ip + 20;
  __u32 need = fast_l4_need(proto, l4);
  if (!need || skb->len < PAL_L3_OFF + 20 + need) return 0;
  __u32 srcNet = *(const __u32 *)__builtin_assume_aligned(ip + 12, 4);
  __u32 dstNet = *(const __u32 *)__builtin_assume_aligned(ip + 16, 4);
  __u16 srcPortNet = *(const __u16 *)__builtin_assume_aligned(l4, 2);
  __u16 dstPortNet = *(const __u16 *)__builtin_assume_aligned(l4 + 2, 2);
  struct pal_flow4_key k;
  int isA = flow4_key_of(proto, srcNet, dstNet, srcPortNet, dstPortNet, &k);
  if (!flow_hint_pass(flow_hint_slot(&k), &k, 1u << ((isA << 1) | dir), flow_clock())) return 0;
  stat_inc(PAL_STAT_ESTABLISHED);
  return 1;
}

/*
 * The same for IPv6: next header TCP or UDP right after the fixed header (no extension headers:
 * those, fragments included, take the full path), not a TCP SYN, 40 + 20 header bytes in the linear
 * data, parse()'s length checks; the canonical key is built from the address words in the packet.
 */
static __always_inline int established_fast6(struct __sk_buff *skb, __u32 dir) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  if (data + PAL_L3_OFF + 40 + 20 > end) return 0;
  const __u8 *ip = data + PAL_L3_OFF;
  if ((ip[0] >> 4) != 6) return 0;
  __u32 payloadLen = ((__u32)ip[4] << 8) | ip[5];
  if (skb->len < PAL_L3_OFF + 40 + payloadLen) return 0;
  __u8 proto = ip[6];
  const __u8 *l4 = ip + 40;
  __u32 need = fast_l4_need(proto, l4);
  if (!need || skb->len < PAL_L3_OFF + 40 + need) return 0;
  __u16 srcPortNet = *(const __u16 *)__builtin_assume_aligned(l4, 2);
  __u16 dstPortNet = *(const __u16 *)__builtin_assume_aligned(l4 + 2, 2);
  /* flow_key_of()'s key and orientation, built as 64-bit words (its byte-wise form costs ~4 ns:
   * the struct's 2-byte alignment makes clang copy and zero it in 16-bit pieces) */
  const __u32 *sa = __builtin_assume_aligned(ip + 8, 4);
  const __u32 *da = __builtin_assume_aligned(ip + 24, 4);
  int isA = flow_src_first(sa, da, srcPortNet, dstPortNet);
  const __u64 *s64 = __builtin_assume_aligned(ip + 8, 8);
  const __u64 *d64 = __builtin_assume_aligned(ip + 24, 8);
  union pal_any_flow_key k;
  k.words[0] = 0;
  k.k6.family = 6;
  k.k6.proto = proto;
  k.k6.portANet = isA ? srcPortNet : dstPortNet;
  k.k6.portBNet = isA ? dstPortNet : srcPortNet;
  k.words[1] = isA ? s64[0] : d64[0];
  k.words[2] = isA ? s64[1] : d64[1];
  k.words[3] = isA ? d64[0] : s64[0];
  k.words[4] = isA ? d64[1] : s64[1];
  if (!flow_hint6_pass(flow_hint6_slot(&k), &k, 1u << ((isA << 1) | dir), flow_clock())) return 0;
  stat_inc(PAL_STAT_ESTABLISHED);
  return 1;
}

static __always_inline int established_fast(struct __sk_buff *skb, __u32 dir) {
  if (skb->protocol == bpf_htons(ETH_P_IP)) return established_fast4(skb, dir);
  if (skb->protocol == bpf_htons(ETH_P_IPV6)) return established_fast6(skb, dir);
  return 0;
}

/* the Redirect functions' keys and values, in a per-CPU scratch slot instead of their stack (the
 * stack of a call chain is limited to 512 bytes, and enforce() uses most of it); not pinned */
struct pal_nat_scratch {
  union pal_any_flow_key k;
  struct pal_nat n;
  __u32 pad;
  struct pal_flow f;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pal_nat_scratch);
} pal_nat_scratch SEC(".maps");

static __always_inline struct pal_nat_scratch *nat_scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&pal_nat_scratch, &zero);
}

/* ---- Redirect (S14): the address rewrite ------------------------------------------------------ */

/*
 * A flow that an egress Redirect rule allows is rewritten on the client's veth (tc ingress, the
 * pod's egress): its destination becomes the target (pal_redirects: the Service's endpoint), and
 * the replies' source becomes the address the client dialled again, so its socket sees the peer it
 * connected to (as conntrack's un-DNAT does for nftables). Two flow entries carry it:
 *   ORIG  the flow as dialled (client -> metadata address): its packets at the egress hook are
 *         rewritten to the target (pal_nat4[orig key] = target);
 *   XLAT  the flow as rewritten (client -> target), created here with the egress bit (its Redirect
 *         rule decided its egress); its ingress is judged at the target's hook as any flow's, and
 *         its replies at the client's ingress hook are rewritten back (pal_nat4[xlat key] = dialled).
 * Hints never pass those packets (flow_pass_mask), so neither fast path skips a rewrite. The code
 * is in global functions: the verifier checks each once, whatever the number of call sites, and
 * the main program does not grow by their paths (pal_redirect_record, pal_nat_rewrite). TCP and
 * UDP, IPv4 and IPv6 without extension headers (pal_nat6 under the 40-byte key), unfragmented
 * (anything else with a Redirect verdict is dropped, fail closed).
 */

/* rewrite the 4-byte address at L3 offset addrOff and the port at L4 offset portOff of an IPv4
 * TCP/UDP packet, updating the IP and the L4 checksum (pseudo header included; a UDP checksum 0
 * stays 0, one computed as 0 is written as 0xffff) */
static __always_inline int nat4_write(struct __sk_buff *skb, __u32 l4Off, __u8 proto, __u32 addrOff, __u32 portOff,
                                      __u32 oldAddrNet, __u32 newAddrNet, __u16 oldPortNet, __u16 newPortNet) {
  __u32 csumOff = l4Off + (proto == IPPROTO_TCP ? 16 : 6);
  __u64 mangled0 = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
  if (oldAddrNet != newAddrNet) {
    if (bpf_l4_csum_replace(skb, csumOff, oldAddrNet, newAddrNet, BPF_F_PSEUDO_HDR | mangled0 | sizeof(__u32)) < 0) return -1;
    if (bpf_l3_csum_replace(skb, PAL_L3_OFF + 10, oldAddrNet, newAddrNet, sizeof(__u32)) < 0) return -1;
    if (bpf_skb_store_bytes(skb, PAL_L3_OFF + addrOff, &newAddrNet, sizeof(__u32), 0) < 0) return -1;
  }
  if (oldPortNet != newPortNet) {
    if (bpf_l4_csum_replace(skb, csumOff, oldPortNet, newPortNet, mangled0 | sizeof(__u16)) < 0) return -1;
    if (bpf_skb_store_bytes(skb, l4Off + portOff, &newPortNet, sizeof(__u16), 0) < 0) return -1;
  }
  return 0;
}

/* the addresses and ports of an IPv4 TCP/UDP packet, read again from the packet (the global
 * functions take scalars: a pointer to the parsed packet would make every byte of it live for the
 * verifier at every earlier state, and it walked the classification twice), straight from the
 * linear data (no stack buffer: the callee's stack adds to the program's, 512 bytes in all) */
static __always_inline int nat4_tuple(struct __sk_buff *skb, __u32 l4Off, __u32 *srcNet, __u32 *dstNet, __u16 *srcPortNet,
                                      __u16 *dstPortNet) {
  if (l4Off < PAL_L3_OFF + 20 || l4Off > PAL_L3_OFF + 60) return -1;
  __u64 off = l4Off;
  __asm__ volatile("%[o] &= 0x7f" : [o] "+r"(off)); /* a bound the verifier sees: clang drops a plain mask */
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  if (data + off + 4 > end && bpf_skb_pull_data(skb, off + 4) < 0) return -1; /* headers not linear: pull them */
  data = (void *)(long)skb->data;
  end = (void *)(long)skb->data_end;
  const __u8 *ip = data + PAL_L3_OFF;
  const __u8 *l4 = data + off;
  if ((const void *)(ip + 20) > end || (const void *)(l4 + 4) > end) return -1;
  *srcNet = *(const __u32 *)__builtin_assume_aligned(ip + 12, 4);
  *dstNet = *(const __u32 *)__builtin_assume_aligned(ip + 16, 4);
  *srcPortNet = *(const __u16 *)__builtin_assume_aligned(l4, 2);
  *dstPortNet = *(const __u16 *)__builtin_assume_aligned(l4 + 2, 2);
  return 0;
}

/* forget this CPU's hint of a key (it may hold an older flow of the same 5-tuple, passed without
 * a rewrite); another CPU's hint of such an older flow answers for at most PAL_FLOW_HINT_REFRESH_S */
static __always_inline void flow_hint_forget(const struct pal_flow4_key *k) {
  struct pal_flow_hint4 *h = flow_hint_slot(k);
  if (h && flow_hint_is(h, k)) h->passMask = 0;
}

/*
 * A new flow allowed by the Redirect rule at pal_redirects[redirectKey]: record both NAT entries
 * and the translated flow (the caller then rewrites the packet). 0, or < 0: drop (no target of
 * the packet's family, not IPv4 TCP/UDP, a fragment, a map full or a helper failing: fail closed).
 */
static __always_inline int nat_redirect_new(struct __sk_buff *skb, __u32 l4Off, __u32 proto, __u32 redirectKey) {
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return -1;
  struct pal_redirect *t = bpf_map_lookup_elem(&pal_redirects, &redirectKey);
  if (!t || !t->has4) return -1;
  __u32 toNet = t->addr4Net;
  __u16 toPortNet = t->port4Net;
  __u32 srcNet, dstNet;
  __u16 srcPortNet, dstPortNet;
  if (nat4_tuple(skb, l4Off, &srcNet, &dstNet, &srcPortNet, &dstPortNet) < 0) return -1;
  __u64 now = flow_clock();
  struct pal_nat_scratch *sc = nat_scratch();
  if (!sc) return -1;
  struct pal_flow4_key *k = &sc->k.k4;
  struct pal_nat *n = &sc->n;
  __builtin_memset(n, 0, sizeof(*n));

  /* the translated flow (client -> target): its replies get the address dialled back as source */
  int xIsA = flow4_key_of(proto, srcNet, toNet, srcPortNet, toPortNet, k);
  __builtin_memcpy(n->addrNet, &dstNet, 4);
  n->portNet = dstPortNet;
  if (bpf_map_update_elem(&pal_nat4, k, n, BPF_ANY) < 0) return -1;
  flow_hint_forget(k);
  struct pal_flow *fx = bpf_map_lookup_elem(&pal_flows4, k);
  if (fx && fx->origIsA == xIsA && now - fx->lastSeenTicks <= flow_timeout_ticks(proto)) {
    fx->okMask |= PAL_FLOW_EGRESS_OK; /* a retransmitted SYN: the target's ingress bit stays */
    fx->natFlags |= PAL_NAT_XLAT;
    fx->lastSeenTicks = now;
  } else {
    struct pal_flow *nx = &sc->f;
    __builtin_memset(nx, 0, sizeof(*nx));
    nx->lastSeenTicks = now;
    nx->okMask = PAL_FLOW_EGRESS_OK;
    nx->origIsA = xIsA;
    nx->natFlags = PAL_NAT_XLAT;
    if (bpf_map_update_elem(&pal_flows4, k, nx, BPF_ANY) < 0) return -1;
  }

  /* the flow as dialled: its packets get the target as destination */
  flow4_key_of(proto, srcNet, dstNet, srcPortNet, dstPortNet, k);
  __builtin_memcpy(n->addrNet, &toNet, 4);
  n->portNet = toPortNet;
  if (bpf_map_update_elem(&pal_nat4, k, n, BPF_ANY) < 0) return -1;
  flow_hint_forget(k);
  return 0; /* the caller rewrites this packet as any of the flow's (pal_nat_rewrite): two calls, not nested, keep the stack small */
}

/*
 * An established packet of a redirected flow that needs its rewrite (natSide 0: an ORIG flow's
 * packet at the egress hook, destination -> target; 1: an XLAT flow's reply at the ingress hook,
 * source -> the address dialled). 0, or < 0: drop (its NAT entry is gone: fail closed).
 */
static __always_inline int nat_established(struct __sk_buff *skb, __u32 l4Off, __u32 proto, __u32 natSide) {
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return -1;
  __u32 srcNet, dstNet;
  __u16 srcPortNet, dstPortNet;
  if (nat4_tuple(skb, l4Off, &srcNet, &dstNet, &srcPortNet, &dstPortNet) < 0) return -1;
  struct pal_flow4_key k;
  flow4_key_of(proto, srcNet, dstNet, srcPortNet, dstPortNet, &k);
  struct pal_nat *n = bpf_map_lookup_elem(&pal_nat4, &k);
  if (!n) return -1;
  __u32 toNet;
  __builtin_memcpy(&toNet, n->addrNet, 4);
  __u16 toPortNet = n->portNet;
  if (natSide) return nat4_write(skb, l4Off, proto, 12, 0, srcNet, toNet, srcPortNet, toPortNet);
  return nat4_write(skb, l4Off, proto, 16, 2, dstNet, toNet, dstPortNet, toPortNet);
}

/* ---- the IPv6 rewrite: the same two functions over the 40-byte key (pal_nat6, pal_flows) -------- */

/* the IPv6 header and the L4 ports of a TCP/UDP packet without extension headers, in the linear
 * data (pulled when not); the pointers are packet pointers, valid until the packet is written */
#define PAL_NAT6_HEADERS(skb, ip, l4)                                                                               \
  void *data = (void *)(long)(skb)->data;                                                                          \
  void *end = (void *)(long)(skb)->data_end;                                                                       \
  if (data + PAL_L3_OFF + 40 + 4 > end && bpf_skb_pull_data((skb), PAL_L3_OFF + 40 + 4) < 0) return -1;              \
  data = (void *)(long)(skb)->data;                                                                                \
  end = (void *)(long)(skb)->data_end;                                                                             \
  if (data + PAL_L3_OFF + 40 + 4 > end) return -1;                                                                 \
  const __u8 *ip = data + PAL_L3_OFF;                                                                              \
  const __u8 *l4 = ip + 40

static __always_inline void flow_hint6_forget(const union pal_any_flow_key *k) {
  struct pal_flow_hint6 *h = flow_hint6_slot(k);
  if (!h) return;
  const __u64 *hw = (const __u64 *)&h->key;
  if (!((hw[0] ^ k->words[0]) | (hw[1] ^ k->words[1]) | (hw[2] ^ k->words[2]) | (hw[3] ^ k->words[3]) | (hw[4] ^ k->words[4])))
    h->passMask = 0;
}

/* nat_redirect_new for an IPv6 flow (no extension headers): the target's IPv6 address and port */
static __always_inline int nat_redirect_new6(struct __sk_buff *skb, __u32 proto, __u32 redirectKey) {
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return -1;
  struct pal_redirect *t = bpf_map_lookup_elem(&pal_redirects, &redirectKey);
  if (!t || !t->has6) return -1;
  PAL_NAT6_HEADERS(skb, ip, l4);
  __u16 srcPortNet = *(const __u16 *)__builtin_assume_aligned(l4, 2);
  __u16 dstPortNet = *(const __u16 *)__builtin_assume_aligned(l4 + 2, 2);
  __u64 now = flow_clock();
  struct pal_nat_scratch *sc = nat_scratch();
  if (!sc) return -1;
  union pal_any_flow_key *k = &sc->k;
  struct pal_nat *n = &sc->n;
  __builtin_memset(n, 0, sizeof(*n));

  int xIsA = flow_key_of(6, proto, (const __u32 *)(ip + 8), (const __u32 *)t->addr6Net, srcPortNet, t->port6Net, &k->k6);
  __builtin_memcpy(n->addrNet, ip + 24, 16);
  n->portNet = dstPortNet;
  if (bpf_map_update_elem(&pal_nat6, &k->k6, n, BPF_ANY) < 0) return -1;
  flow_hint6_forget(k);
  struct pal_flow *fx = bpf_map_lookup_elem(&pal_flows, &k->k6);
  if (fx && fx->origIsA == xIsA && now - fx->lastSeenTicks <= flow_timeout_ticks(proto)) {
    fx->okMask |= PAL_FLOW_EGRESS_OK;
    fx->natFlags |= PAL_NAT_XLAT;
    fx->lastSeenTicks = now;
  } else {
    struct pal_flow *nx = &sc->f;
    __builtin_memset(nx, 0, sizeof(*nx));
    nx->lastSeenTicks = now;
    nx->okMask = PAL_FLOW_EGRESS_OK;
    nx->origIsA = xIsA;
    nx->natFlags = PAL_NAT_XLAT;
    if (bpf_map_update_elem(&pal_flows, &k->k6, nx, BPF_ANY) < 0) return -1;
  }

  flow_key_of(6, proto, (const __u32 *)(ip + 8), (const __u32 *)(ip + 24), srcPortNet, dstPortNet, &k->k6);
  __builtin_memcpy(n->addrNet, t->addr6Net, 16);
  n->portNet = t->port6Net;
  if (bpf_map_update_elem(&pal_nat6, &k->k6, n, BPF_ANY) < 0) return -1;
  flow_hint6_forget(k);
  return 0;
}

/* nat_established for an IPv6 flow: no IP checksum; the L4 checksum takes the 16-byte
 * address change as a bpf_csum_diff through the pseudo header */
static __always_inline int nat_established6(struct __sk_buff *skb, __u32 proto, __u32 natSide) {
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return -1;
  PAL_NAT6_HEADERS(skb, ip, l4);
  __u16 srcPortNet = *(const __u16 *)__builtin_assume_aligned(l4, 2);
  __u16 dstPortNet = *(const __u16 *)__builtin_assume_aligned(l4 + 2, 2);
  struct pal_nat_scratch *sc = nat_scratch();
  if (!sc) return -1;
  flow_key_of(6, proto, (const __u32 *)(ip + 8), (const __u32 *)(ip + 24), srcPortNet, dstPortNet, &sc->k.k6);
  struct pal_nat *n = bpf_map_lookup_elem(&pal_nat6, &sc->k.k6);
  if (!n) return -1;
  __u32 addrOff = natSide ? 8 : 24;
  __u32 portOff = natSide ? 0 : 2;
  __u16 oldPortNet = natSide ? srcPortNet : dstPortNet;
  __s64 diff = bpf_csum_diff((__be32 *)(ip + addrOff), 16, (__be32 *)n->addrNet, 16, 0);
  if (diff < 0) return -1;
  __u32 csumOff = PAL_L3_OFF + 40 + (proto == IPPROTO_TCP ? 16 : 6);
  __u64 mangled0 = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
  /* BPF_F_IPV6: with CHECKSUM_COMPLETE the kernel must not fold the pseudo-header change into
   * skb->csum (no IP header checksum absorbs it in IPv6): without it, a receiver verifying against
   * skb->csum drops the packet (seen: the SYN arrived with a valid checksum and was never answered) */
  if (bpf_l4_csum_replace(skb, csumOff, 0, diff, BPF_F_PSEUDO_HDR | BPF_F_IPV6 | mangled0) < 0) return -1;
  if (bpf_skb_store_bytes(skb, PAL_L3_OFF + addrOff, n->addrNet, 16, 0) < 0) return -1;
  __u16 newPortNet = n->portNet;
  if (oldPortNet != newPortNet) {
    if (bpf_l4_csum_replace(skb, csumOff, oldPortNet, newPortNet, mangled0 | sizeof(__u16)) < 0) return -1;
    if (bpf_skb_store_bytes(skb, PAL_L3_OFF + 40 + portOff, &newPortNet, sizeof(__u16), 0) < 0) return -1;
  }
  return 0;
}

/* what the two global functions below need of the parsed packet, as one scalar: family, protocol,
 * and whether it is a fragment (their arguments are scalars only: see nat4_tuple) */
static __always_inline __u32 nat_meta(const struct pal_pkt *p) {
  return p->family | ((__u32)p->proto << 8) | ((__u32)p->frag << 16);
}

/*
 * The Redirect state of a new flow (both NAT entries and the translated flow entry) for the rule
 * at pal_redirects[redirectKey]; the caller rewrites the packet next (pal_nat_rewrite). IPv4, or
 * IPv6 without extension headers; TCP or UDP, unfragmented; else < 0 (drop, fail closed).
 * Global: verified once; called one after the other with pal_nat_rewrite, never nested (the
 * combined stack of a call chain is limited to 512 bytes).
 */
__attribute__((noinline)) int pal_redirect_record(struct __sk_buff *skb, __u32 meta, __u32 l4Off, __u32 redirectKey) {
  __u32 family = meta & 0xff, proto = (meta >> 8) & 0xff;
  if (meta >> 16) return -1; /* a fragment */
  if (family == 4) return nat_redirect_new(skb, l4Off, proto, redirectKey);
  if (family == 6 && l4Off == PAL_L3_OFF + 40) return nat_redirect_new6(skb, proto, redirectKey);
  return -1;
}

/* The rewrite of one packet of a redirected flow (natSide 0: destination -> target; 1: the reply's
 * source -> the address dialled), from its NAT entry; < 0: drop (no entry, fail closed). Global. */
__attribute__((noinline)) int pal_nat_rewrite(struct __sk_buff *skb, __u32 meta, __u32 l4Off, __u32 natSide) {
  __u32 family = meta & 0xff, proto = (meta >> 8) & 0xff;
  if (meta >> 16) return -1;
  if (family == 4) return nat_established(skb, l4Off, proto, natSide);
  if (family == 6 && l4Off == PAL_L3_OFF + 40) return nat_established6(skb, proto, natSide);
  return -1;
}

/* which rewrite an established packet of flow f needs at hook `dir`: -1 none, else natSide */
static __always_inline int nat_side(const struct pal_flow *f, int isA, __u32 dir) {
  if ((f->natFlags & PAL_NAT_ORIG) && f->origIsA == isA && dir == PAL_DIR_EGRESS) return 0;
  if ((f->natFlags & PAL_NAT_XLAT) && f->origIsA != isA && dir == PAL_DIR_INGRESS) return 1;
  return -1;
}

/* One ring-buffer event (a denied packet, or a new flow of an observed subject) with `reason`. */
static __always_inline void emit_event(struct __sk_buff *skb, __u32 dir, const struct pal_pkt *p,
                                       const struct pal_decision *d, __u32 reason) {
  struct pal_deny_event *ev = bpf_ringbuf_reserve(&pal_deny_events, sizeof(*ev), 0);
  if (!ev) {
    stat_inc(PAL_STAT_RINGBUF_LOST);
    return;
  }
  ev->timeNs = bpf_ktime_get_ns();
  ev->ifindex = skb->ifindex;
  ev->ruleId = d->ruleId;
  ev->counterIndex = d->counterIndex;
  ev->family = p->family;
  ev->proto = p->proto;
  ev->direction = dir;
  ev->tier = d->tier;
  ev->srcPortNet = p->srcPortNet;
  ev->dstPortNet = p->dstPortNet;
  ev->reason = reason;
  ev->pad[0] = ev->pad[1] = ev->pad[2] = 0;
  __builtin_memcpy(ev->srcNet, p->src, 16);
  __builtin_memcpy(ev->dstNet, p->dst, 16);
  bpf_ringbuf_submit(ev, 0);
}

static __always_inline void emit_deny(struct __sk_buff *skb, __u32 dir, const struct pal_pkt *p,
                                      const struct pal_decision *d) {
  __u32 zero = 0;
  struct pal_config *cfg = bpf_map_lookup_elem(&pal_config, &zero);
  if (!cfg || !(cfg->flags & PAL_CFG_LOG_DENIED)) return;
  emit_event(skb, dir, p, d, d->reason);
}

/* is `addr` (the subject of this direction) an observed subject? (exact entries, PAL_GEN_OBSERVED) */
static __always_inline int observed(const struct pal_pkt *p, const __u8 *addr) {
  if (p->family == 4) {
    struct pal_addr4_key k4;
    __builtin_memset(&k4, 0, sizeof(k4));
    k4.gen = PAL_GEN_OBSERVED;
    __builtin_memcpy(&k4.addrNet, addr, 4);
    return bpf_map_lookup_elem(&pal_addr_exact4, &k4) != 0;
  }
  struct pal_addr_key k;
  __builtin_memset(&k, 0, sizeof(k));
  k.gen = PAL_GEN_OBSERVED;
  k.family = p->family;
  __builtin_memcpy(k.addrNet, addr, 16);
  return bpf_map_lookup_elem(&pal_addr_exact, &k) != 0;
}

static __always_inline void emit_observed(struct __sk_buff *skb, __u32 dir, const struct pal_pkt *p,
                                          const struct pal_decision *d) {
  emit_event(skb, dir, p, d, PAL_REASON_OBSERVED);
}

static __always_inline int drop(struct __sk_buff *skb, __u32 dir, struct pal_pkt *p, __u32 reason, __u32 stat) {
  struct pal_decision d = {.allow = 0, .tier = PAL_TIER_DEFAULT, .ruleId = PAL_NO_RULE,
                           .counterIndex = PAL_NO_RULE, .reason = reason};
  stat_inc(stat);
  emit_deny(skb, dir, p, &d);
  return TC_ACT_SHOT;
}

static __always_inline int enforce(struct __sk_buff *skb, __u32 dir) {
  if (established_fast(skb, dir)) return TC_ACT_OK;
  struct pal_pkt p;
  __builtin_memset(&p, 0, sizeof(p));
  int r = parse(skb, &p);
  if (r == PARSE_NOT_IP) {
    stat_inc(PAL_STAT_NON_IP);
    return TC_ACT_OK;
  }
  if (r == PARSE_PASS_CONTROL) {
    stat_inc(PAL_STAT_NDP);
    return TC_ACT_OK;
  }
  if (r != PARSE_OK) return drop(skb, dir, &p, PAL_REASON_MALFORMED, PAL_STAT_MALFORMED);

  struct pal_frag_key fk;
  if (p.frag != PAL_FRAG_NONE) {
    __builtin_memset(&fk, 0, sizeof(fk));
    fk.family = p.family;
    fk.proto = p.proto;
    fk.idNet = bpf_htonl(p.fragId);
    __builtin_memcpy(fk.srcNet, p.src, 16);
    __builtin_memcpy(fk.dstNet, p.dst, 16);
    if (p.frag == PAL_FRAG_LATER) {
      struct pal_frag *f = bpf_map_lookup_elem(&pal_frags, &fk);
      if (!f || bpf_ktime_get_coarse_ns() - f->seenNs > PAL_FRAG_TIMEOUT_NS)
        return drop(skb, dir, &p, PAL_REASON_FRAGMENT, PAL_STAT_FRAG_UNKNOWN);
      p.srcPortNet = f->srcPortNet;
      p.dstPortNet = f->dstPortNet;
    }
  }

  __u32 okFlag = dir == PAL_DIR_EGRESS ? PAL_FLOW_EGRESS_OK : PAL_FLOW_INGRESS_OK;
  union pal_any_flow_key key;
  if (p.inner.valid) {
    /* an ICMP error about a tracked flow is RELATED: it passes */
    any_flow_key(p.family, p.inner.proto, p.inner.src, p.inner.dst, p.inner.srcPortNet, p.inner.dstPortNet, &key);
    if (flow_lookup(p.family, &key)) {
      stat_inc(PAL_STAT_RELATED);
      return TC_ACT_OK;
    }
  }
  int isA = any_flow_key(p.family, p.proto, p.src, p.dst, p.srcPortNet, p.dstPortNet, &key);
  __u64 now = flow_clock();
  __u64 timeout = flow_timeout_ticks(p.proto);
  /* a TCP SYN without ACK opens a flow: classify it without looking for an established one (a
   * retransmitted SYN is classified again, which the policy in force answers the same way) */
  int syn = p.proto == IPPROTO_TCP && p.frag != PAL_FRAG_LATER && (p.tcpFlags & 0x12) == 0x02;
  struct pal_flow *f = 0;
  /* this CPU's hint, when the flow map passed the same packet shape (orientation, hook) less
   * than PAL_FLOW_HINT_REFRESH_S ago, answers without the hash lookup */
  struct pal_flow_hint4 *hint = 0;
  struct pal_flow_hint6 *hint6 = 0;
  __u32 hintBit = 1u << ((isA << 1) | dir);
  if (!syn && p.family == 4) {
    hint = flow_hint_slot(&key.k4);
    if (flow_hint_pass(hint, &key.k4, hintBit, now)) {
      stat_inc(PAL_STAT_ESTABLISHED);
      goto allowed;
    }
  } else if (!syn) {
    hint6 = flow_hint6_slot(&key);
    if (flow_hint6_pass(hint6, &key, hintBit, now)) {
      stat_inc(PAL_STAT_ESTABLISHED);
      goto allowed;
    }
  }
  if (!syn) {
    f = flow_lookup(p.family, &key);
    if (f && now - f->lastSeenTicks <= timeout) {
      if (f->origIsA != isA || (f->okMask & okFlag)) {
        f->lastSeenTicks = now;
        if (hint) {
          hint->addrANet = key.k4.addrANet;
          hint->addrBNet = key.k4.addrBNet;
          hint->portANet = key.k4.portANet;
          hint->portBNet = key.k4.portBNet;
          hint->proto = key.k4.proto;
          hint->passMask = flow_pass_mask(f); /* all of it re-derived: no bit outlives its reason */
          hint->lastSeenTicks = now;
          hint->checkedTicks = now;
        } else if (hint6) {
          __u64 *hw = (__u64 *)&hint6->key;
          hw[0] = key.words[0];
          hw[1] = key.words[1];
          hw[2] = key.words[2];
          hw[3] = key.words[3];
          hw[4] = key.words[4];
          hint6->passMask = flow_pass_mask(f); /* as for IPv4: every bit re-derived */
          hint6->lastSeenTicks = now;
          hint6->checkedTicks = now;
        }
        stat_inc(PAL_STAT_ESTABLISHED);
        if (f->natFlags) {
          /* a redirected flow: this packet may need its rewrite (never answered by a hint) */
          int side = nat_side(f, isA, dir);
          if (side >= 0 && pal_nat_rewrite(skb, nat_meta(&p), p.l4Off, side) < 0)
            return drop(skb, dir, &p, PAL_REASON_MAP_MISS, PAL_STAT_MAP_MISS);
        }
        goto allowed;
      }
    } else {
      f = 0;
    }
  }

  __u32 zero = 0;
  struct pal_config *cfg = bpf_map_lookup_elem(&pal_config, &zero);
  __u32 gen = cfg ? cfg->activeGen & 1 : 0;
  int hostRole = cfg && (cfg->flags & PAL_CFG_BOTH_DIRECTIONS);
  if (syn && hostRole) {
    /* the host role asks before classifying whether a SYN's flow is a Redirect's translated
     * flow (judged ingress only); elsewhere the entry is looked up only once allowed, so a denied
     * SYN costs no flow lookup */
    f = flow_lookup(p.family, &key);
    if (f && (now - f->lastSeenTicks > timeout || f->origIsA != isA)) f = 0;
  }
  struct pal_decision d;
  __u32 judged = dir; /* the direction whose decision d is */
  if (hostRole) {
    /* the host role: both directions here, egress first (host_judge); a Redirect's translated
     * flow only ingress (its Redirect rule decided its egress) */
    judged = host_judge(skb, gen, &p, &d, f && (f->natFlags & PAL_NAT_XLAT));
    okFlag = PAL_FLOW_EGRESS_OK | PAL_FLOW_INGRESS_OK;
  } else {
    classify(skb, gen, dir, &p, &d);
  }
  if (cfg && (cfg->flags & PAL_CFG_OBSERVE) && observed(&p, judged == PAL_DIR_EGRESS ? p.src : p.dst))
    emit_observed(skb, judged, &p, &d);
  if (!d.allow) {
    stat_inc(PAL_STAT_NEW_DENIED);
    emit_deny(skb, judged, &p, &d);
    return TC_ACT_SHOT;
  }
  stat_inc(PAL_STAT_NEW_ALLOWED);
  if (syn && !hostRole) {
    /* the other hook of a flow between two local pods (or a Redirect's translated flow) may have
     * recorded it already: keep its bits */
    f = flow_lookup(p.family, &key);
    if (f && (now - f->lastSeenTicks > timeout || f->origIsA != isA)) f = 0;
  }
  __u8 natOrig = 0;
  if (d.action == PAL_ACT_REDIRECT && judged == PAL_DIR_EGRESS) {
    /* S14: rewrite to the target, and record the translated flow (pal_redirect_record) */
    if (pal_redirect_record(skb, nat_meta(&p), p.l4Off, gen * PAL_MAX_RULES + d.rule) < 0 ||
        pal_nat_rewrite(skb, nat_meta(&p), p.l4Off, 0) < 0) return drop(skb, judged, &p, PAL_REASON_MAP_MISS, PAL_STAT_MAP_MISS);
    stat_inc(PAL_STAT_REDIRECTED);
    natOrig = PAL_NAT_ORIG;
  }
  if (f) {
    f->okMask |= okFlag;
    f->natFlags = (f->natFlags & ~PAL_NAT_ORIG) | natOrig; /* the decision now in force says whether it is rewritten */
    f->lastSeenTicks = now;
  } else {
    struct pal_flow nf;
    __builtin_memset(&nf, 0, sizeof(nf));
    nf.lastSeenTicks = now;
    nf.origIsA = isA;
    nf.okMask = okFlag;
    nf.natFlags = natOrig;
    flow_insert(p.family, &key, &nf);
  }

allowed:
  if (p.frag == PAL_FRAG_FIRST) {
    struct pal_frag nfr = {.seenNs = bpf_ktime_get_coarse_ns(), .srcPortNet = p.srcPortNet, .dstPortNet = p.dstPortNet};
    bpf_map_update_elem(&pal_frags, &fk, &nfr, BPF_ANY);
  }
  return TC_ACT_OK;
}

SEC("tc")
int pal_egress(struct __sk_buff *skb) { return enforce(skb, PAL_DIR_EGRESS); }

SEC("tc")
int pal_ingress(struct __sk_buff *skb) { return enforce(skb, PAL_DIR_INGRESS); }
