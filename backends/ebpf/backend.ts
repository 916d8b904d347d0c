/**
 * EbpfBackend: the eBPF (tc) implementation of the one Backend contract (src/enforce/backend.ts).
 * The only part of the eBPF backend with side effects besides instance.ts (the pinned maps).
 *
 * It consumes the compiled policy (src/enforce/compiled.ts) and lowers it to BPF tables
 * (tables.ts); it never resolves selectors or lowers rules.
 *   install(policy)          attach to pod interfaces not attached yet, then write every table of
 *                            the INACTIVE generation and flip `config.activeGen` (instance.ts): a
 *                            packet classifies wholly against the old or wholly against the new policy.
 *   applyDeltas(policy, d)   attach new pod interfaces (a pod just added; skipped when the deltas
 *                            only add to `learned` sets or only remove), then, same rules: when only host prefixes (/32, /128) entered or left sets,
 *                            the active generation's address entries change in place (a new address
 *                            class gets its rows first, the address entry last); a changed wider
 *                            prefix is a new generation (the install path), still atomic.
 *   drainDenied()            ring-buffer deny events -> RawDenyEvent with the deciding Rule (found
 *                            by the counter slot's stableId); naming is deny-record.ts's job.
 *   stats()                  per-rule counters (new flows per rule) and the datapath counters.
 *   drainObserved()          ring-buffer events of reason PAL_REASON_OBSERVED (new flows of the
 *                            observed subjects, exact entries of key generation PAL_GEN_OBSERVED,
 *                            written before each install or delta) -> RawFlowEvent; one ring
 *                            buffer, so each drain sorts what it reads into both queues.
 *   remove()                 detach from every interface carrying our programs and unpin.
 *   close()                  release handles; pinned programs, maps and tc filters stay in force.
 *
 * Topology: run in (or pointed at) the node network namespace; every veth there is the host side
 * of a pod's link and gets both programs (tc ingress = the pod's egress, tc egress = its ingress).
 * Other interfaces (uplinks) get them in the "host" role only when named in `hostInterfaces`:
 * attaching to a real machine's uplink is the operator's decision, never a default. New veths are
 * attached by a timer (every `interfacesMs`) from the first install until close/remove.
 *
 * The failure rule: install writes only the inactive generation until its last write, the flip;
 * a throw before it leaves the active generation, and this object's `inForce`, untouched. The
 * in-place path plans every entry first without touching memory, writes the kernel, and on a
 * throw writes back each touched address's previous entry (undo) before rethrowing; memory
 * (`inForce.owners`, `inForce.classOf`) follows only after the kernel accepted everything. If the
 * undo itself fails, the kernel no longer matches any policy in memory: the backend marks itself
 * `dirty`, and the next applyDeltas installs a whole new generation instead.
 * Invariant: `inForce` describes the active generation (undefined before the first install and
 * after remove). Not thread-safe: one owner, calls serialized by the caller (enforcement.ts).
 * Cost: install O(rules x classes / 32 + prefixes); in place O(changed hosts x covering prefixes).
 */
import { execFileSync } from 'node:child_process';
import type { ApplyReport, Backend, BackendStats, RawDenyEvent, RawFlowEvent } from '../../src/enforce/backend.js';
import type { CompiledPolicy } from '../../src/enforce/compiled.js';
import type { DenyReason } from '../../src/enforce/deny-record.js';
import { makeCidr, type Cidr } from '../../src/model/ip.js';
import { NO_EXPIRY, type SetDelta, type SetId } from '../../src/resolve/index.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';
import { EbpfInstance, type HostClassWrite, type InstanceFaults, type OpenOptions } from './instance.js';
import { addrBytes, buildTables, classBitmaps, NO_EXPIRY_MS, type BpfTables } from './tables.js';

export interface EbpfOptions extends OpenOptions {
  /** network namespace to attach in (e.g. /run/netns/NAME); default: the current one */
  readonly netnsPath?: string;
  /** non-veth interfaces to enforce on as node uplinks (role "host") */
  readonly hostInterfaces?: readonly string[];
  /** emit deny events for drainDenied(); default false (the ring buffer costs per denied packet) */
  readonly logDenied?: boolean;
  /** how often to look for new pod interfaces, ms (default 500) */
  readonly interfacesMs?: number;
  /** notices: a new interface attached, the pinned instance adopted */
  readonly log?: (text: string) => void;
  /** test hook (failure injection): called before every kernel write; a throw fails that write */
  readonly faults?: InstanceFaults;
}

interface InForce {
  readonly ruleSet: RuleSet;
  readonly generation: number;
  readonly usedSets: ReadonlySet<SetId>;
  /** prefix text -> sets listing it, kept current through in-place updates */
  readonly owners: Map<string, Set<SetId>>;
  /** membership signature -> class id (grows with in-place updates) */
  readonly classOf: Map<string, number>;
  /** host prefix text -> the expiry its kernel entry carries (members of `learned` sets only) */
  readonly expiring: Map<string, HostExpiry>;
}

/** The expiry of a host entry: after `expiresAtMs` a new flow sees the class `expiredSig` names. */
interface HostExpiry {
  readonly expiresAtMs: number;
  /** membership signature without the lapsing (learned) sets */
  readonly expiredSig: string;
}

/** Rule sets of the last installs: the current one and the one before (for late deny events). */
const KEEP_RULE_SETS = 2;
const REASONS: readonly DenyReason[] = ['policy', 'malformed-packet', 'unknown-fragment', 'missing-table-entry'];
/** PAL_REASON_OBSERVED in palisade_maps.h: not a drop, an observed new flow */
const REASON_OBSERVED = 4;
/** ring-buffer events read but not yet drained, per queue (beyond this, the oldest are dropped) */
const MAX_QUEUED_EVENTS = 65_536;
const STAT_NAMES = ['nonIp', 'established', 'newAllowed', 'newDenied', 'malformed', 'fragmentUnknown', 'ringbufLost', 'noPolicy', 'neighbourDiscovery', 'mapMiss', 'related', 'redirected'];

const err = (code: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { code, ...extra });

export class EbpfBackend implements Backend {
  readonly name = 'ebpf' as const;
  private inst: EbpfInstance | undefined;
  private inForce: InForce | undefined;
  private dirty = false;
  /** stableId -> Rule of the recent rule sets (newest last) */
  private readonly recent: Map<string, Rule>[] = [];
  /** interface name -> ifindex it had when attached */
  private readonly attached = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly counts = { installs: 0, inPlace: 0, undone: 0 };
  /** Observation.key of the observed entries in the maps; undefined: unknown (rewrite) */
  private observedKey: string | undefined;
  /** PAL_CFG_BOTH_DIRECTIONS in force (the host role; hostJudging() of the rule set in force) */
  private bothDirections = false;
  private denyQueue: RawDenyEvent[] = [];
  private observedQueue: RawFlowEvent[] = [];

  constructor(private readonly opts: EbpfOptions = {}) {
    this.inst = this.open();
  }

  /** The pinned instance (opened again after remove()). */
  get instance(): EbpfInstance {
    this.inst ??= this.open();
    return this.inst;
  }

  /** The rule set in force (undefined before the first successful install). */
  get ruleSet(): RuleSet | undefined {
    return this.inForce?.ruleSet;
  }

  async install(policy: CompiledPolicy): Promise<ApplyReport> {
    const t0 = performance.now();
    const { tables, next } = this.lowerPolicy(policy);
    // attach first: a new interface enforces the generation in force until the flip
    this.attachInterfaces();
    // the host role turns on before the flip (the old generation judged both ways is the same
    // verdict, only redundant) and off after it (the new generation then never misses it)
    const both = hostJudging(policy);
    this.syncObserved(policy, both || this.bothDirections);
    const generation = this.instance.install(tables);
    this.commitInstall(policy, next, generation);
    if (both !== this.bothDirections || !both) this.syncObserved(policy, both);
    this.bothDirections = both;
    this.startTimer();
    return { kind: 'full', summary: `${policy.ruleSet.rules.length} rules, generation ${generation}, enforcing on ${this.attached.size} interface(s)`, ms: performance.now() - t0 };
  }

  async applyDeltas(policy: CompiledPolicy, deltas: readonly SetDelta[]): Promise<ApplyReport> {
    const t0 = performance.now();
    const s = this.inForce;
    if (!s) throw err('ERR_PALISADE_NOT_APPLIED', 'ebpf: applyDeltas before install');
    if (policy.ruleSet !== s.ruleSet) throw err('ERR_PALISADE_RULES_CHANGED', 'ebpf: applyDeltas with a rule set that is not the one in force (install it)');
    // a pod added with this change has a new veth: attach before its address enters the sets, so
    // its first packet is judged (the timer alone would leave it unjudged for up to interfacesMs).
    // Only a delta that adds an address to a set other than a `learned` one can be a new pod's:
    // learned DNS addresses (src/fqdn) are destinations, never an interface of this node, and
    // listing the links (`ip -j link`, a process spawn, ~20 ms) is most of a learned delta's cost.
    if (deltas.some((d) => d.added.length > 0 && policy.resolution.definition(d.set).kind !== 'learned')) this.attachInterfaces();
    // observed entries first: they change no verdict, so a throw here leaves the policy as it was
    this.syncObserved(policy, this.bothDirections);
    const used = deltas.filter((d) => s.usedSets.has(d.set));
    const hostOnly = used.every((d) => d.added.every(isHost) && d.removed.every(isHost));
    if (this.dirty || !hostOnly) {
      const { tables, next } = this.lowerPolicy(policy);
      const generation = this.instance.install(tables);
      this.commitInstall(policy, next, generation);
      this.dirty = false;
      return { kind: 'full', summary: `${policy.ruleSet.rules.length} rules, generation ${generation} (a prefix wider than a host changed)`, ms: performance.now() - t0 };
    }
    const expiresAtMs = (id: SetId, c: Cidr): number => (policy.resolution.definition(id).kind === 'learned' ? policy.resolution.learnedExpiryMs(id, c) : NO_EXPIRY_MS);
    const plan = planInPlace(s, used, expiresAtMs);
    if (plan.writes.length === 0 && plan.removes.length === 0) return { kind: 'none', summary: 'no kernel change', ms: performance.now() - t0 };
    const inst = this.instance;
    const checkpoint = inst.checkpoint();
    try {
      if (plan.writes.length || plan.newClasses.length) inst.setHostClasses(plan.writes, plan.newClasses);
      if (plan.removes.length) inst.removeHosts(plan.removes);
    } catch (e) {
      try {
        if (plan.undoWrites.length) inst.setHostClasses(plan.undoWrites);
        if (plan.undoRemoves.length) inst.removeHosts(plan.undoRemoves);
        this.counts.undone++;
      } catch {
        this.dirty = true; // the next applyDeltas writes a whole generation
      }
      checkpoint.restore();
      throw e;
    }
    // the kernel holds the new entries: only now does memory follow
    for (const [text, own] of plan.owners) {
      if (own.size === 0) s.owners.delete(text);
      else s.owners.set(text, own);
    }
    for (const [sig, id] of plan.classes) s.classOf.set(sig, id);
    for (const [text, e] of plan.expiring) {
      if (e) s.expiring.set(text, e);
      else s.expiring.delete(text);
    }
    this.counts.inPlace++;
    const n = plan.writes.length + plan.removes.length;
    return { kind: 'deltas', summary: `${n} address entries in place`, ms: performance.now() - t0 };
  }

  drainDenied(max = 4096): RawDenyEvent[] {
    this.pump(max);
    return this.denyQueue.splice(0, max);
  }

  /** Observed new flows (ring-buffer events of reason PAL_REASON_OBSERVED); needs `logDenied`. */
  drainObserved(max = 4096): RawFlowEvent[] {
    this.pump(max);
    return this.observedQueue.splice(0, max);
  }

  /**
   * The observed subjects into the maps when they changed, and the config flags: observing is on
   * with deny logging (the same ring buffer) and a non-empty observation.
   */
  private syncObserved(policy: CompiledPolicy, bothDirections: boolean): void {
    const o = policy.observation;
    const logging = this.opts.logDenied ?? false;
    const key = logging ? o.key : '';
    if (key !== this.observedKey) {
      this.observedKey = undefined;
      this.instance.setObserved(logging ? o.subjects.map((c) => ({ family: c.family, addr: addrBytes(c.family, c.base) })) : []);
      this.observedKey = key;
    }
    this.instance.setLogDenied(logging, logging && o.subjects.length > 0, bothDirections);
  }

  /** Read up to `max` ring-buffer events and sort them into the deny and observed queues. */
  private pump(max: number): void {
    if (!this.opts.logDenied) throw err('ERR_PALISADE_NO_DENY_LOG', 'ebpf: deny logging is off (logDenied)');
    const now = Date.now();
    const nowNs = process.hrtime.bigint();
    const out = this.denyQueue;
    for (const e of this.instance.native.drainDenyEvents(max)) {
      const family: 4 | 6 = e.family === 6 ? 6 : 4;
      const flow: RawFlowEvent = {
        timeMs: now - Number(nowNs - e.timeNs) / 1e6,
        family,
        proto: e.proto,
        src: formatAddr(e.src, family),
        dst: formatAddr(e.dst, family),
        srcPort: e.srcPort,
        dstPort: e.dstPort,
        direction: e.direction === 0 ? 'ingress' : 'egress',
      };
      if (e.reason === REASON_OBSERVED) {
        this.observedQueue.push(flow);
        continue;
      }
      const id = this.instance.stableIdOfSlot(e.counterIndex);
      const rule = e.reason === 0 && id !== undefined ? this.ruleById(id) : undefined;
      out.push({
        ...flow,
        ...(rule ? { rule } : {}),
        reason: REASONS[e.reason] ?? 'missing-table-entry',
      });
    }
    for (const q of [this.denyQueue, this.observedQueue]) if (q.length > MAX_QUEUED_EVENTS) q.splice(0, q.length - MAX_QUEUED_EVENTS);
  }

  async stats(): Promise<BackendStats> {
    const inst = this.instance;
    const slots = inst.knownSlots();
    const c = inst.native.readCounters(Uint32Array.from(slots.map((x) => x.slot)));
    const raw = inst.native.readStats();
    const datapath: Record<string, number> = {};
    STAT_NAMES.forEach((n, i) => (datapath[n] = Number(raw[i] ?? 0n)));
    return {
      backend: 'ebpf',
      rules: slots.map((x, i) => ({ rule: x.stableId, packets: Number(c.packets[i]), bytes: Number(c.bytes[i]) })),
      details: {
        pinDir: inst.pinDir,
        generation: inst.native.activeGeneration().gen,
        ...(this.inForce ? { rulesInForce: this.inForce.ruleSet.rules.length } : {}),
        interfaces: [...this.attached.keys()],
        installs: this.counts.installs,
        inPlaceUpdates: this.counts.inPlace,
        undoneUpdates: this.counts.undone,
        datapath,
      },
    };
  }

  /**
   * Stop enforcing: detach from every interface carrying our programs (not only those this process
   * attached: a restarted or separate `apply --delete` must remove them too), then unpin.
   */
  async remove(): Promise<void> {
    this.stopTimer();
    const inst = this.instance;
    const ns = this.opts.netnsPath ?? '';
    const ours = new Set([inst.native.progInfo('pal_egress').id, inst.native.progInfo('pal_ingress').id]);
    for (const l of listLinks(ns)) {
      let q;
      try {
        q = inst.native.query(ns, l.name);
      } catch {
        continue; // gone, or no clsact qdisc: nothing of ours
      }
      if (ours.has(q.ingressProgId) || ours.has(q.egressProgId)) inst.native.detach(ns, l.name);
    }
    this.attached.clear();
    this.observedKey = undefined;
    this.bothDirections = false;
    inst.destroy();
    this.inst = undefined;
    this.inForce = undefined;
    this.recent.length = 0;
  }

  /** Release this process's handles; everything installed stays in force. */
  async close(): Promise<void> {
    this.stopTimer();
    this.inst?.close();
    this.inst = undefined;
  }

  /** Attach to every veth (role pod) and named host interface not attached yet; returns the new ones. */
  attachInterfaces(): string[] {
    const ns = this.opts.netnsPath ?? '';
    const added: string[] = [];
    const links = listLinks(ns);
    // an interface that went away (pod deleted) is forgotten, so a new one of the same name or
    // index is attached again
    const present = new Set(links.map((l) => `${l.name}#${l.ifindex}`));
    for (const [name, ifindex] of [...this.attached]) if (!present.has(`${name}#${ifindex}`)) this.attached.delete(name);
    for (const l of links) {
      const role = l.kind === 'veth' ? 'pod' : this.opts.hostInterfaces?.includes(l.name) ? 'host' : undefined;
      if (!role || this.attached.has(l.name)) continue;
      try {
        this.instance.native.attach(ns, l.name, role);
      } catch (e) {
        // a veth that vanished between the listing and the attach is not an error
        if ((e as { errno?: number }).errno === 19 /* ENODEV */) continue;
        throw e;
      }
      this.attached.set(l.name, l.ifindex);
      added.push(l.name);
    }
    return added;
  }

  attachedInterfaces(): readonly string[] {
    return [...this.attached.keys()];
  }

  private open(): EbpfInstance {
    // deny events are switched at install, not here: `stats` or `apply --delete` from another
    // process must not change what a running enforcer reports
    const inst = EbpfInstance.open(this.opts);
    if (inst.adopted) this.opts.log?.(`adopted the pinned instance at ${inst.pinDir}`);
    return inst;
  }

  /** Tables and the in-place bookkeeping for `policy`; throws (before any kernel write) when it does not fit. */
  private lowerPolicy(policy: CompiledPolicy): { tables: BpfTables; next: Omit<InForce, 'generation'> } {
    const { ruleSet, resolution, usedSets } = policy;
    const expiresAtMs = (id: SetId, c: Cidr): number => (resolution.definition(id).kind === 'learned' ? resolution.learnedExpiryMs(id, c) : NO_EXPIRY_MS);
    const { tables, problems } = buildTables({ ruleSet, prefixesOf: (id) => resolution.prefixes(id), expiresAtMs });
    if (!tables) {
      throw err('ERR_PALISADE_EBPF_TABLES', `the rule set does not fit the eBPF maps: ${problems.map((p) => `${p.code}: ${p.message}`).join('; ')}`, { problems });
    }
    const owners = new Map<string, Set<SetId>>();
    const timedHosts = new Map<string, Cidr>();
    for (const id of usedSets) {
      const timed = resolution.definition(id).kind === 'learned';
      for (const c of resolution.prefixes(id)) {
        let o = owners.get(c.text);
        if (!o) owners.set(c.text, (o = new Set()));
        o.add(id);
        if (timed && isHost(c)) timedHosts.set(c.text, c);
      }
    }
    const classOf = new Map<string, number>();
    tables.classSignatures.forEach((sig, i) => classOf.set(sig, i));
    const expiring = new Map<string, HostExpiry>();
    for (const [text, c] of timedHosts) {
      const e = hostExpiryOf(c, owners.get(text)!, (t) => owners.get(t), expiresAtMs);
      if (e) expiring.set(text, e);
    }
    return { tables, next: { ruleSet, usedSets: new Set(usedSets), owners, classOf, expiring } };
  }

  private commitInstall(policy: CompiledPolicy, next: Omit<InForce, 'generation'>, generation: number): void {
    this.inForce = { ...next, generation };
    this.recent.push(new Map(policy.ruleSet.rules.map((r) => [r.origin.stableId, r])));
    while (this.recent.length > KEEP_RULE_SETS) this.recent.shift();
    this.counts.installs++;
  }

  private ruleById(id: string): Rule | undefined {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const r = this.recent[i]!.get(id);
      if (r) return r;
    }
    return undefined;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        for (const name of this.attachInterfaces()) this.opts.log?.(`enforcing on new interface ${name}`);
      } catch (e) {
        this.opts.log?.(`attaching: ${(e as Error).message}`);
      }
    }, this.opts.interfacesMs ?? 500);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

type HostWrite = HostClassWrite;
type HostRemove = { family: 4 | 6; addr: Uint8Array };

interface InPlacePlan {
  /** per touched host prefix: its expiry after the update (undefined = none) */
  readonly expiring: Map<string, HostExpiry | undefined>;
  readonly writes: HostWrite[];
  readonly removes: HostRemove[];
  readonly newClasses: { classId: number; bitmaps: Uint32Array[][] }[];
  /** what puts the kernel back if the writes fail part-way */
  readonly undoWrites: HostWrite[];
  readonly undoRemoves: HostRemove[];
  /** the owners of every touched prefix after the update (empty = gone) */
  readonly owners: Map<string, Set<SetId>>;
  /** new membership signatures -> their class ids */
  readonly classes: Map<string, number>;
}

/** Plan the in-place update of host entries; reads `s`, changes nothing. */
function planInPlace(s: InForce, deltas: readonly SetDelta[], expiresAtMs: (id: SetId, c: Cidr) => number): InPlacePlan {
  const owners = new Map<string, Set<SetId>>();
  const ownersOf = (text: string): ReadonlySet<SetId> | undefined => owners.get(text) ?? s.owners.get(text);
  const touched = new Map<string, Cidr>();
  const edit = (c: Cidr): Set<SetId> => {
    let o = owners.get(c.text);
    if (!o) owners.set(c.text, (o = new Set(s.owners.get(c.text) ?? [])));
    touched.set(c.text, c);
    return o;
  };
  for (const d of deltas) {
    for (const c of d.added) edit(c).add(d.set);
    for (const c of d.removed) edit(c).delete(d.set);
    // a refresh: same membership, a new expiry to write in place
    for (const r of d.retimed ?? []) edit(r.cidr);
  }
  const plan: InPlacePlan = { expiring: new Map(), writes: [], removes: [], newClasses: [], undoWrites: [], undoRemoves: [], owners, classes: new Map() };
  const classOf = (sig: string): number | undefined => plan.classes.get(sig) ?? s.classOf.get(sig);
  const classFor = (members: readonly SetId[]): number => {
    const sig = members.join(',');
    let cls = classOf(sig);
    if (cls === undefined) {
      cls = s.classOf.size + plan.classes.size;
      plan.classes.set(sig, cls);
      plan.newClasses.push({ classId: cls, bitmaps: classBitmaps(s.ruleSet, members) });
    }
    return cls;
  };
  for (const [text, c] of touched) {
    const addr = addrBytes(c.family, c.base);
    // the entry the kernel holds now (present iff some used set listed this exact prefix)
    const before = s.owners.get(text);
    const beforeClass = before && before.size > 0 ? s.classOf.get(membershipOf(c, (t) => s.owners.get(t)).join(',')) : undefined;
    const beforeExpiry = s.expiring.get(text);
    if (beforeClass !== undefined) plan.undoWrites.push({ family: c.family, addr, classId: beforeClass, ...expiryWrite(beforeExpiry, s.classOf) });
    else plan.undoRemoves.push({ family: c.family, addr });
    const own = ownersOf(text);
    if (!own || own.size === 0) {
      if (beforeClass !== undefined) plan.removes.push({ family: c.family, addr });
      plan.expiring.set(text, undefined);
      continue;
    }
    const cls = classFor(membershipOf(c, ownersOf));
    const expiry = isHost(c) ? hostExpiryOf(c, own, ownersOf, expiresAtMs) : undefined;
    plan.expiring.set(text, expiry);
    const expiredClassId = expiry ? classFor(expiry.expiredSig === '' ? [] : expiry.expiredSig.split(',').map(Number)) : undefined;
    const sameExpiry = expiry?.expiresAtMs === beforeExpiry?.expiresAtMs && expiry?.expiredSig === beforeExpiry?.expiredSig;
    if (cls !== beforeClass || !sameExpiry)
      plan.writes.push({ family: c.family, addr, classId: cls, ...(expiry ? { expiredClassId, expiresAtMs: expiry.expiresAtMs } : {}) });
  }
  return plan;
}

/** The expiry fields of an in-place write for a host expiry already in force (its class exists). */
function expiryWrite(e: HostExpiry | undefined, classOf: ReadonlyMap<string, number>): Partial<HostClassWrite> {
  if (!e) return {};
  const expiredClassId = classOf.get(e.expiredSig);
  return expiredClassId === undefined ? {} : { expiredClassId, expiresAtMs: e.expiresAtMs };
}

/**
 * The expiry of host entry `c` listed by sets `own`: the members of `learned` sets with an
 * expiry lapse together at the latest of their expiries (the learner retracts each earlier one
 * itself, docs/fqdn.md §6; the kernel's expiry bounds a late or stopped learner) into the rest
 * of the membership. Undefined when no listing expires.
 */
function hostExpiryOf(
  c: Cidr,
  own: ReadonlySet<SetId>,
  ownersOf: (text: string) => ReadonlySet<SetId> | undefined,
  expiresAtMs: (id: SetId, c: Cidr) => number,
): HostExpiry | undefined {
  let latest = NO_EXPIRY_MS;
  const lapsing = new Set<SetId>();
  for (const id of own) {
    const t = expiresAtMs(id, c);
    if (t === NO_EXPIRY || t === NO_EXPIRY_MS) continue;
    lapsing.add(id);
    latest = latest === NO_EXPIRY_MS ? t : Math.max(latest, t);
  }
  if (lapsing.size === 0) return undefined;
  const rest = membershipOf(c, ownersOf).filter((id) => !lapsing.has(id));
  return { expiresAtMs: latest, expiredSig: rest.join(',') };
}

const isHost = (c: Cidr): boolean => c.prefixLen === (c.family === 4 ? 32 : 128);

/** Sets containing a host prefix: the owners of every listed prefix covering it. */
function membershipOf(c: Cidr, ownersOf: (text: string) => ReadonlySet<SetId> | undefined): SetId[] {
  const out = new Set<SetId>();
  const bits = c.family === 4 ? 32 : 128;
  for (let len = 0; len <= bits; len++) {
    const o = ownersOf(makeCidr(c.family, c.base, len).text);
    if (o) for (const id of o) out.add(id);
  }
  return [...out].sort((a, b) => a - b);
}

interface Link {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: string | undefined;
}

/** The interfaces of a namespace (`ip -j -d link show`; no user input reaches the arguments but the path). */
function listLinks(netnsPath: string): Link[] {
  const args = ['-j', '-d', 'link', 'show'];
  const out = netnsPath ? execFileSync('nsenter', [`--net=${netnsPath}`, 'ip', ...args], { encoding: 'utf8' }) : execFileSync('ip', args, { encoding: 'utf8' });
  const links = JSON.parse(out) as { ifname: string; ifindex: number; linkinfo?: { info_kind?: string } }[];
  return links.map((l) => ({ name: l.ifname, ifindex: l.ifindex, kind: l.linkinfo?.info_kind }));
}

/** Canonical address text of a datapath address (4 or 16 bytes, network order). */
function formatAddr(b: Uint8Array, family: 4 | 6): string {
  let v = 0n;
  const n = family === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[i]!);
  return makeCidr(family, v, family === 4 ? 32 : 128).text.replace(/\/\d+$/, '');
}

/**
 * The host role is needed when some rule's subject is not a pod set: a node subject (S20), or a
 * Service subject (its tuples may be node addresses: node ports, host endpoints). Such a subject's
 * address is the node's own, which no pod veth program judges as a subject; with the flag each
 * new flow is judged in both directions where it is first seen (palisade.bpf.c host_judge()).
 * Pod-only rule sets keep one classification per hook (the pod path's cost unchanged).
 */
export function hostJudging(policy: CompiledPolicy): boolean {
  const pods = new Set(['pods', 'isolated']);
  return policy.ruleSet.rules.some((r) => !pods.has(policy.resolution.definition(r.subject).kind));
}
