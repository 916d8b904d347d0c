/**
 * The nftables commands (issue 3, "Commands"): apply in a namespace and exit, stats, --delete
 * removes only our table, invalid input changes nothing (exit 2), and the enforce loop turns a
 * pod relabel into set-element deltas and keeps the last good state on an invalid change.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApplyNftables, runStatsNftables, startNftablesEnforce, type CommandIo } from '../../backends/nftables/command.js';
import { run } from '../harness/exec.js';
import { createNetns, deleteNetns, netnsPath } from '../harness/netns.js';

const isRoot = process.getuid?.() === 0;

const inventory = (webLabel: string): string => `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: ${webLabel} } }
status: { podIPs: [ { ip: 10.244.1.10 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
status: { podIPs: [ { ip: 10.244.1.11 } ] }
`;
const POLICY = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { podSelector: { matchLabels: { app: web } } } ] } ]
`;

function capture(): CommandIo & { outText: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), outText: () => out, errText: () => err };
}

const listTable = async (ns: string): Promise<string | undefined> => {
  const r = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'palisade'], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : undefined;
};

describe.skipIf(!isRoot)('palisade apply / stats / enforce --backend nftables', () => {
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
    expect(await runApplyNftables(['--backend', 'nftables', '--netns', netnsPath(ns), '-f', dir], io)).toBe(0);
    expect(io.outText()).toMatch(/rules in table inet palisade, one transaction/);
    expect(await listTable(ns)).toContain('"name": "forward"');
    const st = capture();
    expect(await runStatsNftables(['--netns', netnsPath(ns), '--json'], st)).toBe(0);
    const rows = st.outText().trim().split('\n').map((l) => JSON.parse(l) as { rule: string });
    expect(rows.map((r) => r.rule)).toContain('NetworkPolicy/shop/db-from-web/ingress/0');
  });

  it('invalid input exits 2 and changes nothing', async () => {
    const before = await listTable(ns);
    const bad = join(dir, 'bad');
    await run('mkdir', ['-p', bad]);
    await writeFile(join(bad, 'x.yaml'), 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: x, namespace: shop }\nspec: { podSelector: { matchLabels: { "bad key!": x } } }\n');
    const io = capture();
    expect(await runApplyNftables(['--netns', netnsPath(ns), '-f', bad], io)).toBe(2);
    expect(await listTable(ns)).toBe(before);
    await rm(bad, { recursive: true });
  });

  it('enforce: a relabel becomes set elements only; an invalid change keeps the last good state', async () => {
    const io = capture();
    const h = startNftablesEnforce([dir], { netnsPath: netnsPath(ns) }, io);
    try {
      await h.ready;
      await writeFile(join(dir, 'inventory.yaml'), inventory('other'));
      await waitFor(() => /set elements only/.test(io.errText()), 5_000);
      const good = await listTable(ns);
      await writeFile(join(dir, 'policy.yaml'), POLICY.replace('podSelector: { matchLabels: { app: db } }', 'podSelector: { matchLabels: { "bad key!": db } }'));
      await waitFor(() => /change rejected, keeping the last good state/.test(io.errText()), 5_000);
      expect(await listTable(ns)).toBe(good);
    } finally {
      await h.stop();
      await writeFile(join(dir, 'policy.yaml'), POLICY);
    }
  });

  it('apply replaces a foreign table inet palisade it cannot update in place (another base chain priority)', async () => {
    await runApplyNftables(['--netns', netnsPath(ns), '--delete'], capture());
    await run('ip', ['netns', 'exec', ns, 'nft', '-j', JSON.stringify({ nftables: [{ add: { table: { family: 'inet', name: 'palisade' } } }, { add: { chain: { family: 'inet', table: 'palisade', name: 'forward', type: 'filter', hook: 'forward', prio: 5, policy: 'drop' } } }] })]);
    const io = capture();
    expect(await runApplyNftables(['--netns', netnsPath(ns), '-f', dir], io)).toBe(0);
    const table = JSON.parse((await listTable(ns))!) as { nftables: { chain?: { name: string; prio?: number; policy?: string } }[] };
    const fwd = table.nftables.find((x) => x.chain?.name === 'forward')!.chain!;
    expect([fwd.prio, fwd.policy]).toEqual([0, 'accept']);
  });

  it('apply --delete removes table inet palisade only', async () => {
    const io = capture();
    expect(await runApplyNftables(['--netns', netnsPath(ns), '--delete'], io)).toBe(0);
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
