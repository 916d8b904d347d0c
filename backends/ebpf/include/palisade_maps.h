/*
 * palisade_maps.h: the one declaration of every BPF map key and value Palisade's tc programs
 * share with the C++ loader (backends/ebpf/native). Included by the BPF C (clang -target bpf)
 * and by g++; the static_asserts at the bottom are the layout check both compilers run (the
 * idea of Cilium's bpf_alignchecker: one struct, two compilers, identical offsets).
 *
 * What the maps are (see backends/ebpf/DESIGN.md for the why):
 *   config        ARRAY[1]            active generation: the single word a policy change flips
 *   addr_exact4   HASH                (gen, IPv4 address)    -> host class (+ expiry) (pod IPs, /32; 8-byte key)
 *   addr_exact    HASH                (gen, family, address) -> host class (+ expiry) (IPv6 /128)
 *                                     gen PAL_GEN_OBSERVED (no policy generation): the observed
 *                                     subjects (src/enforce/observed.ts), class 1
 *   addr_lpm4/6   LPM_TRIE            (gen, prefix)          -> address class  (CIDRs)
 *   port_class    ARRAY (mmapable)    (gen, port table, port) -> port class: tables 0..3 are
 *                                     (protocol class, dst port), tables 4..7 (protocol class,
 *                                     src port); both give ids of one class space (DIM_PORT rows),
 *                                     a source table holds PAL_SPORT_ANY when no rule of the
 *                                     generation narrows source ports (then only the dst row counts)
 *   row_head      ARRAY               (gen, direction, dimension, class) -> chunk mask + first index
 *   row_index     ARRAY (mmapable)    index -> row of one non-zero chunk of a class's bitmap
 *   rows          ARRAY               row -> 512-bit chunk (deduplicated: classes share equal chunks)
 *   verdicts      ARRAY               (gen, direction, rule) -> action, tier, pass target, ids
 *   rule_counters PERCPU_ARRAY        counter slot -> packets, bytes
 *   flows         LRU_HASH            canonical 5-tuple (IPv6) -> which directions were allowed
 *   flows4        LRU_HASH            canonical 5-tuple (IPv4, a 16-byte key: hashing 40 bytes
 *                                     costs ~20 ns more per lookup, measured)
 *   flow_hints4   PERCPU_ARRAY        hash slot -> a recently confirmed flows4 entry (established fast path)
 *   flow_hints6   PERCPU_ARRAY        hash slot -> a recently confirmed flows entry (IPv6, same rules)
 *   frags         LRU_HASH            (addresses, protocol, IP id) -> ports of the first fragment
 *   redirects     ARRAY               (gen, egress rule) -> its Redirect target per family (S14)
 *   nat4          LRU_HASH            canonical IPv4 5-tuple of a redirected flow -> the address and
 *                                     port its packets are rewritten to (see struct pal_nat)
 *   nat6          LRU_HASH            the same for IPv6 flows (canonical 40-byte key)
 *   stats         PERCPU_ARRAY        PAL_STAT_* -> count
 *   deny_events   RINGBUF             struct pal_deny_event (denied packets, and with PAL_CFG_OBSERVE
 *                                     the new flows of observed subjects: reason PAL_REASON_OBSERVED)
 *
 * Invariants:
 * - Every key carrying a generation (`gen`) lives in exactly one generation; a packet reads
 *   config.activeGen once and uses only that generation, so it never sees a mix of two policies.
 * - Byte order is in the name: `...Net` is network order, everything else host order.
 * - A rule bitmap row has bit r set when rule r (position in its direction's first-match list)
 *   accepts the class in that dimension. Chunk k of a row covers rules [512k, 512k+512); only
 *   non-zero chunks are stored: chunk k is rows[row_index[firstIndex + popcount(chunkMask & ((1 << k) - 1))]].
 *   Equal chunks are stored once (adjacent port classes differ in one bit, so most chunks repeat).
 * Thread-safety: maps are shared kernel objects; the loader is the only writer, and it writes
 *   only the inactive generation (full apply) or adds entries that a reader of the active
 *   generation may see in any order without harm (pod churn: rows before the address entry).
 */
#ifndef PALISADE_MAPS_H
#define PALISADE_MAPS_H

#include <linux/types.h>

#define PAL_GENERATIONS 2u
/* the key generation of observed-subject entries in addr_exact/addr_exact4: never a policy generation */
#define PAL_GEN_OBSERVED 2u
#define PAL_DIRS 2u
#define PAL_DIR_INGRESS 0u
#define PAL_DIR_EGRESS 1u

#define PAL_DIMS 3u
#define PAL_DIM_SUBJECT 0u
#define PAL_DIM_PEER 1u
#define PAL_DIM_PORT 2u

/* protocol classes of the port table: TCP, UDP, SCTP carry ports; everything else is OTHER, port 0 */
#define PAL_PROTO_TCP 0u
#define PAL_PROTO_UDP 1u
#define PAL_PROTO_SCTP 2u
#define PAL_PROTO_OTHER 3u
#define PAL_PROTO_CLASSES 4u
#define PAL_PORTS 65536u
/* port tables per generation: PAL_PROTO_CLASSES destination-port tables, then as many source-port tables */
#define PAL_PORT_TABLES (2u * PAL_PROTO_CLASSES)
/* a source-port class meaning "no rule narrows source ports": the source-port row is not read.
 * Port class ids are below it (tables.ts refuses more than 0xffff port classes). */
#define PAL_SPORT_ANY 0xffffu

#define PAL_CHUNK_WORDS 8u
#define PAL_CHUNK_RULES 512u
#define PAL_CHUNK_SHIFT 9u
#define PAL_MAX_CHUNKS 64u
/* rules per direction: 64 chunks of 512 */
#define PAL_MAX_RULES (PAL_MAX_CHUNKS * PAL_CHUNK_RULES)
/* classes per dimension (address classes are shared by subject and peer) */
#define PAL_MAX_CLASSES 65536u
/* distinct chunks per generation; the rows map holds PAL_GENERATIONS regions of this size */
#define PAL_ROWS_PER_GEN 262144u
/* chunk references per generation (row_index) */
#define PAL_INDEX_PER_GEN 1048576u
#define PAL_MAX_COUNTERS (2u * PAL_MAX_RULES)
#define PAL_EXACT_ENTRIES 131072u
#define PAL_LPM_ENTRIES 65536u
#define PAL_FLOW_ENTRIES 262144u
#define PAL_FRAG_ENTRIES 8192u
#define PAL_FLOW_HINT_BITS 12u
#define PAL_FLOW_HINT_ENTRIES (1u << PAL_FLOW_HINT_BITS)
#define PAL_FLOW_HINT_REFRESH_S 1u
#define PAL_NAT_ENTRIES 65536u
#define PAL_RINGBUF_BYTES (256u * 1024u)

#define PAL_NO_RULE 0xffffffffu

/* verdict actions */
#define PAL_ACT_ALLOW 1u /* accept, NetworkPolicy allow, node-local */
#define PAL_ACT_DENY 2u  /* deny, isolation deny */
#define PAL_ACT_PASS 3u  /* continue at passTarget */
#define PAL_ACT_REDIRECT 4u /* accept, with the destination rewritten to pal_redirects[gen][rule] (egress only) */

/* tiers, as in deny events */
#define PAL_TIER_ADMIN 0u
#define PAL_TIER_NETWORK_POLICY 1u
#define PAL_TIER_BASELINE 2u
#define PAL_TIER_DEFAULT 3u

/* flow flags: which direction's policy already allowed the flow (in its original orientation) */
#define PAL_FLOW_EGRESS_OK 1u
#define PAL_FLOW_INGRESS_OK 2u

/* flow NAT flags (pal_flow.natFlags, S14 Redirect; the target in pal_nat4 under the flow's key):
 * ORIG  the flow as the client dialled it: its packets in the original orientation at the egress
 *       hook get their destination rewritten to the target
 * XLAT  the flow as rewritten (client -> target): its replies at the ingress hook get their
 *       source rewritten back to the address the client dialled
 * A hint never passes those two packet shapes (flow_pass_mask), so no fast path skips a rewrite. */
#define PAL_NAT_ORIG 1u
#define PAL_NAT_XLAT 2u

/* flow idle timeouts, seconds (the flow clock counts ticks: palisade.bpf.c flow_clock) */
#define PAL_FLOW_TIMEOUT_TCP_S 3600ull
#define PAL_FLOW_TIMEOUT_OTHER_S 120ull
#define PAL_FRAG_TIMEOUT_NS (30ull * 1000000000ull)

/* stats slots */
#define PAL_STAT_NON_IP 0u
#define PAL_STAT_ESTABLISHED 1u
#define PAL_STAT_NEW_ALLOWED 2u
#define PAL_STAT_NEW_DENIED 3u
#define PAL_STAT_MALFORMED 4u
#define PAL_STAT_FRAG_UNKNOWN 5u
#define PAL_STAT_RINGBUF_LOST 6u
#define PAL_STAT_NO_POLICY 7u
#define PAL_STAT_NDP 8u
#define PAL_STAT_MAP_MISS 9u
#define PAL_STAT_RELATED 10u
#define PAL_STAT_REDIRECTED 11u /* new flows rewritten by a Redirect rule */
#define PAL_STATS 16u

/* deny event reasons */
#define PAL_REASON_RULE 0u      /* a deny rule (ruleIndex valid) */
#define PAL_REASON_MALFORMED 1u /* unparsable headers */
#define PAL_REASON_FRAGMENT 2u  /* a non-first fragment whose first fragment was not seen */
#define PAL_REASON_MAP_MISS 3u  /* a policy table entry missing: fail closed */
#define PAL_REASON_OBSERVED 4u  /* not a drop: a new flow of an observed subject, allowed or denied */

/* config flags */
#define PAL_CFG_LOG_DENIED 1u /* emit a ring-buffer event per denied packet */
#define PAL_CFG_OBSERVE 2u    /* emit an event per new flow whose subject has a PAL_GEN_OBSERVED entry */
/* the host role (S20 node subjects, Service subjects on node addresses): a new flow is judged in
 * both directions at the first hook that sees it, egress (source) then ingress (destination), as
 * nftables' one path at input / output / forward; set while the rule set has a subject that is not
 * pods (backend.ts hostJudging()) */
#define PAL_CFG_BOTH_DIRECTIONS 4u

struct pal_config {
  __u32 activeGen;
  __u32 flags; /* PAL_CFG_* */
  __u64 version;
  __u32 layoutSig; /* PAL_LAYOUT_SIG of the loader that created the maps */
  __u32 pad;
};

/* addr_exact: pod addresses (and any /32 or /128 member) */
struct pal_addr_key {
  __u8 gen;
  __u8 family; /* 4 or 6 */
  __u8 pad[2];
  __u8 addrNet[16]; /* IPv4 in the first 4 bytes, the rest zero */
};

/* addr_exact4: IPv4 host addresses (a short key hashes faster than pal_addr_key) */
struct pal_addr4_key {
  __u8 gen;
  __u8 pad[3];
  __u32 addrNet;
};

/* addr_lpm4: prefixLen counts the 8 bits of `gen` */
struct pal_lpm4_key {
  __u32 prefixLen;
  __u8 gen;
  __u8 addrNet[4];
  __u8 pad[3];
};

/* addr_lpm6: prefixLen counts the 8 bits of `gen` */
struct pal_lpm6_key {
  __u32 prefixLen;
  __u8 gen;
  __u8 addrNet[16];
  __u8 pad[3];
};

struct pal_addr_class {
  __u32 classId;
};

/* addr_exact/addr_exact4 value: a host entry's class, and for a member of a `learned` (DNS) set
 * its expiry: once bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE) reaches expiresNs, a NEW
 * flow classifies the address as expiredClassId (its membership without the learned sets). 0 =
 * never expires. Established flows never read it (the flow table answers them first). */
struct pal_host_class {
  __u32 classId;
  __u32 expiredClassId;
  __u64 expiresNs;
};

/* port_class index: (gen * PAL_PORT_TABLES + table) * PAL_PORTS + port, table = protoClass for the
 * destination port and PAL_PROTO_CLASSES + protoClass for the source port; value __u32 class.
 * The loader writes it through mmap, where array elements are 8-byte strided. */

/* row_head index: ((gen * PAL_DIRS + dir) * PAL_DIMS + dim) * PAL_MAX_CLASSES + class */
struct pal_row_head {
  __u64 chunkMask;
  __u32 firstIndex; /* into row_index (absolute) */
  __u32 pad;
};

/* row_index: value __u32 absolute row in `rows`; written through mmap (8-byte strided elements) */

struct pal_chunk {
  __u64 w[PAL_CHUNK_WORDS];
};

/* verdicts index: (gen * PAL_DIRS + dir) * PAL_MAX_RULES + rule */
struct pal_verdict {
  __u8 action;
  __u8 tier;
  __u16 pad;
  __u32 passTarget;   /* PAS: first rule of the next tier, or ruleCount for the default */
  __u32 counterIndex; /* rule_counters slot, stable across generations for the same rule */
  __u32 ruleId;       /* RuleSet rule id (the loader keeps the names) */
};

struct pal_counter {
  __u64 packets;
  __u64 bytes;
};

/* flows: canonical orientation, (addrA, portA) <= (addrB, portB) bytewise */
struct pal_flow_key {
  __u8 family;
  __u8 proto; /* IP protocol number */
  __u16 pad;
  __u16 portANet;
  __u16 portBNet;
  __u8 addrANet[16];
  __u8 addrBNet[16];
};

/* flows4: the IPv4 form of pal_flow_key, same canonical order */
struct pal_flow4_key {
  __u8 proto;
  __u8 pad;
  __u16 portANet;
  __u16 portBNet;
  __u16 pad2;
  __u32 addrANet;
  __u32 addrBNet;
};

struct pal_flow {
  __u64 lastSeenTicks; /* flow clock ticks (jiffies, or coarse ns / 2^20 without CONFIG_HZ) */
  __u32 okMask;  /* PAL_FLOW_*_OK; updated without atomics: a lost bit only costs a reclassification */
  __u8 origIsA;  /* the first packet went from A to B */
  __u8 natFlags; /* PAL_NAT_* */
  __u8 pad[2];
};

/* redirects value: a Redirect rule's target (the endpoint the flow is rewritten to; the
 * ClusterIP where the Service has none), per family; has4/has6 = 0: no target in that family
 * (such a flow is denied, fail closed). Index gen * PAL_MAX_RULES + egress rule position. */
struct pal_redirect {
  __u8 addr6Net[16];
  __u32 addr4Net;
  __u16 port4Net;
  __u16 port6Net;
  __u8 has4;
  __u8 has6;
  __u8 pad[2];
};

/* nat4 value: the address (IPv4 in the first 4 bytes) and port written into a packet of the flow
 * keyed: for a PAL_NAT_ORIG flow the target (as destination), for a PAL_NAT_XLAT flow the
 * address the client dialled (as the reply's source) */
struct pal_nat {
  __u8 addrNet[16];
  __u16 portNet;
  __u8 pad[2];
};

/*
 * flow_hints4: a per-CPU direct-mapped cache in front of flows4 (IPv4 only). Slot = a multiply-
 * xor hash of the canonical key; a hit passes the packet without the hash-map lookup (an array
 * lookup is inlined by the verifier, a hash lookup is a call: ~1 ns against ~30 ns on the bench
 * machine). Only written after flows4 passed the packet; at most PAL_FLOW_HINT_REFRESH_S old
 * (then flows4 is asked again and refreshed), so flows4 stays the truth: its idle timer and LRU
 * order see every active flow at least once per period and CPU.
 */
struct pal_flow_hint4 {
  __u32 addrANet;
  __u32 addrBNet;
  __u16 portANet;
  __u16 portBNet;
  __u8 proto;
  __u8 passMask; /* bit (isA << 1 | direction): packets in that orientation at that hook pass */
  __u16 pad;
  __u64 lastSeenTicks;  /* flow clock */
  __u64 checkedTicks;   /* when flows4 last confirmed it */
};

/*
 * flow_hints6: the same cache in front of flows (IPv6): the slot holds the whole 40-byte canonical
 * key (compared as five 64-bit words: both addresses in full, ports, protocol), with the same
 * write, refresh and idle rules as flow_hints4. 64 bytes, one cache line.
 */
struct pal_flow_hint6 {
  struct pal_flow_key key;
  __u8 passMask; /* bit (isA << 1 | direction), as in pal_flow_hint4 */
  __u8 pad[7];
  __u64 lastSeenTicks; /* flow clock */
  __u64 checkedTicks;  /* when flows last confirmed it */
};

struct pal_frag_key {
  __u8 family;
  __u8 proto;
  __u16 pad;
  __u32 idNet; /* IPv4 id (16 bits, zero-extended) or IPv6 fragment id */
  __u8 srcNet[16];
  __u8 dstNet[16];
};

struct pal_frag {
  __u64 seenNs;
  __u16 srcPortNet;
  __u16 dstPortNet;
  __u32 pad;
};

struct pal_deny_event {
  __u64 timeNs; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
  __u32 ifindex;
  __u32 ruleId;       /* PAL_NO_RULE unless reason is PAL_REASON_RULE */
  __u32 counterIndex; /* PAL_NO_RULE unless reason is PAL_REASON_RULE */
  __u8 family;
  __u8 proto;
  __u8 direction; /* PAL_DIR_* */
  __u8 tier;      /* PAL_TIER_* */
  __u16 srcPortNet;
  __u16 dstPortNet;
  __u8 reason; /* PAL_REASON_* */
  __u8 pad[3];
  __u8 srcNet[16];
  __u8 dstNet[16];
};

/*
 * PAL_LAYOUT_SIG: a signature of this layout (struct sizes, capacities, and a revision to bump
 * when a map's meaning changes without its shape). The BPF object carries it in .rodata
 * (`pal_layout_sig`) and pal_config records it at creation: the loader refuses an object built
 * from a different header, and re-creates pins made by a loader of another layout.
 */
#define PAL_LAYOUT_REVISION 8u /* 8: Redirect (PAL_ACT_REDIRECT, pal_redirects, pal_nat4, pal_nat6, pal_flow.natFlags); 2: PAL_GEN_OBSERVED entries and PAL_REASON_OBSERVED events; 3: flow times in ticks, flow_hints4; 4: source-port tables; 5: flow_hints6; 6: PAL_CFG_BOTH_DIRECTIONS (a flow entry may carry both okMask bits from one hook); 7: pal_host_class (learned host entries expire) */
#define PAL_LAYOUT_SIG                                                                                             \
  ((__u32)(sizeof(struct pal_config) + 3 * sizeof(struct pal_addr_key) + 5 * sizeof(struct pal_addr4_key) +       \
           7 * sizeof(struct pal_lpm4_key) + 11 * sizeof(struct pal_lpm6_key) + 13 * sizeof(struct pal_row_head) + \
           17 * sizeof(struct pal_chunk) + 19 * sizeof(struct pal_verdict) + 23 * sizeof(struct pal_counter) +      \
           29 * sizeof(struct pal_flow_key) + 31 * sizeof(struct pal_flow4_key) + 37 * sizeof(struct pal_flow) +   \
           41 * sizeof(struct pal_frag_key) + 43 * sizeof(struct pal_deny_event) + 47u * PAL_MAX_CLASSES +         \
           53u * PAL_ROWS_PER_GEN + 59u * PAL_INDEX_PER_GEN + 61u * PAL_MAX_RULES + 67u * PAL_EXACT_ENTRIES +       \
           71u * PAL_FLOW_ENTRIES + 73 * sizeof(struct pal_flow_hint4) + 79u * PAL_FLOW_HINT_ENTRIES +             \
           83 * sizeof(struct pal_flow_hint6) + 89 * sizeof(struct pal_host_class) +               \
           97 * sizeof(struct pal_redirect) + 101 * sizeof(struct pal_nat) + 103u * PAL_NAT_ENTRIES +         \
           1000003u * PAL_LAYOUT_REVISION))

/* ---- layout check (both compilers) ------------------------------------------------------ */
#ifdef __cplusplus
#define PAL_ASSERT(c, m) static_assert(c, m)
#include <cstddef>
#define PAL_OFFSETOF(t, f) offsetof(t, f)
#else
#define PAL_ASSERT(c, m) _Static_assert(c, m)
#define PAL_OFFSETOF(t, f) __builtin_offsetof(t, f)
#endif

PAL_ASSERT(sizeof(struct pal_config) == 24 && PAL_OFFSETOF(struct pal_config, layoutSig) == 16, "pal_config");
PAL_ASSERT(sizeof(struct pal_addr_key) == 20 && PAL_OFFSETOF(struct pal_addr_key, addrNet) == 4, "pal_addr_key");
PAL_ASSERT(sizeof(struct pal_addr4_key) == 8 && PAL_OFFSETOF(struct pal_addr4_key, addrNet) == 4, "pal_addr4_key");
PAL_ASSERT(sizeof(struct pal_lpm4_key) == 12 && PAL_OFFSETOF(struct pal_lpm4_key, gen) == 4 &&
               PAL_OFFSETOF(struct pal_lpm4_key, addrNet) == 5, "pal_lpm4_key");
PAL_ASSERT(sizeof(struct pal_lpm6_key) == 24 && PAL_OFFSETOF(struct pal_lpm6_key, gen) == 4 &&
               PAL_OFFSETOF(struct pal_lpm6_key, addrNet) == 5, "pal_lpm6_key");
PAL_ASSERT(sizeof(struct pal_addr_class) == 4, "pal_addr_class");
PAL_ASSERT(sizeof(struct pal_host_class) == 16 && PAL_OFFSETOF(struct pal_host_class, expiresNs) == 8, "pal_host_class");
PAL_ASSERT(sizeof(struct pal_row_head) == 16 && PAL_OFFSETOF(struct pal_row_head, firstIndex) == 8, "pal_row_head");
PAL_ASSERT(sizeof(struct pal_chunk) == 64, "pal_chunk");
PAL_ASSERT(sizeof(struct pal_verdict) == 16 && PAL_OFFSETOF(struct pal_verdict, passTarget) == 4 &&
               PAL_OFFSETOF(struct pal_verdict, counterIndex) == 8 && PAL_OFFSETOF(struct pal_verdict, ruleId) == 12,
           "pal_verdict");
PAL_ASSERT(sizeof(struct pal_counter) == 16, "pal_counter");
PAL_ASSERT(sizeof(struct pal_flow_key) == 40 && PAL_OFFSETOF(struct pal_flow_key, portANet) == 4 &&
               PAL_OFFSETOF(struct pal_flow_key, addrANet) == 8 && PAL_OFFSETOF(struct pal_flow_key, addrBNet) == 24,
           "pal_flow_key");
PAL_ASSERT(sizeof(struct pal_flow4_key) == 16 && PAL_OFFSETOF(struct pal_flow4_key, portANet) == 2 &&
               PAL_OFFSETOF(struct pal_flow4_key, addrANet) == 8 && PAL_OFFSETOF(struct pal_flow4_key, addrBNet) == 12,
           "pal_flow4_key");
PAL_ASSERT(sizeof(struct pal_flow_hint4) == 32 && PAL_OFFSETOF(struct pal_flow_hint4, proto) == 12 &&
               PAL_OFFSETOF(struct pal_flow_hint4, lastSeenTicks) == 16, "pal_flow_hint4");
PAL_ASSERT(sizeof(struct pal_flow_hint6) == 64 && PAL_OFFSETOF(struct pal_flow_hint6, passMask) == 40 &&
               PAL_OFFSETOF(struct pal_flow_hint6, lastSeenTicks) == 48, "pal_flow_hint6");
PAL_ASSERT(sizeof(struct pal_flow) == 16 && PAL_OFFSETOF(struct pal_flow, okMask) == 8 && PAL_OFFSETOF(struct pal_flow, origIsA) == 12 && PAL_OFFSETOF(struct pal_flow, natFlags) == 13, "pal_flow");
PAL_ASSERT(sizeof(struct pal_redirect) == 28 && PAL_OFFSETOF(struct pal_redirect, addr4Net) == 16 &&
               PAL_OFFSETOF(struct pal_redirect, has4) == 24, "pal_redirect");
PAL_ASSERT(sizeof(struct pal_nat) == 20 && PAL_OFFSETOF(struct pal_nat, portNet) == 16, "pal_nat");
PAL_ASSERT(sizeof(struct pal_frag_key) == 40 && PAL_OFFSETOF(struct pal_frag_key, idNet) == 4 &&
               PAL_OFFSETOF(struct pal_frag_key, srcNet) == 8, "pal_frag_key");
PAL_ASSERT(sizeof(struct pal_frag) == 16, "pal_frag");
PAL_ASSERT(sizeof(struct pal_deny_event) == 64 && PAL_OFFSETOF(struct pal_deny_event, family) == 20 &&
               PAL_OFFSETOF(struct pal_deny_event, srcPortNet) == 24 && PAL_OFFSETOF(struct pal_deny_event, reason) == 28 &&
               PAL_OFFSETOF(struct pal_deny_event, srcNet) == 32 && PAL_OFFSETOF(struct pal_deny_event, dstNet) == 48,
           "pal_deny_event");
PAL_ASSERT(PAL_MAX_RULES == 32768u, "rule capacity");

#endif /* PALISADE_MAPS_H */
