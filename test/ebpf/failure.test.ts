/**
 * The Backend failure rule for eBPF, on the real kernel in a test network namespace. Kernel writes
 * are made to fail through the instance's fault hooks (backends/ebpf/instance.ts InstanceFaults):
 * `afterWrite` throws AFTER the kernel accepted a write, so the kernel holds part of the update
 * when the apply fails, the hardest case for the rule. Asserted each time:
 *   (a) the kernel: the active generation is the one before, and for the in-place path the
 *       address maps (every entry, both generations, dumped with bpftool) are exactly as before;
 *   (b) the backend's memory: the same change, retried without the fault, goes through the same
 *       path and real traffic then matches the reference for it;
 *   (c) through Enforcement the compiler rolled back (generation and rule set unchanged) and real
 *       traffic still matches the reference evaluator for the OLD policy, not the new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import type { EbpfBackend } from '../../backends/ebpf/backend.js';
import type { WriteOp } from '../../backends/ebpf/instance.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import { compareWithReference, enforceAndCompare } from '../harness/differential.js';
import { run } from '../../src/topology/exec.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { ebpfMismatches, testEbpfBackend } from './backend.js';

const cluster = (policies: string): Cluster => scenarioCluster(policies, 'ebpf-failure.test.yaml');
const GOOD = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
const OTHER = cluster(SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!);
const ADDRESS_MAPS = ['pal_addr_exact4', 'pal_addr_exact', 'pal_addr_lpm4', 'pal_addr_lpm6'];

/** A backend whose next `op` fails after the kernel applied it, and what it failed. */
function faulty(netnsPath: string, tag: string): { backend: EbpfBackend; failAfter: (op: WriteOp | undefined) => void; failed: WriteOp[] } {
  let armed: WriteOp | undefined;
  const failed: WriteOp[] = [];
  const backend = testEbpfBackend(tag, netnsPath, {
    faults: {
      afterWrite(op) {
        if (op !== armed) return;
        armed = undefined;
        failed.push(op);
        throw Object.assign(new Error(`injected failure after ${op}`), { code: 'ERR_TEST_INJECTED' });
      },
    },
  });
  return { backend, failAfter: (op) => void (armed = op), failed };
}

/** Every entry of the address maps of the instance pinned at `pinDir`, as bpftool prints them. */
async function addressMaps(pinDir: string): Promise<string> {
  const dumps: string[] = [];
  for (const m of ADDRESS_MAPS) {
    const r = await run('bpftool', ['-j', 'map', 'dump', 'pinned', `${pinDir}/${m}`]);
    const entries = JSON.parse(r.stdout) as unknown[];
    dumps.push(`${m}: ${entries.map((e) => JSON.stringify(e)).sort().join('\n')}`);
  }
  return dumps.join('\n');
}

describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'))('eBPF: an apply that fails part-way leaves kernel and memory as they were', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  const cleanup: EbpfBackend[] = [];

  beforeAll(async () => {
    topo = await buildTopology(GOOD, { tag: 'ebpffail' });
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    for (const b of cleanup) await b.remove().catch(() => undefined);
    await fleet?.stop();
    await topo?.destroy();
  });

  it('install: fails after the inactive generation was written; the flip never happened', async () => {
    const { backend, failAfter, failed } = faulty(topo!.nodeNetnsPath, 'fail-install');
    cleanup.push(backend);
    const enforcement = new Enforcement(backend);
    const first = await enforceAndCompare(enforcement, GOOD, topo!, fleet!, PORTS);
    expect(ebpfMismatches(first)).toEqual([]);
    const gen = backend.instance.native.activeGeneration();
    const inForce = enforcement.current()!;
    const rules = backend.ruleSet;

    failAfter('writeAddresses'); // the last table write before the flip
    await expect(enforcement.apply(OTHER)).rejects.toMatchObject({ code: 'ERR_TEST_INJECTED' });
    expect(failed).toEqual(['writeAddresses']);

    // (a) the active generation did not move
    expect(backend.instance.native.activeGeneration()).toEqual(gen);
    // (c) compiler and backend memory rolled back; packets see the old policy, not the new one
    expect(enforcement.current()!.generation).toBe(inForce.generation);
    expect(enforcement.current()!.ruleSet).toBe(inForce.ruleSet);
    expect(backend.ruleSet).toBe(rules);
    const old = await compareWithReference(GOOD, topo!, fleet!, PORTS);
    expect(ebpfMismatches(old)).toEqual([]);
    expect(old.denied).toBeGreaterThan(0);
    const notNew = await compareWithReference(OTHER, topo!, fleet!, PORTS, { retryTimeoutMs: 400 });
    expect(ebpfMismatches(notNew).length).toBeGreaterThan(0);

    // (b) the retry installs the new policy
    const r = await enforcement.apply(OTHER);
    expect([r.update, r.kind]).toEqual(['install', 'full']);
    expect(backend.instance.native.activeGeneration().gen).toBe(gen.gen ^ 1);
    const now = await compareWithReference(OTHER, topo!, fleet!, PORTS);
    expect(ebpfMismatches(now)).toEqual([]);
  });

  it('applyDeltas in place: fails after address entries were written; they are written back', async () => {
    const { backend, failAfter, failed } = faulty(topo!.nodeNetnsPath, 'fail-deltas');
    cleanup.push(backend);
    const enforcement = new Enforcement(backend);
    const first = await enforceAndCompare(enforcement, GOOD, topo!, fleet!, PORTS);
    expect(ebpfMismatches(first)).toEqual([]);
    // relabel web away: the same rules, web's address moves to another class
    const web = GOOD.pods.find((p) => p.name === 'web')!;
    const moved: Cluster = { ...GOOD, pods: GOOD.pods.map((p) => (p === web ? { ...web, labels: { app: 'elsewhere' } } : p)) };
    const pinDir = backend.instance.pinDir;
    const before = await addressMaps(pinDir);
    const gen = backend.instance.native.activeGeneration();
    const inForce = enforcement.current()!;

    failAfter('writeAddresses');
    await expect(enforcement.apply(moved)).rejects.toMatchObject({ code: 'ERR_TEST_INJECTED' });
    expect(failed).toEqual(['writeAddresses']);

    // (a) the entries the failed update wrote were written back: every address map as before
    expect(await addressMaps(pinDir)).toBe(before);
    expect(backend.instance.native.activeGeneration()).toEqual(gen);
    // (c) the compiler's resolution is back where the kernel is: web still has its label
    expect(enforcement.current()!.generation).toBe(inForce.generation);
    expect(enforcement.current()!.cluster().pods.find((p) => p.name === 'web')!.labels).toEqual(web.labels);
    const old = await compareWithReference(GOOD, topo!, fleet!, PORTS);
    expect(ebpfMismatches(old)).toEqual([]);

    // (b) the same change again goes through in place, and the wire follows it
    const r = await enforcement.apply(moved);
    expect([r.update, r.kind]).toEqual(['deltas', 'deltas']);
    expect(backend.instance.native.activeGeneration()).toEqual(gen);
    expect(await addressMaps(pinDir)).not.toBe(before);
    const now = await compareWithReference(moved, topo!, fleet!, PORTS);
    expect(ebpfMismatches(now)).toEqual([]);
    expect(now.allowed).toBeLessThan(old.allowed);
  });
});
