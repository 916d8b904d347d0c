/**
 * The eBPF commands' argument handling (unprivileged: nothing here touches the kernel): help,
 * usage errors with exit 2, and the --backend guard the CLI dispatcher relies on.
 */
import { describe, expect, it } from 'vitest';
import { runApplyEbpf, runEnforceEbpf, runStatsEbpf } from '../../backends/ebpf/command.js';

function io(): { out: string[]; err: string[]; io: { out(t: string): void; err(t: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t) => out.push(t), err: (t) => err.push(t) } };
}

describe('eBPF commands: arguments', () => {
  it('--help prints each command flags and exits 0', async () => {
    for (const [run, verb] of [[runApplyEbpf, 'apply'], [runEnforceEbpf, 'enforce'], [runStatsEbpf, 'stats']] as const) {
      const c = io();
      expect(await run(['--backend', 'ebpf', '--help'], c.io)).toBe(0);
      expect(c.out.join('')).toMatch(new RegExp(`palisade ${verb} --backend ebpf`));
      expect(c.out.join('')).toMatch(/--pin-root/);
    }
  });
  it('apply without -f or --delete, an unknown flag, or another backend: usage error, exit 2', async () => {
    for (const argv of [[], ['--frobnicate'], ['--backend', 'nftables', '-f', 'x']]) {
      const c = io();
      expect(await runApplyEbpf(argv, c.io)).toBe(2);
      expect(c.err.join('')).toMatch(/palisade apply --backend ebpf: /);
    }
    const c = io();
    expect(await runEnforceEbpf(['--interfaces-ms', 'soon', '-f', '.'], c.io)).toBe(2);
  });
  it('apply with invalid manifests reports the problems and exits 2 before touching the kernel', async () => {
    const c = io();
    expect(await runApplyEbpf(['-f', '/nonexistent/palisade-ebpf-test'], c.io)).toBe(2);
    expect(c.err.join('')).not.toBe('');
  });
});
