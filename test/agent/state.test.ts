/**
 * ClusterState (src/agent/state.ts): watch events -> EngineChange[]. The invariant under test:
 * feeding the changes of every batch to a PolicyCompiler (stageChanges, commit) gives the same
 * rules and the same set members as compiling the state's whole picture from scratch, for random
 * sequences of pod, namespace, node and policy events; plus the event rules one by one
 * (unchanged objects give no change, invalid objects are reported and ignored with the last valid
 * version kept, staged policies never enter, CNI IPs override the API server's).
 */
import { describe, expect, it } from 'vitest';
import { PolicyCompiler, type CompiledPolicy } from '../../src/enforce/compiled.js';
import { ClusterState, type KindEvent } from '../../src/agent/state.js';
import { slimObject } from '../../src/agent/objects.js';
import type { KnownKind } from '../../src/model/kinds.js';
import { buildCluster } from '../../src/manifests/cluster.js';
import { API_VERSIONS } from '../../src/model/kinds.js';
import { mulberry, pick } from './random.js';

type Obj = Record<string, unknown>;
const up = (kind: KnownKind, object: Obj): KindEvent => ({ type: 'upsert', kind, object: slimObject(kind, object) });
const del = (kind: KnownKind, object: Obj): KindEvent => ({ type: 'delete', kind, object });

const ns = (name: string, labels: Record<string, string> = {}): Obj => ({ metadata: { name, labels, resourceVersion: '1' } });
const pod = (namespace: string, name: string, labels: Record<string, string>, ip?: string, extra: Obj = {}): Obj => ({
  metadata: { namespace, name, labels, uid: `u-${name}`, resourceVersion: '1', managedFields: [{ manager: 'kubectl' }] },
  spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 80 }] }], ...extra },
  status: ip ? { phase: 'Running', podIP: ip, podIPs: [{ ip }] } : { phase: 'Pending' },
});
const np = (namespace: string, name: string, spec: Obj, rv = '1', annotations: Record<string, string> = {}): Obj => ({ metadata: { namespace, name, resourceVersion: rv, annotations }, spec });

function snapshot(p: CompiledPolicy): string {
  const rules = p.ruleSet.rules.map((r) => {
    const members = (id: number | null): string[] => (id === null ? [] : p.resolution.prefixes(id).map((c) => c.text));
    return [r.direction, r.tier, r.priority, r.protocol, r.dstPorts.lo, r.dstPorts.hi, r.action, r.origin.stableId, members(r.subject), members(r.peer)];
  });
  return JSON.stringify(rules);
}

describe('ClusterState event rules', () => {
  it('slims pods to what policy reads', () => {
    const s = slimObject('Pod', pod('a', 'p', { app: 'x' }, '10.244.1.1'));
    expect(s).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'a', name: 'p', labels: { app: 'x' }, uid: 'u-p', resourceVersion: '1' },
      spec: { nodeName: 'node-a', containers: [{ ports: [{ name: 'http', containerPort: 80 }] }] },
      status: { phase: 'Running', podIP: '10.244.1.1', podIPs: [{ ip: '10.244.1.1' }] },
    });
  });

  it('an unchanged object gives no change; a relabel gives one pod change', () => {
    const st = new ClusterState();
    expect(st.apply([up('Namespace', ns('a')), up('Pod', pod('a', 'p', { app: 'x' }, '10.244.1.1'))]).changes.map((c) => c.kind)).toEqual(['namespace', 'pod']);
    expect(st.apply([up('Pod', { ...pod('a', 'p', { app: 'x' }, '10.244.1.1'), metadata: { namespace: 'a', name: 'p', labels: { app: 'x' }, resourceVersion: '2' } })]).changes).toEqual([]);
    const r = st.apply([up('Pod', pod('a', 'p', { app: 'y' }, '10.244.1.1'))]);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({ kind: 'pod', pod: { labels: { app: 'y' } } });
  });

  it('a policy with an ipBlock (bigint addresses in the model) compares with its next version', () => {
    const st = new ClusterState();
    const spec = (cidr: string): Obj => ({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr, except: ['10.244.1.10/32'] } }] }] });
    expect(st.apply([up('NetworkPolicy', np('a', 'blk', spec('10.244.0.0/16')))]).changes.map((c) => c.kind)).toEqual(['policy']);
    expect(st.apply([up('NetworkPolicy', np('a', 'blk', spec('10.244.0.0/16'), '2'))]).changes).toEqual([]);
    expect(st.apply([up('NetworkPolicy', np('a', 'blk', spec('10.244.0.0/17'), '3'))]).changes.map((c) => c.kind)).toEqual(['policy']);
  });

  it('an invalid policy is reported once per version with kind, name and field path, and its last valid version stays', () => {
    const st = new ClusterState();
    const good = np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    expect(st.apply([up('NetworkPolicy', good)]).changes.map((c) => c.kind)).toEqual(['policy']);
    const bad = np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 80, endPort: 70 }] }] }, '2');
    const r = st.apply([up('NetworkPolicy', bad)]);
    expect(r.changes).toEqual([]);
    expect(r.invalid).toHaveLength(1);
    expect(r.invalid[0]!.ref).toEqual({ kind: 'NetworkPolicy', namespace: 'a', name: 'allow' });
    expect(r.invalid[0]!.problems.some((p) => p.path === 'spec.ingress[0].ports[0].endPort')).toBe(true);
    expect(st.apply([up('NetworkPolicy', bad)]).invalid).toEqual([]); // a resync repeats the version: not again
    expect(st.cluster().networkPolicies.map((p) => p.ingress[0]!.ports![0]!.port)).toEqual([80]);
    expect(st.invalid()).toHaveLength(1);
    // a fix clears the report; a delete removes it
    expect(st.apply([up('NetworkPolicy', np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 81 }] }] }, '3'))]).changes.map((c) => c.kind)).toEqual(['policy']);
    expect(st.invalid()).toEqual([]);
    expect(st.apply([del('NetworkPolicy', good)]).changes.map((c) => c.kind)).toEqual(['policy-removed']);
  });

  it('holdBack: a policy that cannot be enforced goes back to its version in force until a new version arrives', () => {
    const st = new ClusterState();
    const v1 = np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    st.apply([up('NetworkPolicy', v1)]);
    const enforced = st.cluster().networkPolicies[0]!;
    st.apply([up('NetworkPolicy', np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 81 }] }] }, '2'))]);
    const ref = { kind: 'NetworkPolicy', namespace: 'a', name: 'allow' };
    const problem = { code: 'RULE_UNSUPPORTED' as const, severity: 'error' as const, file: '<api-server>', object: ref, path: 'spec.ingress[0]', message: 'cannot compile' };
    const held = st.holdBack('NetworkPolicy', ref, enforced, [problem]);
    expect(held).toMatchObject({ ref, resourceVersion: '2', problems: [problem] });
    expect(st.cluster().networkPolicies.map((p) => p.ingress[0]!.ports![0]!.port)).toEqual([80]);
    expect(st.invalid().map((i) => i.ref.name)).toEqual(['allow']);
    // already as in force: nothing to hold back (the caller looks elsewhere)
    expect(st.holdBack('NetworkPolicy', ref, enforced, [problem])).toBeUndefined();
    // a resync of the held-back version keeps it back; a new version is accepted again
    expect(st.apply([up('NetworkPolicy', np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 81 }] }] }, '2'))]).changes).toEqual([]);
    expect(st.cluster().networkPolicies.map((p) => p.ingress[0]!.ports![0]!.port)).toEqual([80]);
    expect(st.apply([up('NetworkPolicy', np('a', 'allow', { podSelector: {}, ingress: [{ ports: [{ port: 82 }] }] }, '3'))]).changes.map((c) => c.kind)).toEqual(['policy']);
    expect(st.invalid()).toEqual([]);
    // a policy not in force at all leaves the picture, and a delete forgets it
    st.apply([up('NetworkPolicy', np('a', 'fresh', { podSelector: {} }))]);
    expect(st.holdBack('NetworkPolicy', { kind: 'NetworkPolicy', namespace: 'a', name: 'fresh' }, undefined, [problem])).toBeDefined();
    expect(st.cluster().networkPolicies.map((p) => p.name)).toEqual(['allow']);
    st.apply([del('NetworkPolicy', np('a', 'fresh', { podSelector: {} }))]);
    expect(st.invalid()).toEqual([]);
  });

  it('a first version that is invalid never enters; a staged policy enters as a removal', () => {
    const st = new ClusterState();
    expect(st.apply([up('NetworkPolicy', np('a', 'x', { podSelector: { matchLabels: { 'bad key!': 'v' } } }))]).changes).toEqual([]);
    expect(st.cluster().networkPolicies).toEqual([]);
    st.apply([up('NetworkPolicy', np('a', 'y', { podSelector: {} }))]);
    const r = st.apply([up('NetworkPolicy', np('a', 'y', { podSelector: {} }, '2', { 'policy.palisade.dev/staged': 'true' }))]);
    expect(r.changes).toEqual([{ kind: 'policy-removed', policy: { kind: 'NetworkPolicy', namespace: 'a', name: 'y' } }]);
  });

  it('CNI IPs override the API server until the CNI deletes them; a namespace deleted under its pods turns implicit', () => {
    const st = new ClusterState();
    st.apply([up('Namespace', ns('a', { t: '1' })), up('Pod', pod('a', 'p', { app: 'x' }))]);
    expect(st.pod('a', 'p')!.ips).toEqual([]);
    expect(st.setCniIps('a', 'p', 'c1', ['10.244.1.7/24'])).toMatchObject([{ kind: 'pod', pod: { ips: [{ text: '10.244.1.7' }] } }]);
    expect(st.apply([up('Pod', pod('a', 'p', { app: 'x' }, '10.244.1.7'))]).changes).toEqual([]);
    expect(st.clearCni('c2')).toEqual([]);
    expect(st.clearCni('c1')).toEqual([]); // the API server has the same IP now
    expect(st.apply([del('Namespace', ns('a'))]).changes).toMatchObject([{ kind: 'namespace', namespace: { labels: { 'kubernetes.io/metadata.name': 'a' } } }]);
    expect(st.apply([del('Pod', pod('a', 'p', {}))]).changes.map((c) => c.kind)).toEqual(['pod-removed', 'namespace-removed']);
    expect(st.cluster().namespaces).toEqual([]);
  });
});

describe('ClusterState changes = a fresh compile of its picture (random event sequences)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}`, () => {
      const rnd = mulberry(seed);
      const st = new ClusterState();
      const compiler = new PolicyCompiler();
      const namespaces = ['a', 'b', 'c'];
      const apps = ['web', 'db', 'api'];
      const first = st.apply([...namespaces.map((n) => up('Namespace', ns(n, { team: n }))), up('Node', { metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '10.244.200.1' }] } })]);
      expect(first.changes.length).toBe(4);
      const truth = new Map<string, Obj>();
      for (const n of namespaces) truth.set(`Namespace//${n}`, { apiVersion: 'v1', kind: 'Namespace', ...ns(n, { team: n }) });
      truth.set('Node//node-a', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '10.244.200.1' }] } });
      const s0 = compiler.stage(st.cluster());
      s0.commit();
      for (let step = 0; step < 60; step++) {
        const batch: KindEvent[] = [];
        const n = 1 + Math.floor(rnd() * 4);
        for (let i = 0; i < n; i++) {
          const r = rnd();
          const nsName = pick(rnd, namespaces);
          const podName = `p${Math.floor(rnd() * 8)}`;
          if (r < 0.35) batch.push(up('Pod', pod(nsName, podName, { app: pick(rnd, apps) }, rnd() < 0.8 ? `10.244.${namespaces.indexOf(nsName) + 1}.${podName.slice(1)}` : undefined)));
          else if (r < 0.5) batch.push(del('Pod', pod(nsName, podName, {})));
          else if (r < 0.6) batch.push(up('Namespace', ns(nsName, { team: pick(rnd, ['x', 'y', nsName]) })));
          else if (r < 0.63) batch.push(del('Namespace', ns(nsName)));
          else if (r < 0.85) {
            const from = rnd() < 0.5 ? { podSelector: { matchLabels: { app: pick(rnd, apps) } } } : { namespaceSelector: { matchLabels: { team: pick(rnd, ['x', 'y', 'a']) } } };
            batch.push(up('NetworkPolicy', np(nsName, `np${Math.floor(rnd() * 3)}`, { podSelector: { matchLabels: { app: pick(rnd, apps) } }, ingress: [{ from: [from], ports: [{ port: rnd() < 0.5 ? 80 : 'http' }] }] }, String(step))));
          } else if (r < 0.9) batch.push(del('NetworkPolicy', np(nsName, `np${Math.floor(rnd() * 3)}`, {})));
          else batch.push(up('NetworkPolicy', np(nsName, 'broken', { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] }, String(step))));
        }
        for (const e of batch) {
          const m = e.object.metadata as { namespace?: string; name: string };
          const key = `${e.kind}/${m.namespace ?? ''}/${m.name}`;
          if (e.type === 'delete') truth.delete(key);
          else if (m.name !== 'broken') truth.set(key, { ...e.object, apiVersion: API_VERSIONS[e.kind], kind: e.kind });
        }
        const r = st.apply(batch);
        const staged = compiler.stageChanges(r.changes);
        staged.commit();
        // the truth: the last valid version of every object, built as `palisade check` builds files
        const built = buildCluster([...truth.values()].map((obj) => ({ obj, file: 'truth' })));
        expect(built.cluster, JSON.stringify(built.problems.filter((p) => p.severity === 'error'))).toBeDefined();
        const fresh = new PolicyCompiler().stage(built.cluster!);
        expect(snapshot(compiler.current()!), `step ${step}`).toBe(snapshot(fresh.update.policy));
        fresh.commit();
      }
    });
  }
});
