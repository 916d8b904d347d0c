/**
 * Seeded random clusters, policy sets, flows and inventory changes for the differential tests.
 *
 * Everything is built directly in the normalized model (model/types.ts) within the invariants
 * validation + normalization guarantee (masked CIDRs, `except` strictly inside its `cidr`, ports
 * 1..65535 with endPort >= port, named ports never beside nodes/networks/domainNames peers, the
 * namespace name label), so the engine and the reference see exactly the same Cluster.
 * Addresses: pods in 10.244.0.0/16 and fd00:10:244::/48 (dual-stack, v4-only, v6-only), nodes
 * in 10.244.250.0/24 and fd00:10:244:fa::/64, externals outside the cluster ranges.
 */
import { BANP_PRIORITY, NAMESPACE_NAME_LABEL } from '../../src/model/types.js';
import type {
  Cluster,
  ClusterPeer,
  ClusterPolicy,
  ClusterPolicyKind,
  ClusterProtocolMatch,
  ClusterRule,
  ClusterSubject,
  ContainerPort,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  Node,
  Pod,
  Protocol,
  SelectorRequirement,
  Service,
  ServiceRef,
} from '../../src/model/types.js';
import { serviceAddresses } from '../../src/model/entities.js';
import { makeCidr, parseCidr, parseIp, type Cidr, type IpAddr } from '../../src/model/ip.js';
import type { Flow } from '../../src/model/flow.js';
import type { EngineChange } from '../../src/engine/changes.js';

/** mulberry32: small, fast, seeded. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    const n = this.int(0, Math.min(max, xs.length));
    const pool = [...xs];
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0] as T);
    return out;
  }
}

const SRC = { file: '<random>' };
const ip = (t: string): IpAddr => parseIp(t) as IpAddr;
const cidr = (t: string): Cidr => parseCidr(t) as Cidr;

const NS_LABELS: Record<string, string[]> = { team: ['a', 'b', 'c'], env: ['prod', 'dev'] };
const POD_LABELS: Record<string, string[]> = { app: ['web', 'db', 'api', 'cache'], tier: ['fe', 'be'], canary: ['true'] };
const NODE_LABELS: Record<string, string[]> = { zone: ['z1', 'z2'], role: ['worker', 'infra'] };
const NAMED: [string, Protocol, number[]][] = [
  ['web', 'TCP', [80, 8080]],
  ['dns', 'UDP', [53, 5353]],
  ['metrics', 'TCP', [9090]],
  ['assoc', 'SCTP', [9003]],
];
const PORTS = [53, 80, 443, 5353, 8080, 9003, 9090, 1, 65535];

function labels(r: Rng, vocab: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, vs] of Object.entries(vocab)) if (r.chance(0.6)) out[k] = r.pick(vs);
  return out;
}

function selector(r: Rng, vocab: Record<string, string[]>): LabelSelector {
  if (r.chance(0.3)) return { matchLabels: {}, matchExpressions: [] };
  const keys = Object.keys(vocab);
  const matchLabels: Record<string, string> = {};
  if (r.chance(0.6)) {
    const k = r.pick(keys);
    matchLabels[k] = r.chance(0.9) ? r.pick(vocab[k] as string[]) : 'absent-value';
  }
  const matchExpressions: SelectorRequirement[] = [];
  if (r.chance(0.4)) {
    const key = r.pick(keys);
    const operator = r.pick(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const);
    const values = operator === 'In' || operator === 'NotIn' ? [r.pick(vocab[key] as string[]), ...(r.chance(0.3) ? ['zzz'] : [])] : [];
    matchExpressions.push({ key, operator, values });
  }
  return { matchLabels, matchExpressions };
}

function nsSelector(r: Rng, names: string[]): LabelSelector {
  if (r.chance(0.2)) return { matchLabels: { [NAMESPACE_NAME_LABEL]: r.pick(names) }, matchExpressions: [] };
  return selector(r, NS_LABELS);
}

// ---- inventory --------------------------------------------------------------------------

export interface RandomShape {
  namespaces: number;
  pods: number;
  nodes: number;
  networkPolicies: number;
  clusterPolicies: number;
  /**
   * PalisadeClusterNetworkPolicy fields too: random Services (ClusterIPs, external and
   * load-balancer IPs), and extension policies (nodeSelector subjects, the Cluster entity,
   * source ports, and the parts that fail closed: services peers, Redirect, nodes/services
   * subjects). Absent: the random streams of the other tests stay what they were.
   */
  extended?: boolean;
}

export function randomPod(r: Rng, ns: string, name: string, nodes: readonly Node[], serial: number): Pod {
  const node = nodes.length && r.chance(0.95) ? r.pick(nodes) : undefined;
  // now and then a pod on a node the inventory has no Node object for
  const ghost = node === undefined && r.chance(0.5);
  const hostNetwork = (node !== undefined || ghost) && r.chance(0.08);
  let ips: IpAddr[];
  // a host-network pod lives at its node's addresses, or (Node object stale or missing) elsewhere
  if (hostNetwork) ips = node && r.chance(0.8) ? [...node.addresses] : [ip(`10.244.252.${serial & 255}`)];
  else {
    const a = (serial >> 8) & 255;
    const b = serial & 255;
    const mode = r.next();
    const v4 = ip(`10.244.${a}.${b}`);
    const v6 = ip(`fd00:10:244:${a.toString(16)}::${b.toString(16)}`);
    ips = mode < 0.7 ? [v4, v6] : mode < 0.9 ? [v4] : [v6];
  }
  const containerPorts: ContainerPort[] = [];
  for (const [pname, proto, nums] of NAMED) {
    if (r.chance(0.4)) containerPorts.push({ name: pname, containerPort: r.pick(nums), protocol: proto });
  }
  if (r.chance(0.3)) containerPorts.push({ containerPort: r.pick(PORTS), protocol: 'TCP' });
  return {
    namespace: ns,
    name,
    labels: labels(r, POD_LABELS),
    ips,
    hostNetwork,
    ...(node ? { nodeName: node.name } : ghost ? { nodeName: 'node-ghost' } : {}),
    containerPorts,
    source: SRC,
  };
}

export function randomNode(r: Rng, i: number): Node {
  const addresses = [ip(`10.244.250.${i + 1}`)];
  if (r.chance(0.6)) addresses.push(ip(`fd00:10:244:fa::${(i + 1).toString(16)}`));
  if (r.chance(0.2)) addresses.push(ip(`192.0.2.${i + 1}`));
  return { name: `node-${i}`, labels: labels(r, NODE_LABELS), addresses, source: SRC };
}

export function randomCluster(r: Rng, shape: RandomShape): Cluster {
  const namespaces: Namespace[] = [];
  for (let i = 0; i < shape.namespaces; i++) {
    const name = `ns-${i}`;
    namespaces.push({ name, labels: { ...labels(r, NS_LABELS), [NAMESPACE_NAME_LABEL]: name }, source: SRC });
  }
  const nodes: Node[] = [];
  for (let i = 0; i < shape.nodes; i++) nodes.push(randomNode(r, i));
  const pods: Pod[] = [];
  for (let i = 0; i < shape.pods; i++) {
    const p = randomPod(r, r.pick(namespaces).name, `pod-${i}`, nodes, i + 1);
    // now and then a second pod claims an address already in use (ownership rule)
    if (i > 0 && r.chance(0.03)) {
      const other = r.pick(pods);
      if (!other.hostNetwork && !p.hostNetwork) pods.push({ ...p, ips: other.ips });
      else pods.push(p);
    } else pods.push(p);
  }
  const names = namespaces.map((n) => n.name);
  const networkPolicies: NetworkPolicy[] = [];
  for (let i = 0; i < shape.networkPolicies; i++) networkPolicies.push(randomNetworkPolicy(r, r.pick(names), `np-${i}`, names));
  const clusterPolicies: ClusterPolicy[] = [];
  let banp = false;
  for (let i = 0; i < shape.clusterPolicies; i++) {
    const p = randomClusterPolicy(r, `cnp-${i % 7}`, names, banp);
    if (p.kind === 'BaselineAdminNetworkPolicy') banp = true;
    // names repeat across kinds/tiers on purpose; (kind, name) stays unique
    if (clusterPolicies.some((q) => q.kind === p.kind && q.name === p.name)) continue;
    clusterPolicies.push(p);
  }
  const services: Service[] = [];
  if (shape.extended) {
    for (let i = 0; i < r.int(0, 4); i++) services.push(randomService(r, r.pick(names), `svc-${i}`, i));
    for (let i = 0; i < r.int(1, 4); i++) {
      const p = randomExtensionPolicy(r, `pcnp-${i % 3}`, names, services);
      if (!clusterPolicies.some((q) => q.kind === p.kind && q.name === p.name)) clusterPolicies.push(p);
    }
  }
  return { namespaces, pods, nodes, services, endpointSlices: [], networkPolicies, clusterPolicies };
}

/** A Service with ClusterIPs (10.96.0.0/16, fd00:10:96::/64) and sometimes external and load-balancer IPs. */
export function randomService(r: Rng, ns: string, name: string, i: number): Service {
  const clusterIPs = r.chance(0.15) ? [] : [ip(`10.96.0.${i + 10}`), ...(r.chance(0.5) ? [ip(`fd00:10:96::${(i + 10).toString(16)}`)] : [])];
  return {
    namespace: ns,
    name,
    clusterIPs,
    ...(r.chance(0.3) ? { externalIPs: [ip(`192.0.2.${100 + i}`)] } : {}),
    ...(r.chance(0.3) ? { loadBalancerIPs: [ip(`198.51.100.${i + 1}`), ...(r.chance(0.5) ? [ip(`2001:db8:1::${(i + 1).toString(16)}`)] : [])] } : {}),
    ports: [{ protocol: 'TCP', port: 80 }],
    source: SRC,
  };
}

/** Source ports the extension policies use, and their neighbours. */
export const SOURCE_PORTS = [53, 123, 1023, 1024, 1025, 33000, 65535];

function extensionProtocol(r: Rng, named: boolean): ClusterProtocolMatch {
  const p = clusterProtocol(r, named);
  if (p.kind !== 'port' || !r.chance(0.4)) return p;
  const lo = r.pick(SOURCE_PORTS);
  const src = r.chance(0.5) ? { srcPortStart: lo, srcPortEnd: lo } : { srcPortStart: Math.min(lo, 1024), srcPortEnd: Math.max(lo, 1024) };
  // a sourcePort with no destinationPort matches every destination port
  const { portStart, portEnd, ...rest } = p;
  return r.chance(0.3) ? { ...rest, ...src } : { ...rest, ...(portStart !== undefined ? { portStart, portEnd } : {}), ...src };
}

/** A PalisadeClusterNetworkPolicy within what validation accepts (docs/extension-kind.md). */
export function randomExtensionPolicy(r: Rng, name: string, names: string[], services: readonly Service[]): ClusterPolicy {
  const tier = r.pick(['Admin', 'Baseline'] as const);
  const k = r.next();
  // 1..2 Services, now and then one the inventory does not have
  const svcRefs = (): ServiceRef[] => {
    const some = services.length && r.chance(0.8) ? r.some(services, 2).map((s) => ({ namespace: s.namespace, name: s.name })) : [];
    return some.length > 0 ? some : [{ namespace: r.pick(names), name: 'absent' }];
  };
  const subject: ClusterSubject =
    k < 0.35
      ? { kind: 'pods', namespaceSelector: nsSelector(r, names), podSelector: selector(r, POD_LABELS), nodeSelector: selector(r, NODE_LABELS) }
      : k < 0.55
        ? { kind: 'namespaces', namespaceSelector: nsSelector(r, names) }
        : k < 0.85
          ? { kind: 'pods', namespaceSelector: nsSelector(r, names), podSelector: selector(r, POD_LABELS) }
          : k < 0.93
            ? { kind: 'nodes', nodeSelector: selector(r, NODE_LABELS) }
            : { kind: 'services', services: svcRefs() };
  const rules = (direction: 'ingress' | 'egress'): ClusterRule[] =>
    Array.from({ length: r.int(0, 4) }, (_, index) => {
      // S14: a Redirect rule's target, chosen first (a named port or, for a single-stack target,
      // a peer other than `networks` is refused by lowering: UnsupportedRuleError)
      const redirect = direction === 'egress' && r.chance(0.2);
      const target = redirect ? svcRefs()[0]! : undefined;
      const targetSvc = target && services.find((s) => s.namespace === target.namespace && s.name === target.name);
      const onlyNetworks = redirect && (targetSvc?.clusterIPs.length ?? 0) === 1;
      // a named port with a services subject is refused by the API (lower.ts UnsupportedRuleError)
      const hasNamed = !redirect && r.chance(0.15) && !(subject.kind === 'nodes' && direction === 'ingress') && subject.kind !== 'services';
      const protocols = r.chance(0.25) ? null : Array.from({ length: r.int(1, 3) }, (_, j) => extensionProtocol(r, hasNamed && (j === 0 || r.chance(0.5))));
      const named = protocols?.some((p) => p.kind === 'namedPort') ?? false;
      const peers: ClusterPeer[] = Array.from({ length: r.int(1, 3) }, () => {
        const q = r.next();
        if (onlyNetworks) return { kind: 'networks', cidrs: Array.from({ length: r.int(1, 2) }, () => randomBlock(r).cidr) };
        // egress: a named port resolves on the peer, which must be a pod
        if (q < 0.3 && !(named && direction === 'egress')) return { kind: 'entities', entities: ['Cluster'] };
        if (q < 0.36 && direction === 'egress' && !named) return { kind: 'services', services: svcRefs() };
        return clusterPeer(r, names, named);
      });
      const action = redirect ? 'Redirect' : r.pick(['Accept', 'Deny', 'Pass'] as const);
      const port = r.pick([undefined, 80, 80, 81]);
      return {
        index,
        ...(r.chance(0.5) ? { name: `rule-${index}` } : {}),
        action,
        ...(target ? { redirect: { service: target, ...(port !== undefined ? { port } : {}) } } : {}),
        peers,
        protocols,
      };
    });
  return {
    kind: 'PalisadeClusterNetworkPolicy',
    name,
    tier,
    priority: r.pick([0, 1, 5, 5, 10, 1000]),
    subject,
    ingress: rules('ingress'),
    egress: subject.kind === 'services' ? [] : rules('egress'),
    source: SRC,
  };
}

// ---- policies ---------------------------------------------------------------------------

function randomBlock(r: Rng): { cidr: Cidr; except: Cidr[] } {
  const v6 = r.chance(0.3);
  if (v6) {
    const base = r.pick(['fd00:10:244::/48', '::/0', `fd00:10:244:${r.int(0, 3).toString(16)}::/64`]);
    const c = cidr(base);
    const except = r.chance(0.5) && c.prefixLen < 64 ? [cidr(`fd00:10:244:${r.int(0, 3).toString(16)}::/64`)] : [];
    return { cidr: c, except: except.filter((e) => e.prefixLen > c.prefixLen) };
  }
  const c = r.pick([cidr('10.244.0.0/16'), cidr('0.0.0.0/0'), cidr(`10.244.${r.int(0, 1)}.0/24`), makeCidr(4, ip('10.244.0.7').value, r.int(20, 32))]);
  const except: Cidr[] = [];
  if (r.chance(0.5) && c.prefixLen < 32) {
    for (let k = 0; k < r.int(1, 2); k++) {
      const len = r.int(Math.max(c.prefixLen + 1, 24), 32);
      const e = makeCidr(4, c.base | BigInt(r.int(0, 2 ** (32 - c.prefixLen) - 1) & ((2 ** 16) - 1)), len);
      if (e.prefixLen > c.prefixLen && (e.base & ~((1n << BigInt(32 - c.prefixLen)) - 1n) & 0xffffffffn) === c.base) except.push(e);
    }
  }
  return { cidr: c, except };
}

function npPeer(r: Rng, names: string[]): NetworkPolicyPeer {
  if (r.chance(0.3)) return { kind: 'ipBlock', ...randomBlock(r) };
  const ns = r.chance(0.5) ? { namespaceSelector: nsSelector(r, names) } : {};
  const pod = r.chance(0.7) || !('namespaceSelector' in ns) ? { podSelector: selector(r, POD_LABELS) } : {};
  return { kind: 'selector', ...ns, ...pod };
}

function npPort(r: Rng): NetworkPolicyPort {
  const protocol = r.pick(['TCP', 'TCP', 'UDP', 'SCTP'] as const);
  const k = r.next();
  if (k < 0.15) return { protocol };
  if (k < 0.45) {
    const [name, proto] = r.pick(NAMED);
    return { protocol: r.chance(0.8) ? proto : protocol, port: r.chance(0.9) ? name : 'nope' };
  }
  const port = r.pick(PORTS);
  return r.chance(0.3) ? { protocol, port, endPort: Math.min(65535, port + r.int(0, 9000)) } : { protocol, port };
}

export function randomNetworkPolicy(r: Rng, ns: string, name: string, names: string[]): NetworkPolicy {
  const types = r.pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']] as const);
  const rules = () =>
    Array.from({ length: r.int(0, 3) }, () => ({
      peers: r.chance(0.2) ? null : Array.from({ length: r.int(1, 3) }, () => npPeer(r, names)),
      ports: r.chance(0.35) ? null : Array.from({ length: r.int(1, 3) }, () => npPort(r)),
    }));
  return {
    kind: 'NetworkPolicy',
    namespace: ns,
    name,
    podSelector: selector(r, POD_LABELS),
    policyTypes: [...types],
    ingress: rules(),
    egress: rules(),
    source: SRC,
  };
}

function clusterPeer(r: Rng, names: string[], namedPorts: boolean): ClusterPeer {
  const k = r.next();
  if (k < 0.3) return { kind: 'namespaces', namespaceSelector: nsSelector(r, names) };
  if (k < 0.6 || namedPorts) {
    if (namedPorts && r.chance(0.03)) return { kind: 'unknown', fields: [] };
    return { kind: 'pods', namespaceSelector: nsSelector(r, names), podSelector: selector(r, POD_LABELS) };
  }
  if (k < 0.72) return { kind: 'nodes', nodeSelector: selector(r, NODE_LABELS) };
  if (k < 0.9) {
    const cidrs = Array.from({ length: r.int(1, 3) }, () => randomBlock(r).cidr);
    return { kind: 'networks', cidrs };
  }
  if (k < 0.96) return { kind: 'domainNames', domainNames: ['example.com'] };
  return { kind: 'unknown', fields: r.chance(0.5) ? [] : ['icmpPeer'] };
}

function clusterProtocol(r: Rng, named: boolean): ClusterProtocolMatch {
  if (named) return { kind: 'namedPort', name: r.chance(0.9) ? r.pick(NAMED)[0] : 'nope' };
  const k = r.next();
  if (k < 0.03) return { kind: 'unknown', fields: ['icmp'] };
  const protocol = r.pick(['TCP', 'TCP', 'UDP', 'SCTP'] as const);
  if (k < 0.15) return { kind: 'port', protocol };
  const start = r.pick(PORTS);
  if (r.chance(0.3) && start < 65535) return { kind: 'port', protocol, portStart: start, portEnd: Math.min(65535, start + r.int(1, 9000)) };
  return { kind: 'port', protocol, portStart: start, portEnd: start };
}

function clusterRules(r: Rng, names: string[], actions: readonly ('Accept' | 'Deny' | 'Pass')[]): ClusterRule[] {
  return Array.from({ length: r.int(0, 4) }, (_, index) => {
    const hasNamed = r.chance(0.2);
    const protocols =
      r.chance(0.3)
        ? null
        : Array.from({ length: r.int(1, 3) }, (_, j) => clusterProtocol(r, hasNamed && (j === 0 || r.chance(0.5))));
    const named = protocols?.some((p) => p.kind === 'namedPort') ?? false;
    return {
      index,
      ...(r.chance(0.5) ? { name: `rule-${index}` } : {}),
      action: r.pick(actions),
      peers: Array.from({ length: r.int(1, 3) }, () => clusterPeer(r, names, named)),
      protocols,
    };
  });
}

export function randomClusterPolicy(r: Rng, name: string, names: string[], haveBanp: boolean): ClusterPolicy {
  const k = r.next();
  const kind: ClusterPolicyKind = k < 0.7 ? 'ClusterNetworkPolicy' : k < 0.85 || haveBanp ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy';
  const tier = kind === 'AdminNetworkPolicy' ? 'Admin' : kind === 'BaselineAdminNetworkPolicy' ? 'Baseline' : r.pick(['Admin', 'Baseline'] as const);
  const actions = kind === 'BaselineAdminNetworkPolicy' ? (['Accept', 'Deny'] as const) : (['Accept', 'Deny', 'Pass'] as const);
  const subject =
    r.chance(0.4)
      ? ({ kind: 'namespaces', namespaceSelector: nsSelector(r, names) } as const)
      : ({ kind: 'pods', namespaceSelector: nsSelector(r, names), podSelector: selector(r, POD_LABELS) } as const);
  return {
    kind,
    name: kind === 'BaselineAdminNetworkPolicy' ? 'default' : name,
    tier,
    priority: kind === 'BaselineAdminNetworkPolicy' ? BANP_PRIORITY : r.pick([0, 1, 5, 5, 10, 10, 1000]),
    subject,
    ingress: clusterRules(r, names, actions),
    egress: clusterRules(r, names, actions),
    source: SRC,
  };
}

// ---- flows ------------------------------------------------------------------------------

const EXTERNAL4 = ['8.8.8.8', '10.244.99.99', '192.0.2.200', '10.245.0.1'].map(ip);
const EXTERNAL6 = ['2001:db8::1', 'fd00:10:244:99::99', 'fd00:10:245::1'].map(ip);

/** Ports worth probing: the generator's ports plus every rule range boundary and its neighbours. */
export function interestingPorts(c: Cluster): number[] {
  const out = new Set<number>(PORTS);
  const edge = (lo: number, hi: number): void => {
    for (const p of [lo - 1, lo, hi, hi + 1]) if (p >= 1 && p <= 65535) out.add(p);
  };
  for (const np of c.networkPolicies) {
    for (const r of [...np.ingress, ...np.egress]) {
      for (const p of r.ports ?? []) if (typeof p.port === 'number') edge(p.port, p.endPort ?? p.port);
    }
  }
  for (const cp of c.clusterPolicies) {
    for (const r of [...cp.ingress, ...cp.egress]) {
      for (const p of r.protocols ?? []) if (p.kind === 'port' && p.portStart !== undefined) edge(p.portStart, p.portEnd ?? p.portStart);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Address pools per family: pod IPs, node addresses, externals (Service addresses among them). */
export function addressPools(c: Cluster): Record<4 | 6, IpAddr[][]> {
  const pools: Record<4 | 6, IpAddr[][]> = { 4: [[], [], [...EXTERNAL4]], 6: [[], [], [...EXTERNAL6]] };
  for (const p of c.pods) for (const a of p.ips) pools[a.family][0]!.push(a);
  for (const n of c.nodes) for (const a of n.addresses) pools[a.family][1]!.push(a);
  for (const s of c.services) for (const a of serviceAddresses(s)) pools[a.family][2]!.push(a);
  return pools;
}

/** @param srcPorts source ports to draw from (half the flows); absent: the few fixed ones, for a fifth of the flows */
export function randomFlow(r: Rng, pools: Record<4 | 6, IpAddr[][]>, ports: readonly number[] = PORTS, srcPorts?: readonly number[]): Flow {
  const family = r.chance(0.6) ? 4 : 6;
  const pool = pools[family];
  const pickAddr = (): IpAddr => {
    const k = r.next();
    const which = k < 0.75 && pool[0]!.length ? 0 : k < 0.88 && pool[1]!.length ? 1 : 2;
    return r.pick(pool[which]!);
  };
  const src = pickAddr();
  const dst = r.chance(0.02) ? src : pickAddr();
  const protocol = r.pick(['TCP', 'TCP', 'UDP', 'SCTP'] as const);
  const dstPort = r.chance(0.97) ? r.pick(ports) : r.int(1, 65535);
  if (srcPorts) return { src, dst, protocol, dstPort, ...(r.chance(0.5) ? { srcPort: r.pick(srcPorts) } : r.chance(0.1) ? {} : { srcPort: r.int(1, 65535) }) };
  return { src, dst, protocol, dstPort, ...(r.chance(0.2) ? { srcPort: r.pick([1024, 33000, 65535]) } : {}) };
}

// ---- changes ----------------------------------------------------------------------------

let serial = 100_000;

/** A random change against the current cluster (inventory mostly, policies sometimes). */
export function randomChange(r: Rng, c: Cluster, policies = true, extended = false): EngineChange {
  const names = c.namespaces.map((n) => n.name);
  if (extended && r.chance(0.15)) {
    // Services come and go; nodes are relabelled (nodeSelector subjects follow)
    const q = r.next();
    if (q < 0.4) return { kind: 'service', service: randomService(r, r.pick(names), `svc-${r.int(0, 5)}`, r.int(0, 20)) };
    if (q < 0.6 && c.services.length) {
      const s = r.pick(c.services);
      return { kind: 'service-removed', namespace: s.namespace, name: s.name };
    }
    if (c.nodes.length) {
      const n = r.pick(c.nodes);
      return { kind: 'node', node: { ...n, labels: labels(r, NODE_LABELS) } };
    }
  }
  const k = r.next();
  if (k < 0.25 || c.pods.length === 0) {
    const s = serial++;
    return { kind: 'pod', pod: randomPod(r, r.pick(names), `new-${s}`, c.nodes, s & 0xfff) };
  }
  if (k < 0.4) {
    const p = r.pick(c.pods);
    return { kind: 'pod-removed', namespace: p.namespace, name: p.name };
  }
  if (k < 0.6) {
    const p = r.pick(c.pods);
    return { kind: 'pod', pod: { ...p, labels: labels(r, POD_LABELS) } };
  }
  if (k < 0.65) {
    const p = r.pick(c.pods);
    const q = randomPod(r, p.namespace, p.name, c.nodes, serial++ & 0xfff);
    return { kind: 'pod', pod: q };
  }
  if (k < 0.78) {
    const ns = r.pick(c.namespaces);
    return { kind: 'namespace', namespace: { ...ns, labels: { ...labels(r, NS_LABELS), [NAMESPACE_NAME_LABEL]: ns.name } } };
  }
  if (k < 0.86 && c.nodes.length) {
    const n = r.pick(c.nodes);
    const i = Number(n.name.split('-')[1] ?? 0);
    const fresh = randomNode(r, i);
    return { kind: 'node', node: { ...n, labels: fresh.labels, addresses: r.chance(0.5) ? fresh.addresses : [ip(`10.244.251.${r.int(1, 250)}`)] } };
  }
  if (k < 0.88) return { kind: 'namespace-removed', name: r.pick(names) };
  if (!policies) return { kind: 'pod', pod: { ...r.pick(c.pods), labels: labels(r, POD_LABELS) } };
  if (k < 0.93) return { kind: 'policy', policy: randomNetworkPolicy(r, r.pick(names), `np-${r.int(0, 8)}`, names) };
  if (k < 0.97) return { kind: 'policy', policy: randomClusterPolicy(r, `cnp-${r.int(0, 8)}`, names, true) };
  const all = [...c.networkPolicies, ...c.clusterPolicies];
  if (all.length === 0) return { kind: 'namespace-removed', name: r.pick(names) };
  const p = r.pick(all);
  return { kind: 'policy-removed', policy: p.kind === 'NetworkPolicy' ? { kind: p.kind, namespace: p.namespace, name: p.name } : { kind: p.kind, name: p.name } };
}
