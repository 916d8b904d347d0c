/**
 * An independent oracle for the differential audit: NetworkPolicy v1 and ClusterNetworkPolicy semantics written again,
 * directly over the RAW manifest objects (no Palisade normalization, no Palisade matching code), compared with
 * `ReferenceEvaluator` on random policies over a fixed inventory, for every pair of endpoints, several ports and all
 * three protocols, IPv4 and IPv6.
 *
 * Oracle rules (networkpolicy-v1-semantics.md §0, §4-§7, §9, §12; network-policy-api.md §1.5):
 * - NP: SetDefaults_NetworkPolicy policyTypes; isolation per direction; from/to absent or [] = all peers; ports absent or
 *   [] = all; peer ipBlock (cidr minus except, own family) or selectors (namespaceSelector absent = own namespace,
 *   podSelector absent = all) matching only non-host-network pods; ports: protocol default TCP, numeric with endPort
 *   inclusive, named resolved on the destination pod's containerPorts (name, protocol, number); ingress from the pod's
 *   own node (any Node.status.addresses entry of spec.nodeName) is allowed when isolated.
 * - CNP: per tier, policies selecting the subject ordered by (priority, name), rules in order, first match; Accept/Deny
 *   final, Pass leaves the tier; NP tier final when isolated; default allow. Peers: namespaces/pods (non-host-network
 *   pods), nodes (any status address of a selected node), networks (own family). Protocols: tcp/udp/sctp number or
 *   range inclusive, destinationNamedPort on the destination pod.
 * - Loopback (same pod) allowed; a non-pod end has no policy of its own.
 * Also v1alpha1 AdminNetworkPolicy (Allow = Accept, ports portNumber/portRange/namedPort, protocol default TCP) in the
 * Admin order and the BaselineAdminNetworkPolicy after every Baseline CNP. Two in five CNPs take priority 5, so ties
 * are common; they are broken by name then kind (Palisade's documented total order; upstream leaves ties undefined).
 * Teeth (checked by hand when written): dropping endPort or the node-local ingress rule from the oracle, reading Allow
 * as anything but Accept, putting the BANP first in Baseline, or reversing the name order of ties each make it fail. Manifests are emitted as JSON documents, so YAML scalar typing cannot interfere.
 */
import { describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { parseIp } from '../../src/model/ip.js';

type Obj = Record<string, any>;
type Proto = 'TCP' | 'UDP' | 'SCTP';

// ---- inventory (raw objects) --------------------------------------------------------------
const NAMESPACES: Obj[] = [
  { name: 'x', labels: { team: 'a' } },
  { name: 'y', labels: { team: 'b' } },
  { name: 'z', labels: {} },
  { name: 'h', labels: {} },
];
const NODES: Obj[] = [
  { name: 'n1', labels: { role: 'worker' }, addresses: ['10.244.100.1', '10.244.150.1', 'fd00:10:244:100::1'] },
  { name: 'n2', labels: { role: 'infra' }, addresses: ['10.244.100.2', 'fd00:10:244:100::2'] },
];
const PODS: Obj[] = [
  { ns: 'x', name: 'a', labels: { pod: 'a' }, node: 'n1', ips: ['10.244.1.1', 'fd00:10:244:1::1'], ports: [['web', 80, 'TCP'], ['dns', 53, 'UDP'], ['sc', 9000, 'SCTP']] },
  { ns: 'x', name: 'b', labels: { pod: 'b' }, node: 'n2', ips: ['10.244.1.2', 'fd00:10:244:1::2'], ports: [['web', 8080, 'TCP']] },
  { ns: 'y', name: 'a', labels: { pod: 'a' }, node: 'n2', ips: ['10.244.2.1', 'fd00:10:244:2::1'], ports: [['dns', 53, 'TCP']] },
  { ns: 'y', name: 'b', labels: { pod: 'b', tier: '' }, node: 'n1', ips: ['10.244.2.2', 'fd00:10:244:2::2'], ports: [] },
  { ns: 'z', name: 'a', labels: { pod: 'a' }, node: 'n1', ips: ['10.244.3.1', 'fd00:10:244:3::1'], ports: [['web', 81, 'TCP']] },
  { ns: 'h', name: 'hn', labels: { pod: 'a' }, node: 'n1', ips: ['10.244.100.1', 'fd00:10:244:100::1'], ports: [['web', 80, 'TCP']], hostNetwork: true },
];
const EXTERNAL = ['10.244.200.7', 'fd00:10:244:200::7'];

const inventoryDocs = (): Obj[] => [
  ...NAMESPACES.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } })),
  ...NODES.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: n.labels },
    status: { addresses: n.addresses.map((a: string, i: number) => ({ type: i === 1 ? 'ExternalIP' : 'InternalIP', address: a })) },
  })),
  ...PODS.map((p) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.ns, labels: p.labels },
    spec: {
      nodeName: p.node,
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'c', image: 'i', ports: p.ports.map(([name, n, proto]: [string, number, string]) => ({ name, containerPort: n, protocol: proto })) }],
    },
    status: { podIP: p.ips[0], podIPs: p.ips.map((ip: string) => ({ ip })) },
  })),
];

// ---- tiny independent helpers ---------------------------------------------------------------
function ipToBig(ip: string): { fam: 4 | 6; v: bigint } {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return { fam: 6, v: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
  }
  return { fam: 4, v: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
}
function inCidr(cidr: string, ip: string): boolean {
  const [a, l] = cidr.split('/') as [string, string];
  const c = ipToBig(a);
  const x = ipToBig(ip);
  if (c.fam !== x.fam) return false;
  const bits = c.fam === 4 ? 32n : 128n;
  const len = BigInt(Number(l));
  const shift = bits - len;
  return c.v >> shift === x.v >> shift;
}
function sel(s: Obj | undefined, labels: Obj): boolean {
  if (!s) return true;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (!(k in labels) || labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
const nsLabels = (ns: string): Obj => ({ ...(NAMESPACES.find((n) => n.name === ns)?.labels ?? {}), 'kubernetes.io/metadata.name': ns });

interface End {
  ip: string;
  pod?: Obj; // non-host-network pod
}
function endOf(ip: string): End {
  const pod = PODS.find((p) => !p.hostNetwork && p.ips.includes(ip));
  return pod ? { ip, pod } : { ip };
}
function namedPort(dst: Obj | undefined, name: string, proto: Proto, port: number): boolean {
  return !!dst && dst.ports.some(([n, num, pr]: [string, number, string]) => n === name && num === port && pr === proto);
}

// ---- NetworkPolicy oracle -------------------------------------------------------------------
function npTypes(np: Obj): string[] {
  const t: string[] = np.spec.policyTypes ?? [];
  if (t.length > 0) return t;
  return (np.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}
function npPeerMatch(peer: Obj, policyNs: string, other: End): boolean {
  if (peer.ipBlock) return inCidr(peer.ipBlock.cidr, other.ip) && !(peer.ipBlock.except ?? []).some((e: string) => inCidr(e, other.ip));
  if (!other.pod) return false;
  const nsOk = peer.namespaceSelector ? sel(peer.namespaceSelector, nsLabels(other.pod.ns)) : other.pod.ns === policyNs;
  return nsOk && sel(peer.podSelector, other.pod.labels);
}
function npPortMatch(ports: Obj[] | undefined, dst: Obj | undefined, proto: Proto, port: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    const pr = p.protocol ?? 'TCP';
    if (pr !== proto) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return namedPort(dst, p.port, proto, port);
    return p.port <= port && port <= (p.endPort ?? p.port);
  });
}
/** 'allow' | 'deny' | 'none' (not isolated) */
function npTier(nps: Obj[], dir: 'Ingress' | 'Egress', self: Obj, other: End, dst: Obj | undefined, proto: Proto, port: number): 'allow' | 'deny' | 'none' {
  const isolating = nps.filter((np) => np.metadata.namespace === self.ns && npTypes(np).includes(dir) && sel(np.spec.podSelector, self.labels));
  if (isolating.length === 0) return 'none';
  const key = dir === 'Ingress' ? 'ingress' : 'egress';
  const peersKey = dir === 'Ingress' ? 'from' : 'to';
  for (const np of isolating) {
    for (const r of np.spec[key] ?? []) {
      const peers: Obj[] | undefined = r[peersKey];
      const peerOk = !peers || peers.length === 0 || peers.some((p) => npPeerMatch(p, np.metadata.namespace, other));
      if (peerOk && npPortMatch(r.ports, dst, proto, port)) return 'allow';
    }
  }
  if (dir === 'Ingress') {
    const node = NODES.find((n) => n.name === self.node);
    if (node && node.addresses.includes(other.ip)) return 'allow';
  }
  return 'deny';
}

// ---- ClusterNetworkPolicy oracle ------------------------------------------------------------
function cnpSubject(c: Obj, pod: Obj): boolean {
  const s = c.spec.subject;
  if (s.namespaces) return sel(s.namespaces, nsLabels(pod.ns));
  return sel(s.pods.namespaceSelector ?? {}, nsLabels(pod.ns)) && sel(s.pods.podSelector, pod.labels);
}
function cnpPeer(p: Obj, other: End): boolean {
  if (p.namespaces) return !!other.pod && sel(p.namespaces, nsLabels(other.pod.ns));
  if (p.pods) return !!other.pod && sel(p.pods.namespaceSelector ?? {}, nsLabels(other.pod.ns)) && sel(p.pods.podSelector, other.pod.labels);
  if (p.nodes) return NODES.some((n) => sel(p.nodes, n.labels) && n.addresses.includes(other.ip));
  if (p.networks) return p.networks.some((c: string) => inCidr(c, other.ip));
  throw new Error('unexpected peer');
}
function cnpProto(list: Obj[] | undefined, dst: Obj | undefined, proto: Proto, port: number): boolean {
  if (!list) return true;
  return list.some((e) => {
    if (e.destinationNamedPort) return namedPort(dst, e.destinationNamedPort, proto, port);
    const k = Object.keys(e)[0] as string;
    if (k.toUpperCase() !== proto) return false;
    const dp = e[k].destinationPort;
    if (dp.number !== undefined) return dp.number === port;
    return dp.range.start <= port && port <= dp.range.end;
  });
}
function anpPorts(list: Obj[] | undefined, dst: Obj | undefined, proto: Proto, port: number): boolean {
  if (!list) return true;
  return list.some((e) => {
    if (e.namedPort) return namedPort(dst, e.namedPort, proto, port);
    if (e.portNumber) return (e.portNumber.protocol ?? 'TCP') === proto && e.portNumber.port === port;
    return (e.portRange.protocol ?? 'TCP') === proto && e.portRange.start <= port && port <= e.portRange.end;
  });
}
const tierOf = (c: Obj): string => (c.kind === 'AdminNetworkPolicy' ? 'Admin' : c.kind === 'BaselineAdminNetworkPolicy' ? 'Baseline' : c.spec.tier);
const prioOf = (c: Obj): number => (c.kind === 'BaselineAdminNetworkPolicy' ? 1e9 : c.spec.priority);
function cnpTier(cnps: Obj[], tier: string, dir: 'ingress' | 'egress', self: Obj, other: End, dst: Obj | undefined, proto: Proto, port: number): string {
  const list = cnps
    .filter((c) => tierOf(c) === tier && cnpSubject(c, self))
    .sort((a, b) => prioOf(a) - prioOf(b) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : a.kind < b.kind ? -1 : 1));
  for (const c of list) {
    const v1 = c.kind !== 'ClusterNetworkPolicy';
    for (const r of c.spec[dir] ?? []) {
      const peers: Obj[] = dir === 'ingress' ? r.from : r.to;
      const protoOk = v1 ? anpPorts(r.ports, dst, proto, port) : cnpProto(r.protocols, dst, proto, port);
      if (peers.some((p) => cnpPeer(p, other)) && protoOk) return r.action === 'Allow' ? 'Accept' : r.action;
    }
  }
  return 'none';
}

function oracle(nps: Obj[], cnps: Obj[], srcIp: string, dstIp: string, proto: Proto, port: number): 'allow' | 'deny' {
  const s = endOf(srcIp);
  const d = endOf(dstIp);
  if (s.pod && s.pod === d.pod) return 'allow';
  const dir = (direction: 'ingress' | 'egress'): boolean => {
    const self = direction === 'egress' ? s.pod : d.pod;
    const other = direction === 'egress' ? d : s;
    if (!self) return true;
    const a = cnpTier(cnps, 'Admin', direction, self, other, d.pod, proto, port);
    if (a === 'Accept') return true;
    if (a === 'Deny') return false;
    const n = npTier(nps, direction === 'ingress' ? 'Ingress' : 'Egress', self, other, d.pod, proto, port);
    if (n !== 'none') return n === 'allow';
    const b = cnpTier(cnps, 'Baseline', direction, self, other, d.pod, proto, port);
    return b !== 'Deny';
  };
  return dir('egress') && dir('ingress') ? 'allow' : 'deny';
}

// ---- random generation ----------------------------------------------------------------------
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gen(seed: number): { nps: Obj[]; cnps: Obj[] } {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const maybe = (p = 0.5) => r() < p;
  const selector = (): Obj =>
    pick([
      {},
      { matchLabels: { pod: pick(['a', 'b']) } },
      { matchExpressions: [{ key: 'pod', operator: pick(['In', 'NotIn']), values: [pick(['a', 'b'])] }] },
      { matchExpressions: [{ key: 'tier', operator: pick(['Exists', 'DoesNotExist']) }] },
    ]);
  const nsSelector = (): Obj =>
    pick([{}, { matchLabels: { team: pick(['a', 'b']) } }, { matchExpressions: [{ key: 'team', operator: pick(['NotIn', 'DoesNotExist']), ...(maybe() ? { values: ['a'] } : {}) }] }].map((s) => {
      const e = (s as Obj).matchExpressions?.[0];
      if (e && e.operator === 'DoesNotExist') delete e.values;
      if (e && e.operator === 'NotIn' && !e.values) e.values = ['b'];
      return s;
    }));
  const cidr = (): Obj => {
    const v6 = maybe(0.3);
    const base = v6 ? pick(['fd00:10:244::/48', 'fd00:10:244:1::/64', 'fd00:10:244:100::/64', '::/0']) : pick(['10.244.0.0/16', '10.244.1.0/24', '10.244.100.0/24', '0.0.0.0/0', '10.244.2.1/32']);
    const except = maybe(0.4) ? [v6 ? pick(['fd00:10:244:1::2/128', 'fd00:10:244:2::/64']) : pick(['10.244.1.2/32', '10.244.2.0/24'])] : undefined;
    const ok = except && except.every((e) => {
      const [ea, el] = e.split('/') as [string, string];
      return inCidr(base, ea) && Number(el) > Number(base.split('/')[1]);
    });
    return { cidr: base, ...(ok ? { except } : {}) };
  };
  const npPeer = (): Obj =>
    pick([
      () => ({ podSelector: selector() }),
      () => ({ namespaceSelector: nsSelector() }),
      () => ({ namespaceSelector: nsSelector(), podSelector: selector() }),
      () => ({ ipBlock: cidr() }),
    ])();
  const npPort = (): Obj => {
    const proto = pick([undefined, 'TCP', 'UDP', 'SCTP']);
    const kind = pick(['none', 'num', 'range', 'named']);
    const o: Obj = proto ? { protocol: proto } : {};
    if (kind === 'num') o.port = pick([53, 80, 81, 8080, 9000]);
    if (kind === 'range') Object.assign(o, pick([{ port: 53, endPort: 81 }, { port: 80, endPort: 80 }, { port: 81, endPort: 9000 }]));
    if (kind === 'named') o.port = pick(['web', 'dns', 'sc']);
    return o;
  };
  const listOr = <T,>(f: () => T, absentP = 0.3): T[] | undefined => (maybe(absentP) ? undefined : Array.from({ length: Math.floor(r() * 3) }, f));
  const npRule = (peersKey: string): Obj => {
    const o: Obj = {};
    const peers = listOr(npPeer);
    const ports = listOr(npPort, 0.4);
    if (peers) o[peersKey] = peers;
    if (ports) o.ports = ports;
    return o;
  };
  const nps: Obj[] = [];
  const nNp = Math.floor(r() * 4);
  for (let i = 0; i < nNp; i++) {
    const spec: Obj = { podSelector: selector() };
    const types = pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    if (types) spec.policyTypes = types;
    const ing = listOr(() => npRule('from'), 0.4);
    const eg = listOr(() => npRule('to'), 0.4);
    if (ing) spec.ingress = ing;
    if (eg) spec.egress = eg;
    nps.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np${i}`, namespace: pick(['x', 'y', 'z']) }, spec });
  }
  const cnpProtoEntry = (): Obj =>
    maybe(0.25)
      ? { destinationNamedPort: pick(['web', 'dns', 'sc']) }
      : { [pick(['tcp', 'udp', 'sctp'])]: { destinationPort: maybe() ? { number: pick([53, 80, 81, 8080, 9000]) } : { range: pick([{ start: 53, end: 81 }, { start: 80, end: 8080 }]) } } };
  const cnps: Obj[] = [];
  const nC = Math.floor(r() * 4);
  const used = new Set<string>();
  for (let i = 0; i < nC; i++) {
    const tier = pick(['Admin', 'Baseline']);
    // mostly unique priorities; sometimes a tie, which Palisade breaks by name (documented total order)
    const tie = maybe(0.4);
    let priority = tie ? 5 : Math.floor(r() * 20);
    if (!tie) while (priority === 5 || used.has(`${tier}/${priority}`)) priority++;
    used.add(`${tier}/${priority}`);
    const subject = maybe() ? { namespaces: nsSelector() } : { pods: { ...(maybe() ? { namespaceSelector: nsSelector() } : {}), podSelector: selector() } };
    const rule = (dir: 'ingress' | 'egress'): Obj => {
      const peerKinds = dir === 'ingress' ? ['namespaces', 'pods'] : ['namespaces', 'pods', 'nodes', 'networks'];
      const peers = Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
        const k = pick(peerKinds);
        if (k === 'namespaces') return { namespaces: nsSelector() };
        if (k === 'pods') return { pods: { namespaceSelector: nsSelector(), podSelector: selector() } };
        if (k === 'nodes') return { nodes: pick([{}, { matchLabels: { role: 'worker' } }]) };
        return { networks: [cidr().cidr] };
      });
      const nonPod = peers.some((p) => p.nodes || p.networks);
      let protocols = maybe(0.4) ? undefined : Array.from({ length: 1 + Math.floor(r() * 2) }, cnpProtoEntry);
      if (protocols && nonPod) protocols = protocols.filter((e) => !e.destinationNamedPort);
      if (protocols && protocols.length === 0) protocols = undefined;
      const actions = tier === 'Admin' || maybe() ? ['Accept', 'Deny', 'Pass'] : ['Accept', 'Deny'];
      return { action: pick(actions), [dir === 'ingress' ? 'from' : 'to']: peers, ...(protocols ? { protocols } : {}) };
    };
    const spec: Obj = { tier, priority, subject };
    const ni = Math.floor(r() * 3);
    const ne = Math.floor(r() * 3);
    if (ni) spec.ingress = Array.from({ length: ni }, () => rule('ingress'));
    if (ne) spec.egress = Array.from({ length: ne }, () => rule('egress'));
    cnps.push({ apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name: `c${i}` }, spec });
  }
  // v1alpha1: an ANP (Admin, shares the priority order) and the singleton BANP (after every Baseline CNP)
  const v1Port = (): Obj =>
    pick([
      () => ({ portNumber: { ...(maybe() ? { protocol: pick(['TCP', 'UDP', 'SCTP']) } : {}), port: pick([53, 80, 81, 8080, 9000]) } }),
      () => ({ portRange: { ...(maybe() ? { protocol: pick(['TCP', 'UDP', 'SCTP']) } : {}), ...pick([{ start: 53, end: 81 }, { start: 81, end: 81 }, { start: 80, end: 9000 }]) } }),
      () => ({ namedPort: pick(['web', 'dns', 'sc']) }),
    ])();
  const v1Rule = (dir: 'ingress' | 'egress', actions: string[]): Obj => {
    const kinds = dir === 'ingress' ? ['namespaces', 'pods'] : ['namespaces', 'pods', 'nodes', 'networks'];
    const peers = Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
      const k = pick(kinds);
      if (k === 'namespaces') return { namespaces: nsSelector() };
      if (k === 'pods') return { pods: { namespaceSelector: nsSelector(), podSelector: selector() } };
      if (k === 'nodes') return { nodes: pick([{}, { matchLabels: { role: 'infra' } }]) };
      return { networks: [cidr().cidr] };
    });
    const nonPod = peers.some((p) => p.nodes || p.networks);
    let ports = maybe(0.4) ? undefined : Array.from({ length: 1 + Math.floor(r() * 2) }, v1Port);
    if (ports && nonPod) ports = ports.filter((e) => !e.namedPort);
    if (ports && ports.length === 0) ports = undefined;
    return { action: pick(actions), [dir === 'ingress' ? 'from' : 'to']: peers, ...(ports ? { ports } : {}) };
  };
  const v1Subject = (): Obj => (maybe() ? { namespaces: nsSelector() } : { pods: { namespaceSelector: nsSelector(), podSelector: selector() } });
  const v1Spec = (actions: string[]): Obj => {
    const spec: Obj = { subject: v1Subject() };
    const ni = Math.floor(r() * 3);
    const ne = Math.floor(r() * 3);
    if (ni) spec.ingress = Array.from({ length: ni }, () => v1Rule('ingress', actions));
    if (ne) spec.egress = Array.from({ length: ne }, () => v1Rule('egress', actions));
    return spec;
  };
  if (maybe(0.35)) {
    cnps.push({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: pick(['c0', 'anp']) }, spec: { priority: pick([5, Math.floor(r() * 20)]), ...v1Spec(['Allow', 'Deny', 'Pass']) } });
  }
  if (maybe(0.35)) {
    cnps.push({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' }, spec: v1Spec(['Allow', 'Deny']) });
  }
  return { nps, cnps };
}

const ENDPOINTS = (fam: 4 | 6): string[] => [
  ...PODS.filter((p) => !p.hostNetwork).map((p) => p.ips[fam === 4 ? 0 : 1] as string),
  ...NODES.flatMap((n) => n.addresses.filter((a: string) => a.includes(':') === (fam === 6))),
  EXTERNAL[fam === 4 ? 0 : 1] as string,
];

describe('differential: reference evaluator vs an independent oracle on random policies', () => {
  const SEEDS = 150;
  it(`${SEEDS} random policy sets, all endpoint pairs x ports {53,80,81,8080,9000} x TCP/UDP/SCTP x IPv4/IPv6`, () => {
    const mismatches: string[] = [];
    let flows = 0;
    let denied = 0;
    for (let seed = 1; seed <= SEEDS && mismatches.length < 5; seed++) {
      const { nps, cnps } = gen(seed);
      const text = [...inventoryDocs(), ...nps, ...cnps].map((o) => JSON.stringify(o)).join('\n---\n');
      const res = safeParseCluster(text, `seed-${seed}.yaml`);
      if (!res.cluster) {
        mismatches.push(`seed ${seed}: rejected: ${res.problems.filter((p) => p.severity === 'error').map((p) => `${p.code} ${p.path}`).join('; ')}`);
        continue;
      }
      const ev = new ReferenceEvaluator(res.cluster);
      for (const fam of [4, 6] as const) {
        const eps = ENDPOINTS(fam);
        for (const s of eps)
          for (const d of eps) {
            if (s === d) continue;
            for (const port of [53, 80, 81, 8080, 9000])
              for (const proto of ['TCP', 'UDP', 'SCTP'] as const) {
                flows++;
                const want = oracle(nps, cnps, s, d, proto, port);
                if (want === 'deny') denied++;
                const got = ev.evaluate({ src: parseIp(s)!, dst: parseIp(d)!, protocol: proto, dstPort: port }).verdict;
                if (want !== got && mismatches.length < 5) {
                  mismatches.push(`seed ${seed}: ${s} -> ${d} ${proto}/${port}: oracle ${want}, reference ${got}\n${JSON.stringify({ nps, cnps })}`);
                }
              }
          }
      }
    }
    expect(mismatches, mismatches.join('\n\n')).toEqual([]);
    expect(flows).toBeGreaterThan(50_000);
    // the random policies must produce both verdicts in volume, or the comparison proves little
    expect(denied / flows).toBeGreaterThan(0.1);
    expect(denied / flows).toBeLessThan(0.9);
  });
});
