/**
 * Comparing the engine's answers with the reference evaluator's, direction by direction:
 * the verdict AND what decided it (the rule, the node-local exception, isolation, or no rule).
 */
import type { Engine } from '../../src/engine/engine.js';
import type { DirectionVerdict, FlowVerdict } from '../../src/model/verdict.js';

/** JSON with sorted keys, so equal values print equal. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint' ? `${x}n` : x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

/** The decision of a reference direction verdict as a comparable key. */
export function referenceKey(d: DirectionVerdict): string {
  switch (d.reason) {
    case 'rule':
      return `${d.verdict} rule ${canonical(d.rule)}`;
    case 'node-local':
      return `${d.verdict} node-local`;
    case 'isolated-no-match':
      return `${d.verdict} isolated`;
    default:
      return `${d.verdict} none`;
  }
}

/** The decision of an engine answer (rule id, -1 for none) as a comparable key. */
export function engineKey(engine: Engine, ruleId: number, verdict: 'allow' | 'deny'): string {
  if (ruleId < 0) return `${verdict} none`;
  const r = engine.rule(ruleId);
  if (r.action === 'node-local') return `${verdict} node-local`;
  if (r.action === 'isolation-deny') return `${verdict} isolated`;
  // a node subject's built-in loopback and allowance accepts (src/rules/lower.ts nodeAllowance): the
  // reference names no rule for them (reasons `loopback`, `node-allowance`)
  if (r.origin.ref === undefined && r.action === 'accept') return `${verdict} none`;
  return `${verdict} rule ${canonical(r.origin.ref)}`;
}

export interface Mismatch {
  readonly flow: string;
  readonly direction: 'egress' | 'ingress' | 'verdict';
  readonly engine: string;
  readonly reference: string;
}

export function compareAnswer(
  engine: Engine,
  v: FlowVerdict,
  verdict: 'allow' | 'deny',
  egressRule: number,
  ingressRule: number,
): Mismatch[] {
  const out: Mismatch[] = [];
  const f = v.flow;
  const flow = `${f.protocol} ${f.src.text} -> ${f.dst.text}:${f.dstPort}`;
  if (verdict !== v.verdict) out.push({ flow, direction: 'verdict', engine: verdict, reference: v.verdict });
  const e = engineKey(engine, egressRule, egressRule < 0 || isAllowed(engine, egressRule) ? 'allow' : 'deny');
  const i = engineKey(engine, ingressRule, ingressRule < 0 || isAllowed(engine, ingressRule) ? 'allow' : 'deny');
  if (e !== referenceKey(v.egress)) out.push({ flow, direction: 'egress', engine: e, reference: referenceKey(v.egress) });
  if (i !== referenceKey(v.ingress)) out.push({ flow, direction: 'ingress', engine: i, reference: referenceKey(v.ingress) });
  return out;
}

const isAllowed = (engine: Engine, id: number): boolean => ['accept', 'allow', 'node-local'].includes(engine.rule(id).action);
