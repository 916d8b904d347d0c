/**
 * The held-answer loop (docs/fqdn.md §6): the native DNS queue (addon/napi/dnsqueue.cc) feeds
 * batches of held packets to the learner; each batch is released (NF_ACCEPT) only after the
 * learner's `handle` resolved, i.e. after the kernel has the addresses it taught.
 *
 * Hold time: from the worker's receive (CLOCK_MONOTONIC) to the verdict, kept in a bounded ring
 * of the last 4,096 answers for p50/p99 (stats, metrics, bench/fqdn.bench.mjs).
 * Fail modes: `stop()` releases every held packet first; a crash leaves held packets to the
 * kernel (dropped as the queue goes; the client's retry passes through --queue-bypass).
 * Cost: one N-API call per receive batch plus one accept call. Thread-safety: JS thread only.
 */
import { nativeDnsQueue, type DnsQueue } from '../native/binding.js';
import type { DnsLearner } from './learner.js';

export interface AnswerQueueOptions {
  readonly queueNum: number;
  readonly netnsPath?: string;
  readonly maxLen?: number;
}

export interface HoldStats {
  readonly held: number;
  readonly released: number;
  readonly holdP50Us: number;
  readonly holdP99Us: number;
}

const RING = 4096;

export class DnsAnswerQueue {
  private readonly q: DnsQueue;
  private chain: Promise<void> = Promise.resolve();
  private readonly ring = new Float64Array(RING);
  private ringN = 0;
  private held = 0;
  private released = 0;

  constructor(
    private readonly learner: DnsLearner,
    options: AnswerQueueOptions,
  ) {
    this.q = nativeDnsQueue(
      { queueNum: options.queueNum, ...(options.netnsPath !== undefined ? { netnsPath: options.netnsPath } : {}), ...(options.maxLen !== undefined ? { maxLen: options.maxLen } : {}) },
      (ids, offsets, bytes, recvNs) => this.onPackets(ids, offsets, bytes, recvNs),
    );
  }

  start(): void {
    this.q.start();
  }

  /** Release everything held, then unbind. */
  async stop(): Promise<void> {
    await this.chain;
    this.q.stop();
  }

  stats(): HoldStats {
    const n = Math.min(this.ringN, RING);
    const sorted = Array.from(this.ring.subarray(0, n)).sort((a, b) => a - b);
    const pct = (p: number): number => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(p * n))] as number));
    return { held: this.held, released: this.released, holdP50Us: pct(0.5), holdP99Us: pct(0.99) };
  }

  private onPackets(ids: Uint32Array, offsets: Uint32Array, bytes: Buffer, recvNs: bigint): void {
    this.held += ids.length;
    const packets = Array.from(ids, (_, i) => bytes.subarray(offsets[i] as number, offsets[i + 1] as number));
    const run = async (): Promise<void> => {
      try {
        await this.learner.handle(packets);
      } finally {
        this.q.accept(ids);
        this.released += ids.length;
        const us = Number(process.hrtime.bigint() - recvNs) / 1000;
        for (let i = 0; i < ids.length; i++) this.ring[this.ringN++ % RING] = us;
      }
    };
    this.chain = this.chain.then(run, run);
  }
}
