/**
 * The netlink path of nftables set-element deltas (backends/nftables/set-batch.ts,
 * backends/nftables/native/setelem.h) against its oracle, the libnftables JSON path, on the real
 * kernel in two test network namespaces: the same generated cluster is installed in both, then the
 * same seeded random pod events (removals, re-adds, relabels, 1-3 per change) go to one backend
 * over netlink and to the other through libnftables (`deltasByJson`). After every change the two
 * `list table inet palisade` listings (handles and counters stripped, elements sorted, interval
 * sets as the addresses they cover: test/nftables/listing.ts) must be
 * equal, and the netlink backend must have sent its deltas as netlink batches only (counted at the
 * native boundary). A direct call then shows the all-or-nothing rule and the error's shape.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { buildCluster } from '../../src/manifests/cluster.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import { nativeNftables, type NftNative } from '../../src/native/binding.js';
import { createNetns, deleteNetns, netnsPath } from '../../src/topology/netns.js';
import { requires } from '../harness/prerequisites.js';
import { counted, listing } from './listing.js';

type Changes = Parameters<Enforcement['applyChanges']>[0];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('nftables: set-element deltas over netlink', () => {
  const names = [`pal-nl-a-${process.pid}`, `pal-nl-b-${process.pid}`];
  let cluster: Cluster;

  beforeAll(async () => {
    for (const n of names) await createNetns(n);
    const gen = join(import.meta.dirname, '..', '..', 'bench', 'generate-cluster.mjs');
    const { generateCluster } = (await import(gen)) as { generateCluster: (o: object) => { objects: unknown[] } };
    const objects = generateCluster({ namespaces: 12, podsPerNamespace: 6, nodes: 3, policies: 40, seed: 7 }).objects;
    const built = buildCluster(objects.map((obj) => ({ obj: obj as never, file: '<generated>' }))).cluster;
    if (!built) throw new Error('the generated cluster does not build');
    cluster = built;
  }, 60_000);
  afterAll(async () => {
    for (const n of names) await deleteNetns(n);
  });

  it('random pod events: the netlink path and the JSON path leave identical tables', async () => {
    const a = counted();
    const b = counted();
    const viaNetlink = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[0]!), native: a.native }));
    const viaJson = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[1]!), native: b.native, deltasByJson: true, documentsByJson: true }));
    await viaNetlink.apply(cluster);
    await viaJson.apply(cluster);
    expect(await listing(names[0]!)).toEqual(await listing(names[1]!));
    const installs = { a: a.calls.json, b: b.calls.json };

    const random = rng(20261203);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const pods = cluster.pods.filter((p) => !p.hostNetwork);
    const present = new Map<string, Pod>(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
    const removed = new Map<string, Pod>();
    let elementChanges = 0;
    for (let step = 0; step < 40; step++) {
      const changes: Changes[number][] = [];
      const n = 1 + Math.floor(random() * 3);
      for (let i = 0; i < n; i++) {
        const action = random();
        if (action < 0.35 && present.size > 0) {
          const p = pick([...present.values()]);
          present.delete(`${p.namespace}/${p.name}`);
          removed.set(`${p.namespace}/${p.name}`, p);
          changes.push({ kind: 'pod-removed', namespace: p.namespace, name: p.name });
        } else if (action < 0.6 && removed.size > 0) {
          const p = pick([...removed.values()]);
          removed.delete(`${p.namespace}/${p.name}`);
          present.set(`${p.namespace}/${p.name}`, p);
          changes.push({ kind: 'pod', pod: p });
        } else if (present.size > 0) {
          const p = pick([...present.values()]);
          const relabelled: Pod = { ...p, labels: pick(pods).labels };
          present.set(`${p.namespace}/${p.name}`, relabelled);
          changes.push({ kind: 'pod', pod: relabelled });
        }
      }
      const before = a.calls.elements;
      const [ra] = await Promise.all([viaNetlink.applyChanges(changes), viaJson.applyChanges(changes)]);
      if (ra.kind === 'deltas') elementChanges += a.calls.elements - before;
      expect(await listing(names[0]!), `step ${step}`).toEqual(await listing(names[1]!));
    }
    // the netlink backend sent its deltas over netlink only; the oracle only through libnftables
    expect(elementChanges).toBeGreaterThanOrEqual(20);
    expect(a.calls.json).toBe(installs.a);
    expect(b.calls.elements).toBe(0);
    expect(b.calls.json - installs.b).toBeGreaterThanOrEqual(20);
  }, 240_000);

  it('a batch is all or nothing: a refused delete at its end leaves the table unchanged', async () => {
    const ns = netnsPath(names[0]!);
    const native = nativeNftables();
    const set = 'pal_nl_probe';
    native.nftRun(JSON.stringify({ nftables: [{ add: { set: { family: 'inet', table: 'palisade', name: set, type: 'ipv4_addr' } } }] }), ns);
    const before = await listing(names[0]!);
    const addrs = new Uint8Array(32);
    addrs.set([10, 244, 9, 9], 0); // add 10.244.9.9 (absent)
    addrs.set([10, 244, 9, 10], 16); // delete 10.244.9.10 (absent: ENOENT)
    let error: unknown;
    try {
      native.nftSetElements([set], Uint8Array.of(1, 0), Uint32Array.of(0, 0), Uint8Array.of(4, 4), addrs, new Uint32Array(2), ns);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ERR_PALISADE_NFT', errno: 2, element: 1 });
    expect((error as { nftError: string }).nftError).toContain('10.244.9.10');
    expect(await listing(names[0]!)).toEqual(before);
    // the same add alone goes through, and typed input is checked before anything is sent
    native.nftSetElements([set], Uint8Array.of(1), Uint32Array.of(0), Uint8Array.of(4), addrs.slice(0, 16), new Uint32Array(1), ns);
    expect(JSON.stringify(await listing(names[0]!))).toContain('10.244.9.9');
    expect(() => native.nftSetElements([set], Uint8Array.of(1), Uint32Array.of(1), Uint8Array.of(4), addrs.slice(0, 16), new Uint32Array(1), ns)).toThrow(
      expect.objectContaining({ code: 'ERR_PALISADE_NFT_INPUT' }) as Error,
    );
  });
});
