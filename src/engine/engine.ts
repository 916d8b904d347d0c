/**
 * The Engine: policies compiled once into per-direction classifiers that answer a flow with the
 * verdict and the deciding rule of each direction, kept current under inventory and policy
 * changes, and able to explain any answer exactly as the reference evaluator would.
 *
 * Data flow: Cluster -> Resolution (address sets, resolve/) -> RuleSet (rules/lower.ts) ->
 * two Classifiers (egress, ingress) -> lookup / lookupBatch / explain.
 *
 * Invariants:
 * - After any sequence of `update` calls, every answer equals that of an Engine compiled fresh
 *   from `cluster()` (same verdicts and deciding rules; rule ids may differ), and equals the
 *   reference evaluator on `cluster()` (test/engine differential tests).
 * - Loopback (a pod's traffic to its own address) and non-pod ends allow without a rule, as the
 *   reference decides.
 * - Staged policies (model/staged.ts) are never compiled, even when `update` is handed one: the
 *   engine answers the enforced verdict.
 * Cost: compile = resolution + lowering + classifier build; an inventory change costs what the
 * resolver reports (resolve/resolver.ts) plus one classifier edit batch; a policy change, a pod
 * bringing a named-port number no rule has seen, or a new node rebuilds.
 * Thread-safety: one owner; not re-entrant. (The native classifier itself publishes versions
 * atomically; this wrapper does not add threads.)
 */
import { PalisadeError } from '../model/errors.js';
import { formatV4, formatV6, sameIp, type Family, type IpAddr } from '../model/ip.js';
import { enforcedPolicies } from '../model/staged.js';
import type { Cluster, ClusterPolicy, Direction, NetworkPolicy, Pod, PolicySet, Tier } from '../model/types.js';
import { checkFlow, type Endpoint, type Flow } from '../model/flow.js';
import type { Evaluator, FlowVerdict } from '../model/verdict.js';
import { ipKey } from '../resolve/address-index.js';
import type { InventoryChange } from '../resolve/changes.js';
import type { LearnedKey } from '../resolve/learned.js';
import { canonicalName, type LearnedSnapshot } from '../model/fqdn.js';
import { Resolution } from '../resolve/resolver.js';
import { outgrowsRules } from '../rules/inputs.js';
import { apiServerTcp } from '../model/node-allowance.js';
import { lower } from '../rules/lower.js';
import { walkIndex, type WalkIndex } from '../rules/notes.js';
import { isAllow, type Rule, type RuleSet } from '../rules/types.js';
import { NO_RULE, type Classifier, type ClassifierFactory, type ClassifierKind } from './classifier.js';
import type { EngineChange, PolicyChange, UpdateResult } from './changes.js';
import { decide, type Decision } from './decide.js';
import { explainFlow, type ExplainContext } from './explain.js';
import { compareClusterPolicies } from '../rules/order.js';
import { PROTOCOL_NUMBER, WORDS_PER_FLOW, type FlowBatch } from './flow-batch.js';

export interface EngineOptions {
  /**
   * Makes the classifiers that answer lookups. Required: the Engine has no default of its own
   * (`compile()` picks one in src/engine/default-classifier.ts), so an Engine can never end up
   * on a slower classifier because some module was not imported.
   */
  readonly classifier: ClassifierFactory;
  /** the reference's `nodeLocalIngress` (default true): an isolated pod accepts traffic from its own node */
  readonly nodeLocalIngress?: boolean;
}

/** One direction's answer. */
export interface DirectionResult {
  readonly verdict: 'allow' | 'deny';
  /** the deciding rule (`Engine.rule(id)`), or -1: no rule decided (default allow, not a pod, loopback) */
  readonly ruleId: number;
}

export interface LookupResult {
  readonly verdict: 'allow' | 'deny';
  readonly egress: DirectionResult;
  readonly ingress: DirectionResult;
}

/** Answers of a batch, index-aligned with its flows. */
export interface BatchResult {
  /** 1 allow, 0 deny */
  readonly verdict: Uint8Array;
  /** deciding rule id per flow, or -1 */
  readonly egressRule: Int32Array;
  readonly ingressRule: Int32Array;
}

interface Compiled {
  readonly resolution: Resolution;
  readonly ruleSet: RuleSet;
  readonly classifiers: Record<Direction, Classifier>;
  /** per rule id: CODE_ALLOW, CODE_DENY, CODE_PASS_ADMIN or CODE_PASS_BASELINE */
  readonly codes: Uint8Array;
  /** the sets each direction's rules use (each classifier holds only those) */
  readonly used: Record<Direction, ReadonlySet<number>>;
  readonly walks: Record<Direction, Record<Tier, WalkIndex>>;
}

export class Engine implements Evaluator {
  private networkPolicies: NetworkPolicy[];
  private clusterPolicies: ClusterPolicy[];
  private c: Compiled;
  private versionCount = 0;
  private rebuildCount = 0;
  readonly classifier: ClassifierKind;
  private readonly factory: ClassifierFactory;
  private readonly nodeLocalIngress: boolean;
  /** learned DNS addresses in force (docs/fqdn.md), kept across rebuilds: key pod|name|address */
  private readonly learnedEntries = new Map<string, LearnedKey>();

  /** Use `compile()` from the package entry point; this is its implementation. */
  constructor(cluster: Cluster, options: EngineOptions) {
    // Checked at run time too: a JavaScript caller gets no compiler error for a missing option.
    const factory = (options as Partial<EngineOptions> | undefined)?.classifier;
    if (typeof factory?.create !== 'function') {
      throw new PalisadeError('ERR_PALISADE_NO_CLASSIFIER', 'new Engine(cluster, { classifier }) needs a classifier factory; use compile() for the default');
    }
    this.factory = factory;
    this.classifier = factory.kind;
    this.nodeLocalIngress = options.nodeLocalIngress ?? true;
    this.networkPolicies = [...cluster.networkPolicies];
    this.clusterPolicies = [...cluster.clusterPolicies];
    this.c = this.build(cluster);
  }

  // ---- questions -------------------------------------------------------------------------

  /** Verdict and deciding rule per direction for one flow. Throws InvalidFlowError on a bad flow. */
  lookup(flow: Flow): LookupResult {
    checkFlow(flow);
    if (this.isLoopback(flow)) return LOOPBACK;
    const e = this.decide('egress', flow).ruleId;
    const i = this.decide('ingress', flow).ruleId;
    const ev = this.verdictOf(e);
    const iv = this.verdictOf(i);
    return { verdict: ev === 'allow' && iv === 'allow' ? 'allow' : 'deny', egress: { verdict: ev, ruleId: e }, ingress: { verdict: iv, ruleId: i } };
  }

  /**
   * Every flow of a batch (one address family, layout in flow-batch.ts). Flows are not
   * validated one by one: a protocol other than TCP/UDP/SCTP matches only any-protocol rules.
   */
  lookupBatch(batch: FlowBatch, out?: BatchResult): BatchResult {
    const n = batch.count;
    const res = out ?? { verdict: new Uint8Array(n), egressRule: new Int32Array(n), ingressRule: new Int32Array(n) };
    const { classifiers, ruleSet, codes } = this.c;
    const w = WORDS_PER_FLOW[batch.family];
    const words = batch.words;
    for (const d of ['egress', 'ingress'] as const) {
      const ids = d === 'egress' ? res.egressRule : res.ingressRule;
      classifiers[d].lookupBatch(batch, 0, ids);
      // Pass: an Admin Pass continues at the NetworkPolicy tier (one more batch for those flows
      // only); a Baseline Pass ends at the default allow.
      let passes = 0;
      for (let k = 0; k < n; k++) {
        const id = ids[k] as number;
        if (id < 0) continue;
        const code = codes[id] as number;
        if (code === CODE_PASS_ADMIN) this.passScratch(n)[passes++] = k;
        else if (code === CODE_PASS_BASELINE) ids[k] = NO_RULE;
      }
      if (passes === 0) continue;
      const at = this.passScratch(n);
      const sub = new Uint32Array(passes * w);
      for (let j = 0; j < passes; j++) sub.set(words.subarray((at[j] as number) * w, (at[j] as number) * w + w), j * w);
      const subIds = new Int32Array(passes);
      classifiers[d].lookupBatch({ family: batch.family, count: passes, words: sub }, ruleSet[d].tierStart.NetworkPolicy, subIds);
      for (let j = 0; j < passes; j++) {
        const id = subIds[j] as number;
        ids[at[j] as number] = id >= 0 && codes[id] === CODE_PASS_BASELINE ? NO_RULE : id;
      }
    }
    const slowLoopback = this.c.resolution.addresses.hasMultiAddressPods;
    const v4 = batch.family === 4;
    const eIds = res.egressRule;
    const iIds = res.ingressRule;
    for (let k = 0, o = 0; k < n; k++, o += w) {
      const same = v4
        ? words[o] === words[o + 1]
        : words[o] === words[o + 4] && words[o + 1] === words[o + 5] && words[o + 2] === words[o + 6] && words[o + 3] === words[o + 7];
      if (same || (slowLoopback && this.loopbackWords(batch.family, words, o))) {
        eIds[k] = NO_RULE;
        iIds[k] = NO_RULE;
        res.verdict[k] = 1;
        continue;
      }
      const e = eIds[k] as number;
      const i = iIds[k] as number;
      res.verdict[k] = (e < 0 || codes[e] === CODE_ALLOW) && (i < 0 || codes[i] === CODE_ALLOW) ? 1 : 0;
    }
    return res;
  }

  private scratch = new Int32Array(0);
  private passScratch(n: number): Int32Array {
    if (this.scratch.length < n) this.scratch = new Int32Array(n);
    return this.scratch;
  }

  /** The full explanation; equal to `new ReferenceEvaluator(engine.cluster()).evaluate(flow)`. */
  explain(flow: Flow): FlowVerdict {
    checkFlow(flow);
    const ctx: ExplainContext = {
      resolution: this.c.resolution,
      ruleSet: this.c.ruleSet,
      walks: this.c.walks,
      serviceSubjects: this.clusterPolicies.filter((p) => !p.staged && p.subject.kind === 'services').sort(compareClusterPolicies),
      decide: (d, f) => this.decide(d, f),
    };
    return explainFlow(ctx, flow);
  }

  /** `Evaluator.evaluate`: the same as `explain`, so the engine drops in where the reference is used. */
  evaluate(flow: Flow): FlowVerdict {
    return this.explain(flow);
  }

  /** `Evaluator.endpoint`: what an address is (pod, node or external), by the reference's rules. */
  endpoint(ip: IpAddr): Endpoint {
    return this.c.resolution.addresses.resolve(ip).endpoint;
  }

  /** A rule by the id lookups return. */
  rule(id: number): Rule {
    const r = this.c.ruleSet.rules[id];
    if (!r) throw new RangeError(`no rule ${id}`);
    return r;
  }

  /** The compiled rule set (what `palisade compile --rules` prints). */
  get ruleSet(): RuleSet {
    return this.c.ruleSet;
  }

  /** The address sets behind the rules (read-only use). */
  get resolution(): Resolution {
    return this.c.resolution;
  }

  /** Lookups the classifiers answered since compile (both directions; proves which path ran). */
  get classifierLookups(): number {
    return this.c.classifiers.egress.lookups + this.c.classifiers.ingress.lookups;
  }

  /** Changes applied so far, and how many of them rebuilt the rule set. */
  get version(): number {
    return this.versionCount;
  }
  get rebuilds(): number {
    return this.rebuildCount;
  }

  /** The cluster as the engine sees it now (inventory after updates, current policies). */
  cluster(): Cluster {
    const inv = this.c.resolution.inventory();
    return {
      ...inv,
      ...this.c.resolution.serviceInventory(),
      networkPolicies: [...this.networkPolicies],
      clusterPolicies: [...this.clusterPolicies],
    };
  }

  // ---- changes ---------------------------------------------------------------------------

  /**
   * Apply one change. Inventory changes update set membership in place (the classifier sees all
   * of one change or none); policy changes rebuild. Objects are taken as normalized and valid
   * (as `loadCluster` returns them). A change whose result cannot be compiled (UnsupportedRuleError,
   * placed at the policy and field path) throws and leaves the engine answering as before.
   */
  update(change: EngineChange): UpdateResult {
    this.versionCount++;
    if (change.kind === 'policy' || change.kind === 'policy-removed') {
      const policies = { np: [...this.networkPolicies], cp: [...this.clusterPolicies] };
      this.applyPolicy(change);
      try {
        this.rebuild();
      } catch (e) {
        // a refused policy (UnsupportedRuleError) changes nothing: the previous policies stay
        this.networkPolicies.splice(0, this.networkPolicies.length, ...policies.np);
        this.clusterPolicies.splice(0, this.clusterPolicies.length, ...policies.cp);
        throw e;
      }
      return { rebuilt: true, deltas: [], version: this.versionCount };
    }
    // a Service's ClusterIP families decide whether a Redirect rule to it can be lowered
    // (rules/lower.ts): keep the state to go back to when the new one is refused
    const before = change.kind === 'service' ? this.cluster() : undefined;
    const previousPod = change.kind === 'pod' ? this.c.resolution.pod(`${change.pod.namespace}/${change.pod.name}`) : undefined;
    const deltas = this.c.resolution.apply(change);
    if (this.needsRebuild(change, previousPod)) {
      try {
        this.rebuild();
      } catch (e) {
        if (before) this.c = this.build(before);
        throw e;
      }
      return { rebuilt: true, deltas: [], version: this.versionCount };
    }
    for (const d of ['egress', 'ingress'] as const) {
      const mine = deltas.filter((x) => this.c.used[d].has(x.set));
      if (mine.length > 0) this.c.classifiers[d].applySetEdits(mine);
    }
    return { rebuilt: false, deltas, version: this.versionCount };
  }

  /**
   * Learned DNS addresses appeared or expired (docs/fqdn.md): `removed` first, then `added`.
   * The `learned` sets of per-pod `domainNames` rules change as set edits; never a rebuild.
   */
  learn(added: readonly LearnedKey[], removed: readonly LearnedKey[] = []): UpdateResult {
    this.versionCount++;
    for (const e of removed) this.learnedEntries.delete(learnedKeyText(e));
    for (const e of added) this.learnedEntries.set(learnedKeyText(e), e);
    const deltas = this.c.resolution.learn(added, removed);
    for (const d of ['egress', 'ingress'] as const) {
      const mine = deltas.filter((x) => this.c.used[d].has(x.set));
      if (mine.length > 0) this.c.classifiers[d].applySetEdits(mine);
    }
    return { rebuilt: false, deltas, version: this.versionCount };
  }

  /** Put exactly the live entries of a snapshot in force (what the reference reads from it). */
  learnSnapshot(snapshot: LearnedSnapshot): UpdateResult {
    const live = new Map<string, LearnedKey>();
    for (const e of snapshot.entries) if (e.expiresAtMs > snapshot.atMs) live.set(learnedKeyText(e), e);
    const removed = [...this.learnedEntries].filter(([k]) => !live.has(k)).map(([, e]) => e);
    const added = [...live].filter(([k]) => !this.learnedEntries.has(k)).map(([, e]) => e);
    return this.learn(added, removed);
  }

  // ---- internals -------------------------------------------------------------------------

  private build(given: Cluster): Compiled {
    // staged policies (model/staged.ts) are never enforced, whichever way they arrived
    const cluster = enforcedPolicies(given);
    const resolution = new Resolution(cluster, cluster.networkPolicies);
    // learned addresses survive a rebuild: the new learned sets are fed from them as they are interned
    resolution.learn([...this.learnedEntries.values()]);
    const ruleSet = lower(cluster, resolution, {
      nodeLocalIngress: this.nodeLocalIngress,
      prefixSets: 'per-prefix',
      apiServer: apiServerTcp(cluster.services, cluster.endpointSlices),
    });
    const classifiers = { egress: this.factory.create(), ingress: this.factory.create() };
    const used = { egress: new Set<number>(), ingress: new Set<number>() };
    for (const d of ['egress', 'ingress'] as const) {
      for (const r of ruleSet[d].rules) {
        used[d].add(r.subject);
        if (r.peer !== null) used[d].add(r.peer);
      }
      const sets = new Map<number, ReturnType<Resolution['prefixes']>>();
      for (const id of used[d]) sets.set(id, resolution.unorderedPrefixes(id));
      classifiers[d].loadSets(sets);
      classifiers[d].publishRules(ruleSet[d]);
    }
    const policies: PolicySet = cluster;
    const walks = {
      egress: { Admin: walkIndex(policies, 'Admin', 'egress'), Baseline: walkIndex(policies, 'Baseline', 'egress') },
      ingress: { Admin: walkIndex(policies, 'Admin', 'ingress'), Baseline: walkIndex(policies, 'Baseline', 'ingress') },
    };
    const codes = Uint8Array.from(ruleSet.rules, (r) =>
      r.action === 'pass' ? (r.tier === 'Admin' ? CODE_PASS_ADMIN : CODE_PASS_BASELINE) : isAllow(r.action) ? CODE_ALLOW : CODE_DENY,
    );
    return { resolution, ruleSet, classifiers, used, walks, codes };
  }

  private rebuild(): void {
    this.rebuildCount++;
    this.c = this.build(this.cluster());
  }

  /** A change the current rules cannot express: a named-port group or a node they never saw. */
  private needsRebuild(change: InventoryChange, previousPod?: Pod): boolean {
    // called after the change is applied: the resolution's Service groups are the new ones
    return outgrowsRules(this.c.ruleSet, change, this.nodeLocalIngress, (ref) => this.c.resolution.serviceGroups(ref), previousPod);
  }

  private applyPolicy(change: PolicyChange): void {
    const ref = change.policy;
    const sameNp = (np: NetworkPolicy): boolean => ref.kind === 'NetworkPolicy' && np.namespace === (ref.namespace ?? 'default') && np.name === ref.name;
    const sameCp = (cp: ClusterPolicy): boolean => cp.kind === ref.kind && cp.name === ref.name;
    const npAt = this.networkPolicies.findIndex(sameNp);
    const cpAt = this.clusterPolicies.findIndex(sameCp);
    if (change.kind === 'policy-removed') {
      if (npAt >= 0) this.networkPolicies.splice(npAt, 1);
      if (cpAt >= 0) this.clusterPolicies.splice(cpAt, 1);
      return;
    }
    if (change.policy.kind === 'NetworkPolicy') {
      if (npAt >= 0) this.networkPolicies[npAt] = change.policy;
      else this.networkPolicies.push(change.policy);
    } else if (cpAt >= 0) this.clusterPolicies[cpAt] = change.policy as ClusterPolicy;
    else this.clusterPolicies.push(change.policy as ClusterPolicy);
  }

  private decide(direction: Direction, flow: Flow): Decision {
    const table = this.c.ruleSet[direction];
    return decide(
      this.c.classifiers[direction],
      table,
      this.c.ruleSet.rules,
      flow.src.family,
      flow.src.value,
      flow.dst.value,
      PROTOCOL_NUMBER[flow.protocol],
      flow.srcPort ?? 0,
      flow.dstPort,
    );
  }

  private verdictOf(id: number): 'allow' | 'deny' {
    return id < 0 || isAllow((this.c.ruleSet.rules[id] as Rule).action) ? 'allow' : 'deny';
  }

  /** A pod's traffic to its own address (or a non-pod talking to itself: allowed all the same). */
  private isLoopback(flow: Flow): boolean {
    if (sameIp(flow.src, flow.dst)) return true;
    const a = this.c.resolution.addresses;
    if (!a.hasMultiAddressPods) return false;
    const s = a.podOwner(ipKey(flow.src));
    return s !== undefined && s === a.podOwner(ipKey(flow.dst));
  }

  private loopbackWords(family: Family, words: Uint32Array, o: number): boolean {
    if (family === 4) {
      if (words[o] === words[o + 1]) return true;
    } else if (words[o] === words[o + 4] && words[o + 1] === words[o + 5] && words[o + 2] === words[o + 6] && words[o + 3] === words[o + 7]) {
      return true;
    }
    const a = this.c.resolution.addresses;
    if (!a.hasMultiAddressPods) return false;
    const src = family === 4 ? BigInt(words[o] as number) : words6(words, o);
    const dst = family === 4 ? BigInt(words[o + 1] as number) : words6(words, o + 4);
    const text = (v: bigint): string => (family === 4 ? formatV4(v) : formatV6(v));
    const s = a.podOwner(text(src));
    return s !== undefined && s === a.podOwner(text(dst));
  }
}

const CODE_ALLOW = 1;
const CODE_DENY = 2;
const CODE_PASS_ADMIN = 3;
const CODE_PASS_BASELINE = 4;

const LOOPBACK: LookupResult = Object.freeze({
  verdict: 'allow',
  egress: Object.freeze({ verdict: 'allow', ruleId: NO_RULE }),
  ingress: Object.freeze({ verdict: 'allow', ruleId: NO_RULE }),
}) as LookupResult;

function words6(w: Uint32Array, o: number): bigint {
  let v = 0n;
  for (let k = 0; k < 4; k++) v = (v << 32n) | BigInt(w[o + k] as number);
  return v;
}

const learnedKeyText = (e: LearnedKey): string => `${e.pod}|${canonicalName(e.name)}|${e.address.text}`;
