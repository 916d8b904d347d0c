/**
 * The pure parts of staged and audit lines: the audit annotation (parse, resolve, validate with
 * problem codes and field paths), the observed subjects the compiler computes, and observe.ts's
 * rate limit and counters (on synthetic events; the real-kernel test is observed-lines.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { PolicyCompiler } from '../../src/enforce/compiled.js';
import { FlowObserver } from '../../src/enforce/observe.js';
import { linearClassifier } from '../../src/engine/linear-classifier.js';
import { parseAuditItems, resolveAuditItems } from '../../src/model/audit.js';
import { validateObject } from '../../src/validate/index.js';
import { scenarioCluster, SCENARIOS } from '../harness/scenarios.js';

const NP = SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!;

describe('audit annotation', () => {
  it('parses all, indices and names, and refuses the rest', () => {
    expect(parseAuditItems('all')).toEqual({ items: [{ kind: 'all' }] });
    expect(parseAuditItems(' ingress/0, allow-dns ')).toEqual({ items: [{ kind: 'index', direction: 'ingress', index: 0 }, { kind: 'name', name: 'allow-dns' }] });
    expect(parseAuditItems('')).toHaveProperty('error');
    expect(parseAuditItems('all,ingress/0')).toHaveProperty('error');
    expect(parseAuditItems('sideways/1')).toHaveProperty('error');
    expect(resolveAuditItems([{ kind: 'index', direction: 'egress', index: 3 }], { ingress: [], egress: ['a'] }).unknown).toHaveLength(1);
    expect(resolveAuditItems([{ kind: 'all' }], { ingress: [undefined, 'x'], egress: ['y'] }).mark).toEqual({ ingress: [0, 1], egress: [0] });
  });

  it('validates with codes and the annotation path', () => {
    const np = (value: string) => ({
      obj: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'a', annotations: { 'policy.palisade.dev/audit': value } }, spec: { podSelector: {}, ingress: [{}] } },
      file: 'x.yaml',
      line: 1,
    });
    const codes = (value: string) => validateObject(np(value), 'NetworkPolicy').map((p) => [p.code, p.path]);
    const path = 'metadata.annotations["policy.palisade.dev/audit"]';
    expect(codes('ingress/0')).toEqual([]);
    expect(codes('all')).toEqual([]);
    expect(codes('ingress/1')).toEqual([['AUDIT_RULE_UNKNOWN', path]]);
    expect(codes('web')).toEqual([['AUDIT_ANNOTATION_INVALID', path]]);
    expect(codes('nope/1')).toEqual([['AUDIT_ANNOTATION_INVALID', path]]);
  });
});

describe('observed subjects and lines', () => {
  const cluster = scenarioCluster(NP, 'observe.test.yaml');
  const audited = { ...cluster, networkPolicies: cluster.networkPolicies.map((p) => (p.ingress.length > 0 ? { ...p, audit: { ingress: [0], egress: [] } } : p)) };

  it('nothing staged or audited: no observed subject', () => {
    const c = new PolicyCompiler();
    const s = c.stage(cluster);
    s.commit();
    expect(c.current()!.observation.subjects).toEqual([]);
  });

  it('audit lines are rate-limited per rule by a token bucket; counters count every flow', () => {
    const c = new PolicyCompiler();
    c.stage(audited).commit();
    const policy = c.current()!;
    const subjects = policy.observation.subjects;
    expect(subjects.length).toBeGreaterThan(0);
    const auditRule = policy.ruleSet.rules.find((r) => policy.observation.audited(r))!;
    const dst = policy.resolution.prefixes(auditRule.subject).find((x) => x.family === 4)!;
    const src = policy.resolution.prefixes(auditRule.peer!).find((x) => x.family === 4)!;
    const text = (x: typeof dst) => x.text.replace(/\/32$/, '');
    const obs = new FlowObserver({ classifier: linearClassifier, ratePerSecond: 10, burst: 5 });
    const lines = [];
    // 50 flows in 1 s: 5 (burst) + ~10 (refill) lines
    for (let i = 0; i < 50; i++) {
      const e = { timeMs: 1_000_000 + i * 20, family: 4 as const, proto: 6, src: text(src), dst: text(dst), srcPort: 30000 + i, dstPort: auditRule.dstPorts.lo, direction: 'ingress' as const };
      lines.push(...obs.observe('nftables', e, policy));
    }
    expect(lines.every((l) => l.audit === true && l.verdict === 'allow')).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(14);
    expect(lines.length).toBeLessThanOrEqual(15);
    const [counter] = obs.counters();
    expect(counter).toMatchObject({ kind: 'audit', flows: 50, lines: lines.length, suppressed: 50 - lines.length });
  });
});
