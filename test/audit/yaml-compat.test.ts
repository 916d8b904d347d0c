/**
 * Manifest YAML compatibility: plain scalars that YAML 1.1 reads as booleans stay strings.
 *
 * This is a deliberate COMPATIBILITY choice, not an upstream claim: kubectl (sigs.k8s.io/yaml on go-yaml v2, YAML 1.1,
 * kubernetes/kubernetes#34146) reads `y`, `n`, `yes`, `no`, `on`, `off` as booleans. The upstream-derived cases Palisade
 * is checked against name their namespaces x, y and z (test/e2e/network/netpol model.go; cyclonus default topology), and
 * fixtures written by hand often leave `y` unquoted. Reading them as strings loses nothing for verdicts; reading them as
 * booleans rejects whole suites. See disagreements.test.ts (D9 withdrawn) and the audit report.
 */
import { describe, expect, it } from 'vitest';
import { judge, np, parse } from './helpers.js';

describe('YAML plain scalars', () => {
  it('a namespace named y (unquoted) is a namespace named "y"', () => {
    const r = parse('apiVersion: v1\nkind: Namespace\nmetadata: {name: y}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n');
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(r.cluster?.namespaces.map((n) => n.name)).toEqual(['y', 'n']);
  });
  it('a policy in namespace y selecting label value y works', () => {
    const j = judge(np('y', 'p', '{podSelector: {matchLabels: {pod: b}}, ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]}'));
    expect(j.v('y/a', 'y/b')).toBe('allow');
    expect(j.v('x/a', 'y/b')).toBe('deny');
  });
});
