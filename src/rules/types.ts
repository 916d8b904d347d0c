/**
 * The backend-neutral rule set: what every classifier and kernel backend is built from.
 *
 * Per direction, one first-match list in a total order:
 *   Admin rules (CNP priority, policy name, kind, rule index, then the order lowering emits)
 *   -> NetworkPolicy allow rules (namespace, name, rule index)
 *   -> node-local ingress allows (by node name)
 *   -> isolation default deny
 *   -> Baseline rules (like Admin)
 *   -> default allow (no rule).
 * `priority` is the rule's position in that list (0 is checked first). A Pass rule continues at
 * the first rule of the next tier (`RuleSet.tierStart`); a Baseline Pass ends at the default.
 *
 * Subjects and peers are address sets of one `Resolution` (by `SetId`): for egress the subject
 * is the source and the peer the destination; for ingress the subject is the destination.
 * `dstPorts` / `srcPorts` are the flow's destination / source port ranges (inclusive); `srcPorts`
 * is 0..65535 unless a PalisadeClusterNetworkPolicy `sourcePort` narrows it (S25), and a narrowed
 * range only comes with a protocol (TCP, UDP or SCTP).
 */
import type { IpAddr } from '../model/ip.js';
import type { ClusterRedirect, Direction, LabelSelector, Protocol } from '../model/types.js';
import type { PolicyTier, RuleRef } from '../model/verdict.js';
import type { SetId } from '../resolve/set-def.js';

export type RuleAction =
  /** Admin/Baseline Accept (v1alpha1 Allow): final allow */
  | 'accept'
  /** Admin/Baseline Deny, or a Deny/Pass rule failing closed on an unknown peer: final deny */
  | 'deny'
  /** Admin/Baseline Pass: continue at the next tier */
  | 'pass'
  /** a NetworkPolicy rule that allows */
  | 'allow'
  /** ingress from the isolated pod's own node */
  | 'node-local'
  /** isolated by NetworkPolicy and no rule allowed */
  | 'isolation-deny';

export interface PortRange {
  /** inclusive */
  readonly lo: number;
  /** inclusive */
  readonly hi: number;
}

export const ALL_PORTS: PortRange = Object.freeze({ lo: 0, hi: 65535 });

/** Where a rule comes from: the policy rule for explain and logs, with a stable text id. */
export interface RuleOrigin {
  /** e.g. `Admin/ClusterNetworkPolicy/deny-x/egress/2`, `NetworkPolicy/ns/name/ingress/0`,
   *  `NetworkPolicy/node-local/node-1/ingress`, `NetworkPolicy/isolation/egress` */
  readonly stableId: string;
  /** the policy rule, for `accept`/`deny`/`pass`/`allow` */
  readonly ref?: RuleRef;
  /** the node, for `node-local` */
  readonly node?: string;
}

export interface Rule {
  /** index into `RuleSet.rules`: the u32 id a classifier returns */
  readonly id: number;
  readonly direction: Direction;
  readonly tier: PolicyTier;
  /** position in the direction's first-match list */
  readonly priority: number;
  readonly subject: SetId;
  /** null: every address */
  readonly peer: SetId | null;
  /** null: every protocol */
  readonly protocol: Protocol | null;
  readonly dstPorts: PortRange;
  readonly srcPorts: PortRange;
  readonly action: RuleAction;
  readonly origin: RuleOrigin;
  /**
   * An `accept` lowered from a Redirect rule (docs/extension-semantics.md, Redirect): the flow is
   * allowed to the target, which a backend must rewrite it to (src/enforce/capabilities.ts).
   */
  readonly redirect?: LoweredRedirect;
  /** a `deny` lowered from a Redirect rule for the flows it has no target for (fail closed; explain's note) */
  readonly redirectNowhere?: ClusterRedirect;
}

/** One family's target of a lowered Redirect (model/redirect.ts). */
export interface RedirectFamilyTarget {
  readonly clusterIP: IpAddr;
  /** the Service port */
  readonly port: number;
  /** the endpoint a nat-hook rewrite writes (lowest address, its slice port); absent: none */
  readonly endpoint?: { readonly ip: IpAddr; readonly port: number };
}

export interface LoweredRedirect {
  /** as written in the rule */
  readonly redirect: ClusterRedirect;
  readonly protocol: Protocol;
  /** absent: the Service has no ClusterIP of that family, and the rule never matches it */
  readonly v4?: RedirectFamilyTarget;
  readonly v6?: RedirectFamilyTarget;
}

export interface DirectionTable {
  /** rules of this direction in first-match order (rule.priority === index) */
  readonly rules: readonly Rule[];
  /** priority of the first rule of each tier, and `end` = rules.length */
  readonly tierStart: { readonly Admin: number; readonly NetworkPolicy: number; readonly Baseline: number; readonly end: number };
}

export interface RuleSet {
  /** every rule of both directions, by id */
  readonly rules: readonly Rule[];
  readonly egress: DirectionTable;
  readonly ingress: DirectionTable;
  /** the named-port groups the rules were split into, as `name:PROTO/port`, per name */
  readonly namedPortGroups: ReadonlyMap<string, ReadonlySet<string>>;
  /** node names that have a node-local rule */
  readonly nodeLocalNodes: ReadonlySet<string>;
  /** the (protocol, port) groups `services` peers and subjects were split into, as `PROTO/port`, per `namespace/name` (absent: none) */
  readonly serviceGroups?: ReadonlyMap<string, ReadonlySet<string>>;
  /** the target Services of Redirect rules, as `namespace/name` (absent: none); any Service change re-lowers */
  readonly redirectServices?: ReadonlySet<string>;
  /**
   * Present when some rule is a per-pod `domainNames` rule (lower.ts): the pods that got one
   * (`namespace/name`) and the pod selectors of those rules' subjects, so a pod change that may
   * add or drop such a subject re-lowers (inputs.ts).
   */
  readonly learnedSubjects?: { readonly pods: ReadonlySet<string>; readonly podSelectors: readonly LabelSelector[] };
}

export const isAllow = (a: RuleAction): boolean => a === 'accept' || a === 'allow' || a === 'node-local';
