/**
 * Manifests -> a validated, normalized Cluster (inventory + policies), or the problems that stop
 * it. An object with an error is rejected whole; when any object has an error, callers use
 * nothing (the CLI exits 2, the enforcer keeps its last good state).
 */
import type { RawObject } from '../model/kinds.js';
import { loadPaths, parseManifestText } from './load.js';
import { API_VERSIONS, isKnownKind, type KnownKind } from '../model/kinds.js';
import { validateObject, objectRef } from '../validate/index.js';
import {
  toClusterPolicy,
  toEndpointSlice,
  toNamespace,
  toNetworkPolicy,
  toNode,
  toPod,
  toService,
} from './normalize.js';
import { hasErrors, InvalidInputError, type Problem } from '../model/problems.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type ClusterPolicy, type EndpointSlice, type Namespace, type NetworkPolicy, type Node, type Pod, type Service } from '../model/types.js';

export interface ClusterResult {
  /** Present only when there is no error. */
  readonly cluster?: Cluster;
  /** Errors, warnings and notices, in input order. */
  readonly problems: readonly Problem[];
}

export function buildCluster(objects: readonly RawObject[]): ClusterResult {
  const problems: Problem[] = [];
  const namespaces: Namespace[] = [];
  const pods: Pod[] = [];
  const nodes: Node[] = [];
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const networkPolicies: NetworkPolicy[] = [];
  const clusterPolicies: ClusterPolicy[] = [];
  // staged policies (model/staged.ts) are kept apart, so that nothing that enforces reads them
  const stagedNetworkPolicies: NetworkPolicy[] = [];
  const stagedClusterPolicies: ClusterPolicy[] = [];
  const seen = new Map<string, RawObject>();

  for (const raw of objects) {
    const kind = raw.obj.kind;
    const apiVersion = raw.obj.apiVersion;
    const at = { file: raw.file, ...(raw.line !== undefined ? { line: raw.line } : {}) };
    if (typeof kind !== 'string' || kind === '') {
      problems.push({ code: 'KIND_MISSING', severity: 'error', ...at, path: 'kind', message: 'every object needs a kind' });
      continue;
    }
    if (!isKnownKind(kind)) {
      problems.push({
        code: 'KIND_SKIPPED',
        severity: 'warning',
        ...at,
        object: objectRef(raw, kind),
        message: `${String(apiVersion)} ${kind} is not used by Palisade; skipped`,
      });
      continue;
    }
    if (apiVersion !== API_VERSIONS[kind]) {
      problems.push({
        code: 'API_VERSION_UNSUPPORTED',
        severity: 'error',
        ...at,
        object: objectRef(raw, kind),
        path: 'apiVersion',
        message: `${kind} must have apiVersion ${API_VERSIONS[kind]}, got ${JSON.stringify(apiVersion)}`,
      });
      continue;
    }
    const own = validateObject(raw, kind);
    problems.push(...own);
    if (hasErrors(own)) continue;

    const ref = objectRef(raw, kind);
    const key = `${kind}/${ref.namespace ?? (namespacedDefault(kind) ? 'default' : '')}/${ref.name}`;
    const first = seen.get(key);
    if (first) {
      problems.push({
        code: 'DUPLICATE_OBJECT',
        severity: 'error',
        ...at,
        object: ref,
        path: 'metadata.name',
        message: `defined twice (first in ${first.file}${first.line ? `:${first.line}` : ''})`,
      });
      continue;
    }
    seen.set(key, raw);
    add(kind, raw);
  }

  function add(kind: KnownKind, raw: RawObject): void {
    const source = { file: raw.file, ...(raw.line !== undefined ? { line: raw.line } : {}) };
    const o = raw.obj;
    switch (kind) {
      case 'Namespace':
        return void namespaces.push(toNamespace(o, source));
      case 'Pod':
        return void pods.push(toPod(o, source));
      case 'Node':
        return void nodes.push(toNode(o, source));
      case 'Service':
        return void services.push(toService(o, source));
      case 'EndpointSlice':
        return void endpointSlices.push(toEndpointSlice(o, source));
      case 'NetworkPolicy': {
        const np = toNetworkPolicy(o, source);
        return void (np.staged ? stagedNetworkPolicies : networkPolicies).push(np);
      }
      default: {
        const cp = toClusterPolicy(o, kind, source);
        return void (cp.staged ? stagedClusterPolicies : clusterPolicies).push(cp);
      }
    }
  }

  // A namespace that objects refer to but no manifest defines exists with only its name label.
  const known = new Set(namespaces.map((n) => n.name));
  for (const o of [...pods, ...networkPolicies, ...stagedNetworkPolicies, ...services, ...endpointSlices]) {
    if (known.has(o.namespace)) continue;
    known.add(o.namespace);
    namespaces.push({ name: o.namespace, labels: { [NAMESPACE_NAME_LABEL]: o.namespace }, source: { file: '<implicit>' } });
    problems.push({
      code: 'NAMESPACE_IMPLICIT',
      severity: 'warning',
      file: o.source.file,
      ...(o.source.line !== undefined ? { line: o.source.line } : {}),
      object: { kind: 'Namespace', name: o.namespace },
      message: `namespace ${o.namespace} is not defined in the manifests; assumed to exist with only the ${NAMESPACE_NAME_LABEL} label`,
    });
  }

  if (hasErrors(problems)) return { problems };
  const staged =
    stagedNetworkPolicies.length > 0 || stagedClusterPolicies.length > 0
      ? { staged: { networkPolicies: stagedNetworkPolicies, clusterPolicies: stagedClusterPolicies } }
      : {};
  return { cluster: { namespaces, pods, nodes, services, endpointSlices, networkPolicies, clusterPolicies, ...staged }, problems };
}

const namespacedDefault = (k: KnownKind): boolean => k === 'Pod' || k === 'Service' || k === 'EndpointSlice' || k === 'NetworkPolicy';

/** Load, validate and normalize manifests from files and directories. Never throws for bad input. */
export function safeLoadCluster(paths: readonly string[]): ClusterResult {
  const loaded = loadPaths(paths);
  const built = buildCluster(loaded.objects);
  const problems = [...loaded.problems, ...built.problems];
  if (hasErrors(loaded.problems) || !built.cluster) return { problems };
  return { cluster: built.cluster, problems };
}

/** Like safeLoadCluster, but throws InvalidInputError (with every problem) on any error. */
export function loadCluster(paths: readonly string[]): { cluster: Cluster; problems: readonly Problem[] } {
  const r = safeLoadCluster(paths);
  if (!r.cluster) throw new InvalidInputError(r.problems);
  return { cluster: r.cluster, problems: r.problems };
}

/** Parse manifests given as text (one file's worth). */
export function safeParseCluster(text: string, file = '<input>'): ClusterResult {
  const parsed = parseManifestText(text, file);
  const built = buildCluster(parsed.objects);
  const problems = [...parsed.problems, ...built.problems];
  if (hasErrors(parsed.problems) || !built.cluster) return { problems };
  return { cluster: built.cluster, problems };
}
