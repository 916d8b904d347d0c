/**
 * FQDN learning for `palisade enforce` and `palisade agent` (docs/fqdn.md): starts the node's
 * learner (src/fqdn/node.ts) over the Enforcement once the policy in force has a `domainNames`
 * peer and a trusted resolver is known (Service kube-system/kube-dns with endpoints, or
 * --dns-server), with no flag needed; `--no-fqdn` turns it off. The flags' parsing lives here too.
 * The learner module is loaded only when it starts (a `check` never loads kernel glue).
 * Thread-safety: JS thread only; one per enforcer.
 */
import type { Enforcement } from '../enforce/enforcement.js';
import type { FqdnNode, FqdnStats, LearnTarget } from '../fqdn/node.js';
import { parseIp } from '../model/ip.js';
import type { Cluster } from '../model/types.js';
import { UsageError } from './args.js';

export interface FqdnStartOptions {
  readonly dnsServers?: readonly string[];
  readonly minTtlS?: number;
  readonly queueNum?: number;
  readonly netnsPath?: string;
}

export interface FqdnStarter {
  /** start learning if the policy now in force wants it (idempotent; failures are said, not thrown) */
  maybeStart(): void;
  stats(): FqdnStats | undefined;
  stop(): Promise<void>;
}

export function dnsServersOf(values: readonly string[] | undefined): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values.map((v) => {
    const a = parseIp(v);
    if (!a) throw new UsageError(`--dns-server ${JSON.stringify(v)} is not an IP address`);
    return a.text;
  });
}

export function minTtlOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--fqdn-min-ttl ${JSON.stringify(value)} is not a whole number of seconds`);
  return n;
}

/** The learner's view of an Enforcement: `learn`, and the cluster in force (cached per generation). */
export function learnTarget(enforcement: Enforcement): LearnTarget {
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

export function fqdnStarter(enforcement: Enforcement, o: FqdnStartOptions, say: (text: string) => void): FqdnStarter {
  let node: FqdnNode | undefined;
  let starting: Promise<void> | undefined;
  const target = learnTarget(enforcement);
  return {
    maybeStart() {
      if (node || starting) return;
      const cluster = target.cluster();
      if (!cluster) return;
      starting = (async () => {
        const m = await import('../fqdn/node.js');
        if (!m.wantsFqdn(cluster, o.dnsServers)) return;
        node = await m.FqdnNode.start(target, {
          ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}),
          ...(o.dnsServers ? { dnsServers: o.dnsServers } : {}),
          ...(o.queueNum !== undefined ? { queueNum: o.queueNum } : {}),
          ...(o.minTtlS !== undefined ? { cache: { minTtlS: o.minTtlS } } : {}),
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
