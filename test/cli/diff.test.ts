/**
 * `palisade diff`: `-f BEFORE -f AFTER` and `--before/--after` on a real policy change (a copy of
 * the examples/s11-deny-with-priorities example with protect-db's catch-all Deny removed and a new NetworkPolicy), `--staged`
 * on examples/s21-staged-approval, JSON and HTML output, and the usage and input errors (exit 2).
 * The diff-equals-difference property on random changes is test/diff/diff-random.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { example, palisade } from './helpers.js';

const S11 = example('s11-deny-with-priorities');
const S21 = example('s21-staged-approval');
let tmp: string;
let after: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pal-diff-'));
  after = join(tmp, 'after');
  cpSync(S11, after, { recursive: true });
  const policies = readFileSync(join(after, 'policies.yaml'), 'utf8');
  // remove the catch-all Deny of protect-db, and the NetworkPolicy that isolates db/postgres:
  // ingress to db/postgres from frontend then falls through to the default
  const cut = policies
    .replace(/  - name: deny-everyone-else\n    action: Deny\n    from:\n    - namespaces: \{\}\n/, '')
    .replace(/---\n# What the db team allows[\s\S]*$/, '');
  expect(cut).not.toContain('deny-everyone-else');
  expect(cut).not.toContain('postgres-metrics-from-backend');
  writeFileSync(
    join(after, 'policies.yaml'),
    cut +
      `---
# new: monitoring may not reach backend/api on 80
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontend-only, namespace: backend}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}
`,
  );
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('palisade diff -f BEFORE -f AFTER', () => {
  it('lists every flow whose verdict changes, grouped by the rule it is owed to', async () => {
    const r = await palisade('diff', '-f', S11, '-f', after, '--port', '80', '--engine', 'reference');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // removal: the Deny that decided before is the cause (there is no rule after, only the default)
    expect(r.stdout).toContain('ingress, Admin tier: ClusterNetworkPolicy protect-db ingress[2] "deny-everyone-else": Deny, priority 20 (removed or changed): opens 1');
    expect(r.stdout).toContain('  frontend/web -> db/postgres TCP/80: deny -> ALLOW');
    // the new NetworkPolicy isolates backend/api: monitoring is still let in by the Admin tier, db is not
    expect(r.stdout).toContain('ingress, NetworkPolicy tier: NetworkPolicy backend/api-from-frontend-only isolates the pod for ingress; no rule allows (added or changed): closes 1');
    expect(r.stdout).toContain('  db/postgres -> backend/api TCP/80: allow -> DENY');
    // removal of the isolating NetworkPolicy: backend/api was passed to it by protect-db and denied there
    expect(r.stdout).toContain('ingress, NetworkPolicy tier: NetworkPolicy db/postgres-metrics-from-backend isolates the pod for ingress; no rule allows (removed or changed): opens 1');
    expect(r.stdout).toContain('  backend/api -> db/postgres TCP/80: deny -> ALLOW');
    expect(r.stdout).toMatch(/^3 flow\(s\) change verdict: 2 opened, 1 closed \(16 compared, before vs after\)$/m);
    // monitoring/prometheus -> backend/api is still allowed by monitoring-scrapes-all (Admin, before NetworkPolicy)
    expect(r.stdout).not.toContain('monitoring/prometheus -> backend/api');
  });

  it('--before/--after are the same question; the native engine answers the same', async () => {
    const a = await palisade('diff', '-f', S11, '-f', after, '--port', '80,5432', '--engine', 'reference');
    const b = await palisade('diff', '--before', S11, '--after', after, '--port', '80,5432');
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it('a staged policy is not a change: S11 -> S21 (S11 plus two staged policies) changes nothing', async () => {
    const r = await palisade('diff', '-f', S11, '-f', S21, '--port', '80,9187');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no verdict changes (32 flow(s) compared, before vs after)\n');
  });

  it('-o json: the changes with both cells and their causes, and the groups', async () => {
    const r = await palisade('diff', '-f', S11, '-f', after, '--port', '80', '-o', 'json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.mode).toBe('files');
    expect(j.compared).toBe(16);
    expect(j.changes.map((c: { from: string; to: string; before: { verdict: string }; after: { verdict: string } }) => `${c.from}>${c.to}:${c.before.verdict}>${c.after.verdict}`)).toEqual([
      'backend/api>db/postgres:deny>allow',
      'db/postgres>backend/api:allow>deny',
      'frontend/web>db/postgres:deny>allow',
    ]);
    const open = j.changes[2];
    expect(open.after.srcIp).toBe('10.244.1.20');
    expect(open.causes).toEqual([
      {
        direction: 'ingress',
        side: 'before',
        step: { kind: 'rule', rule: { tier: 'Admin', policy: { kind: 'ClusterNetworkPolicy', name: 'protect-db' }, ruleIndex: 2, ruleName: 'deny-everyone-else', action: 'Deny', priority: 20 } },
      },
    ]);
    expect(j.groups.map((g: { opened: number; closed: number }) => [g.opened, g.closed])).toEqual([[1, 0], [0, 1], [1, 0]]);
  });
});

describe('palisade diff --staged', () => {
  it('names the staged rule and the staged isolation (S21, the approval screen)', async () => {
    const r = await palisade('diff', '-f', S21, '--staged', '--port', '80,9187', '-o', 'json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.mode).toBe('staged');
    expect(j.changes).toHaveLength(4);
    const steps = j.groups.map((g: { cause: { direction: string; step: { kind: string; rule?: { policy: { name: string } }; policies?: { name: string }[] } } }) =>
      `${g.cause.direction} ${g.cause.step.kind} ${g.cause.step.rule?.policy.name ?? g.cause.step.policies?.map((p) => p.name).join(',')}`,
    );
    expect(steps).toEqual(['egress isolation web-egress', 'ingress rule web-reads-postgres-metrics']);
  });

  it('says so when nothing is staged', async () => {
    const r = await palisade('diff', '-f', S11, '--staged');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no policy is marked staged');
    expect(r.stdout).toMatch(/^no verdict changes/);
  });
});

describe('palisade diff -o html', () => {
  it('one self-contained page: the after matrix with changed cells marked, and the groups', async () => {
    const r = await palisade('diff', '-f', S21, '--staged', '--port', '80,9187', '-o', 'html');
    expect(r.code).toBe(0);
    const html = r.stdout;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/data-changed="1"/g)).toHaveLength(4);
    expect(html.match(/<td class="cell opened"/g)).toHaveLength(1);
    expect(html.match(/<td class="cell closed"/g)).toHaveLength(3);
    expect(html).toContain('Changes by cause');
    expect(html).toContain('ClusterNetworkPolicy web-reads-postgres-metrics ingress[0] &quot;from-web-dashboard&quot;: Accept, priority 15 (staged)');
  });
});

describe('palisade diff: bad usage and bad input exit 2', () => {
  it('-f needs exactly BEFORE and AFTER', async () => {
    const r = await palisade('diff', '-f', S11);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-f takes exactly two paths, BEFORE and AFTER (got 1)');
  });
  it('--staged does not take --before/--after', async () => {
    const r = await palisade('diff', '--staged', '--before', S11, '--after', S21);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--staged compares one manifest set with itself');
  });
  it('-o must be text, json or html', async () => {
    const r = await palisade('diff', '-f', S11, '-f', S21, '-o', 'yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-o: "yaml" is not text, json or html');
  });
  it('an invalid staged mark is printed with file, object and path; nothing is compared', async () => {
    const bad = join(tmp, 'bad');
    cpSync(S21, bad, { recursive: true });
    const p = join(bad, 'policies.yaml');
    writeFileSync(p, readFileSync(p, 'utf8').replace('    policy.palisade.dev/staged: "true"', '    policy.palisade.dev/staged: "yes"'));
    const r = await palisade('diff', '-f', bad, '--staged');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /policies\.yaml:\d+: error STAGED_ANNOTATION_INVALID: ClusterNetworkPolicy web-reads-postgres-metrics: metadata\.annotations\["policy\.palisade\.dev\/staged"\]: must be "true"/,
    );
  });
  it('--help', async () => {
    const r = await palisade('diff', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: palisade diff -f BEFORE -f AFTER');
  });
});
