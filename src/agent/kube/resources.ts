/**
 * The resources the node agent lists and watches, and where each lives on the API server.
 *
 * - One row per resource, keyed by its plural (the name in the URL path and in RBAC rules).
 * - `optional`: served by a CustomResourceDefinition that a cluster may not have installed; a
 *   404 from its API is "not installed yet", not an error (src/agent/kube/informer.ts polls for it).
 * - `collectionPath` is the one place a URL path is built from a row: core (`group: ''`) under
 *   `/api/v1`, every other group under `/apis/GROUP/VERSION`.
 * Pure data and a pure function; no I/O.
 */

export interface WatchedResourceInfo {
  /** API group; '' is the core group */
  readonly group: string;
  readonly version: string;
  /** lower-case plural, as in the URL path */
  readonly plural: string;
  readonly kind: string;
  /** namespaced objects are keyed namespace/name, cluster-scoped ones by name */
  readonly namespaced: boolean;
  /** a CRD: 404 means not installed (watched for), not an error */
  readonly optional: boolean;
}

export const RESOURCES = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, optional: false },
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, optional: false },
  nodes: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, optional: false },
  services: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, optional: false },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true, optional: false },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true, optional: false },
  clusternetworkpolicies: { group: 'policy.networking.k8s.io', version: 'v1alpha2', plural: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false, optional: true },
  adminnetworkpolicies: { group: 'policy.networking.k8s.io', version: 'v1alpha1', plural: 'adminnetworkpolicies', kind: 'AdminNetworkPolicy', namespaced: false, optional: true },
  baselineadminnetworkpolicies: { group: 'policy.networking.k8s.io', version: 'v1alpha1', plural: 'baselineadminnetworkpolicies', kind: 'BaselineAdminNetworkPolicy', namespaced: false, optional: true },
  // Palisade's own extension kind (docs/extension-kind.md; deploy/crds)
  palisadeclusternetworkpolicies: { group: 'policy.palisade.dev', version: 'v1alpha1', plural: 'palisadeclusternetworkpolicies', kind: 'PalisadeClusterNetworkPolicy', namespaced: false, optional: true },
} as const satisfies Record<string, WatchedResourceInfo>;

export type ResourceName = keyof typeof RESOURCES;

/** Every watched resource, in the order an agent starts its informers (namespaces before pods). */
export const RESOURCE_NAMES: readonly ResourceName[] = Object.keys(RESOURCES) as ResourceName[];

export function isResourceName(s: string): s is ResourceName {
  return Object.prototype.hasOwnProperty.call(RESOURCES, s);
}

/** `apiVersion` as objects of the resource carry it: `v1`, `discovery.k8s.io/v1`. */
export function apiVersionOf(r: WatchedResourceInfo): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The group-version path prefix: `/api/v1` or `/apis/GROUP/VERSION`. */
export function groupVersionPath(r: WatchedResourceInfo): string {
  return r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
}

/** The collection path across all namespaces: `/api/v1/pods`, `/apis/discovery.k8s.io/v1/endpointslices`. */
export function collectionPath(r: WatchedResourceInfo): string {
  return `${groupVersionPath(r)}/${r.plural}`;
}
