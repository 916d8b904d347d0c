/**
 * One deny record from every backend, on real packets: the same denied flows (pod to pod, every
 * pair the reference evaluator denies, TCP, UDP and SCTP, IPv4 and IPv6) are sent through
 * nftables, eBPF and nfqueue in turn, each enforcing the same policy in the same node namespace,
 * and each backend's deny lines (src/enforce/deny-record.ts through Enforcement.drainDenied) must
 * be the same set of lines once `time` and `backend` are dropped. The policy mixes an Admin deny,
 * a Baseline deny and a NetworkPolicy isolation default deny (named by its isolating policies), so
 * every naming rule is exercised; the test also checks that each kind of line occurred.
 * Each backend gets a fresh probe fleet, so the probes reuse the same source ports: the 5-tuples,
 * and so the lines, are comparable field for field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../backends/registry.js';
import { BACKEND_NAMES, type BackendName } from '../../src/enforce/backend.js';
import type { DenyRecord } from '../../src/enforce/deny-log.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { pairSpecs } from '../harness/matrix.js';
import { ProbeFleet, type ProbeSpec } from '../../src/topology/probe.js';
import { requires } from '../harness/prerequisites.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT } from '../ebpf/backend.js';

const POLICIES = [
  SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!,
  SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!,
].join('\n---\n');
const CLUSTER: Cluster = scenarioCluster(POLICIES, 'deny-lines.test.yaml');

/** A deny line without what differs by design between backends. */
const comparable = (r: DenyRecord): string => {
  const { time: _time, backend: _backend, ...rest } = r;
  return JSON.stringify(rest, Object.keys(rest).sort());
};

async function denyLinesOf(name: BackendName, topo: Topology, specs: readonly ProbeSpec[]): Promise<string[]> {
  const backend = await createBackend(name, {
    netnsPath: topo.nodeNetnsPath,
    logDenied: true,
    ...(name === 'ebpf' ? { tag: `denylines-${process.pid}`, pinRoot: TEST_PIN_ROOT } : {}),
    ...(name === 'nftables' ? { nflogGroup: 4711 } : {}),
  });
  const enforcement = new Enforcement(backend);
  const fleet = await ProbeFleet.start(topo, PORTS);
  try {
    enforcement.drainDenied(); // bind the log before the first packet
    await enforcement.apply(CLUSTER);
    enforcement.drainDenied(); // nothing before the probes counts
    const results = await fleet.probe(specs, { timeoutMs: 400 });
    expect(results.filter((r) => r.outcome === 'open').map((r) => `${r.spec.protocol} ${r.spec.src.text} -> ${r.spec.dst.text}:${r.spec.dstPort}`)).toEqual([]);
    const lines = new Set<string>();
    // events reach user space asynchronously: drain until two polls in a row bring nothing new
    for (let quiet = 0, i = 0; quiet < 2 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const before = lines.size;
      for (const r of enforcement.drainDenied()) lines.add(comparable(r));
      quiet = lines.size === before ? quiet + 1 : 0;
    }
    return [...lines].sort();
  } finally {
    await fleet.stop();
    await enforcement.remove().catch(() => undefined);
    await backend.close().catch(() => undefined);
  }
}

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'bpffs', 'bpf', 'nfqueue', 'iptables-nft', 'cni-plugins'))('one deny line from every backend for the same denied flows', () => {
  let topo: Topology | undefined;
  let specs: ProbeSpec[] = [];
  const lines = new Map<BackendName, string[]>();

  beforeAll(async () => {
    topo = await buildTopology(CLUSTER, { tag: 'denylines' });
    const reference = new ReferenceEvaluator(CLUSTER);
    const pods = topo.hosts.filter((h) => h.kind === 'pod');
    // pod sources only: a packet the node itself sends is refused locally, not logged alike
    specs = pairSpecs(pods, PORTS).filter((s) => reference.evaluate({ src: s.src, dst: s.dst, protocol: s.protocol, dstPort: s.dstPort }).verdict === 'deny');
  }, 120_000);
  afterAll(async () => {
    await topo?.destroy();
  });

  for (const name of BACKEND_NAMES) {
    it(`${name}: every denied flow gets a line`, async () => {
      const got = await denyLinesOf(name, topo!, specs);
      lines.set(name, got);
      // one line per flow (the dedup window is per 5-tuple), and at least one per denied spec
      expect(got.length).toBeGreaterThanOrEqual(specs.length);
    }, 120_000);
  }

  it('the three backends print the same lines but for time and backend', () => {
    const [first, ...rest] = BACKEND_NAMES;
    const base = lines.get(first)!;
    console.log(`[deny-lines] ${specs.length} denied specs, ${base.length} lines per backend; e.g. ${base[0]}`);
    expect(base.length).toBeGreaterThan(0);
    for (const name of rest) expect({ backend: name, lines: lines.get(name) }).toEqual({ backend: name, lines: base });
    const records = base.map((l) => JSON.parse(l) as DenyRecord);
    // every naming rule occurred: a rule of the Admin tier, of the Baseline tier, and the
    // isolation default deny named by its isolating policies
    expect(records.some((r) => r.tier === 'Admin' && r.rule !== undefined)).toBe(true);
    expect(records.some((r) => r.tier === 'Baseline')).toBe(true);
    expect(records.some((r) => r.tier === 'NetworkPolicy' && r.isolatedBy !== undefined && r.isolatedBy.length > 0)).toBe(true);
  });
});
