/**
 * Signals during a libnftables transaction: libnftables does not restart its netlink exchange
 * after a signal, so a signal arriving mid-transaction used to fail the call with EINTR ("Could not
 * process rule: Interrupted system call") although the kernel might have committed it, leaving the
 * backend's memory out of step with the kernel (seen under `node --cpu-prof`, 3 of 80 pod changes).
 * backends/nftables/native/nft.cc now defers signals for the call. The child
 * (signals-child.mjs) runs under the CPU profiler, whose SIGPROF arrives every 50 µs of CPU time:
 * 80 set-element transactions on a 5,000-pod table must all succeed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDist } from '../harness/cli.js';
import { requires } from '../harness/prerequisites.js';
import { createNetns, deleteNetns, netnsPath } from '../../src/topology/netns.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('nftables: signals during a transaction', () => {
  it('80 pod changes under the CPU profiler (SIGPROF every 50 us) all succeed', async () => {
    await ensureDist();
    const ns = `pal-sig-${process.pid}`;
    const prof = mkdtempSync(join(tmpdir(), 'pal-sig-prof-'));
    await createNetns(ns);
    try {
      const r = spawnSync(
        process.execPath,
        ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-interval', '50', join(ROOT, 'test/nftables/signals-child.mjs'), join(ROOT, 'dist'), netnsPath(ns)],
        { encoding: 'utf8', timeout: 240_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { changes: number; failures: string[] };
      expect(out).toEqual({ changes: 80, failures: [] });
    } finally {
      await deleteNetns(ns);
      rmSync(prof, { recursive: true, force: true });
    }
  }, 300_000);
});
