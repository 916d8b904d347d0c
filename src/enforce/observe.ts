/**
 * The ONE function that turns observed flows (Backend.drainObserved, every backend alike) into
 * staged and audit lines (deny-log.ts ObservedRecord), with counters per staged and audited rule.
 *
 * Per raw event (one direction of one new flow whose subject is observed, observed.ts):
 *   enforced  = the decision of the compiled policy in force (its rule set and sets, classified
 *               with the engine's classifier and first-match/Pass logic, src/engine/decide.ts);
 *   wouldBe   = the same with the staged policies in force (Observation.wouldBe);
 *   a STAGED line when the two verdicts differ or a staged rule takes part (it decides, it is a
 *               Pass met on the way, or a staged NetworkPolicy isolates the subject), naming that
 *               staged rule (or policy), `verdict` = enforced, `wouldBe`;
 *   an AUDIT line when the enforced deciding rule is an audited allow rule (model/audit.ts). Denied
 *               flows of audited rules are already in the deny log.
 * No reference evaluator on this path: decisions come from the compiled rule sets.
 *
 * Rate limit: one token bucket per named rule (and kind), `ratePerSecond` (default 10) refilled
 * continuously up to `burst` (default 20), on the events' own clock; a line over the limit is
 * counted as `suppressed`, never printed. Counters count every flow, printed or not.
 * Classifiers are built once per policy generation, on the first event that needs them.
 * Cost per event: two or four classifier lookups. Thread-safety: one owner.
 */
import { formatV4, formatV6, parseIp } from '../model/ip.js';
import { policyKey } from '../model/staged.js';
import type { Direction } from '../model/types.js';
import type { ClassifierFactory, Classifier } from '../engine/classifier.js';
import { decide } from '../engine/decide.js';
import type { Resolution } from '../resolve/index.js';
import { isAllow, type Rule, type RuleSet } from '../rules/types.js';
import type { BackendName, RawFlowEvent } from './backend.js';
import type { CompiledPolicy } from './compiled.js';
import type { ObservedRecord } from './deny-log.js';
import { denyRecord } from './deny-record.js';

export interface ObserverOptions {
  /** the classifiers decisions are made with (src/engine/default-classifier.ts classifierFactory) */
  readonly classifier: ClassifierFactory;
  /** lines per second per rule; default 10 */
  readonly ratePerSecond?: number;
  /** default 20 */
  readonly burst?: number;
}

export interface ObservedCounter {
  readonly kind: 'staged' | 'audit';
  /** `Kind/[namespace/]name` of the staged or audited policy */
  readonly policy: string;
  readonly direction: Direction;
  readonly rule?: string;
  /** absent for a staged NetworkPolicy's isolation */
  readonly ruleIndex?: number;
  /** flows this rule was named for */
  readonly flows: number;
  /** of those, flows whose verdict the staged policies change */
  readonly differs: number;
  /** lines printed, and lines the rate limit held back */
  readonly lines: number;
  readonly suppressed: number;
}

interface Deciders {
  readonly generation: number;
  readonly ruleSet: RuleSet;
  readonly classifiers: Record<Direction, Classifier>;
}

interface DirectionDecision {
  readonly verdict: 'allow' | 'deny';
  readonly rule: Rule | undefined;
  readonly passed: readonly Rule[];
}

interface Bucket {
  tokens: number;
  atMs: number;
}

type MutableCounter = { -readonly [K in keyof ObservedCounter]: ObservedCounter[K] };

export class FlowObserver {
  private enforced: Deciders | undefined;
  private wouldBe: Deciders | undefined;
  private readonly buckets = new Map<string, Bucket>();
  private readonly counts = new Map<string, MutableCounter>();
  private readonly rate: number;
  private readonly burst: number;

  constructor(private readonly options: ObserverOptions) {
    this.rate = options.ratePerSecond ?? 10;
    this.burst = options.burst ?? 20;
  }

  /** The lines for one observed flow (none, a staged line, an audit line, or both). */
  observe(backend: BackendName, e: RawFlowEvent, policy: CompiledPolicy): ObservedRecord[] {
    const obs = policy.observation;
    const subject = e.direction === 'egress' ? e.src : e.dst;
    if (e.src === e.dst || !this.subjectSet(policy).has(subject)) return [];
    const out: ObservedRecord[] = [];
    const enf = this.decideIn((this.enforced = this.deciders(this.enforced, policy.generation, policy.ruleSet, policy.resolution)), e);

    if (obs.wouldBe) {
      this.wouldBe = this.deciders(this.wouldBe, policy.generation, obs.wouldBe.ruleSet, obs.wouldBe.resolution);
      const wb = this.decideIn(this.wouldBe, e);
      const wRule = wb.rule;
      const stagedRule = (r: Rule | undefined): boolean => r?.origin.ref !== undefined && obs.isStaged(r.origin.ref.policy);
      const isolating =
        wRule?.action === 'isolation-deny' ? isolatingPolicyKeys(obs.wouldBe.resolution, subject, e.direction).filter((k) => obs.isStaged(k.ref)) : [];
      const pass = [...wb.passed].reverse().find(stagedRule);
      const differs = wb.verdict !== enf.verdict;
      if (differs || stagedRule(wRule) || isolating.length > 0 || pass) {
        const named = stagedRule(wRule) ? wRule : isolating.length > 0 ? wRule : (pass ?? wRule);
        const iso = isolatingPolicyKeys(obs.wouldBe.resolution, subject, e.direction).map((k) => k.text);
        const rec = denyRecord(backend, { ...e, ...(named ? { rule: named } : {}), reason: 'policy' }, { isolatingPolicies: () => iso });
        const record: ObservedRecord = {
          ...rec,
          ...(named?.action === 'isolation-deny' && isolating.length > 0 ? { policy: isolating[0]!.text } : {}),
          verdict: enf.verdict,
          staged: true,
          wouldBe: wb.verdict,
        };
        if (this.count('staged', record, e.timeMs, differs)) out.push(record);
      }
    }

    if (enf.rule && enf.verdict === 'allow' && obs.audited(enf.rule)) {
      const rec = denyRecord(backend, { ...e, rule: enf.rule, reason: 'policy' }, policy);
      const record: ObservedRecord = { ...rec, verdict: 'allow', audit: true };
      if (this.count('audit', record, e.timeMs, false)) out.push(record);
    }
    return out;
  }

  /** Counters per staged and audited rule since this observer was made, sorted by policy. */
  counters(): ObservedCounter[] {
    return [...this.counts.values()].map((c) => ({ ...c })).sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : (a.ruleIndex ?? -1) - (b.ruleIndex ?? -1)));
  }

  private subjectsOf: { key: string; set: Set<string> } = { key: '', set: new Set() };
  private subjectSet(policy: CompiledPolicy): Set<string> {
    const o = policy.observation;
    if (this.subjectsOf.key !== o.key) this.subjectsOf = { key: o.key, set: new Set(o.subjects.map((c) => (c.family === 4 ? formatV4(c.base) : formatV6(c.base)))) };
    return this.subjectsOf.set;
  }

  /** true: print the line (the rule's bucket had a token). */
  private count(kind: 'staged' | 'audit', r: ObservedRecord, timeMs: number, differs: boolean): boolean {
    const key = `${kind}|${r.policy}|${r.direction}|${r.ruleIndex ?? '-'}`;
    let c = this.counts.get(key);
    if (!c) {
      c = { kind, policy: r.policy, direction: r.direction, ...(r.rule !== undefined ? { rule: r.rule } : {}), ...(r.ruleIndex !== undefined ? { ruleIndex: r.ruleIndex } : {}), flows: 0, differs: 0, lines: 0, suppressed: 0 };
      this.counts.set(key, c);
    }
    c.flows++;
    if (differs) c.differs++;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: this.burst, atMs: timeMs }));
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, timeMs - b.atMs) * this.rate) / 1000);
    b.atMs = Math.max(b.atMs, timeMs);
    if (b.tokens < 1) {
      c.suppressed++;
      return false;
    }
    b.tokens -= 1;
    c.lines++;
    return true;
  }

  private deciders(d: Deciders | undefined, generation: number, ruleSet: RuleSet, resolution: Resolution): Deciders {
    if (d && d.generation === generation && d.ruleSet === ruleSet) return d;
    const classifiers = { egress: this.options.classifier.create(), ingress: this.options.classifier.create() };
    for (const dir of ['egress', 'ingress'] as const) {
      const used = new Set<number>();
      for (const r of ruleSet[dir].rules) {
        used.add(r.subject);
        if (r.peer !== null) used.add(r.peer);
      }
      classifiers[dir].loadSets(new Map([...used].map((id) => [id, resolution.unorderedPrefixes(id)])));
      classifiers[dir].publishRules(ruleSet[dir]);
    }
    return { generation, ruleSet, classifiers };
  }

  private decideIn(d: Deciders, e: RawFlowEvent): DirectionDecision {
    const src = parseIp(e.src);
    const dst = parseIp(e.dst);
    if (!src || !dst) return { verdict: 'allow', rule: undefined, passed: [] };
    const r = decide(d.classifiers[e.direction], d.ruleSet[e.direction], d.ruleSet.rules, e.family, src.value, dst.value, e.proto, e.srcPort, e.dstPort);
    const rule = r.ruleId >= 0 ? d.ruleSet.rules[r.ruleId] : undefined;
    return { verdict: !rule || isAllow(rule.action) ? 'allow' : 'deny', rule, passed: r.passed.map((id) => d.ruleSet.rules[id]!) };
  }
}

/** The NetworkPolicies isolating the pod at `addr` in `direction` (as deny records name them), by name. */
function isolatingPolicyKeys(resolution: Resolution, addr: string, direction: Direction): { readonly text: string; readonly ref: { kind: string; namespace: string; name: string } }[] {
  const ip = parseIp(addr);
  const pod = ip ? resolution.addresses.resolve(ip).pod : undefined;
  if (!pod) return [];
  return resolution.isolatingPolicies(pod, direction).map((np) => {
    const ref = { kind: 'NetworkPolicy', namespace: np.namespace, name: np.name };
    return { text: policyKey(ref), ref };
  });
}
