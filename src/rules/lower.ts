/**
 * Lowering: policies + resolution -> the backend-neutral RuleSet (see types.ts for its order).
 *
 * What each policy rule becomes (one lowered rule per peer x port entry x named-port group; all
 * carry the same origin and action, so their relative order does not matter):
 * - subject: the pods the policy selects (host-network pods excluded by the resolver).
 * - peers: `namespaces`/`pods`/NetworkPolicy selectors -> a `pods` set; `nodes` -> node
 *   addresses; `networks` and `ipBlock` (except expanded into disjoint prefixes) -> prefixes;
 *   `domainNames` (egress Accept rules, docs/fqdn.md) -> one rule per subject pod P, subject
 *   = P alone, peer = the dynamic `learned` set of P for the peer's names (what P itself learned
 *   from DNS answers; members change by `Resolution.learn`); NetworkPolicy peers absent/empty ->
 *   any address.
 * - subject: a `pods` subject's `nodeSelector` (S7) narrows the pod set to pods on selected
 *   nodes; `nodes` and `services` subjects select no pod and yield no rule here.
 * - `entities: [Cluster]` (S16) -> the `cluster` set; `services` peers fail closed (not enforced yet).
 * - ports: numeric ports and ranges -> one interval; a `sourcePort` (S25) -> the rule's
 *   `srcPorts` interval (else 0..65535); a named port -> one rule per (protocol,
 *   number) group, with the destination narrowed to the pods declaring it (for egress the peer,
 *   for ingress the subject); a named port never matches a destination that is not a pod.
 * - fail closed (network-policy-api shared_types: "For Allow rules, fail closed means: treat the
 *   rule as matching no traffic. For Deny and Pass rules ... treat the rule as a 'Deny all'
 *   rule"): an unknown peer or protocol entry, or a part not enforced yet (model/cluster-rule.ts:
 *   `NOT_ENFORCED_PEERS`), makes an Accept rule match nothing and turns a
 *   Deny, Pass or Redirect rule into a deny of everything for its subject.
 * - NetworkPolicy tier per direction: allow rules of policies whose policyTypes include the
 *   direction, then per node a node-local ingress allow (isolated pods on node N, peer = node N's
 *   traffic: its addresses and its host-network pods' addresses), then the isolation default
 *   deny (isolated pods, any peer).
 * - `services` (PalisadeClusterNetworkPolicy, docs/extension-semantics.md): a `to` peer or the
 *   subject is split, like a named port, into one rule per (protocol, port) group of the
 *   Service's tuples (`Resolution.serviceGroups`), the peer (or subject) being the `service` set
 *   of that group and the rule's ports the group's port narrowed by the rule's `protocols`;
 *   a `from` peer is the Service's endpoint addresses, unsplit. A named port with a `services`
 *   peer or subject is refused (UnsupportedRuleError). A `services` subject has no egress rules.
 * - staged policies (`staged: true`, model/staged.ts) are skipped: they never yield a rule.
 * Pure apart from interning sets in the given Resolution.
 * Cost: O(rules x peers x ports x groups) plus the resolver's cost of each new set.
 */
import { PalisadeError } from '../model/errors.js';
import { makeCidr, type Cidr, type IpAddr } from '../model/ip.js';
import { canonicalName } from '../model/fqdn.js';
import { EVERYTHING, selects } from '../model/labels.js';
import { enforcedPolicies } from '../model/staged.js';
import { ruleFailsClosed } from '../model/cluster-rule.js';
import { KUBELET_PORT, namesTcpPort, type ApiServerTcp } from '../model/node-allowance.js';
import {
  NAMESPACE_NAME_LABEL,
  type ClusterAction,
  type ClusterPeer,
  type ClusterPolicy,
  type ClusterSubject,
  type ClusterProtocolMatch,
  type ClusterRedirect,
  type ClusterRule,
  type Direction,
  type LabelSelector,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type ObjectRef,
  type PolicySet,
  type Protocol,
  type ServiceRef,
  type Source,
} from '../model/types.js';
import { formatObject, type Problem } from '../model/problems.js';
import { findService, serviceGroupText, serviceRefText, type ServiceGroup } from '../model/services.js';
import { redirectEndpoint, redirectPorts } from '../model/redirect.js';
import type { PolicyTier, RuleRef } from '../model/verdict.js';
import { namedPortIndex, groupKey } from '../resolve/named-ports.js';
import { subtractPrefixes, comparePrefixes } from '../resolve/prefixes.js';
import { podKey, type Resolution } from '../resolve/resolver.js';
import type { IpBlock, NamedPortGroup, SetDef, SetId } from '../resolve/set-def.js';
import { clusterRuleKey } from './notes.js';
import { compareClusterPolicies, compareNetworkPolicies } from './order.js';
import {
  ALL_PORTS,
  type DirectionTable,
  type LoweredRedirect,
  type PortRange,
  type RedirectFamilyTarget,
  type Rule,
  type RuleAction,
  type RuleOrigin,
  type RuleSet,
} from './types.js';

/** A rule before it has an id and a priority. */
type Draft = Omit<Rule, 'id' | 'priority'>;

/** What a destination must be: any address, a set, or nothing at all. */
type PeerSpec =
  | { readonly kind: 'any' }
  | { readonly kind: 'set'; readonly def: SetDef }
  | { readonly kind: 'ipBlock'; readonly block: IpBlock }
  /** CNP `networks`: a union of CIDRs */
  | { readonly kind: 'networks'; readonly cidrs: readonly Cidr[] }
  /** a `to: services` entry: split per (protocol, port) group of the Service */
  | { readonly kind: 'service'; readonly service: ServiceRef }
  | { readonly kind: 'none' };


/** What a port entry matches. */
type PortSpec =
  | { readonly kind: 'all' }
  /** `srcRange`: PalisadeClusterNetworkPolicy `sourcePort` (absent: every source port) */
  | { readonly kind: 'range'; readonly protocol: Protocol; readonly range: PortRange; readonly srcRange?: PortRange }
  | { readonly kind: 'named'; readonly name: string; readonly protocol?: Protocol }
  | { readonly kind: 'none' };

const nsByName = (ns: string): LabelSelector => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: ns }, matchExpressions: [] });

export interface LowerOptions {
  /**
   * The API server of node subjects' built-in allowance (S20, model/node-allowance.ts
   * `apiServerTcp`); absent: none known (only the kubelet port and node loopback are kept).
   */
  readonly apiServer?: ApiServerTcp;
  /** emit the node-local ingress allows (default true; the reference's `nodeLocalIngress`) */
  readonly nodeLocalIngress?: boolean;
  /**
   * How CIDR peers (`ipBlock`, `networks`) become sets:
   * - `per-peer` (default): one set per peer, holding all its prefixes (fewest rules);
   * - `per-prefix`: one rule per prefix, each prefix a set of its own shared by every rule that
   *   names it. Same semantics (the rules carry the same origin and action, side by side), and
   *   every address then belongs to few sets: a classifier that looks up "which sets contain
   *   this address" (the native one) stays fast when many policies carry overlapping CIDRs
   *   (bench/RESULTS.md, Kubernetes-shaped section).
   */
  readonly prefixSets?: 'per-peer' | 'per-prefix';
  /**
   * Collect refused rules here (each placed at its policy and field path) and lower the rest,
   * instead of throwing the first: `palisade validate` reports every one. The rule set is then
   * incomplete and must not be enforced.
   */
  readonly refusals?: UnsupportedRuleError[];
}

export function lower(given: PolicySet, resolution: Resolution, options: LowerOptions = {}): RuleSet {
  // A staged policy is reported, never enforced (model/staged.ts): it yields no rule.
  const policies = enforcedPolicies(given);
  const ctx = new Lowering(resolution, options.nodeLocalIngress ?? true, options.prefixSets ?? 'per-peer', options.refusals);
  ctx.nodeSubjectSelectors = policies.clusterPolicies.flatMap((p) => (p.subject.kind === 'nodes' ? [p.subject.nodeSelector] : []));
  const admin = policies.clusterPolicies.filter((p) => p.tier === 'Admin').sort(compareClusterPolicies);
  const baseline = policies.clusterPolicies.filter((p) => p.tier === 'Baseline').sort(compareClusterPolicies);
  const nps = [...policies.networkPolicies].sort(compareNetworkPolicies);

  const rules: Rule[] = [];
  const table = (direction: Direction): DirectionTable => {
    const list: Draft[] = [];
    const adminStart = 0;
    // node subjects (S20): their loopback, the explicit rules on each allowance port, the allowance
    ctx.nodeAllowance(direction, admin, options.apiServer, list);
    for (const p of admin) ctx.clusterPolicy(p, direction, list);
    const npStart = list.length;
    for (const np of nps) ctx.networkPolicy(np, direction, list);
    ctx.networkPolicyDefaults(direction, list);
    const baselineStart = list.length;
    for (const p of baseline) ctx.clusterPolicy(p, direction, list);
    const out = list.map((d, priority) => {
      const r: Rule = { ...d, id: rules.length, priority };
      rules.push(r);
      return r;
    });
    return { rules: out, tierStart: { Admin: adminStart, NetworkPolicy: npStart, Baseline: baselineStart, end: out.length } };
  };
  const egress = table('egress');
  const ingress = table('ingress');
  return {
    rules,
    egress,
    ingress,
    namedPortGroups: ctx.groupsUsed,
    nodeLocalNodes: ctx.nodeLocalNodes,
    serviceGroups: ctx.serviceGroupsUsed,
    ...(ctx.redirectServices.size > 0 ? { redirectServices: ctx.redirectServices } : {}),
    ...(ctx.learnedPodSelectors.length > 0 ? { learnedSubjects: { pods: ctx.learnedPods, podSelectors: ctx.learnedPodSelectors } } : {}),
  };
}

class Lowering {
  readonly groupsUsed = new Map<string, Set<string>>();
  readonly nodeLocalNodes = new Set<string>();
  readonly serviceGroupsUsed = new Map<string, Set<string>>();
  /** the target Services of Redirect rules (`namespace/name`): their ClusterIPs and endpoints are in the rules */
  readonly redirectServices = new Set<string>();
  /** per-pod domainNames rules: the pods that got one, and their subjects' pod selectors */
  readonly learnedPods = new Set<string>();
  readonly learnedPodSelectors: LabelSelector[] = [];
  private readonly groupCache = new Map<string, NamedPortGroup[]>();
  private portIndex: Map<string, NamedPortGroup[]> | undefined;

  constructor(
    private readonly res: Resolution,
    private readonly nodeLocalIngress: boolean,
    private readonly prefixSets: 'per-peer' | 'per-prefix',
    private readonly refusals: UnsupportedRuleError[] | undefined,
  ) {}

  // ---- cluster tiers ---------------------------------------------------------------------

  /**
   * `onlyTcpPort`: emit only the rules naming this TCP destination port explicitly, restricted to
   * their entries naming it (node subjects' allowance ports, `nodeAllowance`).
   */
  clusterPolicy(p: ClusterPolicy, direction: Direction, out: Draft[], onlyTcpPort?: number): void {
    const s = p.subject;
    // a services subject: one subject per (Service, group), its ports narrowed to the group
    const subjects: { def: SetDef; group?: ServiceGroup }[] =
      s.kind === 'services'
        ? direction === 'egress'
          ? []
          : s.services.flatMap((ref) => this.serviceGroups(ref).map((group) => ({ def: serviceSet(ref, group), group })))
        : (() => {
            const def = clusterSubject(s);
            return def === undefined ? [] : [{ def }];
          })();
    for (const { def, group } of subjects) this.clusterRules(p, direction, def, group, out, onlyTcpPort);
  }

  private clusterRules(p: ClusterPolicy, direction: Direction, subject: SetDef, group: ServiceGroup | undefined, out: Draft[], onlyTcpPort?: number): void {
    for (const rule of p[direction]) {
      const before = out.length;
      try {
        this.clusterRule(p, direction, rule, subject, group, out, onlyTcpPort);
      } catch (e) {
        if (!(e instanceof UnsupportedRuleError)) throw e;
        // say where: the policy, its file and the rule's field path
        const placed = e.location ? e : e.at({ kind: p.kind, name: p.name }, p.source, `spec.${direction}[${rule.index}]`);
        if (!this.refusals) throw placed;
        // a rule with services subjects is lowered once per subject: report it once
        if (!this.refusals.some((r) => r.location?.path === placed.location?.path && r.location?.object.name === p.name && r.location?.object.kind === p.kind)) this.refusals.push(placed);
        out.length = before;
      }
    }
  }

  private clusterRule(p: ClusterPolicy, direction: Direction, rule: ClusterRule, subject: SetDef, group: ServiceGroup | undefined, out: Draft[], onlyTcpPort?: number): void {
    if (onlyTcpPort !== undefined && (ruleFailsClosed(rule) || !namesTcpPort(rule, onlyTcpPort))) return;
    const ref: RuleRef = {
      tier: p.tier,
      policy: { kind: p.kind, name: p.name },
      ruleIndex: rule.index,
      ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
      action: rule.action,
      priority: p.priority,
    };
    const stableId = clusterRuleKey(p, direction, rule.index);
    if (ruleFailsClosed(rule)) {
      // Accept: the rule matches nothing. Deny, Pass, Redirect: "Deny all" (a Pass so treated denies too).
      if (rule.action !== 'Accept') {
        const denyRef: RuleRef = { ...ref, action: 'Deny', failClosed: true };
        const all = group ? narrowPort({ kind: 'all' }, group) : { protocol: null, range: ALL_PORTS };
        if (all) out.push(this.draft(direction, p.tier, this.res.intern(subject), null, all.protocol, all.range, 'deny', { stableId, ref: denyRef }));
      }
      return;
    }
    const origin: RuleOrigin = { stableId, ref };
    if (rule.action === 'Redirect' && rule.redirect) {
      this.redirectRule(p, direction, subject, group, rule, rule.redirect, ref, stableId, out);
      return;
    }
    const action = clusterAction(rule.action);
    const peers = rule.peers.flatMap((q) => clusterPeers(q, direction));
    const entries =
      onlyTcpPort === undefined
        ? rule.protocols
        : (rule.protocols ?? []).filter((q) => q.kind === 'port' && q.protocol === 'TCP' && q.portStart === onlyTcpPort && (q.portEnd ?? q.portStart) === onlyTcpPort);
    const given = entries === null ? [{ kind: 'all' } as PortSpec] : entries.map((q) => clusterPort(q));
    const ports = group ? given.map((q) => portSpecOf(narrowPort(q, group, 'a named port with a services subject'))) : given;
    this.emit(direction, p.tier, subject, peers, ports, action, origin, out);
    const names = [...new Set(rule.peers.flatMap((q) => (q.kind === 'domainNames' ? q.domainNames.map(canonicalName) : [])))].sort();
    if (names.length > 0 && direction === 'egress' && rule.action === 'Accept' && subject.kind === 'pods') {
      // a learned address is scoped to the pod that asked (docs/fqdn.md §2): one rule per subject pod
      this.learnedPodSelectors.push(subject.podSelector);
      for (const pod of this.subjectPods(subject)) {
        this.learnedPods.add(pod);
        const learned: PeerSpec = { kind: 'set', def: { kind: 'learned', pod, names } };
        this.emit(direction, p.tier, { ...subject, pod }, [learned], ports, action, origin, out);
      }
    }
  }

  /**
   * A Redirect rule (docs/extension-semantics.md, Redirect): per Service port it can send to, an
   * `accept` of the rule's flows narrowed to that port's protocol (and port, when `redirect.port`
   * is absent) carrying the target; then the rule's remaining flows (nowhere to send them) as a
   * fail-closed deny. A family without a ClusterIP has no target: `networks` peers are split by
   * family; any other peer needs a dual-stack target (else UnsupportedRuleError).
   */
  private redirectRule(
    p: ClusterPolicy,
    direction: Direction,
    subject: SetDef,
    group: ServiceGroup | undefined,
    rule: ClusterRule,
    redirect: ClusterRedirect,
    ref: RuleRef,
    stableId: string,
    out: Draft[],
  ): void {
    const inv = this.res.serviceInventory();
    const svc = findService(redirect.service, inv.services);
    const families = new Set((svc?.clusterIPs ?? []).map((ip) => ip.family));
    const given = rule.protocols === null ? [{ kind: 'all' } as PortSpec] : rule.protocols.map((q) => clusterPort(q));
    const ports = group ? given.map((q) => portSpecOf(narrowPort(q, group, 'a named port with a services subject'))) : given;
    const peers = rule.peers.flatMap((entry, j) =>
      clusterPeers(entry, direction).flatMap((q): PeerSpec[] => {
        if (q.kind === 'networks') {
          const cidrs = q.cidrs.filter((c) => families.has(c.family));
          return cidrs.length > 0 ? [{ kind: 'networks', cidrs }] : [];
        }
        if (q.kind !== 'none' && families.size === 1) {
          const [has] = [...families];
          throw new UnsupportedRuleError(
            `a ${entry.kind} peer in a Redirect rule to the single-stack Service ${serviceRefText(redirect.service)}`,
            `the Service has only IPv${has} ClusterIPs, so this peer's IPv${has === 4 ? 6 : 4} flows would have nowhere to go, and only networks peers can be split by family; ` +
              `list the destinations under networks, or make the Service dual-stack (ipFamilyPolicy: RequireDualStack)`,
            `to[${j}]`,
          );
        }
        return families.size > 0 ? [q] : [];
      }),
    );
    for (const sp of redirectPorts(redirect, inv)) {
      const g: ServiceGroup = { protocol: sp.protocol, port: redirect.port !== undefined ? null : sp.port };
      const narrowed = ports.map((q) => portSpecOf(q.kind === 'none' ? undefined : narrowPort(q, g, 'a named port with a Redirect rule')));
      const target = (family: 4 | 6): RedirectFamilyTarget | undefined => {
        const clusterIP = svc?.clusterIPs.find((ip) => ip.family === family);
        if (!clusterIP) return undefined;
        const endpoint = redirectEndpoint(redirect, family, sp, inv);
        return { clusterIP, port: sp.port, ...(endpoint ? { endpoint } : {}) };
      };
      const v4 = target(4);
      const v6 = target(6);
      const lowered: LoweredRedirect = { redirect, protocol: sp.protocol, ...(v4 ? { v4 } : {}), ...(v6 ? { v6 } : {}) };
      const before = out.length;
      this.emit(direction, p.tier, subject, peers, narrowed, 'accept', { stableId, ref }, out);
      for (let i = before; i < out.length; i++) out[i] = { ...out[i]!, redirect: lowered };
      this.redirectServices.add(serviceRefText(redirect.service));
    }
    // every flow of the rule that no Service port took: fail closed
    const denyRef: RuleRef = { ...ref, action: 'Deny', failClosed: true };
    const before = out.length;
    this.emit(direction, p.tier, subject, rule.peers.flatMap((q) => clusterPeers(q, direction)), ports, 'deny', { stableId, ref: denyRef }, out);
    for (let i = before; i < out.length; i++) out[i] = { ...out[i]!, redirectNowhere: redirect };
  }

  /** The keys of the non-host-network pods a `pods` subject selects now, sorted. */
  private subjectPods(subject: SetDef): string[] {
    if (subject.kind !== 'pods') return [];
    return this.res
      .inventory()
      .pods.filter((q) => !q.hostNetwork && selects(subject.namespaceSelector, this.res.namespaceLabels(q.namespace)) && selects(subject.podSelector, q.labels))
      .map((q) => podKey(q))
      .sort();
  }

  /**
   * Node subjects' built-in allowance (docs/extension-semantics.md "Nodes"; the reference's
   * nodes.ts walks the same order): per node some Admin or Baseline node-subject policy selects,
   * an accept of its traffic to its own addresses (loopback); then per allowance port (egress:
   * the API server's TCP ports; ingress: the kubelet's), the Admin node-subject rules naming
   * that port explicitly, restricted to it, then an accept of the allowance traffic. Nothing
   * when no policy has a node subject.
   */
  nodeAllowance(direction: Direction, admin: readonly ClusterPolicy[], api: ApiServerTcp | undefined, out: Draft[]): void {
    const nodeAdmin = admin.filter((p) => p.subject.kind === 'nodes');
    const selectors = this.nodeSubjectSelectors;
    if (selectors.length === 0) return;
    const everyNode = this.res.intern({ kind: 'nodes', nodeSelector: EVERYTHING });
    for (const n of this.res.inventory().nodes) {
      if (!selectors.some((sel) => selects(sel, n.labels))) continue;
      if (n.addresses.length === 0) continue;
      const addrs = this.res.intern({ kind: 'prefixes', prefixes: n.addresses.map(hostPrefix) });
      const self = this.res.intern({ kind: 'node', name: n.name });
      out.push(this.draft(direction, 'Admin', self, addrs, null, ALL_PORTS, 'accept', { stableId: `Admin/node-loopback/${n.name}/${direction}` }));
    }
    const ports = direction === 'ingress' ? [KUBELET_PORT] : (api?.ports ?? []);
    const apiPeer = direction === 'egress' && api && api.addresses.length > 0 ? this.res.intern({ kind: 'prefixes', prefixes: api.addresses.map(hostPrefix) }) : undefined;
    for (const port of ports) {
      for (const p of nodeAdmin) this.clusterPolicy(p, direction, out, port);
      if (direction === 'egress' && apiPeer === undefined) continue;
      out.push(
        this.draft(direction, 'Admin', everyNode, apiPeer ?? null, 'TCP', { lo: port, hi: port }, 'accept', {
          stableId: `Admin/node-allowance/${direction}/TCP/${port}`,
        }),
      );
    }
  }

  /** The node selectors of every enforced node-subject policy (set by `lower`). */
  nodeSubjectSelectors: LabelSelector[] = [];

  // ---- NetworkPolicy tier ------------------------------------------------------------------

  networkPolicy(np: NetworkPolicy, direction: Direction, out: Draft[]): void {
    if (!np.policyTypes.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) return;
    const subject: SetDef = { kind: 'pods', namespaceSelector: nsByName(np.namespace), podSelector: np.podSelector };
    np[direction].forEach((rule, index) => {
      const ref: RuleRef = {
        tier: 'NetworkPolicy',
        policy: { kind: 'NetworkPolicy', namespace: np.namespace, name: np.name },
        ruleIndex: index,
        action: 'Allow',
      };
      const origin: RuleOrigin = { stableId: `NetworkPolicy/${np.namespace}/${np.name}/${direction}/${index}`, ref };
      const peers = rule.peers === null ? [{ kind: 'any' } as PeerSpec] : rule.peers.map((q) => npPeer(q, np.namespace));
      const ports = rule.ports === null ? [{ kind: 'all' } as PortSpec] : rule.ports.map(npPort);
      this.emit(direction, 'NetworkPolicy', subject, peers, ports, 'allow', origin, out);
    });
  }

  networkPolicyDefaults(direction: Direction, out: Draft[]): void {
    if (direction === 'ingress' && this.nodeLocalIngress) {
      // every node name the inventory mentions: a Node object, or a pod's spec.nodeName (a
      // host-network pod is node traffic even when its Node object is missing)
      const names = new Set<string>();
      const inv = this.res.inventory();
      for (const n of inv.nodes) names.add(n.name);
      for (const p of inv.pods) if (p.nodeName !== undefined) names.add(p.nodeName);
      for (const name of [...names].sort()) {
        this.nodeLocalNodes.add(name);
        const subject = this.res.intern({ kind: 'isolated', direction, node: name });
        const peer = this.res.intern({ kind: 'node', name });
        out.push(this.draft(direction, 'NetworkPolicy', subject, peer, null, ALL_PORTS, 'node-local', {
          stableId: `NetworkPolicy/node-local/${name}/ingress`,
          node: name,
        }));
      }
    }
    const isolated = this.res.intern({ kind: 'isolated', direction });
    out.push(this.draft(direction, 'NetworkPolicy', isolated, null, null, ALL_PORTS, 'isolation-deny', {
      stableId: `NetworkPolicy/isolation/${direction}`,
    }));
  }

  // ---- shared ------------------------------------------------------------------------------

  private emit(
    direction: Direction,
    tier: PolicyTier,
    subject: SetDef,
    peers: readonly PeerSpec[],
    ports: readonly PortSpec[],
    action: RuleAction,
    origin: RuleOrigin,
    out: Draft[],
  ): void {
    for (const peer of peers) {
      if (peer.kind === 'none') continue;
      if (peer.kind === 'service') {
        const subjectId = this.res.intern(subject);
        for (const g of this.serviceGroups(peer.service)) {
          const peerId = this.res.intern(serviceSet(peer.service, g));
          for (const port of ports) {
            const n = narrowPort(port, g, 'a named port with a services peer');
            if (n) out.push(this.draft(direction, tier, subjectId, peerId, n.protocol, n.range, action, origin, n.srcRange ?? ALL_PORTS));
          }
        }
        continue;
      }
      for (const port of ports) {
        if (port.kind === 'none') continue;
        if (port.kind !== 'named') {
          const protocol = port.kind === 'range' ? port.protocol : null;
          const range = port.kind === 'range' ? port.range : ALL_PORTS;
          const srcRange = port.kind === 'range' ? port.srcRange ?? ALL_PORTS : ALL_PORTS;
          const subjectId = this.res.intern(subject);
          for (const peerId of this.peerSets(peer, undefined)) out.push(this.draft(direction, tier, subjectId, peerId, protocol, range, action, origin, srcRange));
          continue;
        }
        for (const g of this.groups(port.name, port.protocol)) {
          // The named port resolves on the destination: the peer for egress, the subject for ingress.
          const subjectId = this.res.intern(direction === 'egress' ? subject : narrow(subject, g));
          const peerIds = this.peerSets(peer, direction === 'egress' ? g : undefined);
          for (const peerId of peerIds) out.push(this.draft(direction, tier, subjectId, peerId, g.protocol, { lo: g.port, hi: g.port }, action, origin));
        }
      }
    }
  }

  /**
   * The set ids a peer stands for (their union), null meaning any address. With a named-port
   * group the peer must also be a pod declaring it.
   */
  private peerSets(peer: PeerSpec, g: NamedPortGroup | undefined): (SetId | null)[] {
    const all = { namespaceSelector: EVERYTHING, podSelector: EVERYTHING };
    switch (peer.kind) {
      case 'any':
        return [g ? this.res.intern({ kind: 'pods', ...all, namedPort: g }) : null];
      case 'ipBlock':
        if (g) return [this.res.intern({ kind: 'pods', ...all, namedPort: g, block: peer.block })];
        return this.prefixSetIds(subtractPrefixes(peer.block.cidr, peer.block.except));
      case 'networks':
        if (!g) return this.prefixSetIds(peer.cidrs);
        return peer.cidrs.map((cidr) => this.res.intern({ kind: 'pods', ...all, namedPort: g, block: { cidr, except: [] } }));
      case 'set':
        if (!g) return [this.res.intern(peer.def)];
        if (peer.def.kind === 'pods') return [this.res.intern(narrow(peer.def, g))];
        if (peer.def.kind === 'learned') throw new UnsupportedRuleError('a named port combined with a domainNames peer');
        // A node address with a named port: validation rejects this combination (CEL on every
        // CNP/ANP/BANP version); a hand-built Cluster carrying it is refused at compile().
        throw new UnsupportedRuleError('a named port combined with a nodes peer');
      case 'service':
        throw new Error('internal: services peers are split in emit');
      case 'none':
        return [];
    }
  }

  /** The (protocol, port) groups of a Service, noted in the rule set (rules/inputs.ts follows them). */
  private serviceGroups(ref: ServiceRef): ServiceGroup[] {
    const gs = this.res.serviceGroups(ref);
    const k = serviceRefText(ref);
    let used = this.serviceGroupsUsed.get(k);
    if (!used) this.serviceGroupsUsed.set(k, (used = new Set()));
    for (const g of gs) used.add(serviceGroupText(g));
    return gs;
  }

  private prefixSetIds(prefixes: readonly Cidr[]): SetId[] {
    if (this.prefixSets === 'per-peer') return [this.res.intern({ kind: 'prefixes', prefixes })];
    return prefixes.map((c) => this.res.intern({ kind: 'prefixes', prefixes: [c] }));
  }

  private groups(name: string, protocol: Protocol | undefined): NamedPortGroup[] {
    const key = `${name}\u0000${protocol ?? ''}`;
    let gs = this.groupCache.get(key);
    if (!gs) {
      this.portIndex ??= namedPortIndex(this.res.inventory().pods);
      gs = (this.portIndex.get(name) ?? []).filter((g) => protocol === undefined || g.protocol === protocol);
      this.groupCache.set(key, gs);
      let used = this.groupsUsed.get(name);
      if (!used) this.groupsUsed.set(name, (used = new Set()));
      for (const g of gs) used.add(groupKey(g));
    }
    return gs;
  }

  private draft(
    direction: Direction,
    tier: PolicyTier,
    subject: SetId,
    peer: SetId | null,
    protocol: Protocol | null,
    dstPorts: PortRange,
    action: RuleAction,
    origin: RuleOrigin,
    srcPorts: PortRange = ALL_PORTS,
  ): Draft {
    return { direction, tier, subject, peer, protocol, dstPorts, srcPorts, action, origin };
  }
}

/** Where a refused rule is written: its policy, the policy's source and the field path of the rule part. */
export interface RuleLocation {
  readonly object: ObjectRef;
  readonly source: Source;
  /** e.g. `spec.egress[0].to[1]` */
  readonly path: string;
}

/**
 * A rule the lowering cannot express. Validation rejects every such rule written in a manifest
 * but one: a Redirect rule whose target Service is single-stack, with a peer that cannot be split
 * by family (that depends on the inventory, so only compiling sees it). `location` is set by
 * Lowering for every rule of a policy (the policy, its file and line, the field path), so the
 * message and `problem()` say where; `reason` says why and what to write instead.
 */
export class UnsupportedRuleError extends PalisadeError {
  /** the part of the rule, e.g. `a named port combined with a nodes peer` */
  readonly what: string;
  readonly reason: string;
  /** relative to the rule (`to[1]`), completed into `location.path` by Lowering */
  readonly field: string | undefined;
  readonly location: RuleLocation | undefined;

  constructor(what: string, reason = 'validation rejects it (palisade validate)', field?: string, location?: RuleLocation) {
    const core = `cannot compile ${what}: ${reason}`;
    super('ERR_PALISADE_UNSUPPORTED_RULE', location ? `${location.source.file}${location.source.line ? `:${location.source.line}` : ''}: ${formatObject(location.object)}: ${location.path}: ${core}` : core, {
      details: location ? { object: location.object, file: location.source.file, path: location.path } : {},
    });
    this.what = what;
    this.reason = reason;
    this.field = field;
    this.location = location;
  }

  /** The same refusal, placed at a rule (`rulePath`, e.g. `spec.egress[0]`) of a policy. */
  at(object: ObjectRef, source: Source, rulePath: string): UnsupportedRuleError {
    return new UnsupportedRuleError(this.what, this.reason, undefined, { object, source, path: this.field ? `${rulePath}.${this.field}` : rulePath });
  }

  /** The refusal as an input problem (code RULE_UNSUPPORTED): file, line, object and field path when placed. */
  problem(): Problem {
    const l = this.location;
    const message = `cannot compile ${this.what}: ${this.reason}`;
    if (!l) return { code: 'RULE_UNSUPPORTED', severity: 'error', file: '<cluster>', message };
    return { code: 'RULE_UNSUPPORTED', severity: 'error', file: l.source.file, ...(l.source.line !== undefined ? { line: l.source.line } : {}), object: l.object, path: l.path, message };
  }
}

function narrow(def: SetDef, g: NamedPortGroup): SetDef {
  if (def.kind !== 'pods') throw new Error('internal: only pod sets narrow to a named port');
  return { ...def, namedPort: g };
}

/** A port entry narrowed to a Service group; `srcRange` (sourcePort) kept as written. */
interface NarrowedPort {
  readonly protocol: Protocol | null;
  readonly range: PortRange;
  readonly srcRange?: PortRange;
}

const serviceSet = (service: ServiceRef, g: ServiceGroup): SetDef => ({ kind: 'service', service, protocol: g.protocol, port: g.port });

/**
 * A port entry within one Service group: the protocol and destination ports both allow, or
 * undefined when they exclude each other. A named port cannot be narrowed (refused: `what`).
 */
function narrowPort(q: PortSpec, g: ServiceGroup, what = 'a named port with a services peer'): NarrowedPort | undefined {
  const range = (r: PortRange): PortRange | undefined => (g.port === null ? r : r.lo <= g.port && g.port <= r.hi ? { lo: g.port, hi: g.port } : undefined);
  switch (q.kind) {
    case 'all': {
      return { protocol: g.protocol, range: g.port === null ? ALL_PORTS : { lo: g.port, hi: g.port } };
    }
    case 'range': {
      if (g.protocol !== null && g.protocol !== q.protocol) return undefined;
      const r = range(q.range);
      return r ? { protocol: q.protocol, range: r, ...(q.srcRange ? { srcRange: q.srcRange } : {}) } : undefined;
    }
    case 'named':
      throw new UnsupportedRuleError(what);
    case 'none':
      return undefined;
  }
}

/** The subject set of a cluster policy; undefined: it selects no pod (`nodes`, `services`). */
function clusterSubject(s: ClusterSubject): SetDef | undefined {
  switch (s.kind) {
    case 'namespaces':
      return { kind: 'pods', namespaceSelector: s.namespaceSelector, podSelector: EVERYTHING };
    case 'pods':
      return {
        kind: 'pods',
        namespaceSelector: s.namespaceSelector,
        podSelector: s.podSelector,
        ...(s.nodeSelector !== undefined ? { nodeSelector: s.nodeSelector } : {}),
      };
    case 'nodes':
      return { kind: 'nodes', nodeSelector: s.nodeSelector };
    case 'services':
      return undefined;
  }
}

const portSpecOf = (n: NarrowedPort | undefined): PortSpec =>
  n === undefined
    ? { kind: 'none' }
    : n.protocol === null
      ? { kind: 'all' }
      : { kind: 'range', protocol: n.protocol, range: n.range, ...(n.srcRange ? { srcRange: n.srcRange } : {}) };

/** The peers one cluster peer entry stands for (a `services` entry: one per Service). */
function clusterPeers(q: ClusterPeer, direction: Direction): PeerSpec[] {
  if (q.kind !== 'services') return [clusterPeer(q)];
  // `to`: the Service's tuples, split per group; `from`: its endpoint addresses on any port
  return q.services.map((service): PeerSpec => (direction === 'egress' ? { kind: 'service', service } : { kind: 'set', def: { kind: 'service-endpoints', service } }));
}
const hostPrefix = (ip: IpAddr): Cidr => makeCidr(ip.family, ip.value, ip.family === 4 ? 32 : 128);

function clusterAction(a: ClusterAction): RuleAction {
  switch (a) {
    case 'Accept':
      return 'accept';
    case 'Deny':
      return 'deny';
    case 'Pass':
      return 'pass';
    case 'Redirect':
      // never reached: Redirect rules are lowered by Lowering.redirectRule
      throw new UnsupportedRuleError('a Redirect rule without a redirect target');
  }
}

function clusterPeer(q: Exclude<ClusterPeer, { kind: 'services' }>): PeerSpec {
  switch (q.kind) {
    case 'namespaces':
      return { kind: 'set', def: { kind: 'pods', namespaceSelector: q.namespaceSelector, podSelector: EVERYTHING } };
    case 'pods':
      return { kind: 'set', def: { kind: 'pods', namespaceSelector: q.namespaceSelector, podSelector: q.podSelector } };
    case 'nodes':
      return { kind: 'set', def: { kind: 'nodes', nodeSelector: q.nodeSelector } };
    case 'networks': {
      const uniq = new Map(q.cidrs.map((c) => [c.text, c]));
      return { kind: 'networks', cidrs: [...uniq.values()].sort(comparePrefixes) };
    }
    case 'entities':
      return { kind: 'set', def: { kind: 'cluster' } };
    case 'domainNames':
    case 'unknown':
      return { kind: 'none' };
  }
}

function clusterPort(q: ClusterProtocolMatch): PortSpec {
  switch (q.kind) {
    case 'port':
      return {
        kind: 'range',
        protocol: q.protocol,
        range: q.portStart === undefined ? ALL_PORTS : { lo: q.portStart, hi: q.portEnd ?? q.portStart },
        ...(q.srcPortStart !== undefined ? { srcRange: { lo: q.srcPortStart, hi: q.srcPortEnd ?? q.srcPortStart } } : {}),
      };
    case 'namedPort':
      return { kind: 'named', name: q.name };
    case 'unknown':
      return { kind: 'none' };
  }
}

function npPeer(q: NetworkPolicyPeer, ns: string): PeerSpec {
  if (q.kind === 'ipBlock') return { kind: 'ipBlock', block: { cidr: q.cidr, except: q.except } };
  return {
    kind: 'set',
    def: { kind: 'pods', namespaceSelector: q.namespaceSelector ?? nsByName(ns), podSelector: q.podSelector ?? EVERYTHING },
  };
}

function npPort(q: NetworkPolicyPort): PortSpec {
  if (q.port === undefined) return { kind: 'range', protocol: q.protocol, range: ALL_PORTS };
  if (typeof q.port === 'string') return { kind: 'named', name: q.port, protocol: q.protocol };
  return { kind: 'range', protocol: q.protocol, range: { lo: q.port, hi: q.endPort ?? q.port } };
}
