/**
 * The one compiled policy every kernel backend consumes, and the compiler that keeps it current.
 *
 * Data flow per change (file reload or watch events):
 *   Cluster | changes -> diff (inventory-diff.ts) -> PolicyCompiler.stage -> StagedUpdate
 *     -> Backend.install (rule set changed) | Backend.applyDeltas (same rules, set deltas)
 *     -> commit (the backend succeeded) | rollback (it threw: memory back to what the kernel holds)
 * Resolution and lowering run ONCE per change here, never inside a backend.
 *
 * Invariants:
 * - After `commit`, `current()` describes exactly what the backend has in force. After
 *   `rollback`, `current()` is what it was before `stage` (the resolver is put back with the
 *   inverse inventory changes).
 * - An update of kind `deltas` keeps the previous rule set object (same ids, same order); the
 *   deltas are exactly the resolver's membership changes of the sets the rules use.
 * - One stage at a time: `stage` while another staged update is open throws.
 * Ownership: the Resolution is the compiler's and is updated in place under inventory changes;
 * a backend reads it during install/applyDeltas and to name isolating policies in deny records,
 * and never writes it.
 * Cost: a policy change = a fresh Resolution + lowering (O(rules x peers x ports) plus set
 * members); an inventory change = the resolver's incremental cost, plus a re-lowering only when
 * the change outgrows the rules (src/rules/inputs.ts).
 * Thread-safety: one owner (the enforce loop or the agent).
 */
import { PalisadeError } from '../model/errors.js';
import type { Cluster, ClusterPolicy, Direction, EndpointSlice, NetworkPolicy, PolicySet, Service } from '../model/types.js';
import { stagedPolicies } from '../model/staged.js';
import { parseIp } from '../model/ip.js';
import type { EngineChange } from '../engine/changes.js';
import { NO_EXPIRY, podKey, Resolution, type InventoryChange, type LearnedKey, type SetDelta, type SetId } from '../resolve/index.js';
import { canonicalName } from '../model/fqdn.js';
import { outgrowsRules } from '../rules/inputs.js';
import { apiServerTcp } from '../model/node-allowance.js';
import { lower } from '../rules/lower.js';
import type { RedirectFamilyTarget, RuleSet } from '../rules/types.js';
import { diffClusters } from './inventory-diff.js';
import { observationOf, type Observation } from './observed.js';

/** The policy in force (or about to be): rules, address sets and their members. */
export interface CompiledPolicy {
  /** increases by one per committed update */
  readonly generation: number;
  readonly ruleSet: RuleSet;
  /** sets and their members; owned by the compiler (read-only for backends) */
  readonly resolution: Resolution;
  /** the sets some rule uses as subject or peer (the only ones a backend needs to hold) */
  readonly usedSets: ReadonlySet<SetId>;
  readonly policies: PolicySet;
  /**
   * The addresses whose new flows the backend reports (drainObserved) and what observe.ts names
   * them with: staged policies in force, audited rules (observed.ts). Empty when neither exists.
   */
  readonly observation: Observation;
  /** the whole cluster as it stands (materialized on demand: O(objects)) */
  cluster(): Cluster;
  /**
   * The NetworkPolicies isolating the pod that owns `addr` in `direction`, as `NetworkPolicy/ns/name`,
   * ordered by name (empty when the address is not an isolated pod's). Deny records use it.
   */
  isolatingPolicies(addr: string, direction: Direction): readonly string[];
}

export type PolicyUpdate =
  /** the rule set changed (or nothing is installed yet): put the whole policy in force */
  | { readonly kind: 'install'; readonly policy: CompiledPolicy; readonly why: 'first' | 'policies' | 'rules' }
  /** same rule set as in force: only set members changed (deltas may be empty) */
  | { readonly kind: 'deltas'; readonly policy: CompiledPolicy; readonly deltas: readonly SetDelta[] };

export interface StagedUpdate {
  readonly update: PolicyUpdate;
  /** the backend put `update` in force */
  commit(): void;
  /** the backend failed: forget `update` */
  rollback(): void;
}

export interface CompilerOptions {
  /** the reference's `nodeLocalIngress` (default true) */
  readonly nodeLocalIngress?: boolean;
}

interface State {
  readonly generation: number;
  readonly resolution: Resolution;
  readonly ruleSet: RuleSet;
  readonly rulesKey: string;
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly clusterPolicies: readonly ClusterPolicy[];
  /** staged policies that arrived apart (Cluster.staged); flagged ones may also sit in the lists above */
  readonly staged: PolicySet | undefined;
  readonly observation: Observation;
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
}

export class PolicyCompiler {
  private state: State | undefined;
  /** the last committed generation, kept across reset() so generations never repeat */
  private lastGeneration = 0;
  private open = false;
  private readonly nodeLocalIngress: boolean;
  /** learned DNS addresses in force (docs/fqdn.md), fed to every fresh Resolution; key pod|name|address */
  private readonly learnedEntries = new Map<string, LearnedKey>();

  constructor(options: CompilerOptions = {}) {
    this.nodeLocalIngress = options.nodeLocalIngress ?? true;
  }

  /** The committed policy, if any. */
  current(): CompiledPolicy | undefined {
    return this.state ? view(this.state) : undefined;
  }

  /**
   * Forget the policy in force (the backend removed it): the next `stage` is a first install.
   * Without it, a compiler whose backend was emptied would keep staging deltas against nothing.
   */
  reset(): void {
    if (this.open) throw new PalisadeError('ERR_PALISADE_STAGE_OPEN', 'PolicyCompiler: reset while a staged update is open');
    this.state = undefined;
  }

  /** Stage the move to `next` (a whole cluster, e.g. a reload of manifest files). */
  stage(next: Cluster): StagedUpdate {
    const s = this.state;
    if (!s) return this.stageFresh(next, 'first');
    const d = diffClusters(clusterOf(s), next);
    if (d.policiesChanged) return this.stageFresh(next, 'policies');
    return this.stageInventory(d.inventory, { services: next.services, endpointSlices: next.endpointSlices });
  }

  /**
   * Stage object-level changes (watch events): inventory changes are applied incrementally;
   * any policy change re-lowers from the current inventory. Changes apply in order.
   */
  stageChanges(changes: readonly EngineChange[], services?: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[] }): StagedUpdate {
    const s = this.state;
    if (!s) throw new PalisadeError('ERR_PALISADE_NOT_APPLIED', 'PolicyCompiler: stageChanges before a first full stage(cluster)');
    const policyChanges = changes.filter((c) => c.kind === 'policy' || c.kind === 'policy-removed');
    if (policyChanges.length === 0) return this.stageInventory(changes as readonly InventoryChange[], services);
    // Inventory first (in order), then policies: one fresh lowering over the result.
    const inv = changes.filter((c): c is InventoryChange => c.kind !== 'policy' && c.kind !== 'policy-removed');
    const undo: InventoryChange[] = [];
    for (const c of inv) {
      undo.unshift(...undoOf(s.resolution, c));
      s.resolution.apply(c);
    }
    let nps = [...s.networkPolicies];
    let cps = [...s.clusterPolicies];
    for (const c of policyChanges) {
      if (c.kind === 'policy') {
        const p = c.policy;
        if (p.kind === 'NetworkPolicy') nps = [...nps.filter((x) => !(x.namespace === p.namespace && x.name === p.name)), p];
        else cps = [...cps.filter((x) => !(x.kind === p.kind && x.name === p.name)), p];
      } else if (c.kind === 'policy-removed') {
        const r = c.policy;
        if (r.kind === 'NetworkPolicy') nps = nps.filter((x) => !(x.namespace === r.namespace && x.name === r.name));
        else cps = cps.filter((x) => !(x.kind === r.kind && x.name === r.name));
      }
    }
    const cluster: Cluster = {
      ...s.resolution.inventory(),
      services: services?.services ?? s.services,
      endpointSlices: services?.endpointSlices ?? s.endpointSlices,
      networkPolicies: nps,
      clusterPolicies: cps,
      ...(s.staged ? { staged: s.staged } : {}),
    };
    // The fresh lowering builds its own Resolution; the current one goes back to what is in force.
    for (const u of undo) s.resolution.apply(u);
    return this.stageFresh(cluster, 'policies');
  }

  private stageFresh(cluster: Cluster, why: 'first' | 'policies'): StagedUpdate {
    this.begin();
    let next: State;
    try {
      const resolution = new Resolution(cluster, cluster.networkPolicies);
      resolution.learn([...this.learnedEntries.values()]);
      const ruleSet = lower(cluster, resolution, { nodeLocalIngress: this.nodeLocalIngress, apiServer: apiServerTcp(cluster.services, cluster.endpointSlices) });
      next = {
        generation: this.lastGeneration + 1,
        resolution,
        ruleSet,
        rulesKey: rulesKey(ruleSet),
        networkPolicies: cluster.networkPolicies,
        clusterPolicies: cluster.clusterPolicies,
        staged: cluster.staged,
        observation: observationOf({ cluster, ruleSet, resolution, nodeLocalIngress: this.nodeLocalIngress }),
        services: cluster.services,
        endpointSlices: cluster.endpointSlices,
      };
    } catch (e) {
      this.open = false;
      throw e;
    }
    return this.staged({ kind: 'install', policy: view(next), why }, next, () => undefined);
  }

  private stageInventory(given: readonly InventoryChange[], services?: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[] }): StagedUpdate {
    const s = this.state!;
    // Service addresses are members of the `cluster` set: they reach the resolver as changes too
    // and their EndpointSlices feed the `service` sets (docs/extension-semantics.md)
    const changes = services ? [...given, ...serviceChanges(s.resolution, services.services, services.endpointSlices)] : given;
    this.begin();
    const undo: InventoryChange[] = [];
    const deltas: SetDelta[] = [];
    let outgrown = false;
    try {
      for (const c of changes) {
        undo.unshift(...undoOf(s.resolution, c));
        const previous = c.kind === 'pod' ? s.resolution.pod(`${c.pod.namespace}/${c.pod.name}`) : undefined;
        deltas.push(...s.resolution.apply(c));
        // after apply: a Service change is judged by the Service's new (protocol, port) groups
        if (outgrowsRules(s.ruleSet, c, this.nodeLocalIngress, (ref) => s.resolution.serviceGroups(ref), previous)) outgrown = true;
      }
    } catch (e) {
      for (const u of undo) s.resolution.apply(u);
      this.open = false;
      throw e;
    }
    const restore = (): void => {
      for (const u of undo) s.resolution.apply(u);
    };
    const base = { ...s, services: services?.services ?? s.services, endpointSlices: services?.endpointSlices ?? s.endpointSlices };
    if (outgrown) {
      const ruleSet = lower({ networkPolicies: s.networkPolicies, clusterPolicies: s.clusterPolicies }, s.resolution, {
        nodeLocalIngress: this.nodeLocalIngress,
        apiServer: apiServerTcp(base.services, base.endpointSlices),
      });
      const key = rulesKey(ruleSet);
      if (key !== s.rulesKey) {
        const next: State = { ...base, generation: s.generation + 1, ruleSet, rulesKey: key };
        return this.staged({ kind: 'install', policy: view(this.observed(next)), why: 'rules' }, next, restore);
      }
    }
    const next: State = this.observed({ ...base, generation: s.generation + 1 });
    const used = usedSetsOf(s.ruleSet);
    return this.staged({ kind: 'deltas', policy: view(next), deltas: mergeDeltas(deltas.filter((d) => used.has(d.set))) }, next, restore);
  }

  /**
   * Stage learned DNS addresses that appeared or expired (docs/fqdn.md; src/fqdn): always a
   * `deltas` update of the `learned` sets (same rules). Entries not held (removed) and entries
   * already held with the same or a later expiry (added) are no-ops; a held entry added with a
   * later expiry is a refresh (its members' expiry grows: `retimed` deltas). The rollback is the
   * exact inverse.
   */
  stageLearned(added: readonly LearnedKey[], removed: readonly LearnedKey[]): StagedUpdate {
    const s = this.state;
    if (!s) throw new PalisadeError('ERR_PALISADE_NOT_APPLIED', 'PolicyCompiler: stageLearned before a first full stage(cluster)');
    const gone = new Map<string, LearnedKey>();
    for (const e of removed) if (this.learnedEntries.has(learnedKeyText(e))) gone.set(learnedKeyText(e), e);
    const fresh = new Map<string, LearnedKey>();
    /** held entries whose expiry grows (a refresh): the kernel re-times their elements */
    const extended = new Map<string, { now: LearnedKey; before: LearnedKey }>();
    for (const e of added) {
      const k = learnedKeyText(e);
      const held = this.learnedEntries.get(k);
      if (!held || gone.has(k)) fresh.set(k, e);
      else if ((e.expiresAtMs ?? NO_EXPIRY) > (held.expiresAtMs ?? NO_EXPIRY)) extended.set(k, { now: e, before: held });
    }
    this.begin();
    const deltas = s.resolution.learn([...fresh.values(), ...[...extended.values()].map((x) => x.now)], [...gone.values()]);
    const next: State = { ...s, generation: s.generation + 1 };
    const used = usedSetsOf(s.ruleSet);
    const update: PolicyUpdate = { kind: 'deltas', policy: view(next), deltas: deltas.filter((d) => used.has(d.set)) };
    // the store never shortens an expiry: a refresh is undone by removing it and adding the old entry
    const restore = (): void =>
      void s.resolution.learn([...gone.values(), ...[...extended.values()].map((x) => x.before)], [...fresh.values(), ...[...extended.values()].map((x) => x.now)]);
    const staged = this.staged(update, next, restore);
    return {
      update,
      commit: () => {
        staged.commit();
        for (const k of gone.keys()) this.learnedEntries.delete(k);
        for (const [k, e] of fresh) this.learnedEntries.set(k, e);
        for (const [k, x] of extended) this.learnedEntries.set(k, x.now);
      },
      rollback: () => staged.rollback(),
    };
  }

  /** How many learned (pod, name, address) entries are in force. */
  get learnedCount(): number {
    return this.learnedEntries.size;
  }

  /**
   * The state with its observation recomputed for the inventory as it now stands (the resolution
   * is updated in place): only when something is staged or audited, else the empty one is kept.
   */
  private observed(st: State): State {
    if (st.observation.key === '' && st.observation.wouldBe === undefined && !hasMarks(st)) return st;
    return { ...st, observation: observationOf({ cluster: clusterOf(st), ruleSet: st.ruleSet, resolution: st.resolution, nodeLocalIngress: this.nodeLocalIngress }) };
  }

  private begin(): void {
    if (this.open) throw new PalisadeError('ERR_PALISADE_STAGE_OPEN', 'PolicyCompiler: a staged update is still open (commit or roll it back first)');
    this.open = true;
  }

  private staged(update: PolicyUpdate, next: State, restore: () => void): StagedUpdate {
    let done = false;
    const finish = (): void => {
      if (done) throw new PalisadeError('ERR_PALISADE_STAGE_OPEN', 'PolicyCompiler: staged update already committed or rolled back');
      done = true;
      this.open = false;
    };
    return {
      update,
      commit: () => {
        finish();
        this.state = next;
        this.lastGeneration = next.generation;
      },
      rollback: () => {
        finish();
        restore();
      },
    };
  }
}

const usedSetsCache = new WeakMap<RuleSet, ReadonlySet<SetId>>();
function usedSetsOf(rs: RuleSet): ReadonlySet<SetId> {
  let u = usedSetsCache.get(rs);
  if (!u) {
    const s = new Set<SetId>();
    for (const r of rs.rules) {
      s.add(r.subject);
      if (r.peer !== null) s.add(r.peer);
    }
    usedSetsCache.set(rs, (u = s));
  }
  return u;
}

const servicesKey = (v: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[] }): string =>
  JSON.stringify([v.services, v.endpointSlices], (k, x: unknown) => (k === 'source' ? undefined : typeof x === 'bigint' ? `${x}n` : x));

function clusterOf(s: State): Cluster {
  return {
    ...s.resolution.inventory(),
    services: s.services,
    endpointSlices: s.endpointSlices,
    networkPolicies: s.networkPolicies,
    clusterPolicies: s.clusterPolicies,
    ...(s.staged ? { staged: s.staged } : {}),
  };
}

/** Anything staged or audited (the observation may be empty now and not after a pod arrives). */
function hasMarks(s: State): boolean {
  const st = stagedPolicies(clusterOf(s));
  if (st.networkPolicies.length + st.clusterPolicies.length > 0) return true;
  return s.networkPolicies.some((p) => p.audit) || s.clusterPolicies.some((p) => p.audit);
}

function view(s: State): CompiledPolicy {
  return {
    generation: s.generation,
    ruleSet: s.ruleSet,
    resolution: s.resolution,
    usedSets: usedSetsOf(s.ruleSet),
    policies: { networkPolicies: s.networkPolicies, clusterPolicies: s.clusterPolicies },
    observation: s.observation,
    cluster: () => clusterOf(s),
    isolatingPolicies(addr, direction) {
      const ip = parseIp(addr);
      if (!ip) return [];
      const pod = s.resolution.addresses.resolve(ip).pod;
      if (!pod) return [];
      return s.resolution.isolatingPolicies(pod, direction).map((np) => `NetworkPolicy/${np.namespace}/${np.name}`);
    },
  };
}

/**
 * Everything that makes two rule sets the same program for a backend (ids, order, matches, actions,
 * and a Redirect's targets: a Service or EndpointSlice change that moves one is an install, so the
 * backend rewrites to the new target, not the one it installed).
 */
function rulesKey(rs: RuleSet): string {
  const target = (t: RedirectFamilyTarget | undefined): string | null => (t ? `${t.clusterIP.text}:${t.port}>${t.endpoint ? `${t.endpoint.ip.text}:${t.endpoint.port}` : ''}` : null);
  return JSON.stringify(
    rs.rules.map((r) => [
      r.direction, r.tier, r.priority, r.subject, r.peer, r.protocol, r.dstPorts.lo, r.dstPorts.hi, r.srcPorts.lo, r.srcPorts.hi, r.action, r.origin.stableId,
      ...(r.redirect ? [target(r.redirect.v4), target(r.redirect.v6)] : []),
    ]),
  );
}

/** One delta per set: a prefix added then removed in one batch cancels out. */
function mergeDeltas(deltas: readonly SetDelta[]): SetDelta[] {
  if (deltas.length <= 1) return [...deltas];
  const bySet = new Map<SetId, Map<string, { cidr: SetDelta['added'][number]; net: number }>>();
  for (const d of deltas) {
    let m = bySet.get(d.set);
    if (!m) bySet.set(d.set, (m = new Map()));
    for (const c of d.added) {
      const e = m.get(c.text);
      m.set(c.text, { cidr: c, net: (e?.net ?? 0) + 1 });
    }
    for (const c of d.removed) {
      const e = m.get(c.text);
      m.set(c.text, { cidr: c, net: (e?.net ?? 0) - 1 });
    }
  }
  const out: SetDelta[] = [];
  for (const [set, m] of bySet) {
    const added = [...m.values()].filter((e) => e.net > 0).map((e) => e.cidr);
    const removed = [...m.values()].filter((e) => e.net < 0).map((e) => e.cidr);
    if (added.length || removed.length) out.push({ set, added, removed });
  }
  return out;
}

/** The changes that take `resolution` back to where it is now once `c` has been applied. */
export function undoOf(resolution: Resolution, c: InventoryChange): InventoryChange[] {
  const podBack = (key: string, ns: string, name: string): InventoryChange => {
    const p = resolution.pod(key);
    return p ? { kind: 'pod', pod: p } : { kind: 'pod-removed', namespace: ns, name };
  };
  switch (c.kind) {
    case 'pod':
      return [podBack(podKey(c.pod), c.pod.namespace, c.pod.name)];
    case 'pod-removed':
      return [podBack(podKey(c), c.namespace, c.name)];
    case 'namespace':
    case 'namespace-removed': {
      const name = c.kind === 'namespace' ? c.namespace.name : c.name;
      const inv = resolution.inventory();
      const ns = inv.namespaces.find((n) => n.name === name);
      const pods = inv.pods.filter((p) => p.namespace === name).map((pod): InventoryChange => ({ kind: 'pod', pod }));
      return [ns ? { kind: 'namespace', namespace: ns } : { kind: 'namespace-removed', name }, ...pods];
    }
    case 'node':
    case 'node-removed': {
      const name = c.kind === 'node' ? c.node.name : c.name;
      const node = resolution.node(name);
      return [node ? { kind: 'node', node } : { kind: 'node-removed', name }];
    }
    case 'service':
    case 'service-removed': {
      const ref = c.kind === 'service' ? c.service : c;
      const svc = resolution.service(podKey(ref));
      return [svc ? { kind: 'service', service: svc } : { kind: 'service-removed', namespace: ref.namespace, name: ref.name }];
    }
    case 'endpointslice':
    case 'endpointslice-removed': {
      const ref = c.kind === 'endpointslice' ? c.slice : c;
      const slice = resolution.endpointSlice(podKey(ref));
      return [slice ? { kind: 'endpointslice', slice } : { kind: 'endpointslice-removed', namespace: ref.namespace, name: ref.name }];
    }
  }
}

const learnedKeyText = (e: LearnedKey): string => `${e.pod}|${canonicalName(e.name)}|${e.address.text}`;

/**
 * The Service changes that take the resolution's Services to `next` (the Services reach the
 * compiler as whole lists: a reload, or the agent's service state). Compared without `source`.
 */
export function serviceChanges(resolution: Resolution, next: readonly Service[], nextSlices?: readonly EndpointSlice[]): InventoryChange[] {
  const canonical = (v: Service | EndpointSlice): string => JSON.stringify(v, (k, x: unknown) => (k === 'source' ? undefined : typeof x === 'bigint' ? `${x}n` : x));
  const out: InventoryChange[] = [];
  if (nextSlices !== undefined) {
    const slicesNow = new Map(resolution.serviceInventory().endpointSlices.map((e) => [podKey(e), e]));
    const sliceKeys = new Set<string>();
    for (const e of nextSlices) {
      const k = podKey(e);
      sliceKeys.add(k);
      const old = slicesNow.get(k);
      if (old === undefined || canonical(old) !== canonical(e)) out.push({ kind: 'endpointslice', slice: e });
    }
    for (const [k, e] of slicesNow) if (!sliceKeys.has(k)) out.push({ kind: 'endpointslice-removed', namespace: e.namespace, name: e.name });
  }
  const now = new Map(resolution.inventory().services.map((svc) => [podKey(svc), svc]));
  const keys = new Set<string>();
  for (const svc of next) {
    const k = podKey(svc);
    keys.add(k);
    const old = now.get(k);
    if (old === undefined || canonical(old) !== canonical(svc)) out.push({ kind: 'service', service: svc });
  }
  for (const [k, svc] of now) if (!keys.has(k)) out.push({ kind: 'service-removed', namespace: svc.namespace, name: svc.name });
  return out;
}
