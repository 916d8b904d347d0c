/**
 * Per-pod `domainNames` rules under pod changes (rules/inputs.ts outgrowsLearned): a pod that has
 * one keeps it, its single-pod set following the pod, so an address change, a relabel out of the
 * subject, a delete and a re-create under the same name are membership deltas (no re-lowering),
 * while a relabel that brings a pod into the subject re-lowers (the pod gets its own rule, and
 * what it learned is allowed). Checked against the reference evaluator with the same snapshot.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/index.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import type { LearnedSnapshot } from '../../src/model/fqdn.js';
import { parseIp } from '../../src/model/ip.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';

const YAML = `
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: app, labels: { role: web } }
status: { podIPs: [ { ip: 10.244.1.10 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: app, labels: { role: db } }
status: { podIPs: [ { ip: 10.244.1.11 } ] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn }
spec:
  tier: Admin
  priority: 1
  subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: web } } } }
  egress:
  - { name: names, action: Accept, to: [ { domainNames: [ db.example.test ] } ] }
  - { name: rest, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ] }
`;

const AT_MS = 1_700_000_000_000;
const LEARNED = parseIp('10.244.200.1')!;
const snapshot: LearnedSnapshot = {
  atMs: AT_MS,
  entries: ['app/web', 'app/db'].map((pod) => ({ pod, name: 'db.example.test', query: 'db.example.test', address: LEARNED, expiresAtMs: AT_MS + 600_000 })),
};

function cluster(): Cluster {
  const r = safeParseCluster(YAML, 'fqdn-subjects.yaml');
  if (!r.cluster) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.cluster;
}

describe('per-pod domainNames rules under pod changes', () => {
  it('an address change of a subject pod is a delta, and the learned allow follows the pod', () => {
    const c = cluster();
    const engine = compile(c);
    engine.learnSnapshot(snapshot);
    const web = c.pods.find((p) => p.name === 'web')!;
    const flow = (src: string) => ({ src: parseIp(src)!, dst: LEARNED, protocol: 'TCP' as const, dstPort: 443 });
    expect(engine.lookup(flow('10.244.1.10')).verdict).toBe('allow');
    const moved: Pod = { ...web, ips: [parseIp('10.244.1.20')!] };
    expect(engine.update({ kind: 'pod', pod: moved }).rebuilt).toBe(false);
    const reference = new ReferenceEvaluator(engine.cluster(), { learned: snapshot });
    for (const src of ['10.244.1.20', '10.244.1.10', '10.244.1.11']) {
      expect(engine.lookup(flow(src)).verdict, src).toBe(reference.evaluate(flow(src)).verdict);
    }
    expect(engine.lookup(flow('10.244.1.20')).verdict).toBe('allow');
  });

  it('a relabel into the subject re-lowers: the pod gets its own rule, and what it learned is allowed', () => {
    const c = cluster();
    const engine = compile(c);
    engine.learnSnapshot(snapshot);
    const db = c.pods.find((p) => p.name === 'db')!;
    const flow = { src: db.ips[0]!, dst: LEARNED, protocol: 'TCP' as const, dstPort: 443 };
    expect(engine.lookup(flow).verdict).toBe('allow'); // not a subject: nothing applies to it
    const relabelled: Pod = { ...db, labels: { role: 'web' } };
    expect(engine.update({ kind: 'pod', pod: relabelled }).rebuilt).toBe(true);
    expect(new ReferenceEvaluator(engine.cluster(), { learned: snapshot }).evaluate(flow).verdict).toBe('allow');
    expect(engine.lookup(flow).verdict).toBe('allow');
    // and a flow it did not learn is denied by the rule after
    expect(engine.lookup({ ...flow, dst: parseIp('10.244.200.2')! }).verdict).toBe('deny');
  });

  it('a subject pod relabelled out, deleted and re-created is a delta each time, answering as the reference', () => {
    const c = cluster();
    const engine = compile(c);
    engine.learnSnapshot(snapshot);
    const web = c.pods.find((p) => p.name === 'web')!;
    const flows = ['10.244.200.1', '10.244.200.2', '10.244.1.11'].map((dst) => ({ src: web.ips[0]!, dst: parseIp(dst)!, protocol: 'TCP' as const, dstPort: 443 }));
    const same = (what: string): void => {
      const reference = new ReferenceEvaluator(engine.cluster(), { learned: snapshot });
      for (const f of flows) expect(engine.lookup(f).verdict, `${what} ${f.dst.text}`).toBe(reference.evaluate(f).verdict);
    };
    expect(engine.lookup(flows[1]!).verdict).toBe('deny');
    expect(engine.update({ kind: 'pod', pod: { ...web, labels: { role: 'other' } } }).rebuilt).toBe(false);
    same('relabelled out');
    expect(engine.lookup(flows[1]!).verdict).toBe('allow'); // no longer a subject
    expect(engine.update({ kind: 'pod', pod: web }).rebuilt).toBe(false);
    same('relabelled back');
    expect(engine.update({ kind: 'pod-removed', namespace: 'app', name: 'web' }).rebuilt).toBe(false);
    same('deleted');
    expect(engine.update({ kind: 'pod', pod: web }).rebuilt).toBe(false);
    same('re-created');
    expect(engine.lookup(flows[0]!).verdict).toBe('allow');
    expect(engine.lookup(flows[1]!).verdict).toBe('deny');
  });
});
