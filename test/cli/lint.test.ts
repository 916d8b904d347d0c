/**
 * `palisade lint` / src/lint: surprising defaults, each a warning with a stable code,
 * the policy named and a field path; exit 0 unless the input is invalid.
 * Fixture: test/cli/fixtures/lint (each policy there triggers one check).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lint, policyTypesDefaulted } from '../../src/lint/index.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { loadPaths } from '../../src/manifests/load.js';
import { formatProblem, type Problem } from '../../src/model/problems.js';
import { example, FIXTURES, palisade } from './helpers.js';

const LINT = join(FIXTURES, 'lint');

function lintOf(paths: string[]): Problem[] {
  const r = safeLoadCluster(paths);
  if (!r.cluster) throw new Error(r.problems.map(formatProblem).join('\n'));
  return lint(r.cluster, { policyTypesDefaulted: policyTypesDefaulted(loadPaths(paths).objects) });
}

const found = lintOf([LINT]);
const byCode = (code: string): Problem[] => found.filter((p) => p.code === code);
const names = (ps: Problem[]): string[] => ps.map((p) => `${p.object?.namespace ? `${p.object.namespace}/` : ''}${p.object?.name}`);

describe('lint checks', () => {
  it('every finding is a warning with a code, the file and line, the policy and a path', () => {
    expect(found.length).toBeGreaterThan(0);
    for (const p of found) {
      expect(p.severity).toBe('warning');
      expect(p.code).toMatch(/^LINT_[A-Z0-9_]+$/);
      expect(p.file).toMatch(/policies\.yaml$/);
      expect(p.line).toBeGreaterThan(0);
      expect(p.object?.name).toBeTruthy();
      expect(p.path).toMatch(/^spec\./);
    }
  });

  it('LINT_NP_ALLOWS_NOTHING: a policy type with no rules isolates and allows nothing (kubernetes.io "Default deny all egress traffic")', () => {
    const ps = byCode('LINT_NP_ALLOWS_NOTHING');
    expect(names(ps)).toEqual(['app/deny-all-egress']);
    expect(ps[0]?.path).toBe('spec.egress');
    expect(ps[0]?.message).toMatch(/If this is an intended default deny, nothing to do/);
  });

  it('LINT_NP_IMPLICIT_INGRESS: egress rules without policyTypes also isolate ingress (SetDefaults_NetworkPolicy; semantics doc §3.3)', () => {
    const ps = byCode('LINT_NP_IMPLICIT_INGRESS');
    expect(names(ps)).toEqual(['app/egress-rules-no-types']);
    expect(ps[0]?.path).toBe('spec.policyTypes');
    // not reported a second time as "allows nothing" for its ingress
    expect(names(byCode('LINT_NP_ALLOWS_NOTHING'))).not.toContain('app/egress-rules-no-types');
  });

  it('LINT_EGRESS_BLOCKS_DNS: names the isolated pods and every isolating policy; a policy that allows DNS to the DNS pods is quiet', () => {
    const ps = byCode('LINT_EGRESS_BLOCKS_DNS');
    expect(ps).toHaveLength(1);
    expect(ps[0]?.message).toContain('app/web');
    expect(ps[0]?.message).toContain('NetworkPolicy app/deny-all-egress, NetworkPolicy app/egress-rules-no-types');
    expect(ps[0]?.message).toContain('UDP 53 and TCP 53');
    expect(ps[0]?.message).not.toContain('ok/client');
  });

  it('LINT_EQUAL_PRIORITY: names both policies and the order used (priority, then name, then rule index)', () => {
    const ps = byCode('LINT_EQUAL_PRIORITY');
    expect(ps).toHaveLength(1);
    expect(ps[0]?.path).toBe('spec.priority');
    expect(ps[0]?.message).toContain('ClusterNetworkPolicy a-same-priority, ClusterNetworkPolicy b-same-priority share priority 10 in the Admin tier');
    expect(ps[0]?.message).toContain('a-same-priority before b-same-priority');
  });

  it('LINT_NETWORKS_IPV4_ONLY / _IPV6_ONLY: 0.0.0.0/0 without ::/0 and the reverse (network-policy-api #248); both in one rule is fine', () => {
    expect(byCode('LINT_NETWORKS_IPV4_ONLY').map((p) => `${p.object?.name} ${p.path}`)).toEqual(['b-same-priority spec.egress[0].to[0].networks']);
    expect(byCode('LINT_NETWORKS_IPV6_ONLY').map((p) => `${p.object?.name} ${p.path}`)).toEqual(['a-same-priority spec.egress[0].to[0].networks']);
  });

  it('LINT_NAMED_PORT_UNDECLARED: a name no pod declares, or declares with another protocol (types.go NetworkPolicyPort.port)', () => {
    const ps = byCode('LINT_NAMED_PORT_UNDECLARED');
    expect(ps.map((p) => p.path)).toEqual(['spec.ingress[0].ports[0].port', 'spec.ingress[1].ports[0].port']);
    expect(ps[1]?.message).toContain('pods declare it with TCP only');
  });

  it('LINT_SELECTS_NOTHING and LINT_PEER_SELECTS_NOTHING', () => {
    expect(byCode('LINT_SELECTS_NOTHING').map((p) => `${names([p])[0]} ${p.path}`)).toEqual(['app/selects-ghosts spec.podSelector']);
    expect(byCode('LINT_PEER_SELECTS_NOTHING').map((p) => `${names([p])[0]} ${p.path}`)).toEqual(['a-same-priority spec.ingress[0].from[0].namespaces']);
  });

  it('is quiet on the examples that follow the advice (s11, s17, s18)', () => {
    for (const e of ['s11-deny-with-priorities', 's17-internet-allowlist', 's18-priority-zero']) expect(lintOf([example(e)]), e).toEqual([]);
  });

  it('with no inventory, judges each egress policy alone for DNS and skips selector checks', () => {
    const ps = lintOf([join(LINT, 'policies.yaml')]);
    expect(ps.filter((p) => p.code === 'LINT_EGRESS_BLOCKS_DNS').map((p) => p.object?.name).sort()).toEqual(['deny-all-egress', 'egress-rules-no-types']);
    expect(ps.filter((p) => p.code.includes('SELECTS_NOTHING') || p.code === 'LINT_NAMED_PORT_UNDECLARED')).toEqual([]);
  });
});

describe('palisade lint', () => {
  it('prints each warning in the problem format on stderr and exits 0', async () => {
    const r = await palisade('lint', '-f', LINT);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/policies\.yaml:\d+: warning LINT_NP_IMPLICIT_INGRESS: NetworkPolicy app\/egress-rules-no-types: spec\.policyTypes: /);
    expect(r.stdout).toMatch(/^lint: .*0 error\(s\), 10 warning\(s\)\n$/);
  });
});

describe('docs/problem-codes.md', () => {
  it('documents every lint code src/lint emits, as a warning', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { ROOT } = await import('./helpers.js');
    const emitted = new Set<string>();
    for (const f of readdirSync(join(ROOT, 'src/lint')).filter((n) => n.endsWith('.ts'))) {
      for (const m of readFileSync(join(ROOT, 'src/lint', f), 'utf8').matchAll(/'(LINT_[A-Z0-9_]+)'/g)) emitted.add(m[1] as string);
    }
    const doc = readFileSync(join(ROOT, 'docs/problem-codes.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Lint codes'));
    const documented = [...section.matchAll(/^\| `(LINT_[A-Z0-9_]+)` \| warning \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...emitted].sort());
    expect(emitted.size).toBe(11);
  });
});
