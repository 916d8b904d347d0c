/**
 * The one contract every kernel backend (nftables, eBPF, nfqueue) implements, and the only way
 * the enforce loop, the agent and the tests drive one.
 *
 * A backend consumes the one compiled policy (compiled.ts): it never resolves selectors or lowers
 * rules itself. Verbs:
 *   install(policy)          put the whole policy in force (first apply, or the rule set changed)
 *   applyDeltas(policy, d)   same rule set as in force; set members changed (pod churn, relabels,
 *                            namespace and node changes)
 *   drainDenied()            denied flows seen since the last call, as raw events (deny-record.ts
 *                            turns them into the one deny-log record)
 *   drainObserved()          new flows (first packet, per direction) whose subject is one of the
 *                            policy's observed addresses (CompiledPolicy.observation.subjects:
 *                            egress the source, ingress the destination), allowed or not, as raw
 *                            events; observe.ts names them (staged and audit lines). A direction is
 *                            reported when the packet reaches its judgement (ingress: once egress
 *                            allowed it). Backends report, they never decide what a line says.
 *   stats()                  per-rule counters of what is installed, plus the backend's own figures
 *   remove()                 stop enforcing: remove everything this backend installed
 *   close()                  release this process's handles; what is installed stays in force
 *
 * The failure rule (one for every backend): `install` and `applyDeltas` are atomic. Either the
 * whole new state is in force, or they throw and the previous state is still fully in force, in
 * the kernel AND in the backend's memory (so the next call starts from what the kernel holds).
 * The caller (enforcement.ts) rolls the compiler back on a throw.
 * Calls are never concurrent; the caller serializes them.
 */
import type { SetDelta } from '../resolve/changes.js';
import type { Rule } from '../rules/types.js';
import type { CompiledPolicy } from './compiled.js';
import type { DenyReason } from './deny-record.js';
import type { ObservedCounter } from './observe.js';

export const BACKEND_NAMES = ['nftables', 'ebpf', 'nfqueue'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface ApplyReport {
  /** what the kernel saw: the whole state, element/entry edits, or nothing */
  readonly kind: 'full' | 'deltas' | 'none';
  /** what changed, in the backend's own words (e.g. "12 set elements", "1,024 rules") */
  readonly summary: string;
  readonly ms: number;
}

/** A denied flow as a backend saw it, before it is named (deny-record.ts). */
export interface RawDenyEvent {
  /** wall-clock time of the drop, ms since the epoch */
  readonly timeMs: number;
  readonly family: 4 | 6;
  /** IP protocol number */
  readonly proto: number;
  /** canonical address text */
  readonly src: string;
  readonly dst: string;
  /** 0 when the protocol has no ports */
  readonly srcPort: number;
  readonly dstPort: number;
  /** the direction whose rule denied; undefined when the backend cannot tell (then taken from the rule) */
  readonly direction?: 'egress' | 'ingress';
  /** the deciding rule of the policy in force, when a rule decided */
  readonly rule?: Rule;
  /** why the packet was dropped when no rule decided it */
  readonly reason: DenyReason;
}

/** A new flow whose subject is observed, as a backend saw it, before it is named (observe.ts). */
export interface RawFlowEvent {
  /** wall-clock time, ms since the epoch */
  readonly timeMs: number;
  readonly family: 4 | 6;
  /** IP protocol number */
  readonly proto: number;
  /** canonical address text */
  readonly src: string;
  readonly dst: string;
  /** 0 when the protocol has no ports */
  readonly srcPort: number;
  readonly dstPort: number;
  /** the direction whose subject is observed (egress: src, ingress: dst) */
  readonly direction: 'egress' | 'ingress';
}

export interface RuleCounter {
  /** the rule's stable id (src/rules/types.ts RuleOrigin.stableId) */
  readonly rule: string;
  readonly packets: number;
  readonly bytes: number;
}

export interface BackendStats {
  readonly backend: BackendName;
  /** per-rule counters; what each counts is the backend's (nftables and nfqueue: packets, eBPF: new flows) */
  readonly rules: readonly RuleCounter[];
  /** the backend's own figures (datapath counters, queue statistics, ...) */
  readonly details: Readonly<Record<string, unknown>>;
  /** per staged and audited rule (observe.ts); added by Enforcement.stats, never by a backend */
  readonly observed?: readonly ObservedCounter[];
}

export interface Backend {
  readonly name: BackendName;
  install(policy: CompiledPolicy): Promise<ApplyReport>;
  applyDeltas(policy: CompiledPolicy, deltas: readonly SetDelta[]): Promise<ApplyReport>;
  drainDenied(max?: number): RawDenyEvent[];
  drainObserved(max?: number): RawFlowEvent[];
  stats(): Promise<BackendStats>;
  remove(): Promise<void>;
  close(): Promise<void>;
}
