/**
 * Verdicts: the shape of every engine's answer and explanation (the reference evaluator, the
 * engine's explain, the CLI's check/matrix), and the rule reference every layer names rules by.
 * The reference evaluator, the native classifier and every backend return exactly these.
 * Plain read-only data; no I/O.
 */
import type { Endpoint, Flow } from './flow.js';
import type { IpAddr } from './ip.js';
import type { Direction, ObjectRef } from './types.js';

export type PolicyTier = 'Admin' | 'NetworkPolicy' | 'Baseline';
export type DecidingTier = PolicyTier | 'Default';

/** A rule of a policy, as people name it. */
export interface RuleRef {
  readonly tier: PolicyTier;
  /** kind as written: ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy, NetworkPolicy */
  readonly policy: ObjectRef;
  /** 0-based index into the policy's ingress or egress list */
  readonly ruleIndex: number;
  readonly ruleName?: string;
  /**
   * `Allow` for NetworkPolicy rules; Accept / Deny / Pass / Redirect for the cluster tiers
   * (v1alpha1 Allow reads as Accept; Redirect: PalisadeClusterNetworkPolicy egress only)
   */
  readonly action: 'Accept' | 'Deny' | 'Pass' | 'Redirect' | 'Allow';
  /** cluster tiers only */
  readonly priority?: number;
  /**
   * The rule has a peer or protocol entry with no known field (a newer API version) and was
   * applied fail-closed: an Accept rule matches nothing; a Deny or Pass rule denies everything
   * (then `action` is `Deny`, the effect).
   */
  readonly failClosed?: boolean;
}

export type DecisionReason =
  /** the endpoint judged in this direction is not a pod: no policy of its own */
  | 'not-a-pod'
  /** a pod's traffic to its own IP is not subject to policy */
  | 'loopback'
  /** `rule` decided: an Admin/Baseline Accept or Deny, or a NetworkPolicy rule that allows */
  | 'rule'
  /** isolated by NetworkPolicy, but the source is the pod's own node (ingress only) */
  | 'node-local'
  /** isolated by NetworkPolicy (see `isolatedBy`) and no rule of those policies matched */
  | 'isolated-no-match'
  /** no tier decided (nothing matched, or Pass led here): the default allows */
  | 'no-match';

export interface DirectionVerdict {
  readonly direction: Direction;
  readonly verdict: 'allow' | 'deny';
  readonly tier: DecidingTier;
  readonly reason: DecisionReason;
  /** the deciding rule when reason is `rule` */
  readonly rule?: RuleRef;
  /** Pass rules met on the way, in the order they were met */
  readonly passed: readonly RuleRef[];
  /** the NetworkPolicies that isolate the pod in this direction (NetworkPolicy tier decisions) */
  readonly isolatedBy?: readonly ObjectRef[];
  /** the pod judged in this direction: the source for egress, the destination for ingress */
  readonly subject?: string;
  /** facts a person should know, e.g. that a `domainNames` peer was treated as matching nothing */
  readonly notes: readonly string[];
}

export interface FlowVerdict {
  readonly verdict: 'allow' | 'deny';
  readonly flow: Flow;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

/** Every engine (reference, native) implements this. */
export interface Evaluator {
  evaluate(flow: Flow): FlowVerdict;
  /** Describe an address: pod, node, or external. */
  endpoint(ip: IpAddr): Endpoint;
}

/** The note every evaluator attaches to a rule with a `domainNames` peer (FQDN not supported yet). */
export const FQDN_NOTE_SUFFIX = 'domainNames peers are treated as matching nothing until FQDN support lands';
