/**
 * `palisade apply --backend nftables` as a real process in the node namespace: `bin/palisade`
 * (the one tsc build in dist/) run under `ip netns exec`, no --netns flag: it applies in the
 * namespace it runs in and exits; --delete removes the table; invalid input exits 2.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, PALISADE_BIN as BIN, ROOT } from '../harness/cli.js';
import { run } from '../../src/topology/exec.js';
import { createNetns, deleteNetns } from '../../src/topology/netns.js';
import { requires } from '../harness/prerequisites.js';

const EXAMPLE = join(ROOT, 'examples/s11-deny-with-priorities');

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('palisade apply --backend nftables as a process', () => {
  const ns = `pal-proc-${process.pid}`;
  beforeAll(async () => {
    await ensureDist();
    await createNetns(ns);
  }, 200_000);
  afterAll(async () => {
    await deleteNetns(ns);
  });

  it('applies in the namespace it runs in and exits 0; --delete removes the table', async () => {
    const rootBefore = (await run('nft', ['-j', 'list', 'ruleset'])).stdout;
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, BIN, 'apply', '--backend', 'nftables', '-f', EXAMPLE]);
    expect(r.stdout).toMatch(/^palisade apply \(nftables\): \d+ rules in table inet palisade, one transaction of \d+ commands \((one netlink batch|libnftables)\), [\d.]+ ms\n$/);
    const table = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'palisade']);
    expect(table.stdout).toContain('"hook": "forward"');
    expect((await run('nft', ['-j', 'list', 'ruleset'])).stdout).toBe(rootBefore);
    await run('ip', ['netns', 'exec', ns, process.execPath, BIN, 'apply', '--backend', 'nftables', '--delete']);
    const gone = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'palisade'], { allowFailure: true });
    expect(gone.exitCode).not.toBe(0);
  });

  it('exits 2 on invalid input', async () => {
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, BIN, 'apply', '--backend', 'nftables', '-f', '/nonexistent/dir'], { allowFailure: true });
    expect(r.exitCode).toBe(2);
  });
});
