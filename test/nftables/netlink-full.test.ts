/**
 * The netlink path of whole-table documents (backends/nftables/netlink-program.ts lowering the
 * renderer's document into one libnftnl batch, backends/nftables/native/table.h) against its
 * oracle, the same document through libnftables (`documentsByJson`), on the real kernel in two
 * test network namespaces. For random clusters (interval sets from ipBlocks, deny logging and
 * observed subjects on), the two `list table inet palisade` listings (handles and counters
 * stripped, elements sorted, interval sets compared as the addresses they cover) must be equal
 * after the first install, after an install over the table (replace in place), after random pod
 * events (interval-set and observed changes go as documents too) and after a policy change; the
 * netlink backend must not have called libnftables for any change. A refused program changes
 * nothing and names the command the kernel refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { lowerDocument } from '../../backends/nftables/netlink-program.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import { nativeNftables } from '../../src/native/binding.js';
import { createNetns, deleteNetns, netnsPath } from '../../src/topology/netns.js';
import { randomCluster, Rng } from '../engine/random-cluster.js';
import { requires } from '../harness/prerequisites.js';
import { counted, listing } from './listing.js';

type Changes = Parameters<Enforcement['applyChanges']>[0];

const SHAPE = { namespaces: 5, pods: 40, nodes: 2, networkPolicies: 14, clusterPolicies: 8 };
const LOG = { denyLog: { group: 17 } } as const;

describe.skipIf(requires('root', 'netns', 'addon', 'nft'))('nftables: whole-table documents over netlink', () => {
  const names = [`pal-nlf-a-${process.pid}`, `pal-nlf-b-${process.pid}`];

  beforeAll(async () => {
    for (const n of names) await createNetns(n);
  }, 60_000);
  afterAll(async () => {
    for (const n of names) await deleteNetns(n);
  });

  for (const seed of [1, 2, 3]) {
    it(`random cluster ${seed}: install, reinstall, pod events, policy change leave identical tables`, async () => {
      const cluster: Cluster = randomCluster(new Rng(seed), SHAPE);
      const a = counted();
      const b = counted();
      const viaNetlink = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[0]!), native: a.native, ...LOG }));
      const viaJson = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[1]!), native: b.native, documentsByJson: true, deltasByJson: true, ...LOG }));
      await viaNetlink.apply(cluster);
      await viaJson.apply(cluster);
      expect(await listing(names[0]!)).toEqual(await listing(names[1]!));
      // over itself, from a fresh backend (a restarted enforcer replaces the table in place)
      const again = new Enforcement(new NftablesBackend({ netnsPath: netnsPath(names[0]!), native: a.native, ...LOG }));
      await again.apply(cluster);
      expect(await listing(names[0]!)).toEqual(await listing(names[1]!));

      const r = new Rng(seed * 100);
      const pods = cluster.pods.filter((p) => !p.hostNetwork);
      const present = new Map<string, Pod>(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      for (let step = 0; step < 12; step++) {
        const changes: Changes[number][] = [];
        const p = r.pick([...present.values()]);
        if (r.chance(0.4)) {
          present.delete(`${p.namespace}/${p.name}`);
          changes.push({ kind: 'pod-removed', namespace: p.namespace, name: p.name });
        } else {
          const relabelled: Pod = { ...p, labels: r.pick(pods).labels };
          present.set(`${p.namespace}/${p.name}`, relabelled);
          changes.push({ kind: 'pod', pod: relabelled });
        }
        await Promise.all([again.applyChanges(changes), viaJson.applyChanges(changes)]);
        expect(await listing(names[0]!), `step ${step}`).toEqual(await listing(names[1]!));
      }
      const changed = randomCluster(new Rng(seed + 50), SHAPE);
      const next: Cluster = { ...cluster, pods: [...present.values()], networkPolicies: changed.networkPolicies, clusterPolicies: changed.clusterPolicies };
      await Promise.all([again.apply(next), viaJson.apply(next)]);
      expect(await listing(names[0]!)).toEqual(await listing(names[1]!));
      // every change of the netlink backend went over netlink; the oracle's only through libnftables
      expect(a.calls.json).toBe(0);
      expect(a.calls.program).toBeGreaterThanOrEqual(3);
      expect(b.calls.program + b.calls.elements).toBe(0);
      await again.remove();
      await viaJson.remove();
    }, 240_000);
  }

  it('a refused program changes nothing and names the refused command', async () => {
    const ns = netnsPath(names[0]!);
    const native = nativeNftables();
    const tbl = { family: 'inet', table: 'palisade' };
    const base = lowerDocument({ nftables: [{ add: { table: { family: 'inet', name: 'palisade' } } }, { add: { set: { ...tbl, name: 'h1v4', type: 'ipv4_addr' } } }] })!;
    native.nftApplyProgram!(base.words, base.strings, base.elementKeys, base.elementFlags, base.elementTimeoutMs, ns);
    const before = await listing(names[0]!);
    const bad = lowerDocument({
      nftables: [
        { add: { element: { ...tbl, name: 'h1v4', elem: ['10.244.1.1'] } } },
        { add: { chain: { ...tbl, name: 'c1' } } },
        { delete: { chain: { ...tbl, name: 'absent' } } },
      ],
    })!;
    let error: unknown;
    try {
      native.nftApplyProgram!(bad.words, bad.strings, bad.elementKeys, bad.elementFlags, bad.elementTimeoutMs, ns);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ERR_PALISADE_NFT', errno: 2 });
    expect((error as { nftError: string }).nftError).toContain('delete chain absent');
    expect(await listing(names[0]!)).toEqual(before);
    // a malformed program is refused before anything is sent
    expect(() => native.nftApplyProgram!(Uint32Array.of(99), [], new Uint8Array(0), new Uint8Array(0), new Uint32Array(0), ns)).toThrow(
      expect.objectContaining({ code: 'ERR_PALISADE_NFT_INPUT' }) as Error,
    );
    native.nftRun(JSON.stringify({ nftables: [{ delete: { table: { family: 'inet', name: 'palisade' } } }] }), ns);
  });
});
