/**
 * The OBSERVED subjects of a compiled policy: the addresses whose new flows a backend reports
 * (Backend.drainObserved), so that observe.ts can name what staged policies would change and what
 * audited rules allow. Computed once per compiled change, beside the enforced rule set; a backend
 * only holds the address set (nftables set, eBPF map, nfqueue snapshot) and reports flows whose
 * subject is in it (egress: the source, ingress: the destination).
 *
 * Subjects =
 *   the subjects of every rule of a staged policy, lowered with the staged policies in force
 *     (model/staged.ts withStagedInForce);
 *   + the pods a staged NetworkPolicy would newly isolate (the would-be isolation rule's subjects
 *     that the enforced isolation rule does not have): a staged deny-all has no rule of its own;
 *   + the subjects of every audited allow rule of the enforced rule set (model/audit.ts).
 * A staged policy can change a verdict only for a flow whose subject is one of these, so the
 * backends see every flow a staged line could be about. Subjects are pod addresses (host
 * prefixes only: a subject set never holds anything else).
 *
 * Invariants: `subjects` is sorted by text without repeats; `key` equals for equal subjects;
 * without staged or audited policies the observation is EMPTY (no extra cost anywhere).
 * Pure. Cost: with staged policies, one more resolution + lowering per change (the staged-in-force
 * rules, which observe.ts also classifies with); audited rules only: O(rules + their subjects).
 */
import { familyBits, type Cidr } from '../model/ip.js';
import { isAudited, type AuditMark } from '../model/audit.js';
import { hasStaged, policyKey, stagedPredicate, withStagedInForce } from '../model/staged.js';
import type { Cluster, ObjectRef } from '../model/types.js';
import { Resolution } from '../resolve/index.js';
import { lower } from '../rules/lower.js';
import { isAllow, type Rule, type RuleSet } from '../rules/types.js';

/** The policy with the staged policies in force: what observe.ts asks "what would it be". */
export interface WouldBePolicy {
  readonly ruleSet: RuleSet;
  readonly resolution: Resolution;
}

export interface Observation {
  /** host prefixes, sorted by text */
  readonly subjects: readonly Cidr[];
  /** equal for equal subjects (backends skip rewriting their address set) */
  readonly key: string;
  /** absent when nothing is staged */
  readonly wouldBe?: WouldBePolicy;
  /** is this policy (a RuleRef's `policy`, an isolating policy) a staged one? */
  isStaged(ref: ObjectRef): boolean;
  /** does this rule of the ENFORCED rule set log the flows it allows? */
  audited(rule: Rule): boolean;
}

export const EMPTY_OBSERVATION: Observation = Object.freeze({
  subjects: [],
  key: '',
  isStaged: () => false,
  audited: () => false,
});

export interface ObservationInput {
  /** the cluster with staged policies in `staged` or flagged (model/staged.ts) */
  readonly cluster: Cluster;
  readonly ruleSet: RuleSet;
  readonly resolution: Resolution;
  readonly nodeLocalIngress: boolean;
}

export function observationOf(input: ObservationInput): Observation {
  const { cluster } = input;
  const marks = new Map<string, AuditMark>();
  for (const p of cluster.networkPolicies) if (p.audit && !p.staged) marks.set(policyKey(p), p.audit);
  for (const p of cluster.clusterPolicies) if (p.audit && !p.staged) marks.set(policyKey(p), p.audit);
  const staged = hasStaged(cluster);
  if (!staged && marks.size === 0) return EMPTY_OBSERVATION;

  const subjects = new Map<string, Cidr>();
  const add = (cs: readonly Cidr[]): void => {
    for (const c of cs) if (c.prefixLen === familyBits(c.family)) subjects.set(c.text, c);
  };
  const audited = (r: Rule): boolean => {
    const ref = r.origin.ref;
    return ref !== undefined && isAllow(r.action) && isAudited(marks.get(policyKey(ref.policy)), r.direction, ref.ruleIndex);
  };
  for (const r of input.ruleSet.rules) if (audited(r)) add(input.resolution.prefixes(r.subject));

  const isStaged = stagedPredicate(cluster);
  let wouldBe: WouldBePolicy | undefined;
  if (staged) {
    const c = withStagedInForce(cluster);
    const resolution = new Resolution(c, c.networkPolicies);
    const ruleSet = lower(c, resolution, { nodeLocalIngress: input.nodeLocalIngress });
    wouldBe = { ruleSet, resolution };
    for (const r of ruleSet.rules) if (r.origin.ref && isStaged(r.origin.ref.policy)) add(resolution.prefixes(r.subject));
    for (const d of ['egress', 'ingress'] as const) {
      const enforced = new Set(isolationSubjects(input.ruleSet, input.resolution, d).map((x) => x.text));
      add(isolationSubjects(ruleSet, resolution, d).filter((x) => !enforced.has(x.text)));
    }
  }
  const sorted = [...subjects.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return {
    subjects: sorted,
    key: sorted.map((c) => c.text).join(','),
    ...(wouldBe ? { wouldBe } : {}),
    isStaged,
    audited,
  };
}

function isolationSubjects(rs: RuleSet, res: Resolution, d: 'egress' | 'ingress'): Cidr[] {
  const r = rs[d].rules.find((x) => x.action === 'isolation-deny');
  return r ? res.prefixes(r.subject) : [];
}
