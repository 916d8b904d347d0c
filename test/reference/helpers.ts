/**
 * Test helpers for the reference evaluator: parse YAML fixtures through the real manifest
 * pipeline (safeParseCluster) and ask questions by pod name.
 */
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { formatProblem } from '../../src/model/problems.js';
import { parseIp, type Family, type IpAddr } from '../../src/model/ip.js';
import type { Cluster, Protocol } from '../../src/model/types.js';
import { ReferenceEvaluator, type ReferenceOptions } from '../../src/reference/evaluate.js';
import type { FlowVerdict } from '../../src/model/verdict.js';

export function cluster(yaml: string): Cluster {
  const r = safeParseCluster(yaml, 'fixture.yaml');
  if (!r.cluster) throw new Error('fixture rejected:\n' + r.problems.map(formatProblem).join('\n'));
  return r.cluster;
}

export function ip(text: string): IpAddr {
  const a = parseIp(text);
  if (!a) throw new Error(`bad IP ${text}`);
  return a;
}

/** A pod's address of a family, or the address itself when `who` is an IP. */
export function addressOf(c: Cluster, who: string, family: Family = 4): IpAddr {
  const literal = parseIp(who);
  if (literal) return literal;
  const [ns, name] = who.split('/');
  const pod = c.pods.find((p) => p.namespace === ns && p.name === name);
  if (!pod) throw new Error(`no pod ${who}`);
  const a = pod.ips.find((i) => i.family === family);
  if (!a) throw new Error(`pod ${who} has no IPv${family} address`);
  return a;
}

export class Probe {
  readonly ev: ReferenceEvaluator;
  constructor(readonly c: Cluster, options?: ReferenceOptions) {
    this.ev = new ReferenceEvaluator(c, options);
  }
  check(from: string, to: string, dstPort = 80, protocol: Protocol = 'TCP', family: Family = 4): FlowVerdict {
    return this.ev.evaluate({ src: addressOf(this.c, from, family), dst: addressOf(this.c, to, family), protocol, dstPort });
  }
  verdict(from: string, to: string, dstPort = 80, protocol: Protocol = 'TCP', family: Family = 4): 'allow' | 'deny' {
    return this.check(from, to, dstPort, protocol, family).verdict;
  }
}

export const probe = (yaml: string, options?: ReferenceOptions): Probe => new Probe(cluster(yaml), options);
