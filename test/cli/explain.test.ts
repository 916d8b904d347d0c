/**
 * `palisade explain`: a pod's query-target (policies per direction and tier, rules in its terms,
 * reachability) and a flow's walkthrough (every tier, rule by rule, with each peer and port
 * entry checked and why), text and JSON, `--staged`, and usage errors. On the examples/s11-deny-with-priorities and s21-staged-approval
 * examples, whose policies.yaml comments say why each verdict is what it is.
 */
import { describe, expect, it } from 'vitest';
import { example, palisade } from './helpers.js';

const S11 = example('s11-deny-with-priorities');
const S21 = example('s21-staged-approval');

describe('palisade explain --pod', () => {
  it('lists every policy that selects the pod, per direction and tier, and what it may receive', async () => {
    const r = await palisade('explain', '-f', S11, '--pod', 'db/postgres', '--port', '80,5432,9187');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('pod db/postgres: 10.244.2.10, node node-2, labels {app=postgres}');
    expect(out).toContain('ingress (what db/postgres may receive), in evaluation order:');
    // Admin tier in priority order: monitoring-scrapes-all (10) before protect-db (20)
    const admin10 = out.indexOf('ClusterNetworkPolicy monitoring-scrapes-all, priority 10');
    const admin20 = out.indexOf('ClusterNetworkPolicy protect-db, priority 20');
    expect(admin10).toBeGreaterThan(0);
    expect(admin20).toBeGreaterThan(admin10);
    expect(out).toContain('ingress[1] "backend-rest-to-netpol": Pass from every pod in namespaces {kubernetes.io/metadata.name=backend}; on every port and protocol');
    expect(out).toContain('NetworkPolicy tier (the pod is isolated):');
    expect(out).toContain('ingress[0]: Allow from every pod in namespaces {kubernetes.io/metadata.name=backend}; on TCP 9187');
    expect(out).toContain('TCP/9187: allowed from backend/api, monitoring/prometheus; denied from frontend/web');
    expect(out).toContain('TCP/80: allowed from monitoring/prometheus; denied from backend/api, frontend/web');
    // egress: nothing selects it
    expect(out).toContain('egress (what db/postgres may send), in evaluation order:\n  Admin tier: no policy');
    expect(out).toContain('otherwise: allow (the default)');
  });

  it('-o json: the same facts as data', async () => {
    const r = await palisade('explain', '-f', S11, '--pod', 'frontend/web', '-o', 'json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.pod).toBe('frontend/web');
    expect(j.egress.admin.map((p: { policy: { name: string } }) => p.policy.name)).toEqual(['frontend-not-to-db-port']);
    expect(j.ingress.admin.map((p: { policy: { name: string } }) => p.policy.name)).toEqual(['monitoring-scrapes-all']);
    expect(j.egress.otherwise).toBe('allow');
    expect(j.sends).toEqual([{ port: 80, protocol: 'TCP', allowed: ['backend/api', 'monitoring/prometheus'], denied: ['db/postgres'] }]);
  });

  it('--staged includes the staged policies', async () => {
    const enforced = await palisade('explain', '-f', S21, '--pod', 'frontend/web', '-o', 'json');
    const staged = await palisade('explain', '-f', S21, '--pod', 'frontend/web', '--staged', '-o', 'json');
    expect(JSON.parse(enforced.stdout).egress.networkPolicies).toEqual([]);
    expect(JSON.parse(staged.stdout).egress.networkPolicies.map((p: { policy: { name: string } }) => p.policy.name)).toEqual(['web-egress']);
    expect(JSON.parse(staged.stdout).egress.otherwise).toBe('deny');
  });
});

describe('palisade explain --walkthrough', () => {
  it('walks every tier rule by rule, with the entries that did not match and why', async () => {
    const r = await palisade('explain', '-f', S11, '--from', 'frontend/web', '--to', 'db/postgres', '--port', '5432', '--walkthrough');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^frontend\/web \(10\.244\.1\.20\) -> db\/postgres \(10\.244\.2\.10\) TCP\/5432: DENIED$/m);
    expect(out).toContain('egress[0] "no-direct-db" Deny: MATCHES: decides deny');
    expect(out).toContain('ingress[0] "from-prometheus" Accept: no match');
    expect(out).toContain(
      'from ✗ every pod in namespaces {kubernetes.io/metadata.name=monitoring}: frontend/web (10.244.1.20) is in namespace frontend {kubernetes.io/metadata.name=frontend}, which does not match {kubernetes.io/metadata.name=monitoring}',
    );
    expect(out).toContain('port ✓ TCP 5432: TCP/5432 is TCP 5432');
    expect(out).toContain('ingress[2] "deny-everyone-else" Deny: MATCHES: decides deny');
    expect(out).toContain('  NetworkPolicy tier: not reached\n    (NetworkPolicy db/postgres-metrics-from-backend)');
  });

  it('a Pass rule, then the NetworkPolicy rule that allows, and a port entry that fails', async () => {
    const r = await palisade('explain', '-f', S11, '--from', 'backend/api', '--to', 'db/postgres', '--port', '80', '--walkthrough');
    expect(r.stdout).toContain('ingress[1] "backend-rest-to-netpol" Pass: MATCHES: Pass, leaves the tier');
    expect(r.stdout).toContain('a Pass rule matched: on to the next tier');
    expect(r.stdout).toContain('NetworkPolicy tier: the pod is isolated and no rule allows: deny');
    expect(r.stdout).toContain('port ✗ TCP 9187: TCP/80 is not TCP 9187');
    expect(r.stdout).toContain('Baseline tier: not reached');
  });

  it('-o json carries the walk and the reference answer; --staged walks with the staged policies', async () => {
    const r = await palisade('explain', '-f', S21, '--from', 'frontend/web', '--to', 'db/postgres', '--port', '9187', '--walkthrough', '--staged', '-o', 'json');
    expect(r.code).toBe(0);
    const w = JSON.parse(r.stdout);
    expect(w.verdict).toBe('allow');
    expect(w.explanation.ingress.rule.policy.name).toBe('web-reads-postgres-metrics');
    const admin = w.ingress.tiers.find((t: { tier: string }) => t.tier === 'Admin');
    expect(admin.policies.map((p: { policy: { name: string }; notReached?: boolean }) => `${p.policy.name}${p.notReached ? ' (not reached)' : ''}`)).toEqual([
      'monitoring-scrapes-all',
      'web-reads-postgres-metrics',
      'protect-db (not reached)',
    ]);
    const without = await palisade('explain', '-f', S21, '--from', 'frontend/web', '--to', 'db/postgres', '--port', '9187', '-o', 'json');
    expect(JSON.parse(without.stdout).verdict).toBe('deny');
  });

  it('without --walkthrough: the short explanation, as palisade check --engine reference prints it', async () => {
    const a = await palisade('explain', '-f', S11, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187');
    const b = await palisade('check', '-f', S11, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187', '--engine', 'reference');
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });
});

describe('palisade explain: usage errors exit 2', () => {
  for (const [argv, msg] of [
    [['-f', S11], '--pod NS/NAME or --from SRC --to DST is required'],
    [['-f', S11, '--pod', 'db/postgres', '--from', 'a/b'], 'give either --pod or --from/--to'],
    [['-f', S11, '--pod', 'db/nope'], 'no pod db/nope in the manifests'],
    [['-f', S11, '--pod', 'db/postgres', '--walkthrough'], '--walkthrough explains a flow'],
    [['-f', S11, '--from', 'frontend/web', '--to', 'db/postgres', '--port', '80,81'], 'a flow has one --port and one --protocol'],
  ] as const) {
    it(msg, async () => {
      const r = await palisade('explain', ...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(msg);
    });
  }
});
