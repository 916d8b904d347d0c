/**
 * API-server objects -> the model, through the same validation and normalization `palisade check`
 * applies to files (src/validate, src/manifests/normalize.ts), plus the slimming the agent applies
 * before anything caches an object.
 *
 * - `slimObject(kind, o)`: keeps only what validation and normalization read (a Pod keeps labels,
 *   container ports, hostNetwork, nodeName, IPs and phase; `managedFields`, annotations of
 *   inventory kinds and status of policies go). The informer caches the slim object.
 * - `toModel(kind, o)`: validates, then normalizes; an object with an error gives its problems
 *   (kind, namespace/name and field path) and no model object.
 * Objects are stamped with their kind and apiVersion: list items from the API server carry none.
 * Pure. Cost: linear in the object. Thread-safety: no shared state.
 */
import { API_VERSIONS, type KnownKind } from '../model/kinds.js';
import { hasErrors, type Problem } from '../model/problems.js';
import type { ClusterPolicy, EndpointSlice, Namespace, NetworkPolicy, Node, ObjectRef, Pod, Service, Source } from '../model/types.js';
import { toClusterPolicy, toEndpointSlice, toNamespace, toNetworkPolicy, toNode, toPod, toService } from '../manifests/normalize.js';
import { objectRef, validateObject } from '../validate/index.js';

/** The resources the agent watches and the kind each one holds. */
export const RESOURCE_KINDS = {
  namespaces: 'Namespace',
  pods: 'Pod',
  nodes: 'Node',
  services: 'Service',
  endpointslices: 'EndpointSlice',
  networkpolicies: 'NetworkPolicy',
  clusternetworkpolicies: 'ClusterNetworkPolicy',
  adminnetworkpolicies: 'AdminNetworkPolicy',
  baselineadminnetworkpolicies: 'BaselineAdminNetworkPolicy',
  palisadeclusternetworkpolicies: 'PalisadeClusterNetworkPolicy',
} as const satisfies Record<string, KnownKind>;

export type WatchedResource = keyof typeof RESOURCE_KINDS;
export const WATCHED_RESOURCES = Object.keys(RESOURCE_KINDS) as WatchedResource[];
/** Custom resources: an informer of one whose CRD is not installed waits for it, not an error. */
export const CRD_RESOURCES: ReadonlySet<WatchedResource> = new Set(['clusternetworkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies', 'palisadeclusternetworkpolicies']);

/** Every model object names this source: the records are many, one shared object costs nothing. */
export const API_SOURCE: Source = Object.freeze({ file: '<api-server>' });

export type ModelObject =
  | { readonly kind: 'Namespace'; readonly value: Namespace }
  | { readonly kind: 'Pod'; readonly value: Pod }
  | { readonly kind: 'Node'; readonly value: Node }
  | { readonly kind: 'Service'; readonly value: Service }
  | { readonly kind: 'EndpointSlice'; readonly value: EndpointSlice }
  | { readonly kind: 'NetworkPolicy'; readonly value: NetworkPolicy }
  | { readonly kind: 'ClusterPolicy'; readonly value: ClusterPolicy };

export type Translation = { readonly ok: true; readonly model: ModelObject; readonly warnings: readonly Problem[] } | { readonly ok: false; readonly ref: ObjectRef; readonly problems: readonly Problem[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (o: Obj, keys: readonly string[]): Obj => {
  const out: Obj = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
};

const POLICY_KINDS: ReadonlySet<KnownKind> = new Set(['NetworkPolicy', 'ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'PalisadeClusterNetworkPolicy']);

/** The object with only the fields Palisade reads (what the informer caches). */
export function slimObject(kind: KnownKind, o: Obj): Obj {
  const meta = isObj(o.metadata) ? o.metadata : {};
  // annotations matter only on policies (the staged mark); everything else drops them
  const metadata = pick(meta, POLICY_KINDS.has(kind) ? ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'annotations'] : ['name', 'namespace', 'uid', 'resourceVersion', 'labels']);
  const base: Obj = { apiVersion: API_VERSIONS[kind], kind, metadata };
  const spec = isObj(o.spec) ? o.spec : undefined;
  const status = isObj(o.status) ? o.status : undefined;
  switch (kind) {
    case 'Namespace':
      return base;
    case 'Pod': {
      const s: Obj = {};
      if (spec) {
        if (spec.nodeName !== undefined) s.nodeName = spec.nodeName;
        if (spec.hostNetwork !== undefined) s.hostNetwork = spec.hostNetwork;
        if (Array.isArray(spec.containers)) {
          s.containers = spec.containers.map((c: unknown) => (isObj(c) && Array.isArray(c.ports) ? { ports: c.ports } : {}));
        }
      }
      return { ...base, spec: s, ...(status ? { status: pick(status, ['phase', 'podIP', 'podIPs']) } : {}) };
    }
    case 'Node':
      return { ...base, ...(status ? { status: pick(status, ['addresses']) } : {}) };
    case 'EndpointSlice':
      return { ...base, ...pick(o, ['addressType', 'endpoints', 'ports']) };
    default:
      // Service and the policies: the whole spec (policies are few; a Service spec is small)
      return { ...base, ...(spec ? { spec } : {}) };
  }
}

/** Validate and normalize one object of `kind`. */
export function toModel(kind: KnownKind, o: Obj): Translation {
  const raw = { obj: { ...o, apiVersion: API_VERSIONS[kind], kind }, file: API_SOURCE.file };
  const problems = validateObject(raw, kind);
  if (hasErrors(problems)) return { ok: false, ref: objectRef(raw, kind), problems };
  const obj = raw.obj;
  const warnings = problems;
  switch (kind) {
    case 'Namespace':
      return { ok: true, model: { kind, value: toNamespace(obj, API_SOURCE) }, warnings };
    case 'Pod':
      return { ok: true, model: { kind, value: toPod(obj, API_SOURCE) }, warnings };
    case 'Node':
      return { ok: true, model: { kind, value: toNode(obj, API_SOURCE) }, warnings };
    case 'Service':
      return { ok: true, model: { kind, value: toService(obj, API_SOURCE) }, warnings };
    case 'EndpointSlice':
      return { ok: true, model: { kind, value: toEndpointSlice(obj, API_SOURCE) }, warnings };
    case 'NetworkPolicy':
      return { ok: true, model: { kind, value: toNetworkPolicy(obj, API_SOURCE) }, warnings };
    default:
      return { ok: true, model: { kind: 'ClusterPolicy', value: toClusterPolicy(obj, kind, API_SOURCE) }, warnings };
  }
}

/** kind, namespace/name of an object as the API server gave it (for deletes and reports). */
export function refOf(kind: KnownKind, o: Obj): ObjectRef {
  return objectRef({ obj: o, file: API_SOURCE.file }, kind);
}
