// `palisade apply | enforce | stats --backend NAME` dispatch.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { requires } from '../harness/prerequisites.js';

function capture() {
  let out = '';
  let err = '';
  return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, text: () => ({ out, err }) };
}

describe('backend dispatch', () => {
  it('requires --backend and names the choices', async () => {
    const c = capture();
    expect(await run(['apply', '-f', 'examples/s11-deny-with-priorities'], c.io)).toBe(2);
    expect(c.text().err).toMatch(/--backend is required \(nftables, ebpf\)/);
  });

  it('rejects an unknown backend and a verb the backend lacks', async () => {
    const c = capture();
    expect(await run(['enforce', '--backend', 'iptables', '-f', 'x'], c.io)).toBe(2);
    expect(c.text().err).toMatch(/unknown backend "iptables"/);
    const d = capture();
    expect(await run(['apply', '--backend', 'nfqueue', '-f', 'x'], d.io)).toBe(2);
    expect(d.text().err).toMatch(/nfqueue backend has no `apply`/);
  });

  it('checks every flag against the verb and the backend before loading anything', async () => {
    const c = capture();
    expect(await run(['apply', '--backend', 'nftables', '--nflog-group', '5', '-f', 'x'], c.io)).toBe(2);
    expect(c.text().err).toMatch(/--nflog-group is a flag of enforce, not apply/);
    const d = capture();
    expect(await run(['enforce', '--backend', 'nftables', '-f', 'x', '--nflog-group', '70000'], d.io)).toBe(2);
    expect(d.text().err).toMatch(/--nflog-group takes a number 0\.\.65535/);
    const e = capture();
    expect(await run(['enforce', '--backend', 'nftables', '-f', 'x', '--queues', '2'], e.io)).toBe(2);
    expect(e.text().err).toMatch(/unknown flag --queues/);
    const h = capture();
    expect(await run(['enforce', '--backend', 'nftables', '--help'], h.io)).toBe(0);
    expect(h.text().out).toMatch(/--log-denied[\s\S]*--stats-file[\s\S]*nftables flags:[\s\S]*--nflog-group/);
  });

  it('invalid input exits 2 before anything is applied', async () => {
    const c = capture();
    expect(await run(['apply', '--backend', 'nftables', '-f', '/nonexistent/palisade'], c.io)).toBe(2);
    expect(c.text().err).toMatch(/FILE_NOT_FOUND/);
  });
});

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('apply --backend nftables in a namespace of its own', () => {
  it('installs table inet palisade, reports counters, and --delete removes only that table', () => {
    const ns = `pal-clib-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const bin = ['netns', 'exec', ns, 'node', 'bin/palisade'];
      const applied = spawnSync('ip', [...bin, 'apply', '--backend', 'nftables', '-f', 'examples/s11-deny-with-priorities'], { encoding: 'utf8' });
      expect(applied.status, applied.stderr).toBe(0);
      expect(execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' })).toContain('table inet palisade');
      const stats = spawnSync('ip', [...bin, 'stats', '--backend', 'nftables'], { encoding: 'utf8' });
      expect(stats.status, stats.stderr).toBe(0);
      expect(stats.stdout).toContain('ClusterNetworkPolicy/protect-db/ingress/0');
      const del = spawnSync('ip', [...bin, 'apply', '--backend', 'nftables', '--delete'], { encoding: 'utf8' });
      expect(del.status, del.stderr).toBe(0);
      expect(execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' })).not.toContain('palisade');
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});
