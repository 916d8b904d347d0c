/**
 * Resolution: selectors x inventory -> address sets, and incremental upkeep under inventory
 * changes.
 */
import { describe, expect, test } from 'vitest';
import { parseCidr, parseIp, type Cidr } from '../../src/model/ip.js';
import { EVERYTHING } from '../../src/model/labels.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type LabelSelector, type Pod } from '../../src/model/types.js';
import { Resolution } from '../../src/resolve/resolver.js';
import { subtractPrefixes } from '../../src/resolve/prefixes.js';
import { selectorKey } from '../../src/resolve/selector-key.js';
import type { SetDef } from '../../src/resolve/set-def.js';
import { randomChange, randomCluster, Rng } from '../engine/random-cluster.js';

const c = (t: string): Cidr => parseCidr(t) as Cidr;
const texts = (cs: readonly Cidr[]): string[] => cs.map((x) => x.text);
const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] });
const SRC = { file: 't' };

function pod(ns: string, name: string, labels: Record<string, string>, ips: string[], extra: Partial<Pod> = {}): Pod {
  return { namespace: ns, name, labels, ips: ips.map((i) => parseIp(i)!), hostNetwork: false, containerPorts: [], source: SRC, ...extra };
}

function small(): Cluster {
  return {
    namespaces: [
      { name: 'x', labels: { team: 'a', [NAMESPACE_NAME_LABEL]: 'x' }, source: SRC },
      { name: 'y', labels: { team: 'b', [NAMESPACE_NAME_LABEL]: 'y' }, source: SRC },
    ],
    pods: [
      pod('x', 'a', { app: 'web' }, ['10.244.0.1', 'fd00:10:244::1'], { nodeName: 'n1', containerPorts: [{ name: 'web', containerPort: 80, protocol: 'TCP' }] }),
      pod('x', 'b', { app: 'db' }, ['10.244.0.2'], { nodeName: 'n1' }),
      pod('y', 'c', { app: 'web' }, ['10.244.1.1'], { nodeName: 'n2', containerPorts: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }),
      pod('y', 'host', { app: 'web' }, ['10.0.0.2'], { nodeName: 'n2', hostNetwork: true }),
    ],
    nodes: [
      { name: 'n1', labels: { zone: 'z1' }, addresses: [parseIp('10.0.0.1')!, parseIp('fd00::1')!], source: SRC },
      { name: 'n2', labels: { zone: 'z2' }, addresses: [parseIp('10.0.0.2')!], source: SRC },
    ],
    services: [],
    endpointSlices: [],
    networkPolicies: [
      { kind: 'NetworkPolicy', namespace: 'x', name: 'iso', podSelector: sel({ app: 'web' }), policyTypes: ['Ingress'], ingress: [], egress: [], source: SRC },
    ],
    clusterPolicies: [],
  };
}

describe('ipBlock except -> disjoint prefixes', () => {
  // networkpolicy-v1-semantics.md §6.1: cidr minus every except entry
  test('one hole', () => {
    expect(texts(subtractPrefixes(c('10.0.0.0/8'), [c('10.1.0.0/16')]))).toEqual([
      '10.0.0.0/16', '10.2.0.0/15', '10.4.0.0/14', '10.8.0.0/13', '10.16.0.0/12', '10.32.0.0/11', '10.64.0.0/10', '10.128.0.0/9',
    ]);
  });
  test('holes of the other family and nested holes', () => {
    expect(texts(subtractPrefixes(c('10.0.0.0/30'), [c('10.0.0.1/32'), c('fd00::/8'), c('10.0.0.0/31')]))).toEqual(['10.0.0.2/31']);
    expect(subtractPrefixes(c('10.0.0.0/24'), [c('10.0.0.0/24')])).toEqual([]);
  });
  test('random: the pieces are disjoint and cover exactly cidr minus excepts', () => {
    const r = new Rng(7);
    for (let k = 0; k < 60; k++) {
      const base = c(`10.${r.int(0, 3)}.0.0/${r.int(20, 24)}`);
      const holes = Array.from({ length: r.int(0, 4) }, () => c(`10.${r.int(0, 3)}.${r.int(0, 15)}.${r.int(0, 255)}/${r.int(25, 32)}`));
      const pieces = subtractPrefixes(base, holes);
      for (let probe = 0; probe < 200; probe++) {
        const ip = parseIp(`10.${r.int(0, 3)}.${r.int(0, 15)}.${r.int(0, 255)}`)!;
        const inBase = (ip.value >> BigInt(32 - base.prefixLen)) === (base.base >> BigInt(32 - base.prefixLen));
        const inHole = holes.some((h) => (ip.value >> BigInt(32 - h.prefixLen)) === (h.base >> BigInt(32 - h.prefixLen)));
        const hits = pieces.filter((p) => (ip.value >> BigInt(32 - p.prefixLen)) === (p.base >> BigInt(32 - p.prefixLen))).length;
        expect(hits).toBe(inBase && !inHole ? 1 : 0);
      }
    }
  });
});

describe('sets from selectors', () => {
  test('pods of selected namespaces, host-network pods excluded (network-policy-api.md §1.5 point 4)', () => {
    const res = new Resolution(small(), small().networkPolicies);
    const web = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: sel({ app: 'web' }) });
    expect(texts(res.prefixes(web))).toEqual(['10.244.0.1/32', '10.244.1.1/32', 'fd00:10:244::1/128']);
    const teamA = res.intern({ kind: 'pods', namespaceSelector: sel({ team: 'a' }), podSelector: EVERYTHING });
    expect(texts(res.prefixes(teamA))).toEqual(['10.244.0.1/32', '10.244.0.2/32', 'fd00:10:244::1/128']);
  });
  test('nodes: every status.addresses entry (network-policy-api.md §1.3 nodes)', () => {
    const res = new Resolution(small(), []);
    expect(texts(res.prefixes(res.intern({ kind: 'nodes', nodeSelector: sel({ zone: 'z1' }) })))).toEqual(['10.0.0.1/32', 'fd00::1/128']);
    expect(texts(res.prefixes(res.intern({ kind: 'node', name: 'n2' })))).toEqual(['10.0.0.2/32']);
  });
  test('node traffic: node addresses plus host-network pods on the node, even without a Node object (reference evaluate.ts isAddressOfNode)', () => {
    const cl = small();
    const extra = [
      pod('y', 'agent', {}, ['10.0.9.9'], { nodeName: 'n2', hostNetwork: true }),
      pod('y', 'ghost-agent', {}, ['10.0.8.8'], { nodeName: 'n9', hostNetwork: true }),
    ];
    const res = new Resolution({ ...cl, pods: [...cl.pods, ...extra] }, []);
    expect(texts(res.prefixes(res.intern({ kind: 'node', name: 'n2' })))).toEqual(['10.0.0.2/32', '10.0.9.9/32']);
    const n9 = res.intern({ kind: 'node', name: 'n9' });
    expect(texts(res.prefixes(n9))).toEqual(['10.0.8.8/32']);
    // a regular pod taking the address over: it is that pod's, no longer node traffic
    const deltas = res.apply({ kind: 'pod', pod: pod('y', 'taker', {}, ['10.0.8.8']) });
    expect(res.prefixes(n9)).toEqual([]);
    expect(deltas.find((d) => d.set === n9)?.removed.map((x) => x.text)).toEqual(['10.0.8.8/32']);
  });
  test('named port groups narrow to the pods declaring (name, protocol, number) (networkpolicy-v1-semantics.md §7.4)', () => {
    const res = new Resolution(small(), []);
    const g80 = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING, namedPort: { name: 'web', protocol: 'TCP', port: 80 } });
    const g8080 = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING, namedPort: { name: 'web', protocol: 'TCP', port: 8080 } });
    expect(texts(res.prefixes(g80))).toEqual(['10.244.0.1/32', 'fd00:10:244::1/128']);
    expect(texts(res.prefixes(g8080))).toEqual(['10.244.1.1/32']);
  });
  test('isolation sets and node-local subsets', () => {
    const res = new Resolution(small(), small().networkPolicies);
    expect(texts(res.prefixes(res.intern({ kind: 'isolated', direction: 'ingress' })))).toEqual(['10.244.0.1/32', 'fd00:10:244::1/128']);
    expect(res.prefixes(res.intern({ kind: 'isolated', direction: 'egress' }))).toEqual([]);
    expect(res.prefixes(res.intern({ kind: 'isolated', direction: 'ingress', node: 'n2' }))).toEqual([]);
  });
  test('identical selectors share one set, whatever the written order', () => {
    const res = new Resolution(small(), []);
    const a: SetDef = { kind: 'pods', namespaceSelector: sel({ team: 'a', env: 'x' }), podSelector: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] } };
    const b: SetDef = { kind: 'pods', namespaceSelector: sel({ env: 'x', team: 'a' }), podSelector: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] } };
    expect(res.intern(a)).toBe(res.intern(b));
    expect(res.setCount).toBe(1);
    expect(selectorKey(sel({ a: '1' }))).not.toBe(selectorKey(sel({ a: '2' })));
  });
  test('an address claimed by two pods belongs to the first by namespace/name (reference/endpoints.ts rule 1)', () => {
    const cl = small();
    const twin = pod('x', 'z-twin', { app: 'db' }, ['10.244.0.1']);
    const res = new Resolution({ ...cl, pods: [...cl.pods, twin] }, []);
    const db = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: sel({ app: 'db' }) });
    expect(texts(res.prefixes(db))).toEqual(['10.244.0.2/32']);
    // the owner leaves: the twin now owns the address and brings it into the db set
    const deltas = res.apply({ kind: 'pod-removed', namespace: 'x', name: 'a' });
    expect(texts(res.prefixes(db))).toEqual(['10.244.0.1/32', '10.244.0.2/32']);
    expect(deltas.find((d) => d.set === db)?.added.map((x) => x.text)).toEqual(['10.244.0.1/32']);
  });
});

describe('incremental changes', () => {
  test('a relabel reports exactly the membership deltas', () => {
    const res = new Resolution(small(), small().networkPolicies);
    const web = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: sel({ app: 'web' }) });
    const db = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: sel({ app: 'db' }) });
    const iso = res.intern({ kind: 'isolated', direction: 'ingress' });
    const before = res.inventory().pods.find((p) => p.name === 'b')!;
    const deltas = res.apply({ kind: 'pod', pod: { ...before, labels: { app: 'web' } } });
    expect(deltas.map((d) => [d.set, texts(d.added), texts(d.removed)])).toEqual([
      [web, ['10.244.0.2/32'], []],
      [db, [], ['10.244.0.2/32']],
      [iso, ['10.244.0.2/32'], []],
    ]);
    // the same pod again: nothing changes
    expect(res.apply({ kind: 'pod', pod: { ...before, labels: { app: 'web' } } })).toEqual([]);
  });
  test('a namespace relabel touches only the sets whose namespace selector flips', () => {
    const res = new Resolution(small(), []);
    const teamA = res.intern({ kind: 'pods', namespaceSelector: sel({ team: 'a' }), podSelector: EVERYTHING });
    const all = res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING });
    const deltas = res.apply({ kind: 'namespace', namespace: { name: 'y', labels: { team: 'a' }, source: SRC } });
    expect(deltas.map((d) => d.set)).toEqual([teamA]);
    expect(texts(deltas[0]!.added)).toEqual(['10.244.1.1/32']);
    expect(res.prefixes(all).length).toBe(4);
  });
  test('a node address change moves node sets only', () => {
    const res = new Resolution(small(), []);
    const z1 = res.intern({ kind: 'nodes', nodeSelector: sel({ zone: 'z1' }) });
    const n1 = res.inventory().nodes[0]!;
    const deltas = res.apply({ kind: 'node', node: { ...n1, addresses: [parseIp('10.0.0.9')!] } });
    expect(deltas.map((d) => [d.set, texts(d.added), texts(d.removed)])).toEqual([[z1, ['10.0.0.9/32'], ['10.0.0.1/32', 'fd00::1/128']]]);
  });
  test('random change sequences: every set equals a fresh resolution of the same inventory', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = new Rng(seed);
      const cluster = randomCluster(r, { namespaces: 4, pods: 30, nodes: 3, networkPolicies: 6, clusterPolicies: 0 });
      const res = new Resolution(cluster, cluster.networkPolicies);
      // a spread of set kinds, drawn from the generator's own vocabulary
      const defs: SetDef[] = [
        { kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING },
        { kind: 'pods', namespaceSelector: sel({ team: 'a' }), podSelector: sel({ app: 'web' }) },
        { kind: 'pods', namespaceSelector: { matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, podSelector: sel({ tier: 'be' }) },
        { kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING, namedPort: { name: 'web', protocol: 'TCP', port: 80 } },
        { kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING, namedPort: { name: 'dns', protocol: 'UDP', port: 53 }, block: { cidr: c('10.244.0.0/24'), except: [c('10.244.0.8/29')] } },
        { kind: 'isolated', direction: 'ingress' },
        { kind: 'isolated', direction: 'egress' },
        { kind: 'isolated', direction: 'ingress', node: 'node-1' },
        { kind: 'nodes', nodeSelector: sel({ zone: 'z1' }) },
        { kind: 'node', name: 'node-0' },
        // single-pod sets (the per-pod subjects of domainNames rules, rules/lower.ts)
        ...cluster.pods.slice(0, 4).map((p, i): SetDef => ({ kind: 'pods', namespaceSelector: i % 2 ? EVERYTHING : sel({ team: 'a' }), podSelector: EVERYTHING, pod: `${p.namespace}/${p.name}` })),
        { kind: 'pods', namespaceSelector: EVERYTHING, podSelector: sel({ app: 'web' }), pod: `${cluster.pods[5]!.namespace}/${cluster.pods[5]!.name}` },
      ];
      const ids = defs.map((d) => res.intern(d));
      const mirror = new Map(ids.map((id) => [id, new Set(texts(res.prefixes(id)))]));
      for (let step = 0; step < 60; step++) {
        const ch = randomChange(r, { ...cluster, ...res.inventory() }, false);
        if (ch.kind === 'policy' || ch.kind === 'policy-removed') continue;
        for (const d of res.apply(ch)) {
          const m = mirror.get(d.set)!;
          for (const x of d.removed) expect(m.delete(x.text)).toBe(true);
          for (const x of d.added) {
            expect(m.has(x.text)).toBe(false);
            m.add(x.text);
          }
        }
        const fresh = new Resolution({ ...cluster, ...res.inventory() }, cluster.networkPolicies);
        defs.forEach((d, k) => {
          const want = texts(fresh.prefixes(fresh.intern(d)));
          expect(texts(res.prefixes(ids[k]!)), `seed ${seed} step ${step} ${ch.kind} def ${k}`).toEqual(want);
          // the deltas reported along the way add up to the same membership
          expect([...mirror.get(ids[k]!)!].sort()).toEqual([...want].sort());
        });
      }
    }
  });
});

describe('cost proportional to the change', () => {
  // The resolver's contract: "an inventory change recomputes only the sets it touches, at a cost
  // proportional to the change". Same change, clusters 20x apart: the same membership work.
  function scaled(namespaces: number): { res: Resolution; ids: number[] } {
    const cluster: Cluster = {
      namespaces: Array.from({ length: namespaces }, (_, i) => ({ name: `ns-${i}`, labels: { [NAMESPACE_NAME_LABEL]: `ns-${i}`, team: `t${i % 5}` }, source: SRC })),
      pods: Array.from({ length: namespaces * 10 }, (_, i) => pod(`ns-${Math.floor(i / 10)}`, `p-${i}`, { app: i % 2 ? 'web' : 'db' }, [`10.244.${i >> 8}.${i & 255}`])),
      nodes: [],
      services: [],
      endpointSlices: [],
      networkPolicies: [],
      clusterPolicies: [],
    };
    const res = new Resolution(cluster, []);
    const ids: number[] = [];
    for (let i = 0; i < namespaces; i++) ids.push(res.intern({ kind: 'pods', namespaceSelector: sel({ [NAMESPACE_NAME_LABEL]: `ns-${i}` }), podSelector: sel({ app: 'web' }) }));
    ids.push(res.intern({ kind: 'pods', namespaceSelector: sel({ team: 't0' }), podSelector: EVERYTHING }));
    return { res, ids };
  }
  test('a pod add, relabel and removal do the same work in a 10-namespace and a 200-namespace cluster', () => {
    const work = (namespaces: number): number[] => {
      const { res } = scaled(namespaces);
      const out: number[] = [];
      let before = res.evaluations;
      const p = pod('ns-0', 'new', { app: 'web' }, ['10.244.200.1']);
      res.apply({ kind: 'pod', pod: p });
      out.push(res.evaluations - before);
      before = res.evaluations;
      res.apply({ kind: 'pod', pod: { ...p, labels: { app: 'db' } } });
      out.push(res.evaluations - before);
      before = res.evaluations;
      res.apply({ kind: 'pod-removed', namespace: 'ns-0', name: 'new' });
      out.push(res.evaluations - before);
      return out;
    };
    const small = work(10);
    const large = work(200);
    expect(large).toEqual(small);
    expect(small[0]).toBeLessThanOrEqual(3); // its namespace's set and the team set, nothing else
  });
  test('single-pod sets (per-pod domainNames subjects): one evaluation to intern, none for other pods\' events', () => {
    const { res } = scaled(200);
    let before = res.evaluations;
    const ids = Array.from({ length: 100 }, (_, i) => res.intern({ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: EVERYTHING, pod: `ns-${i}/p-${i * 10}` }));
    expect(res.evaluations - before).toBe(100);
    expect(texts(res.prefixes(ids[3]!))).toEqual(['10.244.0.30/32']);
    // a pod event elsewhere does not visit the 100 single-pod sets
    before = res.evaluations;
    res.apply({ kind: 'pod', pod: pod('ns-0', 'new', { app: 'web' }, ['10.244.200.1']) });
    expect(res.evaluations - before).toBeLessThanOrEqual(3);
    // its own pod's event visits its own set
    res.apply({ kind: 'pod', pod: pod('ns-3', 'p-30', { app: 'db' }, ['10.244.200.2']) });
    expect(texts(res.prefixes(ids[3]!))).toEqual(['10.244.200.2/32']);
  });
  test('a namespace relabel re-evaluates only that namespace\'s pods, only for the flipped selectors', () => {
    const { res } = scaled(200);
    const before = res.evaluations;
    res.apply({ kind: 'namespace', namespace: { name: 'ns-7', labels: { team: 't0' }, source: SRC } });
    expect(res.evaluations - before).toBe(10); // 10 pods x the one flipped selector (team=t0)
  });
});
