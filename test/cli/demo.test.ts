/**
 * `palisade demo` (npm start): as root it enforces the built-in example
 * with nftables in network namespaces and compares real probes with the reference matrix
 * (examples/s11-deny-with-priorities/expected.txt); not as root it prints the computed matrix and
 * says why it did not enforce. PALISADE_DEMO_NO_ENFORCE=1 forces that path (documented in
 * src/cli/demo.ts), so it is tested here as root too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_ENFORCE_ENV } from '../../src/cli/demo.js';
import { listNetns } from '../../src/topology/netns.js';
import { palisade, ROOT } from './helpers.js';
import { requires } from '../harness/prerequisites.js';

const EXPECTED = readFileSync(join(ROOT, 'examples/s11-deny-with-priorities/expected.txt'), 'utf8');

describe('palisade demo without enforcing', () => {
  afterEach(() => {
    delete process.env[NO_ENFORCE_ENV];
  });

  it(`${NO_ENFORCE_ENV}=1: the computed matrix (= expected.txt), one check, and why it did not enforce`, async () => {
    process.env[NO_ENFORCE_ENV] = '1';
    const r = await palisade('demo');
    expect(r.code).toBe(0);
    // the truth table printed is the example's expected.txt (without its command comment line)
    const grids = EXPECTED.split('\n').filter((l) => !l.startsWith('#')).join('\n').trim();
    expect(r.stdout).toContain(grids);
    expect(r.stdout).toContain('$ palisade check');
    expect(r.stdout).toMatch(/Not enforced: PALISADE_DEMO_NO_ENFORCE=1 is set\./);
    expect(r.stdout).not.toContain('observed');
    expect(await listNetns(`pal-demo-${process.pid}`)).toEqual([]);
  });

  it('--help describes both paths and the variable', async () => {
    const r = await palisade('demo', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('As root');
    expect(r.stdout).toContain(`${NO_ENFORCE_ENV}=1`);
  });
});

describe.skipIf(requires('root', 'netns', 'addon', 'cni-plugins'))('palisade demo as root (nftables, real probes)', () => {
  const sigintListenersBefore = process.listenerCount('SIGINT');

  it('reports observed = expected, names the deciding policies in the deny log, and leaves no namespace', async () => {
    const t0 = performance.now();
    const r = await palisade('demo');
    const ms = performance.now() - t0;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/observed = expected: all 48 flows/);
    expect(r.stdout).not.toContain('<- differs');
    // frontend/web -> db/postgres:5432 is denied by the Admin-tier AdminNetworkPolicy rule no-direct-db
    // (examples/s11-deny-with-priorities/policies.yaml; network-policy-api: Deny in the Admin tier is final)
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    for (const l of lines) expect(l).toMatchObject({ backend: 'nftables', protocol: 'TCP' });
    expect(lines).toContainEqual(
      expect.objectContaining({ src: '10.244.1.20', dst: '10.244.2.10', dstPort: 5432, direction: 'egress', tier: 'Admin', policy: 'AdminNetworkPolicy/frontend-not-to-db-port', rule: 'no-direct-db' }),
    );
    expect(r.stdout).toMatch(/Deny log \(NFLOG, \d+ lines/);
    expect(r.stdout).toMatch(/Cleaned up: probes stopped, namespaces deleted/);
    expect(await listNetns(`pal-demo-${process.pid}`)).toEqual([]);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);

  it('SIGINT during the run: stops after the current step, cleans up, exit 130', async () => {
    const pending = palisade('demo');
    // interrupt once the demo listens for SIGINT (a fixed delay raced its start on a cold clone)
    const t0 = Date.now();
    while (process.listenerCount('SIGINT') === sigintListenersBefore && Date.now() - t0 < 20_000) await new Promise((res) => setTimeout(res, 5));
    expect(process.listenerCount('SIGINT')).toBeGreaterThan(sigintListenersBefore);
    process.emit('SIGINT', 'SIGINT');
    const r = await pending;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('SIGINT: stopping after the current step and cleaning up');
    expect(r.stdout).not.toContain('observed = expected');
    expect(r.stdout).toContain('Cleaned up');
    expect(await listNetns(`pal-demo-${process.pid}`)).toEqual([]);
    expect(process.listenerCount('SIGINT')).toBe(sigintListenersBefore);
  }, 60_000);
});
