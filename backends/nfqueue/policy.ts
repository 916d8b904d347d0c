/**
 * The compiled policy (src/enforce/compiled.ts) -> what the native loop's EngineSource is built
 * from (engine_source.h): both directions' rules in the classifier's wire layout, with the action
 * byte EngineSource reads, and the members of the sets the rules use, packed through the native
 * door's own packers (src/native/binding.ts).
 *
 * No resolution and no lowering here: the rule set and the set members are the compiler's.
 * Pure: no native call; NfqLoop.publishEngine / publishMembership take the result.
 * Cost: O(rules + members of the used sets).
 */
import type { CompiledPolicy } from '../../src/enforce/compiled.js';
import { packRules, packSetEdits, type ClassifierRule, type SetEdit } from '../../src/native/binding.js';
import type { Resolution, SetId } from '../../src/resolve/index.js';
import type { DirectionTable, Rule } from '../../src/rules/types.js';
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
    setEdits: packMembership(policy.resolution, policy.usedSets),
    egressNpTierStart: rs.egress.tierStart.NetworkPolicy,
    ingressNpTierStart: rs.ingress.tierStart.NetworkPolicy,
  };
}

/**
 * The complete membership of `sets` as `add` edits (what publishEngine and publishMembership
 * take). Only the sets some rule uses: a set no rule names cannot change a verdict.
 */
export function packMembership(resolution: Resolution, sets: ReadonlySet<SetId>): Uint32Array {
  const edits: SetEdit[] = [];
  for (const id of [...sets].sort((a, b) => a - b)) {
    for (const c of resolution.prefixes(id)) {
      edits.push({ op: 'add', setId: id, family: c.family, addr: c.family === 4 ? Number(c.base) : c.base, prefixLen: c.prefixLen });
    }
  }
  return packSetEdits(edits);
}
