/**
 * The differential harness (habit 9, "every fast path has an oracle"): apply a cluster's policies
 * with a real enforcing backend in the node namespace, probe every ordered address pair for
 * every planned protocol and port (IPv4 and IPv6), and compare each observed outcome with the
 * reference evaluator's verdict. Shared by the nftables, nfqueue and eBPF backends: each is driven
 * through the one `Enforcement` (compiler + Backend), as in production (`enforceAndCompare`).
 *
 * Observed allow = the probe's handshake/echo/INIT got through ("open"); observed deny = "dropped"
 * (timeout or a local EPERM). "refused"/"error" are faults of the topology or harness and are
 * reported as mismatches too, so a broken harness cannot pass.
 *
 * Retry: a probe the reference allows but that was not "open" is probed once more with a longer
 * timeout (default 1.5 s, fresh source port) before it counts as a mismatch, because on a loaded
 * 2-vCPU machine a 400 ms wait is sometimes too short. The retry can only turn a false "dropped"
 * into "open"; a flow that got through where the reference denies is never retried: a leak is a
 * leak. The retry's new source port is judged by the reference again (a source-port rule, S25,
 * may decide it differently from the first try's).
 *
 * Cost: one apply + one probe batch (~1 s for a few hundred probes on 2 vCPUs).
 */
import type { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import type { FlowVerdict } from '../../src/model/verdict.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { pairSpecs } from './matrix.js';
import type { PortPlan, ProbeFleet, ProbeOutcome, ProbeSpec } from '../../src/topology/probe.js';
import type { Topology } from '../../src/topology/topology.js';
import type { LearnedSnapshot } from '../../src/model/fqdn.js';

export interface Mismatch {
  readonly spec: ProbeSpec;
  readonly srcPort: number;
  readonly expected: 'allow' | 'deny';
  readonly observed: ProbeOutcome;
  readonly detail?: string;
  /** the reference's reasons, for the failure message */
  readonly why: string;
}

export interface DifferentialReport {
  readonly probes: number;
  readonly allowed: number;
  readonly denied: number;
  /** probes run a second time (reference allow, first outcome not open) */
  readonly retried: number;
  /** the first outcomes of the retried probes, for diagnosing a slow or lossy harness */
  readonly firstTries: readonly { readonly spec: ProbeSpec; readonly outcome: ProbeOutcome; readonly detail?: string }[];
  readonly mismatches: readonly Mismatch[];
  /** every probe as finally judged: its source port and the reference's verdict */
  readonly judged: readonly { readonly spec: ProbeSpec; readonly srcPort: number; readonly verdict: FlowVerdict }[];
  readonly durationMs: number;
}

/** Probe every pair under whatever the backend enforces now, and compare with the reference. */
export async function compareWithReference(
  cluster: Cluster,
  topology: Topology,
  fleet: ProbeFleet,
  ports: PortPlan,
  opts: { timeoutMs?: number; retryTimeoutMs?: number; specs?: readonly ProbeSpec[]; learned?: LearnedSnapshot } = {},
): Promise<DifferentialReport> {
  const t0 = Date.now();
  // `learned`: the DNS-learned addresses the backend was given (docs/fqdn.md), for `domainNames` peers
  const reference = new ReferenceEvaluator(cluster, opts.learned ? { learned: opts.learned } : {});
  const specs = opts.specs ?? pairSpecs(topology.hosts, ports);
  const results = await fleet.probe(specs, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
  const judge = (r: (typeof results)[number]) =>
    reference.evaluate({ src: r.spec.src, dst: r.spec.dst, protocol: r.spec.protocol, dstPort: r.spec.dstPort, srcPort: r.srcPort });
  const verdicts = results.map(judge);
  const again = results.flatMap((r, i) => (verdicts[i]!.verdict === 'allow' && r.outcome !== 'open' ? [i] : []));
  const firstTries = again.map((i) => ({ spec: results[i]!.spec, outcome: results[i]!.outcome, ...(results[i]!.detail ? { detail: results[i]!.detail } : {}) }));
  if (again.length > 0) {
    const second = await fleet.probe(
      again.map((i) => results[i]!.spec),
      { timeoutMs: opts.retryTimeoutMs ?? 1500 },
    );
    again.forEach((i, k) => {
      results[i] = second[k]!;
      verdicts[i] = judge(second[k]!);
    });
  }
  const mismatches: Mismatch[] = [];
  let allowed = 0;
  let denied = 0;
  for (const [i, r] of results.entries()) {
    const v = verdicts[i]!;
    if (v.verdict === 'allow') allowed++;
    else denied++;
    const ok = (v.verdict === 'allow' && r.outcome === 'open') || (v.verdict === 'deny' && r.outcome === 'dropped');
    if (!ok) {
      const why = [v.egress, v.ingress].map((d) => `${d.direction}:${d.verdict}/${d.tier}/${d.reason}${d.rule ? `(${d.rule.policy.name}#${d.rule.ruleIndex})` : ''}`).join(' ');
      mismatches.push({ spec: r.spec, srcPort: r.srcPort, expected: v.verdict, observed: r.outcome, ...(r.detail ? { detail: r.detail } : {}), why });
    }
  }
  const judged = results.map((r, i) => ({ spec: r.spec, srcPort: r.srcPort, verdict: verdicts[i]! }));
  return { probes: results.length, allowed, denied, retried: again.length, firstTries, mismatches, judged, durationMs: Date.now() - t0 };
}

/**
 * Put `cluster` in force through the one Enforcement (compiler + Backend), then compare: the way
 * every backend's differential test drives its backend (no adapters).
 */
export async function enforceAndCompare(
  enforcement: Enforcement,
  cluster: Cluster,
  topology: Topology,
  fleet: ProbeFleet,
  ports: PortPlan,
  opts: { timeoutMs?: number } = {},
): Promise<DifferentialReport> {
  await enforcement.apply(cluster);
  return compareWithReference(cluster, topology, fleet, ports, opts);
}

export function formatMismatch(m: Mismatch): string {
  const s = m.spec;
  return `${s.protocol} ${s.src.text}:${m.srcPort} -> ${s.dst.text}:${s.dstPort} expected ${m.expected}, observed ${m.observed}${m.detail ? ` (${m.detail})` : ''} [${m.why}]`;
}
