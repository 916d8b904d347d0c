/**
 * NftablesBackend: the nftables implementation of the one Backend contract (src/enforce/backend.ts).
 * The only part of the nftables backend with side effects; it touches only `table inet palisade`
 * in one network namespace (the current one, or `netnsPath`).
 *
 * It consumes the compiled policy (src/enforce/compiled.ts): rule set, resolution (set members and
 * kinds) and used sets. It never resolves selectors or lowers rules.
 *   install(policy)          render the whole table (render.ts) and replace its contents IN PLACE in
 *                            one transaction (render.ts says why not delete + re-create: that leaks
 *                            packets). Over a table this process did not write (another version, hand
 *                            edits) the in-place document may be refused (e.g. a base chain with
 *                            another priority); then, once, the table is deleted and re-created in
 *                            one transaction (atomic for the kernel, not leak-free for packets).
 *   applyDeltas(policy, d)   the set-membership deltas as element deletes then adds, one transaction;
 *                            no chain is touched. A delta of a folded per-pod domainNames rule's
 *                            subject or learned set (pairs.ts: those sets are not in the table) is
 *                            the pair elements it touches (pairDeltas), in the same transaction;
 *                            a pair for a pair set left out (its family had no subject address)
 *                            installs the table instead. The rule set must be the one in force. When every
 *                            touched set is a plain (non-interval) set and the observed sets did not
 *                            change, the transaction is one netlink batch (set-batch.ts,
 *                            native/setelem.h: no libnftables, so no reload of its cache of every
 *                            set, which costs ~20 ms at 2,654 sets); otherwise the whole change is
 *                            one document (interval sets rewritten whole), as install's, lowered to
 *                            one netlink batch as well. Never split across transactions.
 *   drainDenied()            NFLOG packets of the deny rules -> RawDenyEvent, with the deciding Rule
 *                            found from the log prefix (`palisade <install tag>:<rule id>`);
 *                            naming is deny-record.ts's job.
 *   drainObserved()          NFLOG packets of the observed-flow rules (render.ts `palisade-obs e|i`)
 *                            -> RawFlowEvent; shares the one NFLOG socket with drainDenied (each
 *                            drain sorts what it reads into both queues; bounded).
 *   stats()                  per-rule counters read from the kernel (`list table`), summed per rule.
 *   remove()                 delete `table inet palisade`, nothing else.   close(): the NFLOG socket.
 *
 * How a document reaches the kernel: install, remove and the deltas that are not a set-element
 * batch render one libnftables JSON document (render.ts, the one description of the table), which
 * netlink-program.ts lowers to ONE libnftnl netlink batch (native/table.h: no libnftables, so no
 * JSON parse and no cache load of every set; at 5,000 pods the install's document has ~500k
 * elements). A document outside the lowerable subset (a test hook's additions, a table this
 * version did not write) goes through libnftables whole instead; `documentsByJson` forces that.
 * Interval-set deltas are sent as a rewrite of the set (flush + members), so they lower too.
 *
 * The failure rule: install and applyDeltas are each ONE netlink batch or ONE libnftables
 * document: the kernel applies all of it or none. On a throw (code ERR_PALISADE_NFT, with `nftError`)
 * the previous table is fully in force, and this object's memory (`inForce`: the rule set, the
 * sets the table holds, their kinds, the install tag) is replaced only after the kernel accepted a
 * transaction, so it still describes the kernel. Set members are not held here: they are the
 * compiler's, which rolls back on a throw (src/enforce/enforcement.ts).
 *
 * Invariant: `inForce` describes what the kernel holds (undefined before the first install and
 * after remove). Not thread-safe: one owner, calls serialized by the caller.
 * Cost: install O(rules x 2 families + set members) commands; applyDeltas O(changed members), plus
 * on the JSON path libnftables' cache load (grows with the table).
 */
import type { Cidr } from '../../src/model/ip.js';
import { PalisadeError } from '../../src/model/errors.js';
import type { ApplyReport, Backend, BackendStats, RawDenyEvent, RawFlowEvent } from '../../src/enforce/backend.js';
import type { CompiledPolicy } from '../../src/enforce/compiled.js';
import type { SetDelta, SetId } from '../../src/resolve/index.js';
import type { RuleSet } from '../../src/rules/types.js';
import { nativeNftables, type NftErrorFields, type NftNative } from '../../src/native/binding.js';
import type { NftDocument } from './nft-json.js';
import {
  OBSERVED_SETS,
  chainsOf,
  parseDenyLogPrefix,
  parseObserveLogPrefix,
  renderDelete,
  renderFull,
  renderObserved,
  renderSetDeltas,
  setName,
  tableContents,
  type DenyLogOptions,
  type ObserveLogOptions,
  type TableContents,
} from './render.js';
import { ruleCounters } from './stats.js';
import { lowerDocument } from './netlink-program.js';
import { batchSize, packSetDeltas, type SetElementBatch } from './set-batch.js';
import { EMPTY_PLAN, advanceIndex, foldedOnlySets, isPairable, pairDeltas, pairElements, pairIndex, pairSetName, planPairs, type PairIndex, type PairPlan } from './pairs.js';
import { pairElementsOf } from './render.js';
import { elements, flushSet } from './nft-json.js';

export interface NftablesOptions {
  /** network namespace to act in (e.g. /run/netns/NAME); default: the current one */
  readonly netnsPath?: string;
  /** log denied flows to this NFLOG group (render.ts DenyLogOptions); read with drainDenied() */
  readonly denyLog?: DenyLogOptions;
  /** kernel-side limit of observed-flow log packets (render.ts ObserveLogOptions); logged to the denyLog group */
  readonly observeLog?: ObserveLogOptions;
  readonly native?: NftNative;
  /**
   * Test hook (failure injection): every transaction's document goes through it before it is
   * sent, and what it returns is sent instead. Production code never sets it.
   */
  readonly beforeTransaction?: (doc: NftDocument) => NftDocument;
  /** Test hook (failure injection), the same for the netlink path's set-element batches. */
  readonly beforeSetElements?: (batch: SetElementBatch) => SetElementBatch;
  /** Test hook: send every applyDeltas through libnftables (the oracle of the netlink path). */
  readonly deltasByJson?: boolean;
  /**
   * Test and bench hook: send every document (install, remove, the deltas that are not element
   * batches) through libnftables instead of lowering it to one netlink batch (netlink-program.ts).
   */
  readonly documentsByJson?: boolean;
  /**
   * Fold the per-pod domainNames rules into one pair rule per group and family (pairs.ts);
   * default true. false renders them as before, one rule and two sets per pod (the A/B of the
   * bench and the traffic tests' "same verdicts" oracle).
   */
  readonly pairRules?: boolean;
}

interface InForce {
  readonly ruleSet: RuleSet;
  /** the install that wrote the rules (deny-log prefixes carry it) */
  readonly tag: number;
  readonly sets: ReadonlySet<SetId>;
  /** set kinds as installed: true = interval set of prefixes */
  readonly interval: ReadonlyMap<SetId, boolean>;
  /** `learned` sets: elements with kernel timeouts (render.ts `t<id>` sets, docs/fqdn.md §6) */
  readonly timed: ReadonlySet<SetId>;
  /** Observation.key of the observed sets' contents */
  readonly observedKey: string;
  /** the folded rules' pair sets and the subject addresses their pairs hold (pairs.ts) */
  readonly pairs: PairIndex;
  /** set twins not in the table: static prefix sets in a family they hold nothing of, pair sets of a family no subject holds */
  readonly absent: ReadonlySet<string>;
}

/** Log packets read but not yet drained, per queue (beyond this, the oldest are dropped). */
const MAX_QUEUED_LOG_PACKETS = 65_536;

/** Rule sets of the last installs by tag: the current one and the one before (for late log packets). */
const KEEP_RULE_SETS = 2;

export class NftablesBackend implements Backend {
  readonly name = 'nftables' as const;
  private readonly native: NftNative;
  private inForce: InForce | undefined;
  private readonly recent = new Map<number, RuleSet>();
  private tags = 0;
  private nflogFd: number | undefined;
  /** how the last document went to the kernel (install's summary) */
  private lastVia = '';
  private denyQueue: RawDenyEvent[] = [];
  private observedQueue: RawFlowEvent[] = [];
  private readonly counts = { installs: 0, deltaTransactions: 0, rejected: 0, netlinkDocuments: 0 };

  constructor(private readonly opts: NftablesOptions = {}) {
    this.native = opts.native ?? nativeNftables();
  }

  /** The rule set in force (undefined before the first successful install). */
  get ruleSet(): RuleSet | undefined {
    return this.inForce?.ruleSet;
  }

  async install(policy: CompiledPolicy): Promise<ApplyReport> {
    const t0 = performance.now();
    const intervalMap = new Map<SetId, boolean>();
    for (const id of policy.usedSets) intervalMap.set(id, policy.resolution.definition(id).kind === 'prefixes');
    const interval = (id: SetId): boolean => intervalMap.get(id) ?? policy.resolution.definition(id).kind === 'prefixes';
    const timedSets = new Set<SetId>([...policy.usedSets].filter((id) => policy.resolution.definition(id).kind === 'learned'));
    const plan = this.opts.pairRules === false ? EMPTY_PLAN : this.planOf(policy, interval, timedSets);
    const folded = foldedOnlySets(policy.ruleSet, plan);
    const inTable = new Set([...policy.usedSets].filter((id) => !folded.has(id)));
    // static prefix sets of one family have no twin in the other (render.ts RenderInput.absentIn)
    const absent = new Set<string>();
    for (const id of inTable) {
      if (policy.resolution.definition(id).kind !== 'prefixes') continue;
      const members = policy.resolution.prefixes(id);
      for (const f of [4, 6] as const) if (!members.some((c) => c.family === f)) absent.add(setName(id, f, interval(id), false));
    }
    const absentIn = (id: SetId, f: 4 | 6): boolean => absent.size > 0 && absent.has(setName(id, f, interval(id), false));
    // a pair set of a family no source's subject holds an address of: left out until one does
    plan.sets.forEach((sources, k) => {
      for (const f of [4, 6] as const) if (!sources.some((x) => policy.resolution.prefixes(x.subject).some((c) => c.family === f))) absent.add(pairSetName(k, f));
    });
    const pairAbsentIn = (k: number, f: 4 | 6): boolean => absent.has(pairSetName(k, f));
    const tag = this.tags + 1;
    const input = {
      ruleSet: policy.ruleSet,
      usedSets: policy.usedSets,
      members: (id: SetId) => policy.resolution.prefixes(id),
      interval,
      timed: (id: SetId) => timedSets.has(id),
      expiresAtMs: (id: SetId, c: Cidr) => policy.resolution.learnedExpiryMs(id, c),
      nowMs: Date.now(),
      pairs: plan,
      absentIn,
      pairAbsentIn,
      observed: policy.observation.subjects,
      ...(this.opts.observeLog ? { observeLog: this.opts.observeLog } : {}),
      ...(this.opts.denyLog ? { log: { ...this.opts.denyLog, tag } } : {}),
    };
    const current = this.contents();
    // over netlink the element lists carry the members themselves (no text per element); a
    // document that cannot be lowered is rendered again as JSON for libnftables
    const raw = this.netlink() ? { ...input, rawElements: true } : input;
    // no table found (contents() listed the kernel): the sets are created empty, nothing to flush
    const noTable = { tableAbsent: current === undefined };
    let doc = renderFull(raw, current, noTable);
    try {
      this.run(doc, () => renderFull(input, current, noTable));
    } catch (e) {
      if (this.inForce || current === undefined || (e as NftErrorFields).code !== 'ERR_PALISADE_NFT') throw e;
      doc = { nftables: [...renderDelete().nftables, ...renderFull(raw, undefined, { tableAbsent: true }).nftables] };
      this.run(doc, () => ({ nftables: [...renderDelete().nftables, ...renderFull(input, undefined, { tableAbsent: true }).nftables] }));
    }
    // the kernel holds the new table: only now does memory follow
    this.tags = tag;
    const pairs = pairIndex(plan, (id) => policy.resolution.prefixes(id));
    this.inForce = { ruleSet: policy.ruleSet, tag, sets: inTable, interval: intervalMap, timed: timedSets, observedKey: policy.observation.key, pairs, absent };
    this.recent.set(tag, policy.ruleSet);
    for (const old of this.recent.keys()) if (this.recent.size > KEEP_RULE_SETS) this.recent.delete(old);
    this.counts.installs++;
    return {
      kind: 'full',
      summary: `${policy.ruleSet.rules.length} rules in table inet palisade, one transaction of ${doc.nftables.length} commands (${this.lastVia})`,
      ms: performance.now() - t0,
    };
  }

  async applyDeltas(policy: CompiledPolicy, deltas: readonly SetDelta[]): Promise<ApplyReport> {
    const t0 = performance.now();
    const s = this.inForce;
    if (!s) throw new PalisadeError('ERR_PALISADE_NOT_APPLIED', 'nftables: applyDeltas before install');
    if (policy.ruleSet !== s.ruleSet) {
      throw new PalisadeError('ERR_PALISADE_RULES_CHANGED', 'nftables: applyDeltas with a rule set that is not the one in force (install it)');
    }
    const interval = (id: SetId): boolean => s.interval.get(id) ?? false;
    // a member for a twin left out as never needed (static sets do not change: a defence, not a path)
    if (s.absent.size > 0 && deltas.some((d) => d.added.some((c) => s.absent.has(setName(d.set, c.family, interval(d.set), false))))) return this.install(policy);
    const observedChanged = policy.observation.key !== s.observedKey;
    const timed = (id: SetId): boolean => s.timed.has(id);
    const nowMs = Date.now();
    const expiry = (id: SetId, c: Cidr): number => policy.resolution.learnedExpiryMs(id, c);
    const pairChanges = pairDeltas(s.pairs, deltas, (id) => policy.resolution.prefixes(id), expiry);
    // a pair for a pair set left out (its family had no subject address): the whole table, which
    // renders that set and its rules now (atomic and in place, as every install)
    if (pairChanges.some((c) => c.op === 'add' && s.absent.has(pairSetName(c.set, c.element.subject.family)))) return this.install(policy);
    // the pair index follows the subject sets' members; memory moves only after the kernel took the change
    const advance = (): void => advanceIndex(s.pairs, deltas);
    const batch = observedChanged || this.opts.deltasByJson ? undefined : packSetDeltas(deltas, s.sets, interval, timed, nowMs, pairChanges);
    if (batch) {
      if (batchSize(batch) === 0) {
        advance();
        return { kind: 'none', summary: 'no kernel change', ms: performance.now() - t0 };
      }
      this.sendElements(batch);
      advance();
      this.counts.deltaTransactions++;
      return { kind: 'deltas', summary: `set elements only (${batchSize(batch)} elements, one netlink batch)`, ms: performance.now() - t0 };
    }
    // interval sets are rewritten whole (flush + members): the document then lowers to one netlink batch
    // timed sets are rewritten whole from the members (with their expiries) on this path
    const members = (id: SetId): Cidr[] => policy.resolution.prefixes(id);
    const timedSets = { is: timed, members, expiresAtMs: (id: SetId, c: Cidr) => policy.resolution.learnedExpiryMs(id, c), nowMs };
    let doc = renderSetDeltas(deltas, s.sets, interval, this.opts.deltasByJson ? undefined : members, timedSets);
    // a pair set a change touches is rewritten whole here (flush + its pairs now), as timed sets are
    const touched = [...new Set(pairChanges.map((c) => c.set))].sort((a, b) => a - b);
    const pairCmds = touched.flatMap((k) =>
      ([4, 6] as const).flatMap((family) => {
        const name = pairSetName(k, family);
        if (s.absent.has(name)) return [];
        const elems = pairElementsOf(pairElements(s.pairs.plan.sets[k]!, family, members, expiry), nowMs, false);
        return elems.length > 0 ? [flushSet(name), elements('add', name, elems)] : [flushSet(name)];
      }),
    );
    doc = { nftables: [...pairCmds.filter((c) => 'flush' in c), ...doc.nftables, ...pairCmds.filter((c) => !('flush' in c))] };
    if (observedChanged) doc = { nftables: [...doc.nftables, ...renderObserved(policy.observation.subjects)] };
    if (doc.nftables.length === 0) {
      advance();
      return { kind: 'none', summary: 'no kernel change', ms: performance.now() - t0 };
    }
    this.run(doc);
    if (observedChanged) this.inForce = { ...this.inForce!, observedKey: policy.observation.key };
    advance();
    this.counts.deltaTransactions++;
    return { kind: 'deltas', summary: `set elements only (${doc.nftables.length} commands)`, ms: performance.now() - t0 };
  }

  /**
   * Denied flows logged since the last call (needs `denyLog`). The NFLOG group is bound on the
   * first call (call it once before traffic: a group another process holds fails there); close()
   * releases it.
   */
  drainDenied(max = 4096): RawDenyEvent[] {
    this.pump(max);
    return this.denyQueue.splice(0, max);
  }

  /** Observed new flows logged since the last call (needs `denyLog`: the same NFLOG group). */
  drainObserved(max = 4096): RawFlowEvent[] {
    this.pump(max);
    return this.observedQueue.splice(0, max);
  }

  /** Read up to `max` log packets and sort them into the deny and observed queues. */
  private pump(max: number): void {
    const log = this.opts.denyLog;
    if (!log) throw new PalisadeError('ERR_PALISADE_NO_DENY_LOG', 'nftables: deny logging is off (NftablesOptions.denyLog)');
    this.nflogFd ??= this.native.nflogOpen(log.group, this.opts.netnsPath);
    const packets = this.native.nflogDrain(this.nflogFd, max);
    const now = Date.now();
    const out = this.denyQueue;
    for (const p of packets) {
      const observed = parseObserveLogPrefix(p.prefix);
      if (observed) {
        this.observedQueue.push({ timeMs: now, family: p.family, proto: p.protocol, src: p.src, dst: p.dst, srcPort: p.srcPort ?? 0, dstPort: p.dstPort ?? 0, direction: observed });
        continue;
      }
      const id = parseDenyLogPrefix(p.prefix);
      if (!id) continue; // not one of our rules' packets (another logger on the group)
      const rule = this.recent.get(id.tag)?.rules[id.ruleId];
      out.push({
        timeMs: now,
        family: p.family,
        proto: p.protocol,
        src: p.src,
        dst: p.dst,
        srcPort: p.srcPort ?? 0,
        dstPort: p.dstPort ?? 0,
        ...(rule ? { rule, direction: rule.direction } : {}),
        reason: 'policy',
      });
    }
    for (const q of [this.denyQueue, this.observedQueue]) if (q.length > MAX_QUEUED_LOG_PACKETS) q.splice(0, q.length - MAX_QUEUED_LOG_PACKETS);
  }

  async stats(): Promise<BackendStats> {
    const list = this.listTable();
    const contents = tableContents(list);
    return {
      backend: 'nftables',
      rules: ruleCounters(list),
      details: {
        table: 'inet palisade',
        chains: contents.chains.length,
        sets: contents.sets.length,
        ...(this.inForce ? { rulesInForce: this.inForce.ruleSet.rules.length } : {}),
        installs: this.counts.installs,
        deltaTransactions: this.counts.deltaTransactions,
        rejectedTransactions: this.counts.rejected,
        netlinkDocuments: this.counts.netlinkDocuments,
      },
    };
  }

  async remove(): Promise<void> {
    this.run(renderDelete());
    this.inForce = undefined;
    this.recent.clear();
  }

  /** Release the NFLOG socket; the table stays in force. */
  async close(): Promise<void> {
    if (this.nflogFd !== undefined) this.native.nflogClose(this.nflogFd);
    this.nflogFd = undefined;
  }

  /** `list table inet palisade` as parsed JSON (stats and tests); throws ERR_PALISADE_NFT when absent. */
  listTable(): unknown {
    const out = this.native.nftRun(JSON.stringify({ nftables: [{ list: { table: { family: 'inet', name: 'palisade' } } }] }), this.opts.netnsPath);
    return JSON.parse(out) as unknown;
  }

  /**
   * What the table holds now: from memory after a successful install, else read from the kernel
   * (a table left by an earlier run is replaced in place too); undefined when there is none.
   */
  private contents(): TableContents | undefined {
    const s = this.inForce;
    if (s) {
      return {
        chains: chainsOf(s.ruleSet),
        sets: [
          ...[...s.sets].flatMap((id) => [4, 6].map((f) => setName(id, f as 4 | 6, s.interval.get(id) ?? false, s.timed.has(id)))).filter((n) => !s.absent.has(n)),
          ...s.pairs.plan.sets.flatMap((_, k) => [pairSetName(k, 4), pairSetName(k, 6)]).filter((n) => !s.absent.has(n)),
          OBSERVED_SETS[4],
          OBSERVED_SETS[6],
        ],
      };
    }
    try {
      return tableContents(this.listTable());
    } catch (e) {
      if ((e as NftErrorFields).code === 'ERR_PALISADE_NFT') return undefined; // no table yet
      throw e;
    }
  }

  /** Which rules fold into pair rules: per-pod learned rules over plain sets (pairs.ts, condition 1). */
  private planOf(policy: CompiledPolicy, interval: (id: SetId) => boolean, timed: ReadonlySet<SetId>): PairPlan {
    const onePod = (id: SetId): boolean => {
      const d = policy.resolution.definition(id);
      return d.kind === 'pods' && d.pod !== undefined && !interval(id);
    };
    return planPairs(policy.ruleSet, (r) => isPairable(r, (id) => timed.has(id) && !interval(id), onePod));
  }

  private sendElements(batch: SetElementBatch): void {
    const b = this.opts.beforeSetElements ? this.opts.beforeSetElements(batch) : batch;
    try {
      this.native.nftSetElements(b.sets, b.ops, b.setIndex, b.family, b.addrs, b.timeoutMs, this.opts.netnsPath);
    } catch (e) {
      this.counts.rejected++;
      throw e;
    }
  }

  /** Whether documents go as netlink batches (the native module has the program path and no test hook says otherwise). */
  private netlink(): boolean {
    return this.native.nftApplyProgram !== undefined && !this.opts.documentsByJson;
  }

  /**
   * One transaction: the document lowered to one netlink batch, or through libnftables when it
   * cannot be lowered (then `asJson`, when given, renders the same change as a JSON document:
   * a raw-element document cannot be stringified).
   */
  private run(doc: NftDocument, asJson?: () => NftDocument): void {
    const hook = this.opts.beforeTransaction;
    let sent = hook ? hook(doc) : doc;
    const program = this.netlink() ? lowerDocument(sent) : undefined;
    if (!program && asJson && this.netlink()) sent = hook ? hook(asJson()) : asJson();
    try {
      if (program) {
        this.native.nftApplyProgram!(program.words, program.strings, program.elementKeys, program.elementFlags, program.elementTimeoutMs, this.opts.netnsPath);
        this.counts.netlinkDocuments++;
        this.lastVia = 'one netlink batch';
      } else {
        this.native.nftRun(JSON.stringify(sent), this.opts.netnsPath);
        this.lastVia = 'libnftables';
      }
    } catch (e) {
      this.counts.rejected++;
      throw e;
    }
  }
}
