/**
 * Cluster -> what the native loop's EngineSource is built from (engine_source.h): the same
 * resolution and lowering as the Engine (src/engine/engine.ts build()), packed through the native
 * door's own packers (src/native/binding.ts), with the action byte EngineSource reads.
 *
 * Pure: no native call here; NfqLoop.publishEngine takes the result.
 * Cost: resolution + lowering (the Engine's compile cost) + packing, O(rules + set members).
 */
import type { Cluster } from '../../src/model/types.js';
import { packRules, packSetEdits, type ClassifierRule, type SetEdit } from '../../src/native/binding.js';
import { Resolution } from '../../src/resolve/resolver.js';
import { lower } from '../../src/rules/lower.js';
import type { DirectionTable, Rule, RuleSet } from '../../src/rules/types.js';
import { isAllow } from '../../src/rules/types.js';

/** EngineAction in engine_source.h */
export const ENGINE_ACTION = { deny: 0, allow: 1, passAdmin: 2, passBaseline: 3 } as const;
const PROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const;

export interface LoopPolicy {
  readonly egressRules: Uint32Array;
  readonly ingressRules: Uint32Array;
  readonly setEdits: Uint32Array;
  readonly egressNpTierStart: number;
  readonly ingressNpTierStart: number;
  /** rule ids in deny records index `ruleSet.rules` */
  readonly ruleSet: RuleSet;
  readonly resolution: Resolution;
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

/** Packs an already lowered rule set and its resolution (e.g. an Engine's) for the loop. */
export function packLoopPolicy(ruleSet: RuleSet, resolution: Resolution): LoopPolicy {
  return {
    egressRules: packRules(classifierRules(ruleSet.egress)),
    ingressRules: packRules(classifierRules(ruleSet.ingress)),
    setEdits: packMembership(resolution),
    egressNpTierStart: ruleSet.egress.tierStart.NetworkPolicy,
    ingressNpTierStart: ruleSet.ingress.tierStart.NetworkPolicy,
    ruleSet,
    resolution,
  };
}

/** Every set's complete membership as `add` edits (what publishEngine / publishMembership take). */
export function packMembership(resolution: Resolution): Uint32Array {
  const edits: SetEdit[] = [];
  for (let id = 0; id < resolution.setCount; id++) {
    for (const c of resolution.prefixes(id)) {
      edits.push({ op: 'add', setId: id, family: c.family, addr: c.family === 4 ? Number(c.base) : c.base, prefixLen: c.prefixLen });
    }
  }
  return packSetEdits(edits);
}

export function compileLoopPolicy(cluster: Cluster, options: { nodeLocalIngress?: boolean } = {}): LoopPolicy {
  const resolution = new Resolution(cluster, cluster.networkPolicies);
  const ruleSet = lower(cluster, resolution, { nodeLocalIngress: options.nodeLocalIngress ?? true });
  return packLoopPolicy(ruleSet, resolution);
}
