/**
 * FQDN learning on a node (docs/fqdn.md §3, §6): steering + the DNS answer queue + the learner,
 * over whatever applies learned addresses to the kernel (the Enforcement: `learn`), for every
 * backend alike. `palisade enforce` and `palisade agent` start it when the policy in force has a
 * `domainNames` peer and a resolver is known (Service kube-system/kube-dns, or --dns-server).
 *
 * Trusted resolvers: `dnsServers` when given; else the ClusterIPs of Service kube-system/kube-dns
 * and every address of its EndpointSlices (label kubernetes.io/service-name, `serviceName` here),
 * read from the cluster in force at each batch (cached per cluster object).
 * The pod that asked: the non-host-network pod owning the answer's destination address.
 * Cost: per batch O(1) lookups; per new cluster object O(pods + slices) once.
 * Thread-safety: JS thread only; one per node namespace.
 */
import type { LearnedAddress } from '../model/fqdn.js';
import type { Cluster } from '../model/types.js';
import type { CacheOptions } from './cache.js';
import { DnsLearner } from './learner.js';
import { readLearnedSnapshot, writeLearnedSnapshot } from './persist.js';
import { DnsAnswerQueue, type HoldSample, type HoldStats } from './queue.js';
import { installDnsSteering, removeDnsSteering } from './steer.js';

/** What the learner writes through, and reads the inventory from. */
export interface LearnTarget {
  learn(added: readonly LearnedAddress[], removed: readonly LearnedAddress[]): Promise<unknown>;
  /** the cluster in force (same object while nothing changed) */
  cluster(): Cluster | undefined;
}

export interface FqdnNodeOptions {
  readonly netnsPath?: string;
  /** default 4242 */
  readonly queueNum?: number;
  /** --dns-server: replaces the kube-dns endpoints */
  readonly dnsServers?: readonly string[];
  readonly cache?: CacheOptions;
  /**
   * Retract expired entries from userspace on a timer (default true). Tests turn it off to show
   * the kernel times learned elements out by itself (a learner stopped or late, docs/fqdn.md §6).
   */
  readonly expiryTimer?: boolean;
  /**
   * The learned-address snapshot file (persist.ts): read at start (its live entries go to the
   * kernel before any answer is steered), rewritten atomically after each kernel write (at most
   * every SNAPSHOT_WRITE_MS) and at stop. Absent: nothing survives a restart.
   */
  readonly snapshotFile?: string;
}

/** The longest a kernel write waits before the snapshot file follows it. */
export const SNAPSHOT_WRITE_MS = 100;

export const DEFAULT_DNS_QUEUE = 4242;

export interface FqdnStats extends HoldStats {
  readonly names: number;
  readonly addresses: number;
  readonly learned: number;
  readonly evicted: number;
  readonly expired: number;
  readonly untrusted: number;
  readonly unparsed: number;
  readonly applyErrors: number;
  /** the learned entries with their expiry (palisade stats) */
  readonly entries: readonly { pod: string; name: string; address: string; expiresAtMs: number; query: string }[];
}

/** Does the cluster have what learning needs: a domainNames peer, and a resolver? */
export function wantsFqdn(cluster: Cluster, dnsServers?: readonly string[]): boolean {
  const peers = cluster.clusterPolicies.some((p) => p.egress.some((r) => r.peers.some((q) => q.kind === 'domainNames')));
  return peers && (dnsServers !== undefined && dnsServers.length > 0 ? true : trustedOf(cluster).size > 0);
}

/** The kube-dns Service's ClusterIPs and endpoint addresses (canonical text). */
export function trustedOf(cluster: Cluster): Set<string> {
  const out = new Set<string>();
  for (const s of cluster.services) if (s.namespace === 'kube-system' && s.name === 'kube-dns') for (const ip of s.clusterIPs) out.add(ip.text);
  for (const e of cluster.endpointSlices) if (e.namespace === 'kube-system' && e.serviceName === 'kube-dns') for (const ip of e.addresses) out.add(ip.text);
  return out;
}

export class FqdnNode {
  readonly learner: DnsLearner;
  private readonly queue: DnsAnswerQueue;
  private seen: Cluster | undefined;
  private snapshotTimer: ReturnType<typeof setTimeout> | undefined;
  private snapshotWrites: Promise<void> = Promise.resolve();
  /** snapshot writes that failed (stats) */
  snapshotErrors = 0;
  private trusted = new Set<string>();
  private pods = new Map<string, string>();

  private constructor(
    private readonly target: LearnTarget,
    private readonly o: FqdnNodeOptions,
  ) {
    const fixed = o.dnsServers && o.dnsServers.length > 0 ? new Set(o.dnsServers) : undefined;
    this.learner = new DnsLearner({
      trustedResolvers: () => fixed ?? (this.refresh(), this.trusted),
      podOf: (ip) => (this.refresh(), this.pods.get(ip.text)),
      apply: async (added, removed) => {
        await target.learn(added, removed);
        this.scheduleSnapshot();
      },
      ...(o.cache ? { cache: o.cache } : {}),
      ...(o.expiryTimer === false ? { expiryTimer: false } : {}),
    });
    this.queue = new DnsAnswerQueue(this.learner, { queueNum: o.queueNum ?? DEFAULT_DNS_QUEUE, ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}) });
  }

  /** Bind the queue, then steer answers into it (in that order: no answer waits for nobody). */
  static async start(target: LearnTarget, o: FqdnNodeOptions = {}): Promise<FqdnNode> {
    const n = new FqdnNode(target, o);
    // what the last process learned, still live, is in the kernel before the first answer is read
    if (o.snapshotFile !== undefined) await n.learner.restore(await readLearnedSnapshot(o.snapshotFile, Date.now()));
    n.queue.start();
    try {
      await installDnsSteering(o.queueNum ?? DEFAULT_DNS_QUEUE, o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {});
    } catch (e) {
      await n.queue.stop();
      throw e;
    }
    return n;
  }

  /**
   * Unsteer (unless `keepSteering`: a restart, where --queue-bypass passes answers meanwhile),
   * release what is held, unbind, and retract what this learner put in the kernel (nothing would
   * expire it any more: a new learner starts empty and learns from the next answers).
   */
  async stop(opts: { keepSteering?: boolean } = {}): Promise<void> {
    if (!opts.keepSteering) await removeDnsSteering(this.o.netnsPath !== undefined ? { netnsPath: this.o.netnsPath } : {}).catch(() => undefined);
    this.learner.stop();
    await this.queue.stop();
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    await this.writeSnapshot(); // the next process starts from what this one knew
    const held = this.learner.cache.entries();
    if (held.length > 0) await this.target.learn([], held).catch(() => undefined);
  }

  stats(): FqdnStats {
    const c = this.learner.cache;
    const entries = c.entries();
    return {
      ...this.queue.stats(),
      names: new Set(entries.map((e) => `${e.pod}|${e.name}`)).size,
      addresses: entries.length,
      learned: c.counters.learned,
      evicted: c.counters.evicted,
      expired: c.counters.expired,
      untrusted: this.learner.counters.untrusted,
      unparsed: this.learner.counters.unparsed,
      applyErrors: this.learner.counters.applyErrors,
      entries: entries.map((e) => ({ pod: e.pod, name: e.name, address: e.address.text, expiresAtMs: e.expiresAtMs, query: e.query })),
    };
  }

  /** The queue's last 4,096 held answers, each hold split into stages (queue.ts; the bench). */
  holdSamples(): HoldSample[] {
    return this.queue.samples();
  }

  private scheduleSnapshot(): void {
    if (this.o.snapshotFile === undefined || this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      void this.writeSnapshot();
    }, SNAPSHOT_WRITE_MS);
    this.snapshotTimer.unref?.();
  }

  /** One write at a time; a failure is counted (learning goes on; the next write may succeed). */
  private writeSnapshot(): Promise<void> {
    const path = this.o.snapshotFile;
    if (path === undefined) return Promise.resolve();
    this.snapshotWrites = this.snapshotWrites.then(() =>
      writeLearnedSnapshot(path, this.learner.cache.snapshot(Date.now())).catch(() => void this.snapshotErrors++),
    );
    return this.snapshotWrites;
  }

  private refresh(): void {
    const c = this.target.cluster();
    if (!c || c === this.seen) return;
    this.seen = c;
    this.trusted = trustedOf(c);
    const pods = new Map<string, string>();
    for (const p of c.pods) if (!p.hostNetwork) for (const ip of p.ips) if (!pods.has(ip.text)) pods.set(ip.text, `${p.namespace}/${p.name}`);
    this.pods = pods;
  }
}
