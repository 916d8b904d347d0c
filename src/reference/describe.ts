/**
 * Policy parts as short text for people: subjects, peers, ports and protocols, in the words
 * `explain` and the walkthrough print ("pods {app=db} in namespaces {team=a}", "TCP 80-90").
 * Selectors use model/labels.ts `formatSelector` (`{}` selects everything).
 * Pure. Cost: linear in the part described.
 */
import { formatSelector, isEmptySelector } from '../model/labels.js';
import type {
  ClusterPeer,
  ClusterProtocolMatch,
  ClusterSubject,
  LabelSelector,
  NetworkPolicyPeer,
  ServiceRef,
  NetworkPolicyPort,
} from '../model/types.js';

const namespaces = (sel: LabelSelector): string => (isEmptySelector(sel) ? 'every namespace' : `namespaces ${formatSelector(sel)}`);
const pods = (sel: LabelSelector): string => (isEmptySelector(sel) ? 'every pod' : `pods ${formatSelector(sel)}`);

const nodes = (sel: LabelSelector): string => (isEmptySelector(sel) ? 'every node' : `nodes ${formatSelector(sel)}`);
const services = (refs: readonly ServiceRef[]): string => `Services ${refs.map((r) => `${r.namespace}/${r.name}`).join(', ')}`;

export function describeSubject(s: ClusterSubject): string {
  switch (s.kind) {
    case 'namespaces':
      return `every pod in ${namespaces(s.namespaceSelector)}`;
    case 'pods':
      return `${pods(s.podSelector)} in ${namespaces(s.namespaceSelector)}${s.nodeSelector !== undefined ? ` on ${nodes(s.nodeSelector)}` : ''}`;
    case 'nodes':
      return `the host traffic of ${nodes(s.nodeSelector)}`;
    case 'services':
      return `traffic to ${services(s.services)}`;
  }
}

export function describeClusterPeer(p: ClusterPeer): string {
  switch (p.kind) {
    case 'namespaces':
      return `every pod in ${namespaces(p.namespaceSelector)}`;
    case 'pods':
      return `${pods(p.podSelector)} in ${namespaces(p.namespaceSelector)}`;
    case 'nodes':
      return nodes(p.nodeSelector);
    case 'networks':
      return `networks ${p.cidrs.map((c) => c.text).join(', ')}`;
    case 'domainNames':
      return `domainNames ${p.domainNames.join(', ')}`;
    case 'services':
      return services(p.services);
    case 'entities':
      return `entities ${p.entities.join(', ')}`;
    case 'unknown':
      return p.fields.length > 0 ? `a peer of unknown kind (${p.fields.join(', ')})` : 'a peer with no known field';
  }
}

export function describeClusterProtocol(e: ClusterProtocolMatch): string {
  switch (e.kind) {
    case 'port': {
      const src =
        e.srcPortStart === undefined
          ? ''
          : ` from source port ${e.srcPortEnd !== undefined && e.srcPortEnd !== e.srcPortStart ? `${e.srcPortStart}-${e.srcPortEnd}` : e.srcPortStart}`;
      if (e.portStart === undefined) return `${e.protocol} (every port)${src}`;
      return `${e.portEnd !== undefined && e.portEnd !== e.portStart ? `${e.protocol} ${e.portStart}-${e.portEnd}` : `${e.protocol} ${e.portStart}`}${src}`;
    }
    case 'namedPort':
      return `named port ${JSON.stringify(e.name)}`;
    case 'unknown':
      return e.fields.length > 0 ? `a protocol of unknown kind (${e.fields.join(', ')})` : 'a protocol entry with no known field';
  }
}

export function describeClusterProtocols(ps: readonly ClusterProtocolMatch[] | null): string {
  return ps === null ? 'every port and protocol' : ps.map(describeClusterProtocol).join(', ');
}

export function describeNetworkPolicyPeer(p: NetworkPolicyPeer, policyNamespace: string): string {
  if (p.kind === 'ipBlock') return `ipBlock ${p.cidr.text}${p.except.length > 0 ? ` except ${p.except.map((c) => c.text).join(', ')}` : ''}`;
  const where = p.namespaceSelector ? namespaces(p.namespaceSelector) : `namespace ${policyNamespace}`;
  return `${p.podSelector ? pods(p.podSelector) : 'every pod'} in ${where}`;
}

export function describeNetworkPolicyPeers(ps: readonly NetworkPolicyPeer[] | null, policyNamespace: string): string {
  return ps === null ? 'every address' : ps.map((p) => describeNetworkPolicyPeer(p, policyNamespace)).join('; ');
}

export function describeNetworkPolicyPort(e: NetworkPolicyPort): string {
  if (e.port === undefined) return `${e.protocol} (every port)`;
  if (typeof e.port === 'string') return `${e.protocol} named port ${JSON.stringify(e.port)}`;
  return e.endPort !== undefined && e.endPort !== e.port ? `${e.protocol} ${e.port}-${e.endPort}` : `${e.protocol} ${e.port}`;
}

export function describeNetworkPolicyPorts(ps: readonly NetworkPolicyPort[] | null): string {
  return ps === null ? 'every port and protocol' : ps.map(describeNetworkPolicyPort).join(', ');
}
