// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pass_all.bpf.c: the baseline of the eBPF benchmark: a tc program that passes every packet.
 * Run beside pal_egress/pal_ingress through BPF_PROG_TEST_RUN in the same process and run, so
 * that the figures are "ns above the cost of running any tc program at all".
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int pal_pass_all(struct __sk_buff *skb) { return TC_ACT_OK; }
