/**
 * The enforcing half of `palisade demo` (root only): builds the node topology of the example
 * (src/topology: one namespace is the node, one per pod wired by the real CNI ptp + host-local
 * plugins), puts the policies in force with the nftables backend inside the node namespace,
 * reads the deny log (NFLOG), sends one real probe per cell of the expected matrix, prints the
 * observed matrix beside the expected one and a few deny-log lines, and removes everything.
 *
 * Invariants (network safety, as in the tests): addresses only in 10.244.0.0/16 and
 * fd00:10:244::/48 (buildTopology refuses others); namespaces named pal-demo-<pid>-*; nothing
 * touches the root namespace's firewall (the nftables table lives in the node namespace, which is
 * deleted); every probe is bounded (one packet exchange, 500 ms); clean-up runs in `finally`,
 * also after an error or SIGINT/SIGTERM (a signal stops the run after the step in progress,
 * every step being bounded in time).
 * Cost: ~2-4 s for the built-in example (4 pods, 3 ports).
 */
import { createBackend } from '../../backends/registry.js';
import { Enforcement } from '../enforce/enforcement.js';
import { formatDenyLine, type DenyRecord } from '../enforce/deny-log.js';
import { matrixCells, type Matrix } from '../matrix/index.js';
import { parseIp } from '../model/ip.js';
import type { Cluster, Protocol } from '../model/types.js';
import { ProbeFleet, type PortPlan, type ProbeSpec } from '../topology/probe.js';
import { buildTopology, type Topology } from '../topology/topology.js';
import { cellKey, formatSideBySide, mismatches, observedOf, type Observed } from './demo-compare.js';
import { EXIT_INTERNAL, EXIT_OK, type Io } from './io.js';

export interface EnforcedDemoOptions {
  /** namespace tag (pal-<tag>-<pid>-*); default "demo" */
  readonly tag?: string;
  /** NFLOG group inside the node namespace; default 100 */
  readonly nflogGroup?: number;
  /** how long a probe waits for its answer; default 500 ms */
  readonly probeTimeoutMs?: number;
  /** deny-log lines printed; default 5 */
  readonly denyLines?: number;
}

export const EXIT_MISMATCH = 1;
export const EXIT_INTERRUPTED = 130;

class Interrupted extends Error {}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function portPlanOf(expected: Matrix): PortPlan {
  const plan: Record<Protocol, number[]> = { TCP: [], UDP: [], SCTP: [] };
  for (const g of expected.grids) if (!plan[g.protocol].includes(g.port)) plan[g.protocol].push(g.port);
  return plan;
}

export async function runEnforcedDemo(cluster: Cluster, expected: Matrix, io: Io, opts: EnforcedDemoOptions = {}): Promise<number> {
  const t0 = performance.now();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = sig;
    io.err(`palisade demo: ${sig}: stopping after the current step and cleaning up\n`);
  };
  const step = (): void => {
    if (interrupted) throw new Interrupted(interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let enforcement: Enforcement | undefined;
  let logTimer: NodeJS.Timeout | undefined;
  const denied: DenyRecord[] = [];
  try {
    const pods = cluster.pods.filter((p) => !p.hostNetwork && p.ips.length > 0).length;
    io.out(`Building the node: 1 namespace for the node, ${pods} for the pods (CNI ptp + host-local) ... `);
    topo = await buildTopology(cluster, { tag: opts.tag ?? 'demo' });
    const ports = portPlanOf(expected);
    fleet = await ProbeFleet.start(topo, ports);
    io.out(`done (${seconds(performance.now() - t0)}; namespaces ${topo.nodeNs.replace(/-node$/, '')}-*)\n`);
    step();

    enforcement = new Enforcement(await createBackend('nftables', { netnsPath: topo.nodeNetnsPath, logDenied: true, nflogGroup: opts.nflogGroup ?? 100 }));
    enforcement.drainDenied(); // bind the NFLOG group before the first packet
    const r = await enforcement.apply(cluster);
    io.out(`Enforcing with nftables in the node namespace: ${r.summary} (${r.ms.toFixed(1)} ms)\n`);
    const reader = enforcement;
    logTimer = setInterval(() => denied.push(...reader.drainDenied()), 100);
    step();

    const cells = matrixCells(expected);
    const specs: ProbeSpec[] = cells.map((c) => ({ protocol: c.protocol, src: parseIp(c.srcIp)!, dst: parseIp(c.dstIp)!, dstPort: c.port }));
    const tProbe = performance.now();
    const results = await fleet.probe(specs, { timeoutMs: opts.probeTimeoutMs ?? 500 });
    const observed = new Map<string, { observed: Observed; detail?: string }>();
    results.forEach((res, i) => observed.set(cellKey(cells[i]!), { observed: observedOf(res.outcome), ...(res.detail !== undefined ? { detail: res.detail } : {}) }));
    io.out(`Probing: ${specs.length} real ${Object.keys(ports).filter((p) => ports[p as Protocol].length > 0).join('/')} connections, one per cell (${seconds(performance.now() - tProbe)})\n\n`);
    await new Promise((res) => setTimeout(res, 150)); // the last denied packets reach the log
    clearInterval(logTimer);
    logTimer = undefined;
    denied.push(...enforcement.drainDenied());

    io.out(`Expected (reference evaluator) and observed (nftables, real probes); "." allowed, "X" denied, "?" probe fault:\n\n`);
    io.out(formatSideBySide(expected, observed));
    const wrong = mismatches(expected, observed);
    if (wrong.length === 0) io.out(`\nobserved = expected: all ${cells.length} flows\n`);
    else {
      io.out(`\nobserved != expected: ${wrong.length} of ${cells.length} flows differ:\n`);
      for (const m of wrong) io.out(`  ${cellKey(m.cell)}: expected ${m.cell.verdict}, observed ${m.observed ?? 'nothing'}${m.detail ? ` (${m.detail})` : ''}\n`);
    }

    const shown = opts.denyLines ?? 5;
    io.out(`\nDeny log (NFLOG, ${denied.length} line${denied.length === 1 ? '' : 's'}${denied.length > shown ? `, first ${shown}` : ''}):\n`);
    for (const d of denied.slice(0, shown)) io.out(`${formatDenyLine(d)}\n`);
    return wrong.length === 0 ? EXIT_OK : EXIT_MISMATCH;
  } catch (e) {
    // a terminal's Ctrl-C also reaches the probe agents and CNI plugins, which then fail the step
    if (e instanceof Interrupted || interrupted) return EXIT_INTERRUPTED;
    io.err(`\npalisade demo: enforcing failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_INTERNAL;
  } finally {
    if (logTimer) clearInterval(logTimer);
    const tClean = performance.now();
    await enforcement?.backend.close().catch(() => undefined); // the namespace goes away below
    await fleet?.stop();
    await topo?.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (topo) io.out(`\nCleaned up: probes stopped, namespaces deleted (${seconds(performance.now() - tClean)}); total ${seconds(performance.now() - t0)}\n`);
  }
}
