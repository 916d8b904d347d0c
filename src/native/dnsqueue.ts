/**
 * Types of the `dnsqueue` sub-module (addon/napi/dnsqueue.cc): one NFQUEUE of DNS answers held
 * until the FQDN learner has put their addresses in the kernel (docs/fqdn.md §6).
 * Errors: DNSQ_BAD_ARGUMENT -> ERR_PALISADE_NATIVE_ARGUMENT, DNSQ_START_FAILED ->
 * ERR_PALISADE_DNS_QUEUE_START (docs/error-codes.md). Thread-safety: call from the JS thread;
 * `onPackets` runs there too (one call per receive batch of the worker).
 */
export interface DnsQueueOptions {
  readonly queueNum: number;
  /** packets the kernel holds before it accepts without asking (fail-open flag); default 4096 */
  readonly maxLen?: number;
  /** bytes copied per packet; default 65535 */
  readonly copyRangeBytes?: number;
  /** bind the queue in this network namespace (e.g. /run/netns/NAME) */
  readonly netnsPath?: string;
}

/** One receive batch: packet i is bytes[offsets[i], offsets[i+1]) (an IP packet), id ids[i]. */
export type DnsPacketsHandler = (ids: Uint32Array, offsets: Uint32Array, bytes: Buffer, recvNs: bigint) => void;

export interface DnsQueueStats {
  readonly received: number;
  readonly accepted: number;
  readonly recvErrors: number;
  readonly verdictErrors: number;
}

export interface DnsQueue {
  start(): void;
  /** NF_ACCEPT the held packets; returns how many verdicts were sent */
  accept(ids: Uint32Array): number;
  stop(): void;
  stats(): DnsQueueStats;
}
