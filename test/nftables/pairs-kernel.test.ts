/**
 * Pair rules (backends/nftables/pairs.ts) on the real kernel, in two test network namespaces: the
 * netlink path (the install's document lowered to one libnftnl batch with the concatenation's
 * registers and key type, pair deltas as a set-element batch of 8- and 32-byte keys) against its
 * oracle, libnftables (`documentsByJson`, `deltasByJson`). After each step (install, learning v4 and
 * v6 addresses, a retime, a subject pod's address change, a removal) the two `list table` listings
 * (expiry countdowns left out) must be equal, and the pair elements the step should leave must be
 * there. Packet verdicts of the pair form are checked by test/fqdn/traffic.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import { createNetns, deleteNetns, netnsPath } from '../../src/topology/netns.js';
import { requires } from '../harness/prerequisites.js';
import { counted, listing } from './listing.js';

const pod = (name: string, ips: string[]): string => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: app, labels: { app: ${name} } }
spec: { nodeName: node-a }
status: { podIPs: [ ${ips.map((i) => `{ ip: "${i}" }`).join(', ')} ] }
`;

const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status: { addresses: [ { type: InternalIP, address: 10.244.100.1 } ] }
${pod('a', ['10.244.1.10', 'fd00:10:244:1::10'])}${pod('b', ['10.244.1.11'])}---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - name: names
    action: Accept
    to: [ { domainNames: [ db.example.test ] } ]
    protocols: [ { tcp: { destinationPort: { number: 80 } } }, { udp: { destinationPort: { number: 53 } } } ]
  - { name: rest, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ] }
`;

/** The listing with element expiry countdowns and timeouts reduced to "has a timeout". */
async function table(ns: string): Promise<unknown> {
  const l = (await listing(ns)) as Record<string, unknown>[];
  return l.map((x) => {
    const set = x.set as { elem?: string[]; flags?: string[] } | undefined;
    if (!set?.elem || set.flags?.includes('interval')) return x; // interval sets: ranges (listing.ts)
    const elem = set.elem
      .map((e) => {
        const v = JSON.parse(e) as { elem?: { val: unknown; timeout?: number } };
        return JSON.stringify(v.elem ? { val: v.elem.val, timed: v.elem.timeout !== undefined } : v);
      })
      .sort();
    return { set: { ...set, elem } };
  });
}

const pairsIn = (t: unknown, name: string): string[] =>
  ((t as { set?: { name: string; elem?: string[] } }[]).find((x) => x.set?.name === name)?.set?.elem ?? []).map((e) => {
    const v = JSON.parse(e) as { val?: { concat: string[] }; concat?: string[] };
    return (v.val ?? v).concat!.join(' . ');
  });

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('nftables pair rules on the kernel: netlink path = libnftables path', () => {
  const names = [`pal-pair-a-${process.pid}`, `pal-pair-b-${process.pid}`];
  let cluster: Cluster;
  beforeAll(async () => {
    for (const n of names) await createNetns(n);
    const r = safeParseCluster(YAML, 'pairs-kernel.yaml');
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    cluster = r.cluster;
  });
  afterAll(async () => {
    for (const n of names) await deleteNetns(n);
  });

  it('install, learn, retime, address change, removal: identical tables, the expected pairs', async () => {
    const a = counted();
    const viaNetlink = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[0]!), native: a.native }));
    const viaJson = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[1]!), documentsByJson: true, deltasByJson: true }));
    const both = async (f: (e: Enforcement) => Promise<unknown>): Promise<unknown> => {
      await f(viaNetlink);
      await f(viaJson);
      const t = await table(names[0]!);
      expect(t).toEqual(await table(names[1]!));
      return t;
    };
    let t = await both((e) => e.apply(cluster));
    // one pair set per family shared by both port groups; rules match the concatenation
    expect(JSON.stringify(t)).toContain('"concat":[{"payload":{"protocol":"ip","field":"saddr"}},{"payload":{"protocol":"ip","field":"daddr"}}]');
    expect(pairsIn(t, 'c0v4')).toEqual([]);
    const now = Date.now();
    const key = (p: string, address: string, ttlMs = 60_000) => ({ pod: p, name: 'db.example.test', address: parseIp(address)!, expiresAtMs: now + ttlMs });
    t = await both((e) => e.learn([key('app/a', '203.0.113.5'), key('app/a', '2001:db8::5'), key('app/b', '203.0.113.6')]));
    expect(pairsIn(t, 'c0v4')).toEqual(['10.244.1.10 . 203.0.113.5', '10.244.1.11 . 203.0.113.6']);
    expect(pairsIn(t, 'c0v6')).toEqual(['fd00:10:244:1::10 . 2001:db8::5']);
    t = await both((e) => e.learn([key('app/a', '203.0.113.5', 120_000)]));
    expect(pairsIn(t, 'c0v4')).toEqual(['10.244.1.10 . 203.0.113.5', '10.244.1.11 . 203.0.113.6']);
    const pa = cluster.pods.find((p) => p.name === 'a')!;
    const moved: Pod = { ...pa, ips: [parseIp('10.244.1.20')!, parseIp('fd00:10:244:1::20')!] };
    t = await both((e) => e.applyChanges([{ kind: 'pod', pod: moved }]));
    expect(pairsIn(t, 'c0v4')).toEqual(['10.244.1.11 . 203.0.113.6', '10.244.1.20 . 203.0.113.5']);
    expect(pairsIn(t, 'c0v6')).toEqual(['fd00:10:244:1::20 . 2001:db8::5']);
    t = await both((e) => e.learn([], [key('app/a', '2001:db8::5'), key('app/b', '203.0.113.6')]));
    expect(pairsIn(t, 'c0v4')).toEqual(['10.244.1.20 . 203.0.113.5']);
    expect(pairsIn(t, 'c0v6')).toEqual([]);
    // the netlink side sent no document through libnftables: one program, element batches for the rest
    expect(a.calls).toEqual({ json: 0, program: 1, elements: 4 });
    await viaNetlink.remove();
    await viaJson.remove();
  }, 60_000);
});
