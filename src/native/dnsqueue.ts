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
  /**
   * keep one SO_TIMESTAMPNS socket open so the kernel stamps every received packet and each held
   * answer carries NFQA_TIMESTAMP (the start of its hold); default true (addon/napi/dnsqueue.cc)
   */
  readonly kernelTimestamps?: boolean;
}

/**
 * One receive batch: packet i is bytes[offsets[i], offsets[i+1]) (an IP packet), id ids[i].
 * times, CLOCK_MONOTONIC ns (process.hrtime's clock): [0] the worker woke up, [1] the batch was
 * received (= recvNs), [2 + i] the kernel's timestamp of packet i (0: none came).
 */
export type DnsPacketsHandler = (ids: Uint32Array, offsets: Uint32Array, bytes: Buffer, recvNs: bigint, times: Float64Array) => void;

export interface DnsQueueStats {
  readonly received: number;
  readonly accepted: number;
  readonly recvErrors: number;
  readonly verdictErrors: number;
  /** verdict messages sent (a contiguous run of the oldest held ids is one message) */
  readonly verdictMessages: number;
}

export interface DnsQueue {
  start(): void;
  /**
   * NF_ACCEPT the held packets; returns how many were accepted. Call in receive order: a
   * contiguous run starting at the oldest held id goes as one batch verdict (every id <= the last).
   */
  accept(ids: Uint32Array): number;
  stop(): void;
  stats(): DnsQueueStats;
}
