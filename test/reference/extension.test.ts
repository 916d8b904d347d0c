/**
 * The reference evaluator on the PalisadeClusterNetworkPolicy fields (docs/extension-semantics.md),
 * worked out by hand: nodeSelector subjects (S7), the Cluster entity (S16), source ports (S25),
 * the one total order across CNP and PCNP, and the parts that fail closed until they land.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { compile } from '../../src/index.js';
import { addressOf, ip } from './helpers.js';
import { clusterNetworkPolicy, clusterOf, namespace, node, pod, sel, type Obj } from './fixtures.js';

const pcnp = (name: string, spec: Obj): Obj => ({ apiVersion: 'policy.palisade.dev/v1alpha1', kind: 'PalisadeClusterNetworkPolicy', metadata: { name }, spec });
const base = (): Obj[] => [
  namespace('a'),
  node('infra-1', { role: 'infra' }, ['10.244.255.1']),
  node('work-1', { role: 'worker' }, ['10.244.255.2']),
  pod('a', 'on-infra', { labels: { app: 'x' }, ips: ['10.244.1.10'], nodeName: 'infra-1' }),
  pod('a', 'on-worker', { labels: { app: 'x' }, ips: ['10.244.2.10'], nodeName: 'work-1' }),
  pod('a', 'unscheduled', { labels: { app: 'x' }, ips: ['10.244.3.10'] }),
  pod('a', 'on-ghost', { labels: { app: 'x' }, ips: ['10.244.4.10'], nodeName: 'gone' }),
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'a' }, spec: { clusterIP: '10.96.0.1', externalIPs: ['192.0.2.7'], ports: [{ port: 80 }] }, status: { loadBalancer: { ingress: [{ ip: '198.51.100.9' }] } } },
];
const denyAll = (subject: Obj, extra: Obj = {}) => pcnp('deny', { tier: 'Admin', priority: 10, subject, egress: [{ action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }], ...extra }] });
const both = (objs: Obj[]) => {
  const c = clusterOf(objs);
  return { c, ref: new ReferenceEvaluator(c), engine: compile(c) };
};

describe('subject.pods.nodeSelector (S7)', () => {
  it('selects only pods whose node has the labels; not unscheduled pods, not pods on an unknown node', () => {
    const { c, ref, engine } = both([...base(), denyAll({ pods: { namespaceSelector: {}, podSelector: {}, nodeSelector: sel({ role: 'infra' }) } })]);
    const v = (from: string) => ref.evaluate({ src: addressOf(c, from), dst: ip('8.8.8.8'), protocol: 'TCP', dstPort: 443 });
    expect(v('a/on-infra').verdict).toBe('deny');
    expect(v('a/on-worker').verdict).toBe('allow');
    expect(v('a/unscheduled').verdict).toBe('allow');
    expect(v('a/on-ghost').verdict).toBe('allow');
    for (const p of ['a/on-infra', 'a/on-worker', 'a/unscheduled', 'a/on-ghost']) {
      const f = { src: addressOf(c, p), dst: ip('8.8.8.8'), protocol: 'TCP' as const, dstPort: 443 };
      expect(engine.explain(f)).toEqual(ref.evaluate(f));
    }
  });
  it('follows a node relabel as a membership delta (no rebuild)', () => {
    const { c, engine } = both([...base(), denyAll({ pods: { namespaceSelector: {}, podSelector: {}, nodeSelector: sel({ role: 'infra' }) } })]);
    const f = { src: addressOf(c, 'a/on-worker'), dst: ip('8.8.8.8'), protocol: 'TCP' as const, dstPort: 443 };
    expect(engine.lookup(f).verdict).toBe('allow');
    const worker = c.nodes.find((n) => n.name === 'work-1')!;
    const u = engine.update({ kind: 'node', node: { ...worker, labels: { role: 'infra' } } });
    expect(u.rebuilt).toBe(false);
    expect(u.deltas.length).toBeGreaterThan(0);
    expect(engine.lookup(f).verdict).toBe('deny');
  });
});

describe('entities: [Cluster] (S16)', () => {
  const policy = pcnp('internet', {
    tier: 'Baseline',
    priority: 1,
    subject: { namespaces: {} },
    egress: [
      { action: 'Accept', to: [{ entities: ['Cluster'] }] },
      { action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] },
    ],
  });
  it('holds pod IPs, node addresses and every Service address (ClusterIP, external, load-balancer); nothing else', () => {
    const { c, ref, engine } = both([...base(), policy]);
    const to = (dst: string) => ref.evaluate({ src: addressOf(c, 'a/on-infra'), dst: ip(dst), protocol: 'TCP', dstPort: 80 });
    for (const inside of ['10.244.2.10', '10.244.255.2', '10.96.0.1', '192.0.2.7', '198.51.100.9']) expect(to(inside).verdict, inside).toBe('allow');
    for (const outside of ['8.8.8.8', '10.244.9.9', '192.0.2.8']) expect(to(outside).verdict, outside).toBe('deny');
    for (const d of ['10.96.0.1', '8.8.8.8']) {
      const f = { src: addressOf(c, 'a/on-infra'), dst: ip(d), protocol: 'TCP' as const, dstPort: 80 };
      expect(engine.explain(f)).toEqual(ref.evaluate(f));
    }
  });
  it('follows Services coming and going', () => {
    const { c, engine } = both([...base(), policy]);
    const f = { src: addressOf(c, 'a/on-infra'), dst: ip('10.96.0.99'), protocol: 'TCP' as const, dstPort: 80 };
    expect(engine.lookup(f).verdict).toBe('deny');
    const svc = { ...c.services[0]!, name: 'new', clusterIPs: [ip('10.96.0.99')] };
    expect(engine.update({ kind: 'service', service: svc }).rebuilt).toBe(false);
    expect(engine.lookup(f).verdict).toBe('allow');
    engine.update({ kind: 'service-removed', namespace: 'a', name: 'new' });
    expect(engine.lookup(f).verdict).toBe('deny');
  });
});

describe('sourcePort (S25)', () => {
  const policy = pcnp('sport', { tier: 'Admin', priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], protocols: [{ udp: { sourcePort: { range: { start: 100, end: 200 } } } }] }] });
  it('matches the flow source port, inclusive; an absent source port matches no sourcePort entry', () => {
    const { c, ref, engine } = both([...base(), policy]);
    const flow = (srcPort: number | undefined, protocol: 'UDP' | 'TCP' = 'UDP') => ({ src: addressOf(c, 'a/on-infra'), dst: addressOf(c, 'a/on-worker'), protocol, dstPort: 53, ...(srcPort !== undefined ? { srcPort } : {}) });
    const cases: [number | undefined, 'UDP' | 'TCP', 'allow' | 'deny'][] = [
      [99, 'UDP', 'allow'], [100, 'UDP', 'deny'], [200, 'UDP', 'deny'], [201, 'UDP', 'allow'], [150, 'TCP', 'allow'], [undefined, 'UDP', 'allow'],
    ];
    for (const [sp, proto, want] of cases) {
      expect(ref.evaluate(flow(sp, proto)).verdict, `${proto} sport ${sp}`).toBe(want);
      expect(engine.lookup(flow(sp, proto)).verdict, `engine ${proto} sport ${sp}`).toBe(want);
    }
    const id = engine.lookup(flow(150)).ingress.ruleId;
    expect(engine.rule(id).srcPorts).toEqual({ lo: 100, hi: 200 });
  });
});

describe('one total order across ClusterNetworkPolicy and PalisadeClusterNetworkPolicy', () => {
  it('same tier, priority and name: the ClusterNetworkPolicy decides first', () => {
    const spec = (action: string) => ({ tier: 'Admin', priority: 5, subject: { namespaces: {} }, egress: [{ action, to: [{ networks: ['0.0.0.0/0'] }] }] });
    const { c, ref, engine } = both([...base(), pcnp('same', spec('Deny')), clusterNetworkPolicy('same', spec('Accept'))]);
    const f = { src: addressOf(c, 'a/on-infra'), dst: ip('8.8.8.8'), protocol: 'TCP' as const, dstPort: 80 };
    expect(ref.evaluate(f).egress.rule?.policy.kind).toBe('ClusterNetworkPolicy');
    expect(ref.evaluate(f).verdict).toBe('allow');
    expect(engine.explain(f)).toEqual(ref.evaluate(f));
  });
});

describe('what matches nothing or fails closed', () => {
  it('a services peer naming a Service not in the inventory matches nothing, for Accept and Deny alike', () => {
    const svcPeer = (action: string) => pcnp('svc', { tier: 'Admin', priority: 1, subject: { namespaces: {} }, egress: [{ action, to: [{ services: [{ namespace: 'a', name: 'no-such-service' }] }] }] });
    for (const action of ['Accept', 'Deny'] as const) {
      // a later policy denies everything: the services rule, matching nothing, lets it decide
      const { c, ref, engine } = both([...base(), svcPeer(action), denyAll({ namespaces: {} })]);
      const f = { src: addressOf(c, 'a/on-infra'), dst: ip('10.244.2.10'), protocol: 'TCP' as const, dstPort: 80 };
      const v = ref.evaluate(f);
      expect(v.verdict).toBe('deny');
      expect(v.egress.rule?.policy.name).toBe('deny');
      expect(v.egress.rule?.failClosed ?? false).toBe(false);
      expect(engine.explain(f)).toEqual(v);
    }
  });
  it('a Redirect rule sends its flows to the Service (S14), denies those it has no port for; nodes and services subjects select no pod', () => {
    const red = pcnp('red', { tier: 'Admin', priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Redirect', redirect: { service: { namespace: 'a', name: 's' } }, to: [{ networks: ['169.254.169.254/32'] }] }] });
    const { c, ref, engine } = both([...base(), red]);
    const meta = { src: addressOf(c, 'a/on-infra'), dst: ip('169.254.169.254'), protocol: 'TCP' as const, dstPort: 80 };
    const v = ref.evaluate(meta);
    expect(v.verdict).toBe('allow');
    expect(v.egress.rule).toMatchObject({ action: 'Redirect', policy: { name: 'red' } });
    expect(v.egress.rule?.failClosed).toBeUndefined();
    expect(v.egress.notes).toContain('PalisadeClusterNetworkPolicy red egress[0]: redirected to Service a/s 10.96.0.1:80/TCP');
    expect(engine.explain(meta)).toEqual(v);
    // no TCP/81 port on a/s: nowhere to send the flow, fail closed
    const noPort = { ...meta, dstPort: 81 };
    expect(ref.evaluate(noPort).verdict).toBe('deny');
    expect(ref.evaluate(noPort).egress.rule).toMatchObject({ action: 'Deny', failClosed: true });
    expect(engine.explain(noPort)).toEqual(ref.evaluate(noPort));
    // not the rule's peer: untouched
    const other = { ...meta, dst: ip('10.244.2.10') };
    expect(ref.evaluate(other).egress.reason).toBe('no-match');
    expect(engine.explain(other)).toEqual(ref.evaluate(other));
    for (const subject of [{ nodes: {} }, { services: [{ namespace: 'a', name: 's' }] }]) {
      const { c: c2, ref: r2 } = both([...base(), pcnp('x', { tier: 'Admin', priority: 1, subject, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] })]);
      expect(r2.evaluate({ src: addressOf(c2, 'a/on-infra'), dst: addressOf(c2, 'a/on-worker'), protocol: 'TCP', dstPort: 80 }).verdict).toBe('allow');
    }
  });
});
