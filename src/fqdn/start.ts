/**
 * Starting FQDN learning beside an enforcer (docs/fqdn.md): `palisade enforce` and the agent
 * call `maybeStart()` after each apply; it starts the node's learner (node.ts) once the policy in
 * force has a `domainNames` peer and a trusted resolver is known (Service kube-system/kube-dns
 * with endpoints, or --dns-server), with no flag needed. The queue and steering code is loaded
 * only then (dynamic import).
 * Thread-safety: JS thread only; one per enforcer.
 */
import type { LearnedAddress } from '../model/fqdn.js';
import type { Cluster } from '../model/types.js';
import type { FqdnNode, FqdnStats, LearnTarget } from './node.js';

/** What the starter needs of an Enforcement (structural: src/fqdn does not import src/enforce). */
export interface LearningEnforcer {
  learn(added: readonly LearnedAddress[], removed: readonly LearnedAddress[]): Promise<unknown>;
  current(): { readonly generation: number; cluster(): Cluster } | undefined;
}

export interface FqdnStartOptions {
  readonly dnsServers?: readonly string[];
  readonly minTtlS?: number;
  readonly queueNum?: number;
  readonly netnsPath?: string;
  /** the learned-address snapshot kept across restarts (persist.ts) */
  readonly snapshotFile?: string;
}

export interface FqdnStarter {
  /** start learning if the policy now in force wants it (idempotent; failures are said, not thrown) */
  maybeStart(): void;
  stats(): FqdnStats | undefined;
  stop(): Promise<void>;
}

/** The learner's view of an Enforcement: `learn`, and the cluster in force (cached per generation). */
export function learnTarget(enforcement: LearningEnforcer): LearnTarget {
  let cached: { generation: number; cluster: Cluster } | undefined;
  return {
    learn: (added, removed) => enforcement.learn(added, removed),
    cluster: () => {
      const p = enforcement.current();
      if (!p) return undefined;
      if (cached?.generation !== p.generation) cached = { generation: p.generation, cluster: p.cluster() };
      return cached.cluster;
    },
  };
}

export function fqdnStarter(enforcement: LearningEnforcer, o: FqdnStartOptions, say: (text: string) => void): FqdnStarter {
  let node: FqdnNode | undefined;
  let starting: Promise<void> | undefined;
  const target = learnTarget(enforcement);
  return {
    maybeStart() {
      if (node || starting) return;
      const cluster = target.cluster();
      if (!cluster) return;
      starting = (async () => {
        const m = await import('./node.js');
        if (!m.wantsFqdn(cluster, o.dnsServers)) return;
        node = await m.FqdnNode.start(target, {
          ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}),
          ...(o.dnsServers ? { dnsServers: o.dnsServers } : {}),
          ...(o.queueNum !== undefined ? { queueNum: o.queueNum } : {}),
          ...(o.minTtlS !== undefined ? { cache: { minTtlS: o.minTtlS } } : {}),
          ...(o.snapshotFile !== undefined ? { snapshotFile: o.snapshotFile } : {}),
        });
        say(`learning domainNames addresses from DNS answers (${o.dnsServers ? `--dns-server ${o.dnsServers.join(' ')}` : 'kube-system/kube-dns endpoints'})`);
      })()
        .catch((e: unknown) => say(`cannot learn domainNames addresses: ${(e as Error).message}`))
        .finally(() => (starting = undefined));
    },
    stats: () => node?.stats(),
    async stop() {
      await starting;
      await node?.stop();
      node = undefined;
    },
  };
}
