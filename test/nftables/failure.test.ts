/**
 * The Backend failure rule for nftables, on the real kernel in a test network namespace: an install
 * and an applyDeltas are made to fail mid-transaction (the `beforeTransaction` hook appends two
 * commands: add a set, then delete an element it does not hold; libnftables cannot know that, the
 * kernel refuses it with ENOENT after processing everything before it, so it refuses the whole
 * batch; pod deltas go over netlink instead (backends/nftables/set-batch.ts), where the
 * `beforeSetElements` hook appends the delete of an element the batch's first set does not hold:
 * ENOENT on the last message must refuse the whole batch). Asserted each time:
 *   (a) the kernel table is exactly what it was (`list table` before == after, handles and all);
 *   (b) the backend's memory is unchanged: the next successful update produces a table equal to a
 *       fresh install of the same policy in the same namespace (listing normalized: no handles,
 *       counters zeroed, objects in a fixed order);
 *   (c) through Enforcement the compiler rolled back (current() generation and rule set unchanged)
 *       and real traffic still matches the reference evaluator for the OLD policy, not the new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import type { NftDocument } from '../../backends/nftables/nft-json.js';
import { batchSize, withElement, type SetElementBatch } from '../../backends/nftables/set-batch.js';
import { parseCidr } from '../../src/model/ip.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import { compareWithReference, enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { run } from '../../src/topology/exec.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';

const cluster = (policies: string): Cluster => scenarioCluster(policies, 'failure.test.yaml');
const GOOD = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
const OTHER = cluster(SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!);

const T = { family: 'inet', table: 'palisade' } as const;
const POISON = [
  { add: { set: { ...T, name: 'poison', type: 'ipv4_addr' } } },
  { delete: { element: { ...T, name: 'poison', elem: ['10.244.254.1'] } } },
];

/** A missing element of the batch's first set's family, deleted at the batch's end. */
function poisonBatch(batch: SetElementBatch): SetElementBatch {
  const family = batch.family[0] === 6 ? 6 : 4;
  const missing = parseCidr(family === 4 ? '10.244.254.1/32' : 'fd00:10:244:fe::1/128')!;
  return withElement(batch, 'delete', batch.sets[batch.setIndex[0]!]!, missing);
}

/** A backend whose transactions can be made to fail, and the documents (or netlink batches) it sent while poisoned. */
function poisonable(netnsPath: string): { backend: NftablesBackend; poison: (on: boolean) => void; refused: NftDocument[]; refusedBatches: SetElementBatch[] } {
  let on = false;
  const refused: NftDocument[] = [];
  const refusedBatches: SetElementBatch[] = [];
  const backend = new NftablesBackend({
    netnsPath,
    beforeTransaction: (doc) => {
      if (!on) return doc;
      refused.push(doc);
      return { nftables: [...doc.nftables, ...POISON] };
    },
    beforeSetElements: (batch) => {
      if (!on) return batch;
      refusedBatches.push(batch);
      return poisonBatch(batch);
    },
  });
  return { backend, poison: (v) => void (on = v), refused, refusedBatches };
}

/** `list table` without what differs between equal tables: handles, counter values, object order. */
function normalized(list: unknown): unknown {
  const items = ((list as { nftables: Record<string, Record<string, unknown>>[] }).nftables ?? []).filter((x) => !('metainfo' in x));
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'handle') continue;
        o[k] = k === 'counter' ? { packets: 0, bytes: 0 } : k === 'elem' && Array.isArray(x) ? x.map((e) => JSON.stringify(strip(e))).sort() : strip(x);
      }
      return o;
    }
    return v;
  };
  const of = (kind: string): Record<string, unknown>[] => items.filter((x) => kind in x).map((x) => strip(x[kind]) as Record<string, unknown>);
  const byName = (a: Record<string, unknown>, b: Record<string, unknown>): number => String(a.name).localeCompare(String(b.name));
  const rules = of('rule');
  const chains = of('chain').sort(byName);
  return {
    table: of('table'),
    chains,
    sets: of('set').sort(byName),
    // rule order inside a chain is the policy; across chains it is only listing order
    rules: chains.map((c) => rules.filter((r) => r.chain === c.name)),
  };
}

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'cni-plugins'))('nftables: a transaction the kernel refuses leaves kernel and memory as they were', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let rootBefore = '';
  const list = async (): Promise<string> => (await run('ip', ['netns', 'exec', topo!.nodeNs, 'nft', '-j', 'list', 'table', 'inet', 'palisade'])).stdout;

  /** Remove what is there, then install `c` with a fresh backend: the reference table for `c`. */
  async function freshTable(c: Cluster): Promise<unknown> {
    const fresh = new Enforcement(new NftablesBackend({ netnsPath: topo!.nodeNetnsPath }));
    await fresh.remove();
    await fresh.apply(c);
    return normalized(JSON.parse(await list()));
  }

  beforeAll(async () => {
    rootBefore = (await run('nft', ['-j', 'list', 'ruleset'])).stdout;
    topo = await buildTopology(GOOD, { tag: 'nftfail' });
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    await new NftablesBackend({ netnsPath: topo!.nodeNetnsPath }).remove().catch(() => undefined);
    await fleet?.stop();
    await topo?.destroy();
  });

  it('the poison is refused by the kernel on its own (it is a real kernel rejection)', async () => {
    const r = await run('ip', ['netns', 'exec', topo!.nodeNs, 'nft', '-j', JSON.stringify({ nftables: [{ add: { table: { family: 'inet', name: 'palisade' } } }, ...POISON] })], { allowFailure: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/No such file or directory/);
  });

  it('install: refused whole; (a) kernel, (b) memory, (c) compiler and traffic as before', async () => {
    const { backend, poison, refused, refusedBatches } = poisonable(topo!.nodeNetnsPath);
    const enforcement = new Enforcement(backend);
    const first = await enforceAndCompare(enforcement, GOOD, topo!, fleet!, PORTS);
    expect(first.mismatches.map(formatMismatch)).toEqual([]);
    const before = await list();
    const inForce = enforcement.current()!;
    const rules = backend.ruleSet;

    poison(true);
    await expect(enforcement.apply(OTHER)).rejects.toMatchObject({ code: 'ERR_PALISADE_NFT' });
    poison(false);
    // the refused transaction was a whole-table replacement (the install path)
    expect(refused).toHaveLength(1);
    expect(refused[0]!.nftables.some((x) => 'flush' in x)).toBe(true);

    // (a)
    expect(await list()).toBe(before);
    // (c) the compiler rolled back; the old policy is what the packets see, the new one is not
    expect(enforcement.current()!.generation).toBe(inForce.generation);
    expect(enforcement.current()!.ruleSet).toBe(inForce.ruleSet);
    expect(backend.ruleSet).toBe(rules);
    const old = await compareWithReference(GOOD, topo!, fleet!, PORTS);
    expect(old.mismatches.map(formatMismatch)).toEqual([]);
    expect(old.denied).toBeGreaterThan(0);
    const notNew = await compareWithReference(OTHER, topo!, fleet!, PORTS, { retryTimeoutMs: 400 });
    expect(notNew.mismatches.length).toBeGreaterThan(0);

    // (b) the next install starts from what the kernel holds: same table as a fresh install
    const r = await enforcement.apply(OTHER);
    expect([r.update, r.kind]).toEqual(['install', 'full']);
    expect(enforcement.current()!.generation).toBe(inForce.generation + 1);
    const afterRecovery = normalized(JSON.parse(await list()));
    const now = await compareWithReference(OTHER, topo!, fleet!, PORTS);
    expect(now.mismatches.map(formatMismatch)).toEqual([]);
    expect(await freshTable(OTHER)).toEqual(afterRecovery);
  });

  it('applyDeltas: refused whole; (a) kernel, (b) memory, (c) compiler and traffic as before', async () => {
    const { backend, poison, refused, refusedBatches } = poisonable(topo!.nodeNetnsPath);
    const enforcement = new Enforcement(backend);
    const first = await enforceAndCompare(enforcement, GOOD, topo!, fleet!, PORTS);
    expect(first.mismatches.map(formatMismatch)).toEqual([]);
    // relabel web away: the same rules, web leaves the set db's allow rule uses
    const web = GOOD.pods.find((p) => p.name === 'web')!;
    const moved: Cluster = { ...GOOD, pods: GOOD.pods.map((p) => (p === web ? { ...web, labels: { app: 'elsewhere' } } : p)) };
    const before = await list();
    const inForce = enforcement.current()!;

    poison(true);
    // web's sets are plain sets: the change is one netlink batch, and the kernel refused its last
    // element (the appended delete), so none of it
    const error: unknown = await enforcement.apply(moved).then(
      () => undefined,
      (e: unknown) => e,
    );
    poison(false);
    expect(refused).toHaveLength(0);
    expect(refusedBatches).toHaveLength(1);
    expect(batchSize(refusedBatches[0]!)).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'ERR_PALISADE_NFT', errno: 2, element: batchSize(refusedBatches[0]!) });

    // (a)
    expect(await list()).toBe(before);
    // (c) the compiler's resolution is back where the kernel is: web still has its label
    expect(enforcement.current()!.generation).toBe(inForce.generation);
    expect(enforcement.current()!.cluster().pods.find((p) => p.name === 'web')!.labels).toEqual(web.labels);
    const old = await compareWithReference(GOOD, topo!, fleet!, PORTS);
    expect(old.mismatches.map(formatMismatch)).toEqual([]);

    // (b) the same change again now goes through as the same deltas, and the table equals a
    // fresh install of the moved cluster
    const r = await enforcement.apply(moved);
    expect([r.update, r.kind]).toEqual(['deltas', 'deltas']);
    const afterRecovery = normalized(JSON.parse(await list()));
    const now = await compareWithReference(moved, topo!, fleet!, PORTS);
    expect(now.mismatches.map(formatMismatch)).toEqual([]);
    // the change is visible on the wire (web -> db:5432 allowed only with the label)
    expect(now.allowed).toBeLessThan(old.allowed);
    expect(await freshTable(moved)).toEqual(afterRecovery);
  });

  it('never touched the root namespace firewall', async () => {
    expect((await run('nft', ['-j', 'list', 'ruleset'])).stdout).toBe(rootBefore);
  });
});
