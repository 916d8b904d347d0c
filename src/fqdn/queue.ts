/**
 * The held-answer loop (docs/fqdn.md §6): the native DNS queue (addon/napi/dnsqueue.cc) feeds
 * batches of held packets to the learner; each batch is released (NF_ACCEPT) only after the
 * learner's `handle` resolved, i.e. after the kernel has the addresses it taught.
 *
 * Batching: receive batches that arrive while a kernel write is in flight are merged and go to
 * the learner as ONE batch (one kernel write, one verdict message) when it returns, so a burst
 * of answers costs one write per wakeup of the JS thread, not one per receive batch. Batches
 * are released strictly in receive order (the native side sends a contiguous run as one
 * nfq_set_verdict_batch).
 * Hold time, per packet, CLOCK_MONOTONIC: from the kernel's timestamp of the packet (its
 * receive on the node, or its queueing; the worker's wakeup when the kernel gave none) to the
 * verdict sent, split into stages (HOLD_STAGES), kept in a bounded ring of the last 4,096
 * answers for p50/p99 (stats, metrics, bench/fqdn.bench.mjs).
 * Fail modes: `stop()` releases every held packet first; a crash leaves held packets to the
 * kernel (dropped as the queue goes; the client's retry passes through --queue-bypass).
 * Cost: one N-API call per receive batch plus one accept call per learner batch; the ring is
 * preallocated (no allocation per packet). Thread-safety: JS thread only.
 */
import { nativeDnsQueue, type DnsQueue } from '../native/binding.js';
import type { BatchMarks, DnsLearner } from './learner.js';

export interface AnswerQueueOptions {
  readonly queueNum: number;
  readonly netnsPath?: string;
  readonly maxLen?: number;
}

/**
 * The stages of one held answer, in order; they add up to the whole hold:
 *   queue:    kernel timestamp -> the worker thread woke up (the kernel queue + the worker's scheduling)
 *   recv:     wakeup -> the receive batch read (recv + libnetfilter_queue parsing)
 *   dispatch: received -> the JS callback ran (ThreadSafeFunction hop: the event loop)
 *   wait:     callback -> the learner started on it (behind the batch already in the kernel write)
 *   learn:    parse + chain walk + cache
 *   write:    the kernel write (Enforcement.learn -> Backend.applyDeltas)
 *   verdict:  the verdict message (accept: one sendmsg)
 */
export const HOLD_STAGES = ['queue', 'recv', 'dispatch', 'wait', 'learn', 'write', 'verdict'] as const;
export type HoldStage = (typeof HOLD_STAGES)[number];

export interface HoldStats {
  readonly held: number;
  readonly released: number;
  /** the whole hold: kernel timestamp (or the worker's wakeup) to the verdict sent */
  readonly holdP50Us: number;
  readonly holdP99Us: number;
  /** per stage, over the same ring */
  readonly holdStagesUs: Readonly<Record<HoldStage, { readonly p50: number; readonly p99: number }>>;
  /** answers of the ring that carried a kernel timestamp */
  readonly kernelStamped: number;
  /** verdict messages sent (one per contiguous run of released answers) */
  readonly verdictMessages: number;
}

/** One released answer: the whole hold and each stage, microseconds. */
export type HoldSample = { readonly totalUs: number; readonly kernelStamped: boolean; /** when the verdict went, CLOCK_MONOTONIC ns */ readonly verdictNs: number } & Readonly<Record<HoldStage, number>>;

const RING = 4096;
/** columns of a ring row: total, the stages, stamped (1/0), the verdict's time (ns) */
const COLS = 3 + HOLD_STAGES.length;
const STAMPED = COLS - 2;
const VERDICT_AT = COLS - 1;

interface Received {
  readonly ids: Uint32Array;
  readonly packets: Uint8Array[];
  readonly times: Float64Array;
  readonly callbackNs: number;
}

const monoNs = (): number => Number(process.hrtime.bigint());

export class DnsAnswerQueue {
  private readonly q: DnsQueue;
  private pending: Received[] = [];
  private draining: Promise<void> | undefined;
  private readonly ring = new Float64Array(RING * COLS);
  private ringN = 0;
  private held = 0;
  private released = 0;
  private readonly marks: BatchMarks = { startNs: 0, learnedNs: 0, writtenNs: 0 };

  constructor(
    private readonly learner: DnsLearner,
    options: AnswerQueueOptions,
  ) {
    this.q = nativeDnsQueue(
      { queueNum: options.queueNum, ...(options.netnsPath !== undefined ? { netnsPath: options.netnsPath } : {}), ...(options.maxLen !== undefined ? { maxLen: options.maxLen } : {}) },
      (ids, offsets, bytes, _recvNs, times) => this.onPackets(ids, offsets, bytes, times),
    );
  }

  start(): void {
    this.q.start();
  }

  /** Release everything held, then unbind. */
  async stop(): Promise<void> {
    while (this.draining) await this.draining;
    this.q.stop();
  }

  stats(): HoldStats {
    const n = Math.min(this.ringN, RING);
    const col = (c: number): number[] => {
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = this.ring[i * COLS + c] as number;
      return out.sort((a, b) => a - b);
    };
    const pct = (sorted: number[], p: number): number => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(p * n))] as number));
    const total = col(0);
    const stages = Object.fromEntries(
      HOLD_STAGES.map((s, k) => {
        const sorted = col(1 + k);
        return [s, { p50: pct(sorted, 0.5), p99: pct(sorted, 0.99) }];
      }),
    ) as Record<HoldStage, { p50: number; p99: number }>;
    let stamped = 0;
    for (let i = 0; i < n; i++) stamped += this.ring[i * COLS + STAMPED] as number;
    return { held: this.held, released: this.released, holdP50Us: pct(total, 0.5), holdP99Us: pct(total, 0.99), holdStagesUs: stages, kernelStamped: stamped, verdictMessages: this.q.stats().verdictMessages };
  }

  /** The ring's samples, oldest first (the bench's tail analysis). */
  samples(): HoldSample[] {
    const n = Math.min(this.ringN, RING);
    const first = this.ringN > RING ? this.ringN % RING : 0;
    const out: HoldSample[] = [];
    for (let j = 0; j < n; j++) {
      const o = ((first + j) % RING) * COLS;
      const row: Record<string, number | boolean> = { totalUs: this.ring[o] as number, kernelStamped: this.ring[o + STAMPED] === 1, verdictNs: this.ring[o + VERDICT_AT] as number };
      HOLD_STAGES.forEach((s, k) => (row[s] = this.ring[o + 1 + k] as number));
      out.push(row as HoldSample);
    }
    return out;
  }

  private onPackets(ids: Uint32Array, offsets: Uint32Array, bytes: Buffer, times: Float64Array): void {
    const callbackNs = monoNs();
    this.held += ids.length;
    const packets = new Array<Uint8Array>(ids.length);
    for (let i = 0; i < ids.length; i++) packets[i] = bytes.subarray(offsets[i] as number, offsets[i + 1] as number);
    this.pending.push({ ids, packets, times, callbackNs });
    if (!this.draining) this.draining = this.drain();
  }

  /** Learn and release what is pending, merged, until nothing is; one at a time, in order. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batches = this.pending;
        this.pending = [];
        const packets = batches.length === 1 ? batches[0]!.packets : batches.flatMap((b) => b.packets);
        const ids = batches.length === 1 ? batches[0]!.ids : Uint32Array.from(batches.flatMap((b) => Array.from(b.ids)));
        const m = this.marks;
        m.startNs = m.learnedNs = m.writtenNs = 0;
        try {
          await this.learner.handle(packets, m);
        } finally {
          this.q.accept(ids);
          this.released += ids.length;
          this.record(batches, monoNs());
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private record(batches: readonly Received[], verdictNs: number): void {
    const m = this.marks;
    // a learner that threw before its marks: its stages collapse onto the verdict
    const start = m.startNs || verdictNs;
    const learned = m.learnedNs || start;
    const written = m.writtenNs || learned;
    for (const b of batches) {
      const wake = b.times[0] as number;
      const recv = b.times[1] as number;
      for (let i = 0; i < b.ids.length; i++) {
        const stamp = b.times[2 + i] as number;
        // a kernel stamp later than the wakeup, or absurdly old (a clock step), is not used
        const stamped = stamp > 0 && stamp <= wake && wake - stamp < 10e9;
        const queued = stamped ? stamp : wake;
        const o = (this.ringN++ % RING) * COLS;
        const r = this.ring;
        r[o] = (verdictNs - queued) / 1000;
        r[o + 1] = (wake - queued) / 1000;
        r[o + 2] = (recv - wake) / 1000;
        r[o + 3] = (b.callbackNs - recv) / 1000;
        r[o + 4] = (start - b.callbackNs) / 1000;
        r[o + 5] = (learned - start) / 1000;
        r[o + 6] = (written - learned) / 1000;
        r[o + 7] = (verdictNs - written) / 1000;
        r[o + STAMPED] = stamped ? 1 : 0;
        r[o + VERDICT_AT] = verdictNs;
      }
    }
  }
}
