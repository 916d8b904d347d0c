// The one compiled policy: whatever path an update takes (whole-cluster reload or object changes,
// install or deltas, commit or rollback), what a backend holds after applying the committed
// updates equals a fresh compile of the cluster in force.
import { describe, expect, it } from 'vitest';
import { PolicyCompiler, type PolicyUpdate } from '../../src/enforce/compiled.js';
import { diffClusters } from '../../src/enforce/inventory-diff.js';
import type { EngineChange } from '../../src/engine/changes.js';
import type { Cluster } from '../../src/model/types.js';
import { Resolution, type SetId } from '../../src/resolve/index.js';
import { lower } from '../../src/rules/lower.js';
import type { RuleSet } from '../../src/rules/types.js';
import { randomChange, randomCluster, Rng } from '../engine/random-cluster.js';
import { namespaceObject } from '../harness/fixtures.js';

/** What a backend would hold: the rule set it installed and each set's members. */
class ModelBackend {
  ruleSet: RuleSet | undefined;
  members = new Map<SetId, Set<string>>();
  installs = 0;
  deltaApplies = 0;
  apply(u: PolicyUpdate): void {
    if (u.kind === 'install') {
      this.installs++;
      this.ruleSet = u.policy.ruleSet;
      this.members = new Map([...u.policy.usedSets].map((id) => [id, new Set(u.policy.resolution.prefixes(id).map((c) => c.text))]));
      return;
    }
    this.deltaApplies++;
    expect(u.policy.ruleSet).toBe(this.ruleSet);
    for (const d of u.deltas) {
      const m = this.members.get(d.set);
      expect(m, `delta for a set the rules do not use: ${d.set}`).toBeDefined();
      for (const c of d.added) {
        expect(m!.has(c.text), `added twice: ${c.text} to set ${d.set}`).toBe(false);
        m!.add(c.text);
      }
      for (const c of d.removed) {
        expect(m!.has(c.text), `removed but absent: ${c.text} from set ${d.set}`).toBe(true);
        m!.delete(c.text);
      }
    }
  }
  /** rules with their sets' members spelled out (set ids differ between compiles) */
  describe(): string[] {
    const rs = this.ruleSet!;
    const m = (id: SetId | null) => (id === null ? '*' : [...(this.members.get(id) ?? [])].sort().join(','));
    return live(rs.rules.map((r) => `${r.origin.stableId}|${r.action}|${r.protocol}|${r.dstPorts.lo}-${r.dstPorts.hi}|${m(r.subject)}|${m(r.peer)}`));
  }
}

function fresh(c: Cluster): string[] {
  const res = new Resolution(c, c.networkPolicies);
  const rs = lower(c, res);
  const m = (id: SetId | null) => (id === null ? '*' : res.prefixes(id).map((x) => x.text).sort().join(','));
  return live(rs.rules.map((r) => `${r.origin.stableId}|${r.action}|${r.protocol}|${r.dstPorts.lo}-${r.dstPorts.hi}|${m(r.subject)}|${m(r.peer)}`));
}

/**
 * Rules that can match something: a rule whose subject or peer set is empty matches no flow, and
 * which of those exist depends on history (a named-port group whose last pod left stays lowered
 * until the next policy change), not on what is enforced.
 */
const live = (rules: string[]): string[] => rules.filter((r) => !/\|\|/.test(r) && !r.endsWith('|'));

/** A change applied to a cluster object (what a reload of edited files would read). */
function applied(c: Cluster, ch: EngineChange): Cluster {
  switch (ch.kind) {
    case 'pod':
      return { ...c, pods: [...c.pods.filter((p) => !(p.namespace === ch.pod.namespace && p.name === ch.pod.name)), ch.pod], namespaces: c.namespaces.some((n) => n.name === ch.pod.namespace) ? c.namespaces : [...c.namespaces, namespaceObject(ch.pod.namespace)] };
    case 'pod-removed':
      return { ...c, pods: c.pods.filter((p) => !(p.namespace === ch.namespace && p.name === ch.name)) };
    case 'namespace':
      return { ...c, namespaces: [...c.namespaces.filter((n) => n.name !== ch.namespace.name), ch.namespace] };
    case 'namespace-removed':
      return { ...c, namespaces: c.namespaces.filter((n) => n.name !== ch.name), pods: c.pods.filter((p) => p.namespace !== ch.name) };
    case 'node':
      return { ...c, nodes: [...c.nodes.filter((n) => n.name !== ch.node.name), ch.node] };
    case 'node-removed':
      return { ...c, nodes: c.nodes.filter((n) => n.name !== ch.name) };
    case 'endpointslice':
      return { ...c, endpointSlices: [...c.endpointSlices.filter((x) => !(x.namespace === ch.slice.namespace && x.name === ch.slice.name)), ch.slice] };
    case 'endpointslice-removed':
      return { ...c, endpointSlices: c.endpointSlices.filter((x) => !(x.namespace === ch.namespace && x.name === ch.name)) };
    case 'service':
      return { ...c, services: [...c.services.filter((x) => !(x.namespace === ch.service.namespace && x.name === ch.service.name)), ch.service] };
    case 'service-removed':
      return { ...c, services: c.services.filter((x) => !(x.namespace === ch.namespace && x.name === ch.name)) };
    case 'policy': {
      const p = ch.policy;
      if (p.kind === 'NetworkPolicy') return { ...c, networkPolicies: [...c.networkPolicies.filter((x) => !(x.namespace === p.namespace && x.name === p.name)), p] };
      return { ...c, clusterPolicies: [...c.clusterPolicies.filter((x) => !(x.kind === p.kind && x.name === p.name)), p] };
    }
    case 'policy-removed': {
      const r = ch.policy;
      if (r.kind === 'NetworkPolicy') return { ...c, networkPolicies: c.networkPolicies.filter((x) => !(x.namespace === r.namespace && x.name === r.name)) };
      return { ...c, clusterPolicies: c.clusterPolicies.filter((x) => !(x.kind === r.kind && x.name === r.name)) };
    }
  }
}

const SHAPE = { namespaces: 4, pods: 14, nodes: 2, networkPolicies: 4, clusterPolicies: 3 };

describe('PolicyCompiler', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`random reloads and changes with rollbacks, seed ${seed}: the backend's view equals a fresh compile`, () => {
      const r = new Rng(seed);
      let cluster = randomCluster(r, SHAPE);
      const compiler = new PolicyCompiler();
      const backend = new ModelBackend();
      const first = compiler.stage(cluster);
      expect(first.update.kind).toBe('install');
      backend.apply(first.update);
      first.commit();
      let rollbacks = 0;
      for (let step = 0; step < 60; step++) {
        const batch = Array.from({ length: r.int(1, 3) }, () => randomChange(r, cluster, r.chance(0.3)));
        let next = cluster;
        for (const ch of batch) next = applied(next, ch);
        const viaChanges = r.chance(0.5);
        const before = backend.describe();
        const staged = viaChanges ? compiler.stageChanges(batch) : compiler.stage(next);
        if (r.chance(0.25)) {
          staged.rollback();
          rollbacks++;
          // the kernel never saw it; the compiler is back where the backend is
          expect(backend.describe()).toEqual(before);
          expect(fresh(compiler.current()!.cluster())).toEqual(before);
          continue;
        }
        backend.apply(staged.update);
        staged.commit();
        cluster = next;
        expect(backend.describe(), `step ${step}`).toEqual(fresh(cluster));
        expect(fresh(compiler.current()!.cluster())).toEqual(fresh(cluster));
      }
      expect(rollbacks).toBeGreaterThan(0);
      expect(backend.deltaApplies).toBeGreaterThan(10);
    });
  }

  it('namespace and node changes are deltas, not a reinstall', () => {
    const r = new Rng(42);
    const cluster = randomCluster(r, { ...SHAPE, clusterPolicies: 0 });
    const compiler = new PolicyCompiler();
    const s = compiler.stage(cluster);
    s.commit();
    const ns = cluster.namespaces[0]!;
    const relabel = compiler.stage({ ...cluster, namespaces: cluster.namespaces.map((n) => (n === ns ? { ...n, labels: { ...n.labels, extra: 'yes' } } : n)) });
    expect(relabel.update.kind).toBe('deltas');
    relabel.commit();
    const node = cluster.nodes[0]!;
    const moved = compiler.stageChanges([{ kind: 'node', node: { ...node, labels: { ...node.labels, zone: 'b' } } }]);
    expect(moved.update.kind).toBe('deltas');
    moved.commit();
  });

  it('a policy edit is an install; stage while another is open throws', () => {
    const r = new Rng(7);
    const cluster = randomCluster(r, SHAPE);
    const compiler = new PolicyCompiler();
    compiler.stage(cluster).commit();
    const edited = { ...cluster, networkPolicies: cluster.networkPolicies.slice(1) };
    const s = compiler.stage(edited);
    expect(s.update).toMatchObject({ kind: 'install', why: 'policies' });
    expect(() => compiler.stage(cluster)).toThrow(/still open/);
    s.commit();
    expect(() => s.commit()).toThrow(/already/);
    expect(compiler.current()!.generation).toBe(2);
  });

  it('the diff is incremental for namespaces and nodes and ignores file positions', () => {
    const r = new Rng(9);
    const a = randomCluster(r, SHAPE);
    const moved = { ...a, pods: a.pods.map((p) => ({ ...p, source: { file: 'elsewhere.yaml', line: 99 } }) as typeof p) };
    expect(diffClusters(a, moved)).toEqual({ policiesChanged: false, servicesChanged: false, inventory: [] });
    const b = { ...a, namespaces: a.namespaces.slice(1), nodes: a.nodes.slice(1) };
    const d = diffClusters(a, b);
    expect(d.policiesChanged).toBe(false);
    expect(d.inventory.map((c) => c.kind)).toEqual(expect.arrayContaining(['namespace-removed', 'node-removed']));
  });
});
