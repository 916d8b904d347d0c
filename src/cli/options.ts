/**
 * Flag values shared by several commands: protocols, IP family, output format, endpoints.
 * Each parser throws UsageError (exit 2) with the flag named.
 */
import { parseIp, type Family, type IpAddr } from '../model/ip.js';
import { PROTOCOLS, type Cluster, type Pod, type Protocol } from '../model/types.js';
import { nodesByName, podAddresses, podLabel } from '../matrix/endpoints.js';
import { parsePortList, splitCommas, UsageError } from './args.js';
import { parseEngine, type EngineName } from './engine.js';
import type { MatrixQuery } from '../matrix/index.js';

export function parseProtocol(text: string, flag = '--protocol'): Protocol {
  const p = text.toUpperCase();
  if ((PROTOCOLS as readonly string[]).includes(p)) return p as Protocol;
  throw new UsageError(`${flag}: ${JSON.stringify(text)} is not one of ${PROTOCOLS.join(', ')}`);
}

export function parseProtocolList(values: readonly string[], flag = '--protocol'): Protocol[] {
  return splitCommas(values).map((v) => parseProtocol(v, flag));
}

export function parseFamily(text: string | undefined): Family | undefined {
  if (text === undefined) return undefined;
  if (text === '4' || text === '6') return Number(text) as Family;
  throw new UsageError(`--ip-family: ${JSON.stringify(text)} is not 4 or 6`);
}

export type OutputFormat = 'text' | 'json' | 'html';
/** `-o`: text (default), json, and html where the command offers it. */
export function parseOutput<F extends OutputFormat = 'text' | 'json'>(
  text: string | undefined,
  allowed: readonly F[] = ['text', 'json'] as F[],
): F {
  if (text === undefined) return 'text' as F;
  if ((allowed as readonly string[]).includes(text)) return text as F;
  throw new UsageError(`-o: ${JSON.stringify(text)} is not ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`);
}

/** An endpoint named on the command line: a pod (`namespace/name`) or an address. */
export type EndpointArg =
  | { readonly kind: 'pod'; readonly pod: Pod; readonly label: string; readonly addrs: readonly IpAddr[] }
  | { readonly kind: 'address'; readonly label: string; readonly addrs: readonly IpAddr[] };

export function parseEndpointArg(text: string, flag: string, cluster: Cluster): EndpointArg {
  const ip = parseIp(text);
  if (ip) return { kind: 'address', label: ip.text, addrs: [ip] };
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (!m) throw new UsageError(`${flag}: ${JSON.stringify(text)} is neither namespace/pod nor an IP address`);
  const [, ns, name] = m;
  const pod = cluster.pods.find((p) => p.namespace === ns && p.name === name);
  if (!pod) throw new UsageError(`${flag}: no pod ${text} in the manifests`);
  const addrs = podAddresses(pod, nodesByName(cluster));
  if (addrs.length === 0) throw new UsageError(`${flag}: pod ${text} has no IP address (status.podIPs is empty)`);
  return { kind: 'pod', pod, label: podLabel(pod), addrs };
}

export function parseAddressList(values: readonly string[], flag: string): IpAddr[] {
  return splitCommas(values).map((v) => {
    const ip = parseIp(v);
    if (!ip) throw new UsageError(`${flag}: ${JSON.stringify(v)} is not an IP address`);
    return ip;
  });
}

/**
 * The flags `matrix` and `diff` share: which grids (ports, protocols, family), which output,
 * which engine, and extra external addresses (checked against --ip-family).
 */
export function parseGridFlags(a: {
  readonly port: readonly string[];
  readonly protocol: readonly string[];
  readonly 'ip-family'?: string | undefined;
  readonly output?: string | undefined;
  readonly engine?: string | undefined;
  readonly external: readonly string[];
  readonly 'src-port'?: string | undefined;
}): { query: MatrixQuery; output: OutputFormat; engine: EngineName; external: IpAddr[] } {
  const ports = a.port.length > 0 ? parsePortList(a.port, '--port') : [80];
  const protocols = a.protocol.length > 0 ? parseProtocolList(a.protocol) : (['TCP'] as const);
  const family = parseFamily(a['ip-family']);
  const output = parseOutput(a.output, ['text', 'json', 'html'] as const);
  const engine = parseEngine(a.engine);
  const external = parseAddressList(a.external, '--external');
  if (family !== undefined) {
    const other = external.find((ip) => ip.family !== family);
    if (other) throw new UsageError(`--external: ${other.text} is not an IPv${family} address (--ip-family ${family})`);
  }
  const srcPort = a['src-port'] !== undefined ? parsePortList([a['src-port']], '--src-port') : [];
  if (srcPort.length > 1) throw new UsageError('--src-port: one port');
  const query: MatrixQuery = {
    ports: [...new Set(ports)],
    protocols: [...new Set(protocols)],
    ...(family !== undefined ? { family } : {}),
    ...(srcPort[0] !== undefined ? { srcPort: srcPort[0] } : {}),
  };
  return { query, output, engine, external };
}
