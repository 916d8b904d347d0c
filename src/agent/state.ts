/**
 * The agent's picture of the cluster, kept from watch events: slim model records (pods hold only
 * what policy reads: labels, IPs, ports, hostNetwork, node), the policies in force, and the
 * objects rejected as invalid. `apply(events)` turns one batch of watch events into the
 * `EngineChange[]` that moves the policy compiler from the previous picture to this one.
 *
 * Invariants:
 * - Replaying the changes returned so far onto `cluster()` as it was at the first full apply gives
 *   `cluster()` now (the compiler and this picture agree after every committed batch).
 * - An unchanged object (a resync, a relist of the same state, a status-only update) gives no change.
 * - An invalid object is reported (its problems, once per resourceVersion) and ignored: the last
 *   valid version of that object stays (a policy edited into an invalid one keeps its previous,
 *   valid rules in force); a first version that is invalid never enters.
 * - A policy or Service whose accepted version cannot be enforced (a rule the compiler refuses,
 *   a Redirect the backend cannot do) is held back (`holdBack`): put back as it is in force, or
 *   left out when it is not, reported like an invalid object, and kept back until a new
 *   resourceVersion of it arrives or it is deleted; the rest of the cluster goes on.
 * - A staged policy (model/staged.ts) is never in force: it enters as a removal.
 * - CNI IPs (cni-agent.ts) override the API server's for a pod until the CNI deletes it: the
 *   plugin knows the addresses before the API server's status does.
 * - A namespace deleted while pods of it remain becomes implicit (its name label only), as
 *   manifests/cluster.ts treats a namespace that objects name but no object defines.
 * Cost: O(objects in the batch) plus one canonical comparison per object. Memory: one model
 * record per object (the compiler's resolver shares the same Pod objects, not copies).
 * Thread-safety: one owner (the agent's event loop).
 */
import { NAMESPACE_NAME_LABEL, type Cluster, type ClusterPolicy, type EndpointSlice, type Namespace, type NetworkPolicy, type Node, type ObjectRef, type Pod, type Service } from '../model/types.js';
import type { EngineChange } from '../engine/changes.js';
import { parseIp, type IpAddr } from '../model/ip.js';
import type { Problem } from '../model/problems.js';
import type { KnownKind } from '../model/kinds.js';
import { API_SOURCE, refOf, toModel, type ModelObject } from './objects.js';

type Obj = Record<string, unknown>;

/** One watch event, resolved to its kind (the agent maps resource names to kinds). */
export interface KindEvent {
  readonly type: 'upsert' | 'delete';
  readonly kind: KnownKind;
  readonly object: Obj;
}

export interface InvalidObject {
  readonly ref: ObjectRef;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly problems: readonly Problem[];
}

export interface BatchResult {
  readonly changes: readonly EngineChange[];
  /** Services or EndpointSlices changed (the compiler carries them; no rule reads them today) */
  readonly servicesChanged: boolean;
  /** objects found invalid in this batch (new resourceVersions only) */
  readonly invalid: readonly InvalidObject[];
  /** warnings of accepted objects */
  readonly warnings: readonly { readonly ref: ObjectRef; readonly problems: readonly Problem[] }[];
}

// model IP addresses carry bigint values (ipBlock CIDRs): JSON cannot hold them, their text can
const canonical = (v: unknown): string => JSON.stringify(v, (k, x: unknown) => (k === 'source' ? undefined : typeof x === 'bigint' ? `${x}n` : x));
const podKey = (ns: string, name: string): string => `${ns}/${name}`;
const policyKey = (p: { kind: string; namespace?: string; name: string }): string => (p.kind === 'NetworkPolicy' ? `NetworkPolicy/${p.namespace}/${p.name}` : `${p.kind}/${p.name}`);
/** kinds whose accepted resourceVersion is kept (the ones `holdBack` takes) */
const VERSIONED: ReadonlySet<KnownKind> = new Set(['Service', 'NetworkPolicy', 'ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'PalisadeClusterNetworkPolicy']);
const implicitNamespace = (name: string): Namespace => ({ name, labels: { [NAMESPACE_NAME_LABEL]: name }, source: API_SOURCE });

interface CniIps {
  readonly containerId: string;
  readonly ips: readonly IpAddr[];
}

export class ClusterState {
  private readonly namespaces = new Map<string, Namespace>();
  /** namespaces some pod names but the API server does not (or no longer) list */
  private readonly implicitNs = new Set<string>();
  private readonly nodes = new Map<string, Node>();
  /** pods as the API server has them (before CNI IPs) */
  private readonly apiPods = new Map<string, Pod>();
  /** pods as they are in force (CNI IPs merged) */
  private readonly pods = new Map<string, Pod>();
  private readonly podsPerNs = new Map<string, number>();
  private readonly cni = new Map<string, CniIps>();
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly networkPolicies = new Map<string, NetworkPolicy>();
  private readonly clusterPolicies = new Map<string, ClusterPolicy>();
  /** key -> the invalid object's report, until it is fixed or deleted */
  private readonly invalidObjects = new Map<string, InvalidObject>();
  /** key -> resourceVersion of the accepted policies and Services (a held-back version is known again by it) */
  private readonly versions = new Map<string, string>();
  /** keys of the held-back objects (their report is in invalidObjects) */
  private readonly heldBack = new Set<string>();

  /** Fold a batch of events in; the changes that move the compiler along. */
  apply(events: readonly KindEvent[]): BatchResult {
    const changes: EngineChange[] = [];
    const invalid: InvalidObject[] = [];
    const warnings: { ref: ObjectRef; problems: readonly Problem[] }[] = [];
    let servicesChanged = false;
    for (const e of events) {
      const ref = refOf(e.kind, e.object);
      const key = `${e.kind}/${ref.namespace ?? ''}/${ref.name}`;
      if (e.type === 'delete') {
        this.invalidObjects.delete(key);
        this.heldBack.delete(key);
        this.versions.delete(key);
        servicesChanged = this.remove(e.kind, ref, changes) || servicesChanged;
        continue;
      }
      const meta = (e.object.metadata ?? {}) as Obj;
      const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
      // a relist or resync of a held-back version: it stays back
      if (this.heldBack.has(key) && resourceVersion !== undefined && this.invalidObjects.get(key)?.resourceVersion === resourceVersion) continue;
      const t = toModel(e.kind, e.object);
      if (!t.ok) {
        const uid = typeof meta.uid === 'string' ? meta.uid : undefined;
        const prev = this.invalidObjects.get(key);
        const report: InvalidObject = { ref: t.ref, ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}), problems: t.problems };
        this.invalidObjects.set(key, report);
        // a relist or resync repeats the same version: report each version once
        if (!prev || prev.resourceVersion !== resourceVersion || resourceVersion === undefined) invalid.push(report);
        continue;
      }
      this.invalidObjects.delete(key);
      this.heldBack.delete(key);
      if (resourceVersion !== undefined && VERSIONED.has(e.kind)) this.versions.set(key, resourceVersion);
      if (t.warnings.length > 0) warnings.push({ ref, problems: t.warnings });
      servicesChanged = this.upsert(t.model, changes) || servicesChanged;
    }
    return { changes, servicesChanged, invalid, warnings };
  }

  /** Merge the CNI's IPs into a pod record; the change, if the record in force changed. */
  setCniIps(namespace: string, name: string, containerId: string, ips: readonly string[]): EngineChange[] {
    const parsed = ips.map((t) => parseIp(t.replace(/\/\d+$/, '')));
    if (parsed.some((x) => x === null)) throw Object.assign(new Error(`pod ${namespace}/${name}: CNI IPs ${JSON.stringify(ips)} are not all IP addresses`), { code: 'ERR_PALISADE_CNI_IP' });
    this.cni.set(podKey(namespace, name), { containerId, ips: parsed as IpAddr[] });
    return this.refreshPod(namespace, name);
  }

  /** Forget the CNI's IPs of a container (by id; or the pod's, by name); the change, if any. */
  clearCni(containerId: string, namespace?: string, name?: string): EngineChange[] {
    const out: EngineChange[] = [];
    for (const [k, v] of this.cni) {
      if (v.containerId !== containerId) continue;
      this.cni.delete(k);
      const [ns, n] = splitKey(k);
      out.push(...this.refreshPod(ns, n));
    }
    if (out.length === 0 && namespace !== undefined && name !== undefined) {
      const k = podKey(namespace, name);
      if (this.cni.get(k)?.containerId === containerId) {
        this.cni.delete(k);
        out.push(...this.refreshPod(namespace, name));
      }
    }
    return out;
  }

  /** The pod record in force (CNI IPs merged), if the API server has the pod. */
  pod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(podKey(namespace, name));
  }

  /**
   * Hold back the accepted version of a policy or Service that cannot be enforced: it goes back
   * to `enforced` (the version in force; absent: it leaves the picture) and is reported as
   * `problems` until a new resourceVersion of it arrives or it is deleted. Returns the report,
   * or undefined when the picture already has `enforced` (nothing to hold back: the cause is
   * elsewhere). The caller applies the picture whole next (`cluster()`).
   */
  holdBack(kind: KnownKind, ref: ObjectRef, enforced: NetworkPolicy | ClusterPolicy | Service | undefined, problems: readonly Problem[]): InvalidObject | undefined {
    const key = `${kind}/${ref.namespace ?? ''}/${ref.name}`;
    const map = (kind === 'Service' ? this.services : kind === 'NetworkPolicy' ? this.networkPolicies : this.clusterPolicies) as Map<string, NetworkPolicy | ClusterPolicy | Service>;
    const k = kind === 'Service' ? podKey(ref.namespace ?? 'default', ref.name) : policyKey({ kind, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}), name: ref.name });
    const now = map.get(k);
    if (now === undefined ? enforced === undefined : enforced !== undefined && canonical(now) === canonical(enforced)) return undefined;
    if (enforced) map.set(k, enforced);
    else map.delete(k);
    const resourceVersion = this.versions.get(key);
    const report: InvalidObject = { ref, ...(resourceVersion !== undefined ? { resourceVersion } : {}), problems };
    this.invalidObjects.set(key, report);
    this.heldBack.add(key);
    return report;
  }

  /** Objects currently ignored as invalid. */
  invalid(): InvalidObject[] {
    return [...this.invalidObjects.values()];
  }

  get podCount(): number {
    return this.pods.size;
  }

  serviceState(): { services: Service[]; endpointSlices: EndpointSlice[] } {
    return { services: [...this.services.values()], endpointSlices: [...this.slices.values()] };
  }

  /** The whole picture, as `Enforcement.apply` takes it. */
  cluster(): Cluster {
    return {
      namespaces: [...this.namespaces.values()],
      pods: [...this.pods.values()],
      nodes: [...this.nodes.values()],
      ...this.serviceState(),
      networkPolicies: [...this.networkPolicies.values()],
      clusterPolicies: [...this.clusterPolicies.values()],
    };
  }

  // ---- per kind ---------------------------------------------------------------------------

  private upsert(m: ModelObject, out: EngineChange[]): boolean {
    switch (m.kind) {
      case 'Namespace': {
        const prev = this.namespaces.get(m.value.name);
        if (prev && !this.implicitNs.has(m.value.name) && canonical(prev.labels) === canonical(m.value.labels)) return false;
        this.implicitNs.delete(m.value.name);
        this.namespaces.set(m.value.name, m.value);
        out.push({ kind: 'namespace', namespace: m.value });
        return false;
      }
      case 'Node': {
        const prev = this.nodes.get(m.value.name);
        if (prev && canonical(prev) === canonical(m.value)) return false;
        this.nodes.set(m.value.name, m.value);
        out.push({ kind: 'node', node: m.value });
        return false;
      }
      case 'Pod': {
        const p = m.value;
        const k = podKey(p.namespace, p.name);
        if (!this.apiPods.has(k)) {
          this.podsPerNs.set(p.namespace, (this.podsPerNs.get(p.namespace) ?? 0) + 1);
          if (!this.namespaces.has(p.namespace)) {
            // the resolver assumes such a namespace too; the picture says so explicitly
            this.implicitNs.add(p.namespace);
            this.namespaces.set(p.namespace, implicitNamespace(p.namespace));
          }
        }
        this.apiPods.set(k, p);
        out.push(...this.refreshPod(p.namespace, p.name));
        return false;
      }
      case 'Service': {
        const k = podKey(m.value.namespace, m.value.name);
        const prev = this.services.get(k);
        if (prev && canonical(prev) === canonical(m.value)) return false;
        this.services.set(k, m.value);
        return true;
      }
      case 'EndpointSlice': {
        const k = podKey(m.value.namespace, m.value.name);
        const prev = this.slices.get(k);
        if (prev && canonical(prev) === canonical(m.value)) return false;
        this.slices.set(k, m.value);
        return true;
      }
      case 'NetworkPolicy':
      case 'ClusterPolicy': {
        const p = m.value;
        const k = policyKey(p);
        const map = (p.kind === 'NetworkPolicy' ? this.networkPolicies : this.clusterPolicies) as Map<string, NetworkPolicy | ClusterPolicy>;
        const prev = map.get(k);
        if (p.staged) {
          if (prev) {
            map.delete(k);
            out.push({ kind: 'policy-removed', policy: { kind: p.kind, ...(p.kind === 'NetworkPolicy' ? { namespace: p.namespace } : {}), name: p.name } });
          }
          return false;
        }
        if (prev && canonical(prev) === canonical(p)) return false;
        map.set(k, p);
        out.push({ kind: 'policy', policy: p });
        return false;
      }
    }
  }

  private remove(kind: KnownKind, ref: ObjectRef, out: EngineChange[]): boolean {
    const ns = ref.namespace ?? 'default';
    switch (kind) {
      case 'Namespace': {
        if (!this.namespaces.has(ref.name) || this.implicitNs.has(ref.name)) return false;
        if ((this.podsPerNs.get(ref.name) ?? 0) > 0) {
          // its pods' deletes are still on the way: keep them, under an implicit namespace
          const n = implicitNamespace(ref.name);
          this.implicitNs.add(ref.name);
          this.namespaces.set(ref.name, n);
          out.push({ kind: 'namespace', namespace: n });
        } else {
          this.namespaces.delete(ref.name);
          out.push({ kind: 'namespace-removed', name: ref.name });
        }
        return false;
      }
      case 'Node':
        if (!this.nodes.delete(ref.name)) return false;
        out.push({ kind: 'node-removed', name: ref.name });
        return false;
      case 'Pod': {
        const k = podKey(ns, ref.name);
        if (!this.apiPods.delete(k)) return false;
        const left = (this.podsPerNs.get(ns) ?? 1) - 1;
        if (left > 0) this.podsPerNs.set(ns, left);
        else this.podsPerNs.delete(ns);
        out.push(...this.refreshPod(ns, ref.name));
        if (left === 0 && this.implicitNs.has(ns)) {
          this.implicitNs.delete(ns);
          this.namespaces.delete(ns);
          out.push({ kind: 'namespace-removed', name: ns });
        }
        return false;
      }
      case 'Service':
        return this.services.delete(podKey(ns, ref.name));
      case 'EndpointSlice':
        return this.slices.delete(podKey(ns, ref.name));
      case 'NetworkPolicy':
        if (!this.networkPolicies.delete(policyKey({ kind, namespace: ns, name: ref.name }))) return false;
        out.push({ kind: 'policy-removed', policy: { kind, namespace: ns, name: ref.name } });
        return false;
      default:
        if (!this.clusterPolicies.delete(policyKey({ kind, name: ref.name }))) return false;
        out.push({ kind: 'policy-removed', policy: { kind, name: ref.name } });
        return false;
    }
  }

  /** Recompute the pod record in force from the API's pod and the CNI's IPs. */
  private refreshPod(namespace: string, name: string): EngineChange[] {
    const k = podKey(namespace, name);
    const api = this.apiPods.get(k);
    const prev = this.pods.get(k);
    if (!api) {
      if (!prev) return [];
      this.pods.delete(k);
      return [{ kind: 'pod-removed', namespace, name }];
    }
    const cni = this.cni.get(k);
    const next: Pod = cni && !api.hostNetwork ? { ...api, ips: cni.ips } : api;
    // unchanged for policy: keep the record the compiler's resolver already shares
    if (prev && samePod(prev, next)) return [];
    this.pods.set(k, next);
    return [{ kind: 'pod', pod: next }];
  }
}

function samePod(a: Pod, b: Pod): boolean {
  if (a === b) return true;
  return (
    a.hostNetwork === b.hostNetwork &&
    a.nodeName === b.nodeName &&
    a.ips.length === b.ips.length &&
    a.ips.every((ip, i) => ip.text === b.ips[i]?.text) &&
    canonical(a.labels) === canonical(b.labels) &&
    canonical(a.containerPorts) === canonical(b.containerPorts)
  );
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
}
