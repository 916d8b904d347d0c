/**
 * `palisade check`: is one flow allowed, and which tier, policy and rule decided each direction.
 * Reads manifests, resolves `--from`/`--to` (a pod or an address) to one
 * address family, asks the engine chosen in engine.ts, prints the explanation or the FlowVerdict
 * as JSON.
 */
import { readFileSync } from 'node:fs';
import { parseSnapshot, type LearnedSnapshot } from '../model/fqdn.js';
import { ReferenceEvaluator } from '../reference/evaluate.js';
import { formatFlags, parseArgs, parsePort, UsageError } from './args.js';
import { parseEngine, selectEvaluator, ENGINE_FLAG } from './engine.js';
import { formatFlowVerdict } from './explain-text.js';
import { EXIT_INVALID, EXIT_OK, type Io } from './io.js';
import { toJson } from './json.js';
import { loadForCommand } from './load.js';
import { parseEndpointArg, parseFamily, parseOutput, parseProtocol, type EndpointArg } from './options.js';
import type { Family, IpAddr } from '../model/ip.js';
import { pickPair } from '../matrix/endpoints.js';
import { walkFlow, type FlowWalk } from '../reference/walkthrough.js';

export const CHECK_FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories (repeatable)' },
  from: { kind: 'string', value: 'SRC', help: 'source: namespace/pod or an IP address' },
  to: { kind: 'string', value: 'DST', help: 'destination: namespace/pod or an IP address' },
  port: { kind: 'string', value: 'N', help: 'destination port (default 80)' },
  'src-port': { kind: 'string', value: 'N', help: 'source port (rules with a sourcePort; default: none, which no sourcePort matches)' },
  protocol: { kind: 'string', value: 'P', help: 'TCP, UDP or SCTP (default TCP)' },
  'ip-family': { kind: 'string', value: '4|6', help: 'address family for pods (default: the first both ends have, IPv4 first)' },
  output: { kind: 'string', short: 'o', value: 'text|json', help: 'output format (default text); json prints the FlowVerdict' },
  engine: ENGINE_FLAG,
  learned: { kind: 'string', value: 'FILE', help: 'a learned-address snapshot (JSON, docs/fqdn.md): domainNames peers match its live entries; the note names the name and answer' },
  help: { kind: 'boolean', short: 'h', help: 'show this help' },
} as const;

export const CHECK_HELP = `Usage: palisade check -f PATH... --from SRC --to DST [--port N] [--src-port N] [--protocol P] [--ip-family 4|6] [-o text|json]

Is a new connection from SRC to DST allowed? Prints the verdict and, for each direction
(egress at the source, ingress at the destination), the deciding tier, policy, rule and action,
the Pass rules met on the way, the NetworkPolicies that isolate the pod, and notes. When a
PalisadeClusterNetworkPolicy rule decided, also what matched: the subject (the node a pod runs
on, for a nodeSelector) and the peer (the node, the group: why an address is in the Cluster entity).

${formatFlags(CHECK_FLAGS)}

Exit status: 0 the question was answered (allowed or denied), 2 invalid input, 1 internal error.
`;

export async function runCheck(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(argv, CHECK_FLAGS);
  if (a.help) {
    io.out(CHECK_HELP);
    return EXIT_OK;
  }
  if (a.from === undefined || a.to === undefined) throw new UsageError('--from and --to are required');
  const port = a.port === undefined ? 80 : parsePort(a.port, '--port');
  const srcPort = a['src-port'] === undefined ? undefined : parsePort(a['src-port'], '--src-port');
  const protocol = a.protocol === undefined ? 'TCP' : parseProtocol(a.protocol);
  const family = parseFamily(a['ip-family']);
  const output = parseOutput(a.output);
  const engine = parseEngine(a.engine);

  const { cluster } = loadForCommand(a.file, io);
  if (!cluster) return EXIT_INVALID;

  const from = parseEndpointArg(a.from, '--from', cluster);
  const to = parseEndpointArg(a.to, '--to', cluster);
  const { src, dst } = choosePair(from, to, family);

  let learned: LearnedSnapshot | undefined;
  if (a.learned !== undefined) {
    try {
      learned = parseSnapshot(JSON.parse(readFileSync(a.learned, 'utf8')));
    } catch (e) {
      io.err(`palisade check: --learned ${a.learned}: ${(e as Error).message}
`);
      return EXIT_INVALID;
    }
  }
  // the reference names which learned name and answer matched (the native engine answers the same verdict)
  const evaluator = learned ? new ReferenceEvaluator(cluster, { learned }) : selectEvaluator(engine, cluster, io);
  const flow = { src, dst, protocol, dstPort: port, ...(srcPort !== undefined ? { srcPort } : {}) };
  const verdict = evaluator.evaluate(flow);
  io.out(output === 'json' ? toJson(verdict) : formatFlowVerdict(verdict) + extensionMatches(walkFlow(cluster, flow)));
  return EXIT_OK;
}

/**
 * For a direction a PalisadeClusterNetworkPolicy rule decided: why its subject selects the pod
 * and which peer matched, as the walkthrough words them ("it runs on node node-1 {...}, which
 * matches {...}", "10.96.0.10 is a cluster address (a Service address)"). Empty otherwise.
 */
function extensionMatches(w: FlowWalk): string {
  const lines: string[] = [];
  for (const d of [w.egress, w.ingress]) {
    for (const t of d.tiers) {
      for (const p of t.policies) {
        if (p.policy.kind !== 'PalisadeClusterNetworkPolicy') continue;
        const rule = p.rules.find((r) => r.outcome === 'decides' || r.outcome === 'passes');
        if (!rule) continue;
        lines.push(`${d.direction} matched by ${p.policy.name} ${d.direction}[${rule.index}]:`, `  subject: ${p.why}`);
        const peer = rule.peers.find((x) => x.ok);
        if (peer) lines.push(`  peer: ${peer.text}: ${peer.why}`);
        const port = rule.ports.find((x) => x.ok);
        if (port) lines.push(`  ports: ${port.why}`);
      }
    }
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** One address per end, of one family: the requested one, or the first both ends have (IPv4 first). */
export function choosePair(from: EndpointArg, to: EndpointArg, family?: Family): { src: IpAddr; dst: IpAddr } {
  const pair = pickPair(from, to, family);
  if (pair) return pair;
  const has = (e: EndpointArg): string => e.addrs.map((x) => `IPv${x.family}`).join('+') || 'none';
  throw new UsageError(
    family !== undefined
      ? `no IPv${family} address for ${[from, to].filter((e) => !e.addrs.some((x) => x.family === family)).map((e) => e.label).join(' and ')}`
      : `${from.label} (${has(from)}) and ${to.label} (${has(to)}) have no address family in common`,
  );
}
