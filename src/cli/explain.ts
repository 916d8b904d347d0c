/**
 * `palisade explain` (policy-assistant's query-target and walkthrough), built on the
 * reference evaluator, the specification:
 * - `--pod ns/name`: every policy that selects the pod, per direction and tier, its rules in the
 *   pod's terms, and what the pod may send and receive on the ports asked (over the truth table's
 *   endpoints).
 * - `--from A --to B [--port N --protocol P] --walkthrough`: the flow through every tier, rule by
 *   rule, with every peer and port entry checked and why it did or did not match. Without
 *   `--walkthrough`, the short explanation of `palisade check`.
 * `--staged` answers with every staged policy in force (model/staged.ts).
 */
import { computeMatrix, matrixEndpoints, type Matrix } from '../matrix/index.js';
import { withStagedInForce } from '../model/staged.js';
import type { Cluster, Protocol } from '../model/types.js';
import { ReferenceEvaluator } from '../reference/evaluate.js';
import { queryTarget } from '../reference/query-target.js';
import { walkFlow } from '../reference/walkthrough.js';
import { formatFlags, parseArgs, parsePortList, UsageError } from './args.js';
import { choosePair } from './check.js';
import { formatFlowVerdict } from './explain-text.js';
import { formatPodTarget, formatWalkthrough, type PodReach, type Reach } from './explain-walk-text.js';
import { EXIT_INVALID, EXIT_OK, type Io } from './io.js';
import { toJson } from './json.js';
import { loadForCommand } from './load.js';
import { parseEndpointArg, parseFamily, parseOutput, parseProtocolList } from './options.js';

export const EXPLAIN_FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories (repeatable)' },
  pod: { kind: 'string', value: 'NS/NAME', help: 'explain a pod: the policies that select it and what it may send and receive' },
  from: { kind: 'string', value: 'SRC', help: 'explain a flow from SRC (namespace/pod or an IP address)' },
  to: { kind: 'string', value: 'DST', help: 'to DST (namespace/pod or an IP address)' },
  port: { kind: 'list', value: 'N[,N...]', help: 'destination port (default 80); with --pod, the ports to show reachability for' },
  protocol: { kind: 'list', value: 'P[,P...]', help: 'TCP, UDP or SCTP (default TCP); with --pod, several' },
  'ip-family': { kind: 'string', value: '4|6', help: 'address family (default: the first both ends have, IPv4 first)' },
  walkthrough: { kind: 'boolean', help: 'the flow through every tier, rule by rule, including the rules that did not match and why' },
  staged: { kind: 'boolean', help: 'answer with every staged policy in force' },
  output: { kind: 'string', short: 'o', value: 'text|json', help: 'output format (default text)' },
  help: { kind: 'boolean', short: 'h', help: 'show this help' },
} as const;

export const EXPLAIN_HELP = `Usage: palisade explain -f PATH... --pod NS/NAME [--port N,...] [--protocol P,...] [-o text|json]
       palisade explain -f PATH... --from SRC --to DST [--port N] [--protocol P] [--walkthrough] [-o text|json]

--pod: every policy that selects the pod, per direction and tier in evaluation order (Admin by
priority, the NetworkPolicies that isolate it, Baseline), each rule in the pod's terms (action,
peers, ports), what happens to a flow no rule matches, and which endpoints of the inventory it
may send to and receive from on the ports asked.
--walkthrough: the flow through every tier; in each, every policy (does it select the pod, and
why), and in those that do, every rule with each peer and port entry checked ("✓"/"✗" and why),
until one decides. Without --walkthrough: the short explanation of palisade check.
Answers come from the reference evaluator (the specification). Staged policies are not in force
unless --staged.

${formatFlags(EXPLAIN_FLAGS)}
`;

export async function runExplain(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(argv, EXPLAIN_FLAGS);
  if (a.help) {
    io.out(EXPLAIN_HELP);
    return EXIT_OK;
  }
  const output = parseOutput(a.output);
  const family = parseFamily(a['ip-family']);
  const ports = a.port.length > 0 ? [...new Set(parsePortList(a.port, '--port'))] : [80];
  const protocols: Protocol[] = a.protocol.length > 0 ? [...new Set(parseProtocolList(a.protocol))] : ['TCP'];
  const flowMode = a.from !== undefined || a.to !== undefined;
  if (a.pod !== undefined && flowMode) throw new UsageError('give either --pod or --from/--to, not both');
  if (a.pod === undefined && !flowMode) throw new UsageError('--pod NS/NAME or --from SRC --to DST is required');
  if (flowMode && (a.from === undefined || a.to === undefined)) throw new UsageError('--from and --to go together');
  if (!flowMode && a.walkthrough) throw new UsageError('--walkthrough explains a flow: give --from and --to');
  if (flowMode && (ports.length > 1 || protocols.length > 1)) throw new UsageError('a flow has one --port and one --protocol');

  const loaded = loadForCommand(a.file, io).cluster;
  if (!loaded) return EXIT_INVALID;
  const cluster = a.staged ? withStagedInForce(loaded) : loaded;

  if (a.pod !== undefined) {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(a.pod);
    if (!m) throw new UsageError(`--pod: ${JSON.stringify(a.pod)} is not namespace/name`);
    const pod = cluster.pods.find((p) => p.namespace === m[1] && p.name === m[2]);
    if (!pod) throw new UsageError(`--pod: no pod ${a.pod} in the manifests`);
    const target = queryTarget(cluster, pod);
    const reach = podReach(cluster, a.pod, ports, protocols, family);
    io.out(output === 'json' ? toJson({ ...target, ...reach }) : formatPodTarget(target, reach));
    return EXIT_OK;
  }

  const from = parseEndpointArg(a.from!, '--from', cluster);
  const to = parseEndpointArg(a.to!, '--to', cluster);
  const { src, dst } = choosePair(from, to, family);
  const flow = { src, dst, protocol: protocols[0]!, dstPort: ports[0]! };
  if (a.walkthrough) {
    const w = walkFlow(cluster, flow);
    io.out(output === 'json' ? toJson(w) : formatWalkthrough(w));
  } else {
    const v = new ReferenceEvaluator(cluster).evaluate(flow);
    io.out(output === 'json' ? toJson(v) : formatFlowVerdict(v));
  }
  return EXIT_OK;
}

/** What the pod may send to and receive from every other endpoint of the truth table. */
export function podReach(cluster: Cluster, label: string, ports: readonly number[], protocols: readonly Protocol[], family?: 4 | 6): PodReach {
  const m: Matrix = computeMatrix(new ReferenceEvaluator(cluster), matrixEndpoints(cluster), { ports, protocols, ...(family !== undefined ? { family } : {}) });
  const at = m.endpoints.findIndex((e) => e.label === label);
  const sends: Reach[] = [];
  const receives: Reach[] = [];
  for (const g of m.grids) {
    const out = { allowed: [] as string[], denied: [] as string[] };
    const inn = { allowed: [] as string[], denied: [] as string[] };
    m.endpoints.forEach((e, j) => {
      if (j === at) return;
      const s = g.rows[at]?.[j];
      if (s) (s.verdict === 'allow' ? out.allowed : out.denied).push(e.label);
      const r = g.rows[j]?.[at];
      if (r) (r.verdict === 'allow' ? inn.allowed : inn.denied).push(e.label);
    });
    sends.push({ port: g.port, protocol: g.protocol, ...out });
    receives.push({ port: g.port, protocol: g.protocol, ...inn });
  }
  return { sends, receives };
}
