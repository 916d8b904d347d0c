/**
 * The object kinds Palisade reads, keyed by apiVersion and kind, and the raw object as loaded
 * (before validation): the vocabulary manifests loading, validation and lint share.
 * Plain read-only data; no I/O.
 */

/** One object as read from a manifest file, before validation. */
export interface RawObject {
  readonly obj: Record<string, unknown>;
  readonly file: string;
  /** 1-based line where the object's document (or List item) starts */
  readonly line?: number;
}

/** The object kinds Palisade reads, keyed by apiVersion and kind. */
export type KnownKind =
  | 'Namespace'
  | 'Pod'
  | 'Node'
  | 'Service'
  | 'EndpointSlice'
  | 'NetworkPolicy'
  | 'ClusterNetworkPolicy'
  | 'AdminNetworkPolicy'
  | 'BaselineAdminNetworkPolicy'
  /** Palisade's own extension kind (docs/extension-kind.md) */
  | 'PalisadeClusterNetworkPolicy';

export const API_VERSIONS: Readonly<Record<KnownKind, string>> = {
  Namespace: 'v1',
  Pod: 'v1',
  Node: 'v1',
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  ClusterNetworkPolicy: 'policy.networking.k8s.io/v1alpha2',
  AdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  BaselineAdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  PalisadeClusterNetworkPolicy: 'policy.palisade.dev/v1alpha1',
};

export const isKnownKind = (k: unknown): k is KnownKind =>
  typeof k === 'string' && Object.prototype.hasOwnProperty.call(API_VERSIONS, k);

/** Namespaced kinds default to namespace `default` when metadata.namespace is absent (as kubectl does). */
export const NAMESPACED: ReadonlySet<KnownKind> = new Set(['Pod', 'Service', 'EndpointSlice', 'NetworkPolicy']);
