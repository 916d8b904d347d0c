/**
 * Staged and audit lines from every backend, on real packets (src/enforce/observe.ts through
 * Enforcement.drainObserved). The enforced policy is the deny-lines scenario (Admin deny and pass,
 * Baseline deny, a NetworkPolicy isolation), with every ingress rule of the NetworkPolicy
 * `allow-web-to-db`-style policy audited; a random set of staged policies (test/harness/random.ts,
 * seeded) sits beside it. Every pod pair on every planned port goes through nftables, eBPF and
 * nfqueue in turn, and:
 * - staged policies change no verdict: every probe's outcome is the reference evaluator's verdict
 *   for the ENFORCED policy;
 * - every staged line's `verdict` is the reference's enforced verdict in its direction and its
 *   `wouldBe` the reference's verdict with the staged policies in force (withStagedInForce);
 * - every (flow, direction) whose two reference verdicts differ, in a direction the packet
 *   reaches (ingress only once egress allowed), has a staged line;
 * - audit lines name only audited allow rules, for flows the reference allows;
 * - the three backends print the same lines but for time and backend.
 * The rate limit is raised here so that no line is held back (which lines a bucket holds back
 * depends on arrival order); test/enforce/observe.test.ts tests the limit itself.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import { createBackend } from '../../backends/registry.js';
import { BACKEND_NAMES, type BackendName } from '../../src/enforce/backend.js';
import type { ObservedRecord } from '../../src/enforce/deny-log.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import { withStagedInForce } from '../../src/model/staged.js';
import type { Cluster } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { pairSpecs } from '../harness/matrix.js';
import { ProbeFleet, type ProbeSpec } from '../../src/topology/probe.js';
import { withRandomPolicies } from '../harness/random.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT } from '../ebpf/backend.js';

const SEED = Number(process.env.PALISADE_SEED ?? 1407);
const POLICIES = [
  SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!,
  SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!,
].join('\n---\n');
const BASE: Cluster = scenarioCluster(POLICIES, 'observed-lines.test.yaml');
const random = withRandomPolicies(BASE, SEED, { networkPolicies: 2, clusterPolicies: 2 });
const CLUSTER: Cluster = {
  ...BASE,
  // the NetworkPolicy's allow rules are audited
  networkPolicies: BASE.networkPolicies.map((p) => (p.ingress.length > 0 ? { ...p, audit: { ingress: p.ingress.map((_, i) => i), egress: [] } } : p)),
  staged: {
    networkPolicies: random.networkPolicies.map((p) => ({ ...p, name: `staged-${p.name}`, staged: true as const })),
    clusterPolicies: random.clusterPolicies.map((p) => ({ ...p, name: `staged-${p.name}`, staged: true as const })),
  },
};

const comparable = (r: ObservedRecord): string => {
  const { time: _time, backend: _backend, ...rest } = r;
  return JSON.stringify(rest, Object.keys(rest).sort());
};
const flowKey = (src: string, dst: string, protocol: string, dstPort: number | undefined, direction: string): string => `${protocol} ${src} -> ${dst}:${dstPort ?? ''} ${direction}`;

async function observedLinesOf(name: BackendName, topo: Topology, specs: readonly ProbeSpec[], enforced: ReferenceEvaluator): Promise<string[]> {
  const backend = await createBackend(name, {
    netnsPath: topo.nodeNetnsPath,
    logDenied: true,
    ...(name === 'ebpf' ? { tag: `observed-${process.pid}`, pinRoot: TEST_PIN_ROOT } : {}),
    ...(name === 'nftables' ? { nflogGroup: 4712 } : {}),
  });
  const enforcement = new Enforcement(backend, { observedRatePerSecond: 1e6, observedBurst: 1e6 });
  const fleet = await ProbeFleet.start(topo, PORTS);
  try {
    enforcement.drainDenied();
    await enforcement.apply(CLUSTER);
    expect(enforcement.current()!.observation.subjects.length).toBeGreaterThan(0);
    enforcement.drainObserved();
    // the same 5-tuples go through each backend in turn: UDP conntrack entries of the run before
    // would make these flows established (not new) for nftables and nfqueue, so they expire in 1 s
    // here (per-netns sysctls of the test's node namespace) and the run waits for that
    execFileSync('nsenter', [`--net=${topo.nodeNetnsPath}`, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_udp_timeout=1', 'net.netfilter.nf_conntrack_udp_timeout_stream=1']);
    await new Promise((r) => setTimeout(r, 2500));
    const results = await fleet.probe(specs, { timeoutMs: 400 });
    const verdictOf = (s: ProbeSpec): 'allow' | 'deny' => enforced.evaluate({ src: s.src, dst: s.dst, protocol: s.protocol, dstPort: s.dstPort }).verdict;
    // a slow first allowed probe gets one more try (as test/harness/differential.ts)
    const retry = results.filter((r) => r.outcome !== 'open' && verdictOf(r.spec) === 'allow').map((r) => r.spec);
    const again = retry.length > 0 ? await fleet.probe(retry, { timeoutMs: 800 }) : [];
    const open = new Set([...results, ...again].filter((r) => r.outcome === 'open').map((r) => r.spec));
    const wrong = specs.filter((s) => open.has(s) !== (verdictOf(s) === 'allow')).map((s) => `${s.protocol} ${s.src.text} -> ${s.dst.text}:${s.dstPort} reference ${verdictOf(s)}`);
    expect(wrong).toEqual([]);
    const lines = new Set<string>();
    for (let quiet = 0, i = 0; quiet < 2 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const before = lines.size;
      for (const r of enforcement.drainObserved()) lines.add(comparable(r));
      quiet = lines.size === before ? quiet + 1 : 0;
    }
    const stats = await enforcement.stats();
    expect(stats.observed?.length ?? 0).toBeGreaterThan(0);
    return [...lines].sort();
  } finally {
    await fleet.stop();
    await enforcement.remove().catch(() => undefined);
    await backend.close().catch(() => undefined);
  }
}

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'bpffs', 'bpf', 'nfqueue', 'iptables-nft', 'cni-plugins'))('staged and audit lines from every backend on real traffic', () => {
  let topo: Topology | undefined;
  let specs: ProbeSpec[] = [];
  const enforced = new ReferenceEvaluator(CLUSTER);
  const wouldBe = new ReferenceEvaluator(withStagedInForce(CLUSTER));
  const lines = new Map<BackendName, string[]>();

  beforeAll(async () => {
    topo = await buildTopology(CLUSTER, { tag: 'observed' });
    specs = pairSpecs(topo.hosts.filter((h) => h.kind === 'pod'), PORTS).filter((s) => s.src.text !== s.dst.text);
  }, 120_000);
  afterAll(async () => {
    await topo?.destroy();
  });

  for (const name of BACKEND_NAMES) {
    it(`${name}: verdicts unchanged by staged policies; staged lines say what the reference says with them in force`, async () => {
      const got = await observedLinesOf(name, topo!, specs, enforced);
      lines.set(name, got);
      const records = got.map((l) => JSON.parse(l) as ObservedRecord);
      const seen = new Set<string>();
      for (const r of records) {
        const flow = { src: parse(r.src), dst: parse(r.dst), protocol: r.protocol as 'TCP', dstPort: r.dstPort ?? 0 };
        const e = enforced.evaluate(flow)[r.direction];
        if (r.staged) {
          const w = wouldBe.evaluate(flow)[r.direction];
          expect({ line: r, verdict: r.verdict, wouldBe: r.wouldBe }).toEqual({ line: r, verdict: e.verdict, wouldBe: w.verdict });
          seen.add(flowKey(r.src, r.dst, r.protocol, r.dstPort, r.direction));
        }
        if (r.audit) {
          expect({ line: r, verdict: e.verdict, rule: e.rule?.policy.name }).toEqual({ line: r, verdict: 'allow', rule: r.policy.split('/').pop() });
        }
      }
      const missing: string[] = [];
      for (const s of specs) {
        const flow = { src: s.src, dst: s.dst, protocol: s.protocol, dstPort: s.dstPort };
        const e = enforced.evaluate(flow);
        const w = wouldBe.evaluate(flow);
        for (const d of ['egress', 'ingress'] as const) {
          if (d === 'ingress' && e.egress.verdict === 'deny') continue; // never reaches ingress
          if (e[d].verdict !== w[d].verdict && !seen.has(flowKey(s.src.text, s.dst.text, s.protocol, s.dstPort, d))) missing.push(flowKey(s.src.text, s.dst.text, s.protocol, s.dstPort, d));
        }
      }
      expect(missing).toEqual([]);
    }, 180_000);
  }

  it('the three backends print the same staged and audit lines but for time and backend', () => {
    const [first, ...rest] = BACKEND_NAMES;
    const base = lines.get(first)!;
    const records = base.map((l) => JSON.parse(l) as ObservedRecord);
    const differ = records.filter((r) => r.staged && r.wouldBe !== r.verdict).length;
    console.log(`[observed-lines] seed ${SEED}: ${specs.length} specs, ${base.length} lines per backend (${differ} staged lines that change a verdict, ${records.filter((r) => r.audit).length} audit lines); e.g. ${base.find((l) => l.includes('"wouldBe"'))}`);
    expect(records.some((r) => r.staged)).toBe(true);
    expect(records.some((r) => r.audit)).toBe(true);
    for (const name of rest) expect({ backend: name, lines: lines.get(name) }).toEqual({ backend: name, lines: base });
  });
});

function parse(text: string): IpAddr {
  const ip = parseIp(text);
  if (!ip) throw new Error(`bad address ${text}`);
  return ip;
}
