// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pass_all.bpf.c: the baseline of the eBPF benchmark: a tc program that passes every packet.
 * Run beside pal_egress/pal_ingress through BPF_PROG_TEST_RUN in the same process and run, so
 * that the figures are "ns above the cost of running any tc program at all".
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "../include/palisade_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int pal_pass_all(struct __sk_buff *skb) { return TC_ACT_OK; }

/* The floor of any stateful program: one lookup of a present key in an LRU hash shaped like
 * pal_flows4 (same key, value, size and flags), nothing else. Not pinned; the first run fills
 * the entry. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PAL_FLOW_ENTRIES);
  __uint(map_flags, BPF_F_NO_COMMON_LRU);
  __type(key, struct pal_flow4_key);
  __type(value, struct pal_flow);
} pal_floor_flows SEC(".maps");

SEC("tc")
int pal_lookup_floor(struct __sk_buff *skb) {
  struct pal_flow4_key k;
  __builtin_memset(&k, 0, sizeof(k));
  k.proto = 6;
  struct pal_flow *f = bpf_map_lookup_elem(&pal_floor_flows, &k);
  if (!f) {
    struct pal_flow nf;
    __builtin_memset(&nf, 0, sizeof(nf));
    bpf_map_update_elem(&pal_floor_flows, &k, &nf, BPF_ANY);
  }
  return TC_ACT_OK;
}
