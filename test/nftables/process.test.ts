/**
 * `apply` as a real process in the node namespace (issue 3, "Commands": "applies in the current
 * network namespace and exits"): the stand-alone entry (backends/nftables/main.ts, compiled with
 * backends/nftables/tsconfig.build.json) run under `ip netns exec`, no --netns flag.
 */
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness/exec.js';
import { createNetns, deleteNetns } from '../harness/netns.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, '.bench-tmp/nft-dist/backends/nftables/main.js');
const EXAMPLE = join(ROOT, 'examples/s11-deny-with-priorities');
const isRoot = process.getuid?.() === 0;

const newest = (dir: string): number =>
  Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));

describe.skipIf(!isRoot)('palisade apply --backend nftables as a process', () => {
  const ns = `pal-proc-${process.pid}`;
  beforeAll(async () => {
    const stale = !existsSync(MAIN) || statSync(MAIN).mtimeMs < Math.max(newest(join(ROOT, 'backends/nftables')), newest(join(ROOT, 'src')));
    if (stale) await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'backends/nftables/tsconfig.build.json')], { timeoutMs: 55_000, allowFailure: true });
    await createNetns(ns);
  }, 60_000);
  afterAll(async () => {
    await deleteNetns(ns);
  });

  it('applies in the namespace it runs in and exits 0; --delete removes the table', async () => {
    const rootBefore = (await run('nft', ['-j', 'list', 'ruleset'])).stdout;
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, MAIN, 'apply', '--backend', 'nftables', '-f', EXAMPLE]);
    expect(r.stdout).toMatch(/rules in table inet palisade/);
    const table = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'palisade']);
    expect(table.stdout).toContain('"hook": "forward"');
    expect((await run('nft', ['-j', 'list', 'ruleset'])).stdout).toBe(rootBefore);
    await run('ip', ['netns', 'exec', ns, process.execPath, MAIN, 'apply', '--backend', 'nftables', '--delete']);
    const gone = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'palisade'], { allowFailure: true });
    expect(gone.exitCode).not.toBe(0);
  });

  it('exits 2 on invalid input', async () => {
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, MAIN, 'apply', '--backend', 'nftables', '-f', '/nonexistent/dir'], { allowFailure: true });
    expect(r.exitCode).toBe(2);
  });
});
