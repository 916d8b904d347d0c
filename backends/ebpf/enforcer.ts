/**
 * enforcer.ts: the eBPF backend as an enforcer: cluster -> resolve -> rules -> tables -> one
 * generation flip, plus the tc attachments on the node's pod interfaces, pod churn in place, and
 * deny events as the shared JSON deny-log lines.
 *
 * Topology contract (the same as nftables, issue 3): run in (or pointed at) the node network
 * namespace; every veth there is the host side of a pod's link, and gets both programs
 * (tc ingress = the pod's egress, tc egress = the pod's ingress). Other interfaces (the node's
 * uplinks) get the programs in the "host" role only when named in `hostInterfaces`: attaching to
 * a real machine's uplink is a decision for the operator, never a default.
 *
 * - `applyCluster(cluster)`: full apply (new generation). On failure the previous generation stays
 *   active (the flip is the last write) and the enforcer keeps its previous state.
 * - `applyChanges(changes)`: pod churn. When the rule set is unchanged and only host prefixes
 *   (/32, /128) entered or left sets, the active generation's address entries change in place
 *   (new classes get rows first); anything else falls back to a full apply.
 * - `attachInterfaces()`: attach to veths not yet attached (enforce calls it on a timer).
 * - `remove()`: detach from every interface it attached to and unpin everything.
 * - `close()`: leave everything in force (pinned, attached) and release this process's handles.
 * Not thread-safe: one owner.
 */
import { execFileSync } from 'node:child_process';
import { hostCidr, makeCidr, type Cidr, type IpAddr } from '../../src/model/ip.js';
import type { Cluster, Direction, PolicySet } from '../../src/model/types.js';
import { formatDenyLine, type DenyRecord } from '../../src/enforce/deny-log.js';
import { isolatingPolicies } from '../../src/reference/tiers.js';
import { Resolution, type InventoryChange, type SetDelta, type SetId } from '../../src/resolve/index.js';
import { lower } from '../../src/rules/lower.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';
import type { RawDenyEvent } from '../../src/native/binding.js';
import { EbpfInstance, type OpenOptions } from './instance.js';
import { addrBytes, buildTables, classBitmaps, type BpfTables } from './tables.js';

export interface EbpfEnforcerOptions extends OpenOptions {
  /** network namespace to attach in (e.g. /run/netns/NAME); default: the current one */
  readonly netnsPath?: string;
  /** non-veth interfaces to enforce on as node uplinks (role "host") */
  readonly hostInterfaces?: readonly string[];
  /** emit deny events (for drainDenyLines); default false */
  readonly logDenied?: boolean;
}

export interface EbpfApplyReport {
  readonly kind: 'full' | 'in-place' | 'none';
  readonly rules: number;
  readonly generation: number;
  /** address entries written in place (in-place only) */
  readonly entries: number;
  readonly durationMs: number;
}

interface State {
  cluster: Cluster;
  readonly resolution: Resolution;
  readonly ruleSet: RuleSet;
  readonly rulesKey: string;
  readonly tables: BpfTables;
  /** prefix text -> sets listing it, kept current through deltas */
  readonly owners: Map<string, Set<SetId>>;
  /** membership signature -> class id (grows with in-place updates) */
  readonly classOf: Map<string, number>;
  readonly usedSets: ReadonlySet<SetId>;
  generation: number;
}

export class EbpfEnforcer {
  readonly instance: EbpfInstance;
  private state: State | undefined;
  /** interface name -> ifindex it had when attached */
  private readonly attached = new Map<string, number>();

  constructor(private readonly opts: EbpfEnforcerOptions = {}) {
    this.instance = EbpfInstance.open(opts);
    this.instance.setLogDenied(opts.logDenied ?? false);
  }

  get ruleSet(): RuleSet | undefined {
    return this.state?.ruleSet;
  }

  applyCluster(cluster: Cluster): EbpfApplyReport {
    const t0 = performance.now();
    const resolution = new Resolution(cluster, cluster.networkPolicies);
    const next = this.compile(cluster, resolution);
    const generation = this.instance.install(next.tables);
    next.generation = generation;
    this.state = next;
    this.attachInterfaces();
    return { kind: 'full', rules: next.ruleSet.rules.length, generation, entries: 0, durationMs: performance.now() - t0 };
  }

  applyChanges(changes: readonly InventoryChange[]): EbpfApplyReport {
    const prev = this.state;
    if (!prev) throw Object.assign(new Error('applyChanges before applyCluster'), { code: 'PAL_EBPF_NOT_APPLIED' });
    const t0 = performance.now();
    const deltas: SetDelta[] = [];
    for (const c of changes) deltas.push(...prev.resolution.apply(c));
    prev.cluster = { ...prev.cluster, ...prev.resolution.inventory() };
    const ruleSet = lower(policiesOf(prev.cluster), prev.resolution);
    const hostOnly = deltas.every((d) => [...d.added, ...d.removed].every(isHost));
    if (rulesKey(ruleSet) !== prev.rulesKey || !hostOnly) {
      const next = this.compile(prev.cluster, prev.resolution, ruleSet);
      next.generation = this.instance.install(next.tables);
      this.state = next;
      return { kind: 'full', rules: ruleSet.rules.length, generation: next.generation, entries: 0, durationMs: performance.now() - t0 };
    }
    // in place: update owners, then write each touched host's class
    const touched = new Map<string, Cidr>();
    for (const d of deltas) {
      if (!prev.usedSets.has(d.set)) continue;
      for (const c of d.added) {
        let o = prev.owners.get(c.text);
        if (!o) prev.owners.set(c.text, (o = new Set()));
        o.add(d.set);
        touched.set(c.text, c);
      }
      for (const c of d.removed) {
        prev.owners.get(c.text)?.delete(d.set);
        touched.set(c.text, c);
      }
    }
    const writes: { family: 4 | 6; addr: Uint8Array; classId: number }[] = [];
    const removes: { family: 4 | 6; addr: Uint8Array }[] = [];
    const newClasses: { classId: number; bitmaps: Uint32Array[][] }[] = [];
    for (const [text, c] of touched) {
      const own = prev.owners.get(text);
      const addr = addrBytes(c.family, c.base);
      if (!own || own.size === 0) {
        prev.owners.delete(text);
        removes.push({ family: c.family, addr });
        continue;
      }
      const members = membershipOf(c, prev.owners);
      const sig = members.join(',');
      let cls = prev.classOf.get(sig);
      if (cls === undefined) {
        cls = prev.classOf.size;
        prev.classOf.set(sig, cls);
        newClasses.push({ classId: cls, bitmaps: classBitmaps(prev.ruleSet, members) });
      }
      writes.push({ family: c.family, addr, classId: cls });
    }
    if (writes.length || newClasses.length) this.instance.setHostClasses(writes, newClasses);
    if (removes.length) this.instance.removeHosts(removes);
    const n = writes.length + removes.length;
    return { kind: n ? 'in-place' : 'none', rules: ruleSet.rules.length, generation: prev.generation, entries: n, durationMs: performance.now() - t0 };
  }

  /** Attach to every veth (role pod) and named host interface not attached yet; returns the new ones. */
  attachInterfaces(): string[] {
    const ns = this.opts.netnsPath ?? '';
    const added: string[] = [];
    const links = listLinks(ns);
    // an interface that went away (pod deleted) is forgotten, so a new one of the same name or
    // index is attached again
    const present = new Set(links.map((l) => `${l.name}#${l.ifindex}`));
    for (const k of [...this.attached.keys()]) if (!present.has(`${k}#${this.attached.get(k)}`)) this.attached.delete(k);
    for (const l of links) {
      const role = l.kind === 'veth' ? 'pod' : this.opts.hostInterfaces?.includes(l.name) ? 'host' : undefined;
      if (!role || this.attached.has(l.name)) continue;
      try {
        this.instance.native.attach(ns, l.name, role);
        this.attached.set(l.name, l.ifindex);
        added.push(l.name);
      } catch (e) {
        // a veth that vanished between the listing and the attach is not an error
        if ((e as { errno?: number }).errno !== 19 /* ENODEV */) throw e;
      }
    }
    return added;
  }

  attachedInterfaces(): readonly string[] {
    return [...this.attached.keys()];
  }

  /** Deny events since the last call, as deny-log lines (one JSON object per line). */
  drainDenyLines(max = 4096): string[] {
    return this.instance.native.drainDenyEvents(max).map((e) => formatDenyLine(this.denyRecord(e)));
  }

  denyRecord(e: RawDenyEvent): DenyRecord {
    const family = e.family === 6 ? 6 : 4;
    const src = formatAddr(e.src, family);
    const dst = formatAddr(e.dst, family);
    const direction: Direction = e.direction === 0 ? 'ingress' : 'egress';
    const ageMs = Number(process.hrtime.bigint() - e.timeNs) / 1e6;
    const rule = this.ruleBySlot(e.counterIndex);
    const ports = e.proto === 6 || e.proto === 17 || e.proto === 132;
    const base = {
      time: new Date(Date.now() - ageMs).toISOString(),
      backend: 'ebpf' as const,
      family: family as 4 | 6,
      protocol: protocolName(e.proto),
      src,
      ...(ports ? { srcPort: e.srcPort } : {}),
      dst,
      ...(ports ? { dstPort: e.dstPort } : {}),
      direction,
    };
    if (rule?.origin.ref) {
      const ref = rule.origin.ref;
      return {
        ...base,
        tier: ref.tier,
        policy: [ref.policy.kind, ...(ref.policy.namespace ? [ref.policy.namespace] : []), ref.policy.name].join('/'),
        ...(ref.ruleName !== undefined ? { rule: ref.ruleName } : {}),
        ruleIndex: ref.ruleIndex,
      };
    }
    const isolation = rule?.action === 'isolation-deny' ? this.isolatingPolicy(direction === 'egress' ? src : dst, direction) : undefined;
    const reason = ['', 'malformed-packet', 'unknown-fragment', 'missing-table-entry'][e.reason] ?? '';
    return {
      ...base,
      tier: 'NetworkPolicy',
      policy: isolation ?? (reason ? `palisade/${reason}` : rule ? rule.origin.stableId : 'palisade/unknown'),
    };
  }

  /** Leave everything in force; release this process's handles. */
  close(): void {
    this.instance.close();
  }

  /** Stop enforcing: detach from the interfaces this enforcer attached to and unpin. */
  remove(): void {
    const ns = this.opts.netnsPath ?? '';
    const present = new Set(listLinks(ns).map((l) => l.name));
    for (const name of this.attached.keys()) if (present.has(name)) this.instance.native.detach(ns, name);
    this.attached.clear();
    this.instance.destroy();
    this.state = undefined;
  }

  private ruleBySlot(slot: number): Rule | undefined {
    const id = this.instance.stableIdOfSlot(slot);
    return id === undefined ? undefined : this.state?.ruleSet.rules.find((r) => r.origin.stableId === id);
  }

  private isolatingPolicy(ip: string, direction: Direction): string | undefined {
    const cluster = this.state?.cluster;
    const pod = cluster?.pods.find((p) => !p.hostNetwork && p.ips.some((a) => a.text === ip));
    if (!cluster || !pod) return undefined;
    const np = isolatingPolicies(cluster, pod, direction)[0];
    return np ? `NetworkPolicy/${np.namespace}/${np.name}` : undefined;
  }

  private compile(cluster: Cluster, resolution: Resolution, given?: RuleSet): State {
    const ruleSet = given ?? lower(policiesOf(cluster), resolution);
    const usedSets = new Set<SetId>();
    for (const r of ruleSet.rules) {
      usedSets.add(r.subject);
      if (r.peer !== null) usedSets.add(r.peer);
    }
    const { tables, problems } = buildTables({ ruleSet, prefixesOf: (id) => resolution.prefixes(id) });
    if (!tables) {
      throw Object.assign(new Error(`the rule set does not fit the eBPF maps: ${problems.map((p) => `${p.code}: ${p.message}`).join('; ')}`), {
        code: 'PAL_EBPF_TABLES',
        problems,
      });
    }
    const owners = new Map<string, Set<SetId>>();
    for (const s of usedSets) {
      for (const c of resolution.prefixes(s)) {
        let o = owners.get(c.text);
        if (!o) owners.set(c.text, (o = new Set()));
        o.add(s);
      }
    }
    const classOf = new Map<string, number>();
    tables.classSignatures.forEach((sig, i) => classOf.set(sig, i));
    return { cluster, resolution, ruleSet, rulesKey: rulesKey(ruleSet), tables, owners, classOf, usedSets, generation: 0 };
  }
}

const policiesOf = (c: PolicySet): PolicySet => ({ networkPolicies: c.networkPolicies, clusterPolicies: c.clusterPolicies });

const isHost = (c: Cidr): boolean => c.prefixLen === (c.family === 4 ? 32 : 128);

function rulesKey(rs: RuleSet): string {
  return JSON.stringify(
    rs.rules.map((r) => [r.direction, r.tier, r.priority, r.subject, r.peer, r.protocol, r.dstPorts.lo, r.dstPorts.hi, r.action, r.origin.stableId]),
  );
}

/** Sets containing a host prefix: the owners of every listed prefix covering it. */
function membershipOf(c: Cidr, owners: ReadonlyMap<string, ReadonlySet<SetId>>): SetId[] {
  const out = new Set<SetId>();
  const bits = c.family === 4 ? 32 : 128;
  for (let len = 0; len <= bits; len++) {
    const o = owners.get(makeCidr(c.family, c.base, len).text);
    if (o) for (const s of o) out.add(s);
  }
  return [...out].sort((a, b) => a - b);
}

interface Link {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: string | undefined;
}

function listLinks(netnsPath: string): Link[] {
  const args = ['-j', '-d', 'link', 'show'];
  const out = netnsPath
    ? execFileSync('nsenter', [`--net=${netnsPath}`, 'ip', ...args], { encoding: 'utf8' })
    : execFileSync('ip', args, { encoding: 'utf8' });
  const links = JSON.parse(out) as { ifname: string; ifindex: number; linkinfo?: { info_kind?: string } }[];
  return links.map((l) => ({ name: l.ifname, ifindex: l.ifindex, kind: l.linkinfo?.info_kind }));
}

function formatAddr(b: Uint8Array, family: 4 | 6): string {
  let v = 0n;
  const n = family === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[i]!);
  return hostCidr({ family, value: v, text: '' } as IpAddr).text.replace(/\/\d+$/, '');
}

function protocolName(p: number): DenyRecord['protocol'] {
  switch (p) {
    case 6:
      return 'TCP';
    case 17:
      return 'UDP';
    case 132:
      return 'SCTP';
    case 1:
      return 'ICMP';
    case 58:
      return 'ICMPv6';
    default:
      return `proto-${p}`;
  }
}
