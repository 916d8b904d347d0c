/**
 * The selector cache: set definitions x inventory -> address sets, kept current under inventory
 * changes.
 *
 * What: `Resolution` owns a mutable copy of the inventory (namespaces, pods, nodes) and the
 * NetworkPolicies (for isolation). `intern(def)` gives the id of the set a definition denotes,
 * computing its members once; identical definitions (same canonical key) share one set.
 * `apply(change)` updates the inventory and returns the membership deltas of the sets it touched.
 *
 * Invariants:
 * - After every call, each set's members equal what a fresh Resolution over the same inventory
 *   would compute (the resolver tests check this on random change sequences).
 * - A pod contributes host prefixes (/32, /128) of the IPs it owns (`address-index.ts`: when
 *   several pods claim one address, the first by namespace/name owns it, as the reference
 *   evaluator decides); a node contributes every address it lists; the `cluster` set takes
 *   every pod IP, node address and Service address (model/entities.ts).
 * - Host-network pods are never members of `pods` or `isolated` sets.
 * - The namespace label `kubernetes.io/metadata.name` always equals the name (as normalization
 *   guarantees for manifests; `apply` enforces it for namespaces given directly).
 *
 * Cost:
 * - intern of a `pods` set: O(namespaces) selector checks (cached per namespace selector) plus
 *   O(pods of the selected namespaces); of a single-pod set (`def.pod`, the per-pod subjects of
 *   domainNames rules): one evaluation, of that pod.
 * - pod added/removed/relabelled: O(sets whose namespace selector selects the pod's namespace
 *   + isolated sets + the pod's own single-pod sets): independent of the number of other pods
 *   and of the other pods' single-pod sets (4,606 of them at 5,000 pods made every intern and
 *   every pod event O(pods) before they were kept apart).
 * - namespace relabelled: O(namespace selectors) + O(pods of that namespace x their sets) when
 *   some namespace selector flips; nothing else.
 * - node changed: O(node sets) + O(pods on the node x node-scoped pod sets) (a subject's
 *   nodeSelector, S7).
 * - Service changed: O(its addresses x `cluster` sets).
 * - Service, EndpointSlice or node changed: the `service` / `service-endpoints` sets are
 *   recomputed, O(their tuples) (node ports follow node addresses).
 * Thread-safety: none; one owner (the engine) calls it.
 */
import { cidrCovers, familyBits, type Cidr, type IpAddr } from '../model/ip.js';
import { selects } from '../model/labels.js';
import {
  NAMESPACE_NAME_LABEL,
  type Direction,
  type Inventory,
  type LabelSelector,
  type Namespace,
  type NetworkPolicy,
  type Node,
  type Pod,
  type Service,
  type EndpointSlice,
  type ServiceRef,
} from '../model/types.js';
import { serviceAddresses } from '../model/entities.js';
import { serviceGroups, serviceSourceAddresses, serviceTuples, type ServiceGroup } from '../model/services.js';
import type { InventoryChange, SetDelta } from './changes.js';
import { AddressIndex, ipKey } from './address-index.js';
import { DeltaCollector, Membership } from './membership.js';
import { LearnedStore, type LearnedKey } from './learned.js';
import { selectorKey } from './selector-key.js';
import { setKey, type NamedPortGroup, type SetDef, type SetId } from './set-def.js';

export const podKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

interface NsSelectorEntry {
  readonly selector: LabelSelector;
  /** names of the namespaces it selects now */
  readonly selected: Set<string>;
  /** ids of the `pods` sets that use it, but for the single-pod ones */
  readonly sets: SetId[];
  /**
   * the single-pod `pods` sets (`def.pod`: the per-pod subjects of domainNames rules) by pod key:
   * a pod event or a namespace flip looks up its own, instead of evaluating every pod's
   */
  readonly podSets: Map<string, SetId[]>;
}

export class Resolution {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly pods = new Map<string, Pod>();
  private readonly podsByNs = new Map<string, Set<string>>();
  private readonly podsByNode = new Map<string, Set<string>>();
  /** per namespace, per `key=value` label: the pods carrying it (candidates for matchLabels) */
  private readonly podsByLabel = new Map<string, Map<string, Set<string>>>();
  private readonly nodes = new Map<string, Node>();
  private readonly services = new Map<string, Service>();
  private readonly npsByNs = new Map<string, NetworkPolicy[]>();
  /** address ownership, kept in step with the inventory above */
  readonly addresses = new AddressIndex();

  private readonly defs: SetDef[] = [];
  private readonly ids = new Map<string, SetId>();
  private readonly members: Membership[] = [];
  private readonly nsSelectors = new Map<string, NsSelectorEntry>();
  /** the namespace selector entry of each `pods` set, by set id */
  private readonly nsEntryOf: (NsSelectorEntry | undefined)[] = [];
  private readonly isolatedSets: SetId[] = [];
  private readonly nodeSets: SetId[] = [];
  private readonly staticSets: SetId[] = [];
  /** `cluster` sets (at most one: the definition has one key) */
  private readonly clusterSets: SetId[] = [];
  /** `pods` sets with a nodeSelector: a node relabel or move re-checks its pods in these */
  private readonly nodeScopedSets: SetId[] = [];
  /** the `node` set of each node name (host-network pods on the node give to it) */
  private readonly nodeTrafficSets = new Map<string, SetId>();
  /** per pod: the prefixes it gives to each set it is in */
  private readonly podGives = new Map<string, Map<SetId, Cidr[]>>();
  /** per pod: host prefixes of the addresses it owns (cleared whenever ownership may move) */
  private readonly ownedHosts = new Map<Pod, Cidr[]>();
  /** per pod object: isolated for [ingress, egress] (NetworkPolicies are fixed per Resolution) */
  private readonly isolation = new WeakMap<Pod, readonly [boolean, boolean]>();
  /** per node: the prefixes it gives to each set it is in */
  private readonly nodeGives = new Map<string, Map<SetId, Cidr[]>>();
  /** addresses learned from DNS answers, feeding the `learned` sets (learned.ts) */
  private readonly learnedStore = new LearnedStore((id) => this.members[id] as Membership);
  /** per Service (namespace/name): the prefixes it gives to each `cluster` set */
  private readonly serviceGives = new Map<string, Map<SetId, Cidr[]>>();
  /** EndpointSlices by namespace/name */
  private readonly endpointSlices = new Map<string, EndpointSlice>();
  /** `service` and `service-endpoints` sets, with the prefixes they hold now */
  private readonly serviceSets = new Map<SetId, Cidr[]>();

  constructor(inventory: Inventory, networkPolicies: readonly NetworkPolicy[]) {
    for (const ns of inventory.namespaces) this.namespaces.set(ns.name, withNameLabel(ns));
    for (const p of inventory.pods) this.putPodRecord(p);
    for (const n of inventory.nodes) {
      this.nodes.set(n.name, n);
      this.addresses.addNode(n);
    }
    for (const svc of inventory.services) this.services.set(podKey(svc), svc);
    for (const e of inventory.endpointSlices ?? []) this.endpointSlices.set(podKey(e), e);
    // a staged NetworkPolicy isolates nothing (model/staged.ts)
    for (const np of networkPolicies) {
      if (np.staged) continue;
      const list = this.npsByNs.get(np.namespace) ?? [];
      list.push(np);
      this.npsByNs.set(np.namespace, list);
    }
  }

  // ---- sets ------------------------------------------------------------------------------

  /** The id of the set `def` denotes; computes its members the first time. */
  intern(def: SetDef): SetId {
    const key = setKey(def);
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const id = this.defs.length;
    this.defs.push(def);
    this.ids.set(key, id);
    this.members.push(new Membership());
    switch (def.kind) {
      case 'pods': {
        const entry = this.nsSelector(def.namespaceSelector);
        this.nsEntryOf[id] = entry;
        if (def.nodeSelector) this.nodeScopedSets.push(id);
        if (def.pod !== undefined) {
          const list = entry.podSets.get(def.pod);
          if (list) list.push(id);
          else entry.podSets.set(def.pod, [id]);
          if (this.pods.has(def.pod)) this.give(def.pod, id, undefined);
          break;
        }
        entry.sets.push(id);
        for (const ns of entry.selected) {
          for (const pk of this.candidates(ns, def.podSelector, def.namedPort)) this.give(pk, id, undefined);
        }
        break;
      }
      case 'isolated':
        this.isolatedSets.push(id);
        for (const pk of def.node !== undefined ? this.podsByNode.get(def.node) ?? [] : this.pods.keys()) this.give(pk, id, undefined);
        break;
      case 'node':
        this.nodeTrafficSets.set(def.name, id);
        for (const pk of this.podsByNode.get(def.name) ?? []) this.give(pk, id, undefined);
        this.nodeSets.push(id);
        for (const name of this.nodes.keys()) this.giveNode(name, id, undefined);
        break;
      case 'nodes':
        this.nodeSets.push(id);
        for (const name of this.nodes.keys()) this.giveNode(name, id, undefined);
        break;
      case 'prefixes':
        this.staticSets.push(id);
        for (const c of def.prefixes) (this.members[id] as Membership).add(c);
        break;
      case 'learned':
        this.learnedStore.addSet(id, def.pod, def.names);
        break;
      case 'cluster':
        this.clusterSets.push(id);
        for (const pk of this.pods.keys()) this.give(pk, id, undefined);
        this.nodeSets.push(id);
        for (const name of this.nodes.keys()) this.giveNode(name, id, undefined);
        for (const sk of this.services.keys()) this.giveService(sk, id, undefined);
        break;
      case 'service':
      case 'service-endpoints':
        this.serviceSets.set(id, []);
        this.refreshServiceSet(id, undefined);
        break;
    }
    return id;
  }

  /**
   * Learned addresses appeared and expired (docs/fqdn.md): `removed` first, then `added`;
   * returns the membership deltas of the `learned` sets they feed. Entries survive relowering
   * (new sets are given the entries held) but not a new Resolution: its owner hands them over.
   */
  learn(added: readonly LearnedKey[], removed: readonly LearnedKey[] = []): SetDelta[] {
    const deltas = new DeltaCollector();
    for (const e of removed) this.learnedStore.remove(e, deltas);
    for (const e of added) this.learnedStore.add(e, deltas);
    return this.learnedStore.withExpiries(deltas.deltas());
  }

  /**
   * The expiry (ms since the epoch) of a member of a `learned` set, for a full install that
   * writes the set with element timeouts (docs/fqdn.md §6); NO_EXPIRY for an entry without one.
   */
  learnedExpiryMs(id: SetId, member: Cidr): number {
    return this.learnedStore.expiryOf(id, member);
  }

  /** How many learned (pod, name, address) entries the sets are fed from. */
  get learnedCount(): number {
    return this.learnedStore.size;
  }

  get setCount(): number {
    return this.defs.length;
  }

  definition(id: SetId): SetDef {
    const d = this.defs[id];
    if (!d) throw new RangeError(`no set ${id}`);
    return d;
  }

  /** Current members of a set, sorted. */
  prefixes(id: SetId): Cidr[] {
    return (this.members[id] as Membership).prefixes();
  }

  /** Current members of a set, unordered (cheaper; for loading a classifier). */
  unorderedPrefixes(id: SetId): Cidr[] {
    return (this.members[id] as Membership).unordered();
  }

  // ---- inventory -------------------------------------------------------------------------

  /** Apply one inventory change; returns the membership deltas of every set it touched. */
  apply(change: InventoryChange): SetDelta[] {
    const deltas = new DeltaCollector();
    switch (change.kind) {
      case 'pod': {
        const key = podKey(change.pod);
        this.ensureNamespace(change.pod.namespace, deltas);
        this.replacePod(key, change.pod, deltas);
        break;
      }
      case 'pod-removed':
        this.replacePod(podKey(change), undefined, deltas);
        break;
      case 'namespace': {
        const ns = withNameLabel(change.namespace);
        this.namespaces.set(ns.name, ns);
        this.namespaceChanged(ns.name, deltas);
        break;
      }
      case 'namespace-removed': {
        for (const pk of [...(this.podsByNs.get(change.name) ?? [])]) this.replacePod(pk, undefined, deltas);
        this.namespaces.delete(change.name);
        for (const e of this.nsSelectors.values()) e.selected.delete(change.name);
        break;
      }
      case 'node': {
        this.ungiveNode(change.node.name, deltas);
        const old = this.nodes.get(change.node.name);
        if (old) this.addresses.removeNode(old);
        this.nodes.set(change.node.name, change.node);
        this.addresses.addNode(change.node);
        for (const id of this.nodeSets) this.giveNode(change.node.name, id, deltas);
        this.nodeLabelsChanged(change.node.name, deltas);
        break;
      }
      case 'node-removed': {
        this.ungiveNode(change.name, deltas);
        const old = this.nodes.get(change.name);
        if (old) this.addresses.removeNode(old);
        this.nodes.delete(change.name);
        this.nodeLabelsChanged(change.name, deltas);
        break;
      }
      case 'service': {
        const key = podKey(change.service);
        this.ungiveService(key, deltas);
        this.services.set(key, change.service);
        for (const id of this.clusterSets) this.giveService(key, id, deltas);
        break;
      }
      case 'service-removed': {
        const key = podKey(change);
        this.ungiveService(key, deltas);
        this.services.delete(key);
        break;
      }
      case 'endpointslice':
        this.endpointSlices.set(podKey(change.slice), change.slice);
        break;
      case 'endpointslice-removed':
        this.endpointSlices.delete(podKey(change));
        break;
    }
    // the Service sets follow Services, slices and (node ports) node addresses
    if (this.serviceSets.size > 0 && SERVICE_INPUTS.has(change.kind)) {
      for (const id of this.serviceSets.keys()) this.refreshServiceSet(id, deltas);
    }
    return deltas.deltas();
  }

  /** The Services and EndpointSlices as they stand now. */
  serviceInventory(): { services: Service[]; endpointSlices: EndpointSlice[] } {
    return { services: [...this.services.values()], endpointSlices: [...this.endpointSlices.values()] };
  }

  endpointSlice(key: string): EndpointSlice | undefined {
    return this.endpointSlices.get(key);
  }

  /** The (protocol, port) groups of a Service now (model/services.ts `serviceGroups`). */
  serviceGroups(ref: ServiceRef): ServiceGroup[] {
    return serviceGroups(ref, this.serviceInventory());
  }

  /** Recompute a `service` / `service-endpoints` set from the Services, slices and nodes now held. */
  private refreshServiceSet(id: SetId, deltas: DeltaCollector | undefined): void {
    this.evaluationCount++;
    const def = this.defs[id] as SetDef;
    const inv = { ...this.serviceInventory(), nodes: [...this.nodes.values()] };
    let ips: IpAddr[];
    if (def.kind === 'service') {
      ips = serviceTuples(def.service, inv)
        .filter((t) => t.protocol === def.protocol && t.port === def.port)
        .map((t) => t.ip);
    } else if (def.kind === 'service-endpoints') {
      ips = serviceSourceAddresses(def.service, inv);
    } else return;
    const next = new Map<string, Cidr>();
    for (const ip of ips) {
      const c = hostOf(ip);
      next.set(c.text, c);
    }
    const m = this.members[id] as Membership;
    for (const c of this.serviceSets.get(id) ?? []) m.remove(c, deltas, id);
    const after = [...next.values()];
    for (const c of after) m.add(c, deltas, id);
    this.serviceSets.set(id, after);
  }

  /** The inventory as it stands now (insertion order kept; a replaced object keeps its place). */
  inventory(): Pick<Inventory, 'namespaces' | 'pods' | 'nodes' | 'services'> {
    return {
      namespaces: [...this.namespaces.values()],
      pods: [...this.pods.values()],
      nodes: [...this.nodes.values()],
      services: [...this.services.values()],
    };
  }

  service(key: string): Service | undefined {
    return this.services.get(key);
  }

  pod(key: string): Pod | undefined {
    return this.pods.get(key);
  }

  node(name: string): Node | undefined {
    return this.nodes.get(name);
  }

  /** Labels of a namespace; one missing from the inventory has just its name label. */
  namespaceLabels(name: string): Readonly<Record<string, string>> {
    return this.namespaces.get(name)?.labels ?? { [NAMESPACE_NAME_LABEL]: name };
  }

  /** The NetworkPolicies isolating a pod in a direction, by name (explain's `isolatedBy`). */
  isolatingPolicies(p: Pod, direction: Direction): NetworkPolicy[] {
    if (p.hostNetwork) return [];
    const type = direction === 'ingress' ? 'Ingress' : 'Egress';
    return (this.npsByNs.get(p.namespace) ?? [])
      .filter((np) => np.policyTypes.includes(type) && selects(np.podSelector, p.labels))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- internals -------------------------------------------------------------------------

  private nsSelector(sel: LabelSelector): NsSelectorEntry {
    const key = selectorKey(sel);
    let e = this.nsSelectors.get(key);
    if (!e) {
      const selected = new Set<string>();
      for (const ns of this.namespaces.values()) if (selects(sel, ns.labels)) selected.add(ns.name);
      e = { selector: sel, selected, sets: [], podSets: new Map() };
      this.nsSelectors.set(key, e);
    }
    return e;
  }

  private ensureNamespace(name: string, deltas: DeltaCollector): void {
    if (this.namespaces.has(name)) return;
    // As manifests/cluster.ts does: a namespace nobody defined exists with only its name label.
    this.namespaces.set(name, { name, labels: { [NAMESPACE_NAME_LABEL]: name }, source: { file: '<implicit>' } });
    this.namespaceChanged(name, deltas);
  }

  private namespaceChanged(name: string, deltas: DeltaCollector): void {
    const ns = this.namespaces.get(name) as Namespace;
    const flipped: NsSelectorEntry[] = [];
    for (const e of this.nsSelectors.values()) {
      const now = selects(e.selector, ns.labels);
      if (now === e.selected.has(name)) continue;
      if (now) e.selected.add(name);
      else e.selected.delete(name);
      flipped.push(e);
    }
    if (flipped.length === 0) return;
    for (const pk of this.podsByNs.get(name) ?? []) {
      for (const e of flipped) {
        for (const id of e.sets) {
          this.ungive(pk, id, deltas);
          this.give(pk, id, deltas);
        }
        for (const id of e.podSets.get(pk) ?? []) {
          this.ungive(pk, id, deltas);
          this.give(pk, id, deltas);
        }
      }
    }
  }

  /**
   * Replace (or remove, `next` undefined) the pod `key`. Every pod claiming one of the old or new
   * addresses is taken out of its sets and put back, because ownership of a shared address can
   * move between them.
   */
  private replacePod(key: string, next: Pod | undefined, deltas: DeltaCollector): void {
    const prev = this.pods.get(key);
    const touched = new Set<string>([key]);
    const claimantsOf = (p: Pod | undefined): void => {
      if (!p) return;
      for (const ip of p.ips) for (const c of this.addresses.claimants(ipKey(ip))) touched.add(podKey(c));
    };
    claimantsOf(prev);
    claimantsOf(next);
    for (const pk of touched) {
      this.ungivePod(pk, deltas);
      const old = this.pods.get(pk);
      if (old) this.ownedHosts.delete(old);
    }
    this.dropPodRecord(key);
    if (next) this.putPodRecord(next);
    for (const pk of touched) if (this.pods.has(pk)) this.givePod(pk, deltas);
  }

  /**
   * Pods of `ns` that may match `sel` (and declare `port`): the smallest posting list among the
   * selector's matchLabels and the named port, else every pod of the namespace.
   */
  private candidates(ns: string, sel: LabelSelector, port?: NamedPortGroup): Iterable<string> {
    let best: Set<string> | undefined = this.podsByNs.get(ns);
    if (!best) return [];
    const byLabel = this.podsByLabel.get(ns);
    for (const [k, v] of Object.entries(sel.matchLabels)) {
      const posting = byLabel?.get(`${k}=${v}`);
      if (!posting) return [];
      if (posting.size < best.size) best = posting;
    }
    if (port) {
      const posting = byLabel?.get(portPostingKey(port.name, port.protocol, port.port));
      if (!posting) return [];
      if (posting.size < best.size) best = posting;
    }
    return best;
  }

  private putPodRecord(p: Pod): void {
    const key = podKey(p);
    this.pods.set(key, p);
    this.addresses.addPod(p);
    let s = this.podsByNs.get(p.namespace);
    if (!s) this.podsByNs.set(p.namespace, (s = new Set()));
    s.add(key);
    let byLabel = this.podsByLabel.get(p.namespace);
    if (!byLabel) this.podsByLabel.set(p.namespace, (byLabel = new Map()));
    for (const pk of postingKeys(p)) {
      let posting = byLabel.get(pk);
      if (!posting) byLabel.set(pk, (posting = new Set()));
      posting.add(key);
    }
    if (p.nodeName !== undefined) {
      let n = this.podsByNode.get(p.nodeName);
      if (!n) this.podsByNode.set(p.nodeName, (n = new Set()));
      n.add(key);
    }
    if (!this.namespaces.has(p.namespace)) {
      this.namespaces.set(p.namespace, { name: p.namespace, labels: { [NAMESPACE_NAME_LABEL]: p.namespace }, source: { file: '<implicit>' } });
    }
  }

  private dropPodRecord(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    this.pods.delete(key);
    this.addresses.removePod(p);
    this.podsByNs.get(p.namespace)?.delete(key);
    const byLabel = this.podsByLabel.get(p.namespace);
    for (const pk of postingKeys(p)) {
      const posting = byLabel?.get(pk);
      posting?.delete(key);
      if (posting?.size === 0) byLabel?.delete(pk);
    }
    if (p.nodeName !== undefined) this.podsByNode.get(p.nodeName)?.delete(key);
    this.ownedHosts.delete(p);
  }

  /** Add the pod to every set it belongs to. */
  private givePod(key: string, deltas: DeltaCollector): void {
    const p = this.pods.get(key) as Pod;
    if (p.ips.length === 0) return;
    for (const id of this.clusterSets) this.give(key, id, deltas);
    if (p.hostNetwork) {
      const id = p.nodeName !== undefined ? this.nodeTrafficSets.get(p.nodeName) : undefined;
      if (id !== undefined) this.give(key, id, deltas);
      return;
    }
    for (const e of this.nsSelectors.values()) {
      if (!e.selected.has(p.namespace)) continue;
      for (const id of e.sets) this.give(key, id, deltas);
      for (const id of e.podSets.get(key) ?? []) this.give(key, id, deltas);
    }
    for (const id of this.isolatedSets) this.give(key, id, deltas);
  }

  private ungivePod(key: string, deltas: DeltaCollector): void {
    const gives = this.podGives.get(key);
    if (!gives) return;
    for (const [id, cidrs] of gives) for (const c of cidrs) (this.members[id] as Membership).remove(c, deltas, id);
    this.podGives.delete(key);
  }

  private ungive(key: string, id: SetId, deltas: DeltaCollector): void {
    const gives = this.podGives.get(key);
    const cidrs = gives?.get(id);
    if (!gives || !cidrs) return;
    for (const c of cidrs) (this.members[id] as Membership).remove(c, deltas, id);
    gives.delete(id);
  }

  /** (object, set) membership evaluations done so far: the work counter the cost tests read. */
  get evaluations(): number {
    return this.evaluationCount;
  }
  private evaluationCount = 0;

  /** Add pod `key` to set `id` if it belongs there (caller guarantees it is not already in). */
  private give(key: string, id: SetId, deltas: DeltaCollector | undefined): void {
    this.evaluationCount++;
    const p = this.pods.get(key) as Pod;
    const cidrs = this.podPrefixesFor(p, id);
    if (cidrs.length === 0) return;
    let gives = this.podGives.get(key);
    if (!gives) this.podGives.set(key, (gives = new Map()));
    gives.set(id, cidrs);
    for (const c of cidrs) (this.members[id] as Membership).add(c, deltas, id);
  }

  /** Host prefixes of the addresses pod `p` owns. */
  private owned(p: Pod): Cidr[] {
    let hosts = this.ownedHosts.get(p);
    if (!hosts) {
      hosts = p.hostNetwork ? [] : p.ips.filter((ip) => this.addresses.podOwner(ipKey(ip)) === p).map(hostOf);
      this.ownedHosts.set(p, hosts);
    }
    return hosts;
  }

  private podPrefixesFor(p: Pod, id: SetId): Cidr[] {
    const def = this.defs[id] as SetDef;
    // the `Cluster` entity: every pod IP, whoever owns it and host-network or not
    if (def.kind === 'cluster') return p.ips.map(hostOf);
    if (p.hostNetwork) {
      // node traffic: the addresses that resolve to this host-network pod, on the set's node
      if (def.kind !== 'node' || p.nodeName !== def.name) return [];
      return p.ips.filter((ip) => this.addresses.hostNetworkPod(ipKey(ip)) === p).map(hostOf);
    }
    const owned = this.owned(p);
    if (owned.length === 0) return [];
    switch (def.kind) {
      case 'pods': {
        if (!this.nsEntryOf[id]?.selected.has(p.namespace)) return [];
        if (!selects(def.podSelector, p.labels)) return [];
        if (def.pod !== undefined && podKey(p) !== def.pod) return [];
        if (def.nodeSelector) {
          const node = p.nodeName !== undefined ? this.nodes.get(p.nodeName) : undefined;
          if (!node || !selects(def.nodeSelector, node.labels)) return [];
        }
        const np = def.namedPort;
        if (np && !p.containerPorts.some((cp) => cp.name === np.name && cp.protocol === np.protocol && cp.containerPort === np.port)) {
          return [];
        }
        const block = def.block;
        if (!block) return owned;
        return owned.filter((h) => cidrCovers(block.cidr, h) && !block.except.some((e) => cidrCovers(e, h)));
      }
      case 'isolated':
        if (def.node !== undefined && p.nodeName !== def.node) return [];
        return this.isIsolated(p, def.direction) ? owned : [];
      default:
        return [];
    }
  }

  /** A pod is isolated in a direction when a NetworkPolicy of its namespace with that policy type selects it. */
  isIsolated(p: Pod, direction: Direction): boolean {
    if (p.hostNetwork) return false;
    let iso = this.isolation.get(p);
    if (!iso) {
      const nps = this.npsByNs.get(p.namespace) ?? [];
      const by = (type: 'Ingress' | 'Egress'): boolean => nps.some((np) => np.policyTypes.includes(type) && selects(np.podSelector, p.labels));
      iso = [by('Ingress'), by('Egress')];
      this.isolation.set(p, iso);
    }
    return iso[direction === 'ingress' ? 0 : 1];
  }

  private giveNode(name: string, id: SetId, deltas: DeltaCollector | undefined): void {
    this.evaluationCount++;
    const n = this.nodes.get(name) as Node;
    const def = this.defs[id] as SetDef;
    const belongs =
      def.kind === 'node' ? def.name === name : def.kind === 'cluster' || (def.kind === 'nodes' && selects(def.nodeSelector, n.labels));
    if (!belongs || n.addresses.length === 0) return;
    const cidrs = n.addresses.map(hostOf);
    let gives = this.nodeGives.get(name);
    if (!gives) this.nodeGives.set(name, (gives = new Map()));
    gives.set(id, cidrs);
    for (const c of cidrs) (this.members[id] as Membership).add(c, deltas, id);
  }

  /**
   * A node was added, relabelled or removed: its pods' membership in the node-scoped `pods`
   * sets (a subject's nodeSelector) is checked again. Cost: O(pods on the node x such sets).
   */
  private nodeLabelsChanged(name: string, deltas: DeltaCollector): void {
    if (this.nodeScopedSets.length === 0) return;
    for (const pk of this.podsByNode.get(name) ?? []) {
      for (const id of this.nodeScopedSets) {
        this.ungive(pk, id, deltas);
        this.give(pk, id, deltas);
      }
    }
  }

  private giveService(key: string, id: SetId, deltas: DeltaCollector | undefined): void {
    const svc = this.services.get(key) as Service;
    const cidrs = serviceAddresses(svc).map(hostOf);
    if (cidrs.length === 0) return;
    let gives = this.serviceGives.get(key);
    if (!gives) this.serviceGives.set(key, (gives = new Map()));
    gives.set(id, cidrs);
    for (const c of cidrs) (this.members[id] as Membership).add(c, deltas, id);
  }

  private ungiveService(key: string, deltas: DeltaCollector): void {
    const gives = this.serviceGives.get(key);
    if (!gives) return;
    for (const [id, cidrs] of gives) for (const c of cidrs) (this.members[id] as Membership).remove(c, deltas, id);
    this.serviceGives.delete(key);
  }

  private ungiveNode(name: string, deltas: DeltaCollector): void {
    const gives = this.nodeGives.get(name);
    if (!gives) return;
    for (const [id, cidrs] of gives) for (const c of cidrs) (this.members[id] as Membership).remove(c, deltas, id);
    this.nodeGives.delete(name);
  }
}

/** The changes a `service` / `service-endpoints` set may follow. */
const SERVICE_INPUTS: ReadonlySet<InventoryChange['kind']> = new Set(['node', 'node-removed', 'service', 'service-removed', 'endpointslice', 'endpointslice-removed']);

/** Posting keys of a pod: `key=value` per label, and one per declared named port (NUL-led, so no label collides). */
const portPostingKey = (name: string, protocol: string, port: number): string => `\u0000${name}/${protocol}/${port}`;
function postingKeys(p: Pod): string[] {
  const out = Object.entries(p.labels).map(([k, v]) => `${k}=${v}`);
  for (const cp of p.containerPorts) if (cp.name !== undefined) out.push(portPostingKey(cp.name, cp.protocol, cp.containerPort));
  return out;
}

/** The host prefix of an address (model/ip.ts hostCidr, reusing the address's canonical text). */
function hostOf(ip: IpAddr): Cidr {
  const bits = familyBits(ip.family);
  return { family: ip.family, base: ip.value, prefixLen: bits, text: `${ip.text}/${bits}` };
}

function withNameLabel(ns: Namespace): Namespace {
  return ns.labels[NAMESPACE_NAME_LABEL] === ns.name ? ns : { ...ns, labels: { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name } };
}
