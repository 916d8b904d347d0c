/**
 * Raw, validated Kubernetes objects -> the normalized model (`model/types.ts`).
 *
 * Runs after `validate/` accepted an object, so it may assume the shape is right; it applies the
 * API server's defaulting (policyTypes, protocol TCP, namespace `default`) and maps v1alpha1
 * AdminNetworkPolicy / BaselineAdminNetworkPolicy onto the ClusterNetworkPolicy shape.
 * A PalisadeClusterNetworkPolicy is read as a ClusterNetworkPolicy plus its own fields
 * (docs/extension-kind.md); in the upstream kinds those field names stay unknown (a peer with
 * only `services` fails closed there, as any field of a newer API would).
 * Pure: no I/O.
 */
import { parseCidr, parseIp, type Cidr, type IpAddr } from '../model/ip.js';
import { AUDIT_ANNOTATION, parseAuditItems, resolveAuditItems, type AuditMark, type AuditRuleNames } from '../model/audit.js';
import { STAGED_ANNOTATION } from '../model/staged.js';
import {
  BANP_PRIORITY,
  NAMESPACE_NAME_LABEL,
  type ClusterAction,
  type ClusterEntity,
  type ClusterPeer,
  type ClusterPolicy,
  type ClusterPolicyKind,
  type ClusterProtocolMatch,
  type ClusterRule,
  type ClusterSubject,
  type ContainerPort,
  type EndpointSlice,
  type LabelSelector,
  type Namespace,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type NetworkPolicyRule,
  type Node,
  type Pod,
  type Protocol,
  type SelectorOperator,
  type Service,
  type ServiceRef,
  type Source,
} from '../model/types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const labelsOf = (meta: Obj): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(meta.labels))) if (typeof v === 'string') out[k] = v;
  return out;
};

export function selector(v: unknown): LabelSelector {
  const o = obj(v);
  const matchLabels: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(o.matchLabels))) matchLabels[k] = String(val);
  const matchExpressions = arr(o.matchExpressions).map((e) => {
    const r = obj(e);
    return {
      key: String(r.key),
      operator: String(r.operator) as SelectorOperator,
      values: arr(r.values).map(String),
    };
  });
  return { matchLabels, matchExpressions };
}

const protocol = (v: unknown): Protocol => (v === 'UDP' || v === 'SCTP' ? v : 'TCP');
const cidr = (v: unknown): Cidr => {
  const c = parseCidr(String(v));
  if (!c) throw new Error(`internal: unvalidated CIDR ${String(v)}`);
  return c;
};
const ips = (vs: unknown[]): IpAddr[] => vs.map((v) => parseIp(String(v))).filter((x): x is IpAddr => x !== null);

// ---- inventory ----------------------------------------------------------------------------

/** `{ [key]: addresses }` when some entry parses as an IP, else `{}` (absent: none). */
function optionalIps<K extends string>(key: K, vs: unknown[]): Partial<Record<K, IpAddr[]>> {
  const list = ips(vs);
  return list.length > 0 ? ({ [key]: list } as Partial<Record<K, IpAddr[]>>) : {};
}

export function toNamespace(o: Obj, source: Source): Namespace {
  const meta = obj(o.metadata);
  const name = String(meta.name);
  // The control plane sets this label on every namespace and it cannot be overridden.
  return { name, labels: { ...labelsOf(meta), [NAMESPACE_NAME_LABEL]: name }, source };
}

export function toPod(o: Obj, source: Source): Pod {
  const meta = obj(o.metadata);
  const spec = obj(o.spec);
  const status = obj(o.status);
  const podIPs = arr(status.podIPs).map((e) => obj(e).ip);
  // A pod that has terminated (phase Succeeded or Failed) keeps status.podIPs after the kubelet
  // released them, and the IP may already belong to a new pod; like kube-network-policies'
  // resolver (which prefers the running pod), Palisade gives a terminated pod no address.
  const terminated = status.phase === 'Succeeded' || status.phase === 'Failed';
  const addrs = terminated ? [] : ips(podIPs.length > 0 ? podIPs : status.podIP !== undefined ? [status.podIP] : []);
  const containerPorts: ContainerPort[] = [];
  for (const c of arr(spec.containers)) {
    for (const p of arr(obj(c).ports)) {
      const po = obj(p);
      const name = str(po.name);
      containerPorts.push({
        ...(name !== undefined ? { name } : {}),
        containerPort: Number(po.containerPort),
        protocol: protocol(po.protocol),
      });
    }
  }
  const nodeName = str(spec.nodeName);
  return {
    namespace: (str(meta.namespace) || 'default'),
    name: String(meta.name),
    labels: labelsOf(meta),
    ips: addrs,
    hostNetwork: spec.hostNetwork === true,
    ...(nodeName !== undefined ? { nodeName } : {}),
    containerPorts,
    source,
  };
}

export function toNode(o: Obj, source: Source): Node {
  const meta = obj(o.metadata);
  const addresses = ips(arr(obj(o.status).addresses).map((a) => obj(a).address));
  return { name: String(meta.name), labels: labelsOf(meta), addresses, source };
}

export function toService(o: Obj, source: Source): Service {
  const meta = obj(o.metadata);
  const spec = obj(o.spec);
  const clusterIPs = arr(spec.clusterIPs).length > 0 ? arr(spec.clusterIPs) : spec.clusterIP ? [spec.clusterIP] : [];
  const sel = isObj(spec.selector) ? (Object.fromEntries(Object.entries(spec.selector).map(([k, v]) => [k, String(v)])) as Record<string, string>) : undefined;
  return {
    namespace: (str(meta.namespace) || 'default'),
    name: String(meta.name),
    ...(sel ? { selector: sel } : {}),
    clusterIPs: ips(clusterIPs.filter((x) => x !== 'None')),
    ...optionalIps('externalIPs', arr(spec.externalIPs)),
    ...optionalIps('loadBalancerIPs', arr(obj(obj(o.status).loadBalancer).ingress).map((i) => obj(i).ip).filter((x) => x !== undefined)),
    ports: arr(spec.ports).map((p) => {
      const po = obj(p);
      const name = str(po.name);
      const tp = po.targetPort;
      return {
        ...(name !== undefined ? { name } : {}),
        protocol: protocol(po.protocol),
        port: Number(po.port),
        ...(typeof tp === 'number' || typeof tp === 'string' ? { targetPort: tp } : {}),
        ...(typeof po.nodePort === 'number' ? { nodePort: po.nodePort } : {}),
      };
    }),
    source,
  };
}

export function toEndpointSlice(o: Obj, source: Source): EndpointSlice {
  const meta = obj(o.metadata);
  const serviceName = str(obj(meta.labels)['kubernetes.io/service-name']);
  return {
    namespace: (str(meta.namespace) || 'default'),
    name: String(meta.name),
    ...(serviceName !== undefined ? { serviceName } : {}),
    addresses: ips(arr(o.endpoints).flatMap((e) => arr(obj(e).addresses))),
    ports: arr(o.ports).map((p) => {
      const po = obj(p);
      const name = str(po.name);
      return {
        ...(name !== undefined ? { name } : {}),
        ...(typeof po.port === 'number' ? { port: po.port } : {}),
        protocol: protocol(po.protocol),
      };
    }),
    source,
  };
}

// ---- NetworkPolicy ------------------------------------------------------------------------

/** `staged: true` when the (validated) object carries the staged mark with value "true" (model/staged.ts). */
const stagedMark = (meta: Obj): { staged?: true } => (obj(meta.annotations)[STAGED_ANNOTATION] === 'true' ? { staged: true } : {});

/** `audit` when the (validated) object carries the audit mark naming at least one rule (model/audit.ts). */
function auditMark(meta: Obj, rules: AuditRuleNames): { audit?: AuditMark } {
  const value = obj(meta.annotations)[AUDIT_ANNOTATION];
  if (typeof value !== 'string') return {};
  const parsed = parseAuditItems(value);
  if ('error' in parsed) return {};
  const { mark } = resolveAuditItems(parsed.items, rules);
  return mark.ingress.length + mark.egress.length > 0 ? { audit: mark } : {};
}

export function toNetworkPolicy(o: Obj, source: Source): NetworkPolicy {
  const meta = obj(o.metadata);
  const spec = obj(o.spec);
  const ingress = arr(spec.ingress).map((r) => npRule(obj(r), 'from'));
  const egress = arr(spec.egress).map((r) => npRule(obj(r), 'to'));
  // SetDefaults_NetworkPolicy: empty policyTypes -> [Ingress] (+ Egress when egress rules exist).
  let policyTypes = arr(spec.policyTypes).map(String) as ('Ingress' | 'Egress')[];
  if (policyTypes.length === 0) policyTypes = egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  policyTypes = (['Ingress', 'Egress'] as const).filter((t) => policyTypes.includes(t));
  return {
    kind: 'NetworkPolicy',
    namespace: (str(meta.namespace) || 'default'),
    name: String(meta.name),
    podSelector: selector(spec.podSelector),
    policyTypes,
    ingress,
    egress,
    ...stagedMark(meta),
    ...auditMark(meta, { ingress: ingress.map(() => undefined), egress: egress.map(() => undefined) }),
    source,
  };
}

function npRule(r: Obj, peersField: 'from' | 'to'): NetworkPolicyRule {
  const peers = arr(r[peersField]);
  const ports = arr(r.ports);
  return {
    peers: peers.length === 0 ? null : peers.map((p) => npPeer(obj(p))),
    ports: ports.length === 0 ? null : ports.map((p) => npPort(obj(p))),
  };
}

function npPeer(p: Obj): NetworkPolicyPeer {
  if (isObj(p.ipBlock)) {
    return { kind: 'ipBlock', cidr: cidr(p.ipBlock.cidr), except: arr(p.ipBlock.except).map(cidr) };
  }
  return {
    kind: 'selector',
    ...(p.namespaceSelector !== undefined && p.namespaceSelector !== null ? { namespaceSelector: selector(p.namespaceSelector) } : {}),
    ...(p.podSelector !== undefined && p.podSelector !== null ? { podSelector: selector(p.podSelector) } : {}),
  };
}

function npPort(p: Obj): NetworkPolicyPort {
  const port = p.port;
  return {
    protocol: protocol(p.protocol),
    ...(typeof port === 'number' || typeof port === 'string' ? { port } : {}),
    ...(typeof p.endPort === 'number' ? { endPort: p.endPort } : {}),
  };
}

// ---- ClusterNetworkPolicy / AdminNetworkPolicy / BaselineAdminNetworkPolicy ----------------

const PEER_FIELDS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'];
/** PalisadeClusterNetworkPolicy peers: the CNP ones plus `services` and `entities` (docs/extension-kind.md) */
const EXTENDED_PEER_FIELDS = [...PEER_FIELDS, 'services', 'entities'];
const PROTOCOL_FIELDS = ['tcp', 'udp', 'sctp', 'destinationNamedPort'];
const V1A1_PORT_FIELDS = ['portNumber', 'portRange', 'namedPort'];

export function toClusterPolicy(o: Obj, kind: ClusterPolicyKind, source: Source): ClusterPolicy {
  const meta = obj(o.metadata);
  const spec = obj(o.spec);
  const v1alpha1 = kind === 'AdminNetworkPolicy' || kind === 'BaselineAdminNetworkPolicy';
  const extended = kind === 'PalisadeClusterNetworkPolicy';
  const tier = kind === 'AdminNetworkPolicy' ? 'Admin' : kind === 'BaselineAdminNetworkPolicy' ? 'Baseline' : (String(spec.tier) as 'Admin' | 'Baseline');
  const priority = kind === 'BaselineAdminNetworkPolicy' ? BANP_PRIORITY : Number(spec.priority);
  const rules = (list: unknown, peersField: 'from' | 'to'): ClusterRule[] =>
    arr(list).map((r, index) => clusterRule(obj(r), index, peersField, v1alpha1, extended));
  const ingress = rules(spec.ingress, 'from');
  const egress = rules(spec.egress, 'to');
  return {
    kind,
    name: String(meta.name),
    tier,
    priority,
    subject: clusterSubject(obj(spec.subject), extended),
    ingress,
    egress,
    ...stagedMark(meta),
    ...auditMark(meta, { ingress: ingress.map((r) => r.name), egress: egress.map((r) => r.name) }),
    source,
  };
}

/** null is absent: the API server prunes nulls of non-nullable fields (structural schema). */
const present = (v: unknown): boolean => v !== undefined && v !== null;

const serviceRef = (v: unknown): ServiceRef => {
  const o = obj(v);
  return { namespace: String(o.namespace), name: String(o.name) };
};

function clusterSubject(s: Obj, extended: boolean): ClusterSubject {
  if (present(s.namespaces)) return { kind: 'namespaces', namespaceSelector: selector(s.namespaces) };
  if (extended && present(s.nodes)) return { kind: 'nodes', nodeSelector: selector(s.nodes) };
  if (extended && present(s.services)) return { kind: 'services', services: arr(s.services).map(serviceRef) };
  const p = obj(s.pods);
  return {
    kind: 'pods',
    namespaceSelector: selector(p.namespaceSelector),
    podSelector: selector(p.podSelector),
    ...(extended && present(p.nodeSelector) ? { nodeSelector: selector(p.nodeSelector) } : {}),
  };
}

function clusterRule(r: Obj, index: number, peersField: 'from' | 'to', v1alpha1: boolean, extended: boolean): ClusterRule {
  const rawAction = String(r.action);
  const action: ClusterAction = rawAction === 'Allow' ? 'Accept' : (rawAction as ClusterAction);
  const name = str(r.name);
  const protoList = v1alpha1 ? r.ports : r.protocols;
  const protocols =
    protoList === undefined || protoList === null
      ? null
      : arr(protoList).map((p) => (v1alpha1 ? v1alpha1Port(obj(p)) : clusterProtocol(obj(p), extended)));
  const redirect = extended && isObj(r.redirect) ? r.redirect : undefined;
  return {
    index,
    ...(name !== undefined ? { name } : {}),
    action,
    ...(redirect
      ? { redirect: { service: serviceRef(redirect.service), ...(typeof redirect.port === 'number' ? { port: redirect.port } : {}) } }
      : {}),
    peers: arr(r[peersField]).map((p) => clusterPeer(obj(p), extended)),
    protocols,
  };
}

/** One peer; `extended`: a PalisadeClusterNetworkPolicy peer (`services`, `entities` known). */
export function clusterPeer(p: Obj, extended = false): ClusterPeer {
  const fields = extended ? EXTENDED_PEER_FIELDS : PEER_FIELDS;
  const known = Object.keys(p).filter((k) => fields.includes(k) && present(p[k]));
  if (known.length !== 1) return { kind: 'unknown', fields: Object.keys(p) };
  switch (known[0]) {
    case 'namespaces':
      return { kind: 'namespaces', namespaceSelector: selector(p.namespaces) };
    case 'pods': {
      const q = obj(p.pods);
      return { kind: 'pods', namespaceSelector: selector(q.namespaceSelector), podSelector: selector(q.podSelector) };
    }
    case 'nodes':
      return { kind: 'nodes', nodeSelector: selector(p.nodes) };
    case 'networks':
      return { kind: 'networks', cidrs: arr(p.networks).map(cidr) };
    case 'services':
      return { kind: 'services', services: arr(p.services).map(serviceRef) };
    case 'entities':
      // validated: every entry is a ClusterEntity
      return { kind: 'entities', entities: [...new Set(arr(p.entities).map(String))] as ClusterEntity[] };
    default:
      return { kind: 'domainNames', domainNames: arr(p.domainNames).map(String) };
  }
}

/** A `{ number } | { range: { start, end } }` port match as an inclusive range; undefined: absent. */
function portMatch(v: unknown): { start: number; end: number } | undefined {
  const m = obj(v);
  if (typeof m.number === 'number') return { start: m.number, end: m.number };
  if (isObj(m.range)) return { start: Number(m.range.start), end: Number(m.range.end) };
  return undefined;
}

/** `extended`: a PalisadeClusterNetworkPolicy entry (`sourcePort` read, S25). */
function clusterProtocol(p: Obj, extended: boolean): ClusterProtocolMatch {
  const known = Object.keys(p).filter((k) => PROTOCOL_FIELDS.includes(k) && present(p[k]));
  if (known.length !== 1) return { kind: 'unknown', fields: Object.keys(p) };
  const field = known[0] as string;
  if (field === 'destinationNamedPort') return { kind: 'namedPort', name: String(p.destinationNamedPort) };
  const proto = field.toUpperCase() as Protocol;
  const dst = portMatch(obj(p[field]).destinationPort);
  const src = extended ? portMatch(obj(p[field]).sourcePort) : undefined;
  return {
    kind: 'port',
    protocol: proto,
    ...(dst ? { portStart: dst.start, portEnd: dst.end } : {}),
    ...(src ? { srcPortStart: src.start, srcPortEnd: src.end } : {}),
  };
}

function v1alpha1Port(p: Obj): ClusterProtocolMatch {
  const known = Object.keys(p).filter((k) => V1A1_PORT_FIELDS.includes(k) && p[k] !== undefined && p[k] !== null);
  if (known.length !== 1) return { kind: 'unknown', fields: Object.keys(p) };
  if (known[0] === 'namedPort') return { kind: 'namedPort', name: String(p.namedPort) };
  if (known[0] === 'portNumber') {
    const n = obj(p.portNumber);
    return { kind: 'port', protocol: protocol(n.protocol), portStart: Number(n.port), portEnd: Number(n.port) };
  }
  const r = obj(p.portRange);
  return { kind: 'port', protocol: protocol(r.protocol), portStart: Number(r.start), portEnd: Number(r.end) };
}
