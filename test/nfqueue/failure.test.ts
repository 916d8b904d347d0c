/**
 * The Backend failure rule for nfqueue (src/enforce/backend.ts), on real packets in a test
 * topology: an install, an applyDeltas and a first install are made to fail midway, and each time
 *   (a) the kernel and the loop still enforce the previous state: real traffic matches the
 *       reference evaluator for the OLD cluster (and the old and new clusters differ on the probes,
 *       so this can fail);
 *   (b) the backend's memory is unchanged: its rule set and the loop's snapshot version are as
 *       before, and the next (unpoisoned) update works and matches the reference for the new cluster;
 *   (c) through Enforcement the compiler rolled back: generation and rule set as before, and the
 *       retried inventory change is still staged as set deltas.
 * Failures: the native build refusing a publish (the `beforePublish` fault hook appends a
 * malformed set edit: the C++ wire decoder rejects the whole input, ERR_PALISADE_SET_EDIT), and the
 * steering of IPv6 failing after IPv4's was installed (`beforeSteering`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NfqueueBackend, type NfqueueOptions } from '../../backends/nfqueue/backend.js';
import { installSteering, removeSteering } from '../../backends/nfqueue/steer.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { compareWithReference, enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { run } from '../../src/topology/exec.js';
import { pairSpecs } from '../harness/matrix.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';

const cluster = (policies: string): Cluster => scenarioCluster(policies, 'nfq-failure.test.yaml');
const GOOD = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
const OTHER = cluster(SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!);
/** GOOD with shop/web relabelled: same rules, web leaves the `app: web` set (web -> db:sql now denied) */
const RELABELED: Cluster = { ...GOOD, pods: GOOD.pods.map((p) => (p.namespace === 'shop' && p.name === 'web' ? { ...p, labels: { app: 'web-old' } } : p)) };
const FIRST_QUEUE = 4460;
/** one edit word with op 0: the native decoder's "malformed set edit" */
const MALFORMED_EDIT = new Uint32Array([0, 0, 0, 0, 0, 0]);

/** A backend whose publishes can be made to fail natively, and what it was asked to publish while poisoned. */
function poisonable(netnsPath: string, extra: NfqueueOptions = {}) {
  let on = false;
  const refused: string[] = [];
  const backend = new NfqueueBackend({
    netnsPath,
    firstQueue: FIRST_QUEUE,
    ...extra,
    faults: {
      beforePublish: (kind, edits) => {
        if (!on) return edits;
        refused.push(kind);
        const out = new Uint32Array(edits.length + MALFORMED_EDIT.length);
        out.set(edits);
        out.set(MALFORMED_EDIT, edits.length);
        return out;
      },
    },
  });
  return { backend, poison: (v: boolean) => void (on = v), refused };
}

describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('nfqueue: a failed update leaves the loop, the kernel and memory as they were', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  const iptables = async (bin: string): Promise<string> => (await run('ip', ['netns', 'exec', topo!.nodeNs, bin, '-w', '-S'])).stdout;
  const boundQueues = async (): Promise<number[]> =>
    (await run('ip', ['netns', 'exec', topo!.nodeNs, 'cat', '/proc/net/netfilter/nfnetlink_queue'])).stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  /** the number of probes on which the reference verdicts of two clusters differ */
  const differing = (a: Cluster, b: Cluster): number => {
    const ra = new ReferenceEvaluator(a);
    const rb = new ReferenceEvaluator(b);
    return pairSpecs(topo!.hosts, PORTS).filter((s) => {
      const f = { src: s.src, dst: s.dst, protocol: s.protocol, dstPort: s.dstPort };
      return ra.evaluate(f).verdict !== rb.evaluate(f).verdict;
    }).length;
  };
  const expectEnforces = async (c: Cluster): Promise<void> => {
    const r = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(r.mismatches.map(formatMismatch)).toEqual([]);
    expect(r.denied).toBeGreaterThan(0);
  };

  beforeAll(async () => {
    topo = await buildTopology(GOOD, { tag: 'nfqfail' });
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    if (topo) await removeSteering({ netnsPath: topo.nodeNetnsPath }).catch(() => undefined);
    await fleet?.stop();
    await topo?.destroy();
  });

  it('the clusters differ on the probes (so "still the old policy" is a real check)', () => {
    expect(differing(GOOD, OTHER)).toBeGreaterThan(0);
    expect(differing(GOOD, RELABELED)).toBeGreaterThan(0);
  });

  it('install refused by the native build: (a) old policy on the wire, (b) memory, (c) compiler as before; the retry installs', async () => {
    const { backend, poison, refused } = poisonable(topo!.nodeNetnsPath);
    const enforcement = new Enforcement(backend);
    try {
      const first = await enforceAndCompare(enforcement, GOOD, topo!, fleet!, PORTS);
      expect(first.mismatches.map(formatMismatch)).toEqual([]);
      const inForce = enforcement.current()!;
      const rules = backend.ruleSet;
      const version = backend.loopStats()!.snapshotVersion;

      poison(true);
      await expect(enforcement.apply(OTHER)).rejects.toMatchObject({ code: 'ERR_PALISADE_NFQUEUE_RULES', message: expect.stringMatching(/ERR_PALISADE_SET_EDIT/) });
      expect(refused).toEqual(['engine']);
      // (b) memory and the loop's snapshot
      expect(backend.ruleSet).toBe(rules);
      expect(backend.loopStats()!.snapshotVersion).toBe(version);
      // (c) the compiler rolled back
      expect(enforcement.current()!.generation).toBe(inForce.generation);
      expect(enforcement.current()!.ruleSet).toBe(inForce.ruleSet);
      // (a) real packets: the old policy answers
      await expectEnforces(GOOD);

      poison(false);
      const retry = await enforcement.apply(OTHER);
      expect(retry).toMatchObject({ update: 'install', kind: 'full', generation: inForce.generation + 1 });
      expect(backend.loopStats()!.snapshotVersion).toBe(version + 1);
      await expectEnforces(OTHER);
    } finally {
      await backend.remove();
    }
  });

  it('applyDeltas refused by the native build: (a) old membership on the wire, (b) memory, (c) compiler as before; the retry is still deltas', async () => {
    const { backend, poison, refused } = poisonable(topo!.nodeNetnsPath);
    const enforcement = new Enforcement(backend);
    try {
      await enforcement.apply(GOOD);
      await expectEnforces(GOOD);
      const inForce = enforcement.current()!;
      const version = backend.loopStats()!.snapshotVersion;

      poison(true);
      await expect(enforcement.apply(RELABELED)).rejects.toMatchObject({ code: 'ERR_PALISADE_NFQUEUE_RULES' });
      expect(refused).toEqual(['membership']);
      expect(backend.ruleSet).toBe(inForce.ruleSet);
      expect(backend.loopStats()!.snapshotVersion).toBe(version);
      expect(enforcement.current()!.generation).toBe(inForce.generation);
      // the compiler's resolver is back: web is in the `app: web` set again
      const web = enforcement.current()!.cluster().pods.find((p) => p.name === 'web')!;
      expect(web.labels).toEqual({ app: 'web' });
      await expectEnforces(GOOD);

      poison(false);
      const retry = await enforcement.apply(RELABELED);
      expect(retry).toMatchObject({ update: 'deltas', kind: 'deltas', generation: inForce.generation + 1 });
      expect(backend.ruleSet).toBe(inForce.ruleSet);
      await expectEnforces(RELABELED);
    } finally {
      await backend.remove();
    }
  });

  it('first install: IPv6 steering fails after IPv4 was installed: nothing stays (no steering, queues unbound, nothing compiled); the retry works', async () => {
    await removeSteering({ netnsPath: topo!.nodeNetnsPath });
    const before = { v4: await iptables('iptables-nft'), v6: await iptables('ip6tables-nft') };
    let failV6 = true;
    const seen: number[] = [];
    const backend = new NfqueueBackend({
      netnsPath: topo!.nodeNetnsPath,
      firstQueue: FIRST_QUEUE,
      faults: {
        beforeSteering: (family) => {
          seen.push(family);
          if (family === 6 && failV6) throw Object.assign(new Error('injected: ip6tables-nft-restore failed'), { code: 'ERR_PALISADE_STEER_COMMAND' });
        },
      },
    });
    const enforcement = new Enforcement(backend);
    try {
      await expect(enforcement.apply(GOOD)).rejects.toMatchObject({ code: 'ERR_PALISADE_STEER_COMMAND' });
      expect(seen).toEqual([4, 6]); // IPv4's steering was in place when IPv6's failed
      expect({ v4: await iptables('iptables-nft'), v6: await iptables('ip6tables-nft') }).toEqual(before);
      expect(await boundQueues()).not.toContain(FIRST_QUEUE);
      expect(backend.ruleSet).toBeUndefined();
      expect(backend.loopStats()).toBeUndefined();
      expect(enforcement.current()).toBeUndefined();
      // nothing enforces: a flow GOOD denies gets through
      const [denied] = pairSpecs(topo!.hosts, PORTS).filter((s) => new ReferenceEvaluator(GOOD).evaluate({ src: s.src, dst: s.dst, protocol: s.protocol, dstPort: s.dstPort }).verdict === 'deny' && s.protocol === 'TCP');
      expect((await fleet!.probe([denied!]))[0]!.outcome).toBe('open');

      failV6 = false;
      const r = await enforceAndCompare(enforcement, GOOD, topo!, fleet!, PORTS);
      expect(r.mismatches.map(formatMismatch)).toEqual([]);
      expect(enforcement.current()!.generation).toBe(1);
    } finally {
      await backend.remove();
    }
  });

  it('first install failing over steering a previous enforcer left (--keep-steering) puts that steering back as it was', async () => {
    await installSteering({ firstQueue: 4470, queueCount: 2, failOpen: true, acceptMark: 0x00400000, hooks: ['FORWARD', 'INPUT', 'OUTPUT'], families: [4, 6] }, { netnsPath: topo!.nodeNetnsPath });
    const before = { v4: await iptables('iptables-nft'), v6: await iptables('ip6tables-nft') };
    expect(before.v4).toContain('--queue-balance 4470:4471');
    const backend = new NfqueueBackend({
      netnsPath: topo!.nodeNetnsPath,
      firstQueue: FIRST_QUEUE,
      faults: { beforeSteering: (f) => void (f === 6 && (() => { throw new Error('injected'); })()) },
    });
    try {
      await expect(new Enforcement(backend).apply(GOOD)).rejects.toThrow('injected');
      expect({ v4: await iptables('iptables-nft'), v6: await iptables('ip6tables-nft') }).toEqual(before);
      expect(await boundQueues()).not.toContain(FIRST_QUEUE);
    } finally {
      await removeSteering({ netnsPath: topo!.nodeNetnsPath });
    }
  });
});
