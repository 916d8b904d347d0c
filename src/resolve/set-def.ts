/**
 * Address set definitions: what a rule's subject or peer denotes, before the inventory is read.
 * The resolver turns each definition into a set of prefixes; the rules refer to sets by id.
 *
 * Kinds (host-network pods are never members of a pod kind, as the API docs require):
 * - `pods`: pods of the namespaces `namespaceSelector` selects whose labels `podSelector`
 *   selects; optionally only pods declaring a named port as (name, protocol, number),
 *   optionally only the pod IPs inside an ipBlock (NetworkPolicy ipBlock peer with a named port),
 *   and optionally only pods whose spec.nodeName is a Node `nodeSelector` selects (S7).
 * - `isolated`: pods that some NetworkPolicy isolates in `direction`; optionally only those on
 *   node `node` (the node-local ingress exception).
 * - `nodes`: every `status.addresses` entry of the nodes `nodeSelector` selects.
 * - `node`: the addresses whose traffic is node N's own (the node-local ingress exception):
 *   every `status.addresses` entry of the Node named N, and every address whose host-network
 *   pod (reference/endpoints.ts rules 2-3: the first host-network claimant, when no other pod
 *   owns the address) runs on N, even when the Node object is missing.
 * - `prefixes`: a fixed list of disjoint prefixes (networks, ipBlock with except expanded).
 * - `service`: the addresses of a Service's tuples (model/services.ts) in one (protocol, port)
 *   group: `protocol` / `port` null are the tuples that cover every protocol / port. A Service
 *   peer or subject is lowered into one rule per group (docs/extension-semantics.md).
 * - `service-endpoints`: the endpoint addresses of a Service (a `from: services` peer).
 * - `cluster`: the `Cluster` entity (model/entities.ts): every pod IP (host-network pods
 *   included), every node address and every Service address of the inventory.
 *
 * Invariant: `setKey` is canonical: equal keys mean equal membership in every inventory.
 * Pure.
 */
import type { Cidr } from '../model/ip.js';
import type { Direction, LabelSelector, Protocol, ServiceRef } from '../model/types.js';
import { formatSelector } from '../model/labels.js';
import { selectorKey } from './selector-key.js';

export interface NamedPortGroup {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
}

export interface IpBlock {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

export type SetDef =
  | {
      readonly kind: 'pods';
      readonly namespaceSelector: LabelSelector;
      readonly podSelector: LabelSelector;
      readonly namedPort?: NamedPortGroup;
      readonly block?: IpBlock;
      /** PalisadeClusterNetworkPolicy subject `pods.nodeSelector` */
      readonly nodeSelector?: LabelSelector;
    }
  | { readonly kind: 'isolated'; readonly direction: Direction; readonly node?: string }
  | { readonly kind: 'nodes'; readonly nodeSelector: LabelSelector }
  | { readonly kind: 'node'; readonly name: string }
  | { readonly kind: 'prefixes'; readonly prefixes: readonly Cidr[] }
  | { readonly kind: 'service'; readonly service: ServiceRef; readonly protocol: Protocol | null; readonly port: number | null }
  | { readonly kind: 'service-endpoints'; readonly service: ServiceRef }
  | { readonly kind: 'cluster' };

/** Dense index of a set inside one resolution; stable for the life of that resolution. */
export type SetId = number;

export function setKey(d: SetDef): string {
  switch (d.kind) {
    case 'pods':
      return JSON.stringify([
        'pods',
        selectorKey(d.namespaceSelector),
        selectorKey(d.podSelector),
        d.namedPort ? [d.namedPort.name, d.namedPort.protocol, d.namedPort.port] : null,
        d.block ? [d.block.cidr.text, d.block.except.map((c) => c.text).sort()] : null,
        // appended only when set, so the keys of every other pod set stay what they were
        ...(d.nodeSelector ? [selectorKey(d.nodeSelector)] : []),
      ]);
    case 'isolated':
      return JSON.stringify(['isolated', d.direction, d.node ?? null]);
    case 'nodes':
      return JSON.stringify(['nodes', selectorKey(d.nodeSelector)]);
    case 'node':
      return JSON.stringify(['node', d.name]);
    case 'prefixes':
      return JSON.stringify(['prefixes', d.prefixes.map((c) => c.text)]);
    case 'service':
      return JSON.stringify(['service', d.service.namespace, d.service.name, d.protocol, d.port]);
    case 'service-endpoints':
      return JSON.stringify(['service-endpoints', d.service.namespace, d.service.name]);
    case 'cluster':
      return JSON.stringify(['cluster']);
  }
}

/** One readable line, used by the canonical dump. */
export function describeSet(d: SetDef): string {
  switch (d.kind) {
    case 'pods': {
      const parts = [`pods ns=${formatSelector(d.namespaceSelector)} pod=${formatSelector(d.podSelector)}`];
      if (d.namedPort) parts.push(`port=${d.namedPort.name}:${d.namedPort.protocol}/${d.namedPort.port}`);
      if (d.block) parts.push(`within=${d.block.cidr.text}${d.block.except.map((c) => ` except ${c.text}`).join('')}`);
      if (d.nodeSelector) parts.push(`on-nodes=${formatSelector(d.nodeSelector)}`);
      return parts.join(' ');
    }
    case 'isolated':
      return `isolated ${d.direction}${d.node !== undefined ? ` node=${d.node}` : ''}`;
    case 'nodes':
      return `nodes ${formatSelector(d.nodeSelector)}`;
    case 'node':
      return `node ${d.name}`;
    case 'prefixes':
      return `prefixes ${d.prefixes.map((c) => c.text).join(' ') || '(none)'}`;
    case 'service':
      return `service ${d.service.namespace}/${d.service.name} ${d.protocol ?? 'any'}/${d.port ?? 'any'}`;
    case 'service-endpoints':
      return `service ${d.service.namespace}/${d.service.name} endpoints`;
    case 'cluster':
      return 'cluster (every pod, node and Service address)';
  }
}
