/**
 * The backend commands with --backend nftables (src/cli/apply.ts, enforce.ts, stats.ts): apply in
 * a namespace and exit, stats from the kernel and from a running enforcer's --stats-file,
 * --delete removes only our table, invalid input changes nothing (exit 2), and the enforce loop
 * turns a pod relabel into set-element deltas and keeps the last good state on an invalid change.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { startEnforce } from '../../src/cli/enforce.js';
import type { Io } from '../../src/cli/io.js';
import { run as cli } from '../../src/cli/main.js';
import { run } from '../../src/topology/exec.js';
import { createNetns, deleteNetns, netnsPath } from '../../src/topology/netns.js';
import { requires } from '../harness/prerequisites.js';
import { shopWebDb } from '../harness/fixtures.js';


const inventory = (webLabel: string): string => shopWebDb({ subnet: 1, dualStack: false, appLabels: true, webLabel });
const POLICY = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { podSelector: { matchLabels: { app: web } } } ] } ]
`;

function capture(): Io & { outText: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), outText: () => out, errText: () => err };
}

const listTable = async (ns: string): Promise<string | undefined> => {
  const r = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'palisade'], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : undefined;
};

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('palisade apply / stats / enforce --backend nftables', () => {
  const ns = `pal-cmd-${process.pid}`;
  let dir = '';
  let rootBefore = '';

  beforeAll(async () => {
    rootBefore = (await run('nft', ['-j', 'list', 'ruleset'])).stdout;
    await createNetns(ns);
    // another table in the node namespace, as kube-proxy or iptables-nft would have one
    await run('ip', ['netns', 'exec', ns, 'nft', '-j', JSON.stringify({ nftables: [{ add: { table: { family: 'ip', name: 'other' } } }, { add: { chain: { family: 'ip', table: 'other', name: 'c', type: 'filter', hook: 'input', prio: 10, policy: 'accept' } } }] })]);
    dir = await mkdtemp(join(tmpdir(), 'pal-nft-cmd-'));
    await writeFile(join(dir, 'inventory.yaml'), inventory('web'));
    await writeFile(join(dir, 'policy.yaml'), POLICY);
  });
  afterAll(async () => {
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  });

  it('apply puts the table in force and exits 0; stats lists the rules', async () => {
    const io = capture();
    expect(await cli(['apply', '--backend', 'nftables', '--netns', netnsPath(ns), '-f', dir], io)).toBe(0);
    expect(io.outText()).toMatch(/rules in table inet palisade, one transaction/);
    expect(await listTable(ns)).toContain('"name": "forward"');
    const st = capture();
    expect(await cli(['stats', '--backend=nftables', '--netns', netnsPath(ns), '--json'], st)).toBe(0);
    const rows = st.outText().trim().split('\n').map((l) => JSON.parse(l) as { rule: string });
    expect(rows.map((r) => r.rule)).toContain('NetworkPolicy/shop/db-from-web/ingress/0');
  });

  it('invalid input exits 2 and changes nothing', async () => {
    const before = await listTable(ns);
    const bad = join(dir, 'bad');
    await run('mkdir', ['-p', bad]);
    await writeFile(join(bad, 'x.yaml'), 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: x, namespace: shop }\nspec: { podSelector: { matchLabels: { "bad key!": x } } }\n');
    const io = capture();
    expect(await cli(['apply', '--backend', 'nftables', '--netns', netnsPath(ns), '-f', bad], io)).toBe(2);
    expect(io.errText()).toMatch(/bad key!/);
    expect(await listTable(ns)).toBe(before);
    await rm(bad, { recursive: true });
  });

  it('enforce with an invalid first load exits 2 and changes nothing', async () => {
    const before = await listTable(ns);
    const bad = join(dir, 'bad-first');
    await run('mkdir', ['-p', bad]);
    await writeFile(join(bad, 'x.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: "Not_A_Name", namespace: shop }\n');
    const io = capture();
    expect(await cli(['enforce', '--backend', 'nftables', '--netns', netnsPath(ns), '--stats-file', join(tmpdir(), `pal-nft-first-${process.pid}.json`), '-f', bad], io)).toBe(2);
    expect(io.errText()).toMatch(/change rejected, keeping the last good state/);
    expect(await listTable(ns)).toBe(before);
    await rm(bad, { recursive: true });
  });

  it('enforce: a relabel becomes set elements only; an invalid change keeps the last good state; --stats-file feeds stats', async () => {
    const io = capture();
    const statsDir = await mkdtemp(join(tmpdir(), 'pal-nft-stats-')); // not under the watched dir
    const statsFile = join(statsDir, 'run', 'stats.json');
    const h = startEnforce({ backend: new NftablesBackend({ netnsPath: netnsPath(ns) }), paths: [dir], statsFile, statsMs: 100 }, io);
    try {
      expect(await h.ready).toBe('applied');
      await writeFile(join(dir, 'inventory.yaml'), inventory('other'));
      await waitFor(() => /set elements only/.test(io.errText()), 5_000);
      const good = await listTable(ns);
      // a running enforcer's figures, read back by `palisade stats --stats-file`
      await waitFor(() => h.enforcement.current()?.generation === 2, 1_000);
      await new Promise((r) => setTimeout(r, 300));
      const st = capture();
      expect(await cli(['stats', '--backend', 'nftables', '--stats-file', statsFile, '-o', 'json'], st)).toBe(0);
      const file = JSON.parse(st.outText()) as { backend: string; pid: number; generation: number; rules: { rule: string }[] };
      expect([file.backend, file.pid, file.generation]).toEqual(['nftables', process.pid, 2]);
      expect(file.rules.map((r) => r.rule)).toContain('NetworkPolicy/shop/db-from-web/ingress/0');
      await writeFile(join(dir, 'policy.yaml'), POLICY.replace('podSelector: { matchLabels: { app: db } }', 'podSelector: { matchLabels: { "bad key!": db } }'));
      await waitFor(() => /change rejected, keeping the last good state/.test(io.errText()), 5_000);
      expect(await listTable(ns)).toBe(good);
    } finally {
      await h.stop();
      await rm(statsDir, { recursive: true, force: true });
      await writeFile(join(dir, 'policy.yaml'), POLICY);
    }
  });

  it('apply replaces a foreign table inet palisade it cannot update in place (another base chain priority)', async () => {
    expect(await cli(['apply', '--backend', 'nftables', '--netns', netnsPath(ns), '--delete'], capture())).toBe(0);
    await run('ip', ['netns', 'exec', ns, 'nft', '-j', JSON.stringify({ nftables: [{ add: { table: { family: 'inet', name: 'palisade' } } }, { add: { chain: { family: 'inet', table: 'palisade', name: 'forward', type: 'filter', hook: 'forward', prio: 5, policy: 'drop' } } }] })]);
    const io = capture();
    expect(await cli(['apply', '--backend', 'nftables', '--netns', netnsPath(ns), '-f', dir], io)).toBe(0);
    const table = JSON.parse((await listTable(ns))!) as { nftables: { chain?: { name: string; prio?: number; policy?: string } }[] };
    const fwd = table.nftables.find((x) => x.chain?.name === 'forward')!.chain!;
    expect([fwd.prio, fwd.policy]).toEqual([0, 'accept']);
  });

  it('apply --delete removes table inet palisade only', async () => {
    const io = capture();
    expect(await cli(['apply', '--backend', 'nftables', '--netns', netnsPath(ns), '--delete'], io)).toBe(0);
    expect(io.outText()).toBe('palisade apply --delete (nftables): removed table inet palisade\n');
    expect(await listTable(ns)).toBeUndefined();
    const other = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'ip', 'other']);
    expect(other.stdout).toContain('"name": "c"');
    expect((await run('nft', ['-j', 'list', 'ruleset'])).stdout).toBe(rootBefore);
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
