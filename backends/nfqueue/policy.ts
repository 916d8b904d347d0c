/**
 * The compiled policy (src/enforce/compiled.ts) -> what the native loop's EngineSource is built
 * from (engine_source.h): both directions' rules in the classifier's wire layout, with the action
 * byte EngineSource reads, and the members of the sets the rules use, packed through the native
 * door's own packers (src/native/binding.ts).
 *
 * No resolution and no lowering here: the rule set and the set members are the compiler's.
 * Pure: no native call; NfqLoop.publishEngine / editMembership take the result.
 * Cost: O(rules + members of the used sets).
 */
import type { CompiledPolicy } from '../../src/enforce/compiled.js';
import { packRules, packSetEdits, type ClassifierRule, type SetEdit } from '../../src/native/binding.js';
import { NO_EXPIRY, type Resolution, type SetId } from '../../src/resolve/index.js';
import type { DirectionTable, Rule } from '../../src/rules/types.js';
import type { Cidr } from '../../src/model/ip.js';
import type { ExpiryEntry, LearnedMember } from './expiry.js';
import { isAllow } from '../../src/rules/types.js';

/** EngineAction in engine_source.h */
export const ENGINE_ACTION = { deny: 0, allow: 1, passAdmin: 2, passBaseline: 3 } as const;
const PROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const;

/** The arguments of NfqLoop.publishEngine, in order. Rule ids index the policy's `ruleSet.rules`. */
export interface PackedLoopPolicy {
  readonly egressRules: Uint32Array;
  readonly ingressRules: Uint32Array;
  readonly setEdits: Uint32Array;
  readonly egressNpTierStart: number;
  readonly ingressNpTierStart: number;
  /** the earliest expiry (ms since the epoch) of a learned member still in `setEdits`; NO_EXPIRY: none */
  readonly nextExpiryMs: number;
  /** learned members left out of `setEdits` because they had expired */
  readonly omittedExpired: number;
  readonly expiring: readonly ExpiryEntry[];
  readonly omitted: readonly LearnedMember[];
}

export function actionByte(r: Rule): number {
  if (r.action === 'pass') return r.tier === 'Admin' ? ENGINE_ACTION.passAdmin : ENGINE_ACTION.passBaseline;
  return isAllow(r.action) ? ENGINE_ACTION.allow : ENGINE_ACTION.deny;
}

function classifierRules(table: DirectionTable): ClassifierRule[] {
  return table.rules.map((r) => {
    const subject = { kind: 'set' as const, setId: r.subject };
    const peer = r.peer === null ? { kind: 'any' as const } : { kind: 'set' as const, setId: r.peer };
    return {
      ruleId: r.id,
      priority: r.priority,
      action: actionByte(r),
      src: r.direction === 'egress' ? subject : peer,
      dst: r.direction === 'egress' ? peer : subject,
      srcPort: r.srcPorts,
      dstPort: r.dstPorts,
      ...(r.protocol !== null ? { proto: { value: PROTO[r.protocol], mask: 0xff } } : {}),
    };
  });
}

export function packLoopPolicy(policy: CompiledPolicy): PackedLoopPolicy {
  const rs = policy.ruleSet;
  return {
    egressRules: packRules(classifierRules(rs.egress)),
    ingressRules: packRules(classifierRules(rs.ingress)),
    ...liveMembership(policy.resolution, policy.usedSets, Date.now()),
    egressNpTierStart: rs.egress.tierStart.NetworkPolicy,
    ingressNpTierStart: rs.ingress.tierStart.NetworkPolicy,
  };
}

/**
 * The complete membership of `sets` live at `nowMs`, as `add` edits (what publishEngine takes).
 * Only the sets some rule uses: a set no rule names cannot change a verdict. A member of a
 * `learned` set whose expiry is at or before `nowMs` is left out (`omitted`: the classifier holds
 * no per-member expiry; the backend removes each learned member at its expiry, `expiring`, with a
 * set edit, so a learner that is late or stopped cannot keep an address open: docs/fqdn.md §6).
 */
export function liveMembership(resolution: Resolution, sets: ReadonlySet<SetId>, nowMs: number): LiveMembership {
  const edits: SetEdit[] = [];
  const expiring: ExpiryEntry[] = [];
  const omitted: LearnedMember[] = [];
  let nextExpiryMs = NO_EXPIRY;
  for (const id of [...sets].sort((a, b) => a - b)) {
    const learned = resolution.definition(id).kind === 'learned';
    for (const c of resolution.prefixes(id)) {
      if (learned) {
        const t = resolution.learnedExpiryMs(id, c);
        if (t <= nowMs) {
          omitted.push({ set: id, cidr: c });
          continue;
        }
        if (t !== NO_EXPIRY) expiring.push({ atMs: t, set: id, cidr: c });
        if (t < nextExpiryMs) nextExpiryMs = t;
      }
      edits.push(memberEdit('add', id, c));
    }
  }
  return { setEdits: packSetEdits(edits), nextExpiryMs, omittedExpired: omitted.length, expiring, omitted };
}

export interface LiveMembership {
  readonly setEdits: Uint32Array;
  readonly nextExpiryMs: number;
  readonly omittedExpired: number;
  /** the learned members in `setEdits` with an expiry */
  readonly expiring: readonly ExpiryEntry[];
  /** the learned members left out (expired) */
  readonly omitted: readonly LearnedMember[];
}

/** One member edit in the native door's shape. */
export function memberEdit(op: 'add' | 'remove', setId: SetId, c: Cidr): SetEdit {
  return { op, setId, family: c.family, addr: c.family === 4 ? Number(c.base) : c.base, prefixLen: c.prefixLen };
}
