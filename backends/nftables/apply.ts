/**
 * Applying rule sets to the kernel: the only part of the nftables backend with side effects, and
 * it touches only `table inet palisade` in one network namespace (the current one, or `netnsPath`).
 *
 * - `applyCluster(cluster)`: resolve + lower + render the whole table; one transaction that
 *   replaces the table's contents in place (render.ts says why not delete + re-create). When the
 *   kernel rejects it, the previous table stays fully in force and
 *   this enforcer keeps its previous state (the error is thrown with code ERR_PALISADE_NFT).
 * - `applyChanges(changes)`: inventory changes (pod churn, relabels, nodes). Unless a change
 *   outgrows the rules (src/rules/inputs.ts: a named-port group or node name they have never
 *   seen), only set elements change: one transaction of element deletes and adds, no
 *   re-lowering, no chain rewrite. Otherwise the rules are lowered again and the table replaced
 *   as in applyCluster. Either way one transaction.
 * - `delete()`: removes the table and nothing else.
 *
 * Invariant: `this.state` always describes what the kernel holds (it is replaced only after a
 * successful transaction). Not thread-safe: one owner.
 * Cost: see render.ts; plus the resolver's incremental cost per change.
 */
import type { Cluster, PolicySet } from '../../src/model/types.js';
import { podKey } from '../../src/resolve/index.js';
import { Resolution, type InventoryChange, type SetDelta, type SetId } from '../../src/resolve/index.js';
import { lower } from '../../src/rules/lower.js';
import type { RuleSet } from '../../src/rules/types.js';
import { nativeNftables, type NftErrorFields, type NftNative } from '../../src/native/binding.js';
import type { NftDocument } from './nft-json.js';
import { outgrowsRules } from '../../src/rules/inputs.js';
import { denyRecord } from './deny-log.js';
import type { DenyRecord } from '../../src/enforce/deny-log.js';
import { OUR_CHAINS, type DenyLogOptions, renderDelete, renderFull, renderSetDeltas, setName, tableContents, usedSets, type TableContents } from './render.js';

export interface NftablesOptions {
  /** network namespace to act in (e.g. /run/netns/NAME); default: the current one */
  readonly netnsPath?: string;
  readonly native?: NftNative;
  /** log denied flows to this NFLOG group (render.ts DenyLogOptions); read with drainDenied() */
  readonly denyLog?: DenyLogOptions;
}

export interface ApplyReport {
  readonly kind: 'full' | 'elements' | 'none';
  /** commands in the transaction */
  readonly commands: number;
  readonly rules: number;
  readonly durationMs: number;
}

interface State {
  readonly policies: PolicySet;
  readonly resolution: Resolution;
  readonly ruleSet: RuleSet;
  readonly sets: ReadonlySet<SetId>;
}

export class NftablesEnforcer {
  private readonly native: NftNative;
  private state: State | undefined;
  private nflogFd: number | undefined;

  constructor(private readonly opts: NftablesOptions = {}) {
    this.native = opts.native ?? nativeNftables();
  }

  /** The rule set in force (undefined before the first successful apply). */
  get ruleSet(): RuleSet | undefined {
    return this.state?.ruleSet;
  }

  applyCluster(cluster: Cluster): ApplyReport {
    const t0 = performance.now();
    const resolution = new Resolution(cluster, cluster.networkPolicies);
    const next = this.compile(cluster, resolution);
    const input = { ruleSet: next.ruleSet, members: (id: SetId) => resolution.prefixes(id), interval: intervalOf(resolution), ...(this.opts.denyLog ? { log: this.opts.denyLog } : {}) };
    const current = this.contents();
    let doc = renderFull(input, current);
    try {
      this.run(doc);
    } catch (e) {
      // A table this process did not write (another version, hand edits) may not take an in-place
      // replacement (e.g. a base chain with another priority). Then, once, replace it whole: still
      // one transaction, but delete + re-create is not atomic for packets (render.ts).
      if (this.state || current === undefined || (e as NftErrorFields).code !== 'ERR_PALISADE_NFT') throw e;
      doc = { nftables: [...renderDelete().nftables, ...renderFull(input).nftables] };
      this.run(doc);
    }
    this.state = next;
    return { kind: 'full', commands: doc.nftables.length, rules: next.ruleSet.rules.length, durationMs: performance.now() - t0 };
  }

  applyChanges(changes: readonly InventoryChange[]): ApplyReport {
    const prev = this.state;
    if (!prev) throw Object.assign(new Error('applyChanges before applyCluster'), { code: 'ERR_PALISADE_NOT_APPLIED' });
    const t0 = performance.now();
    const { resolution } = prev;
    const undo: InventoryChange[] = [];
    const deltas: SetDelta[] = [];
    let rulesMayChange = false;
    for (const c of changes) {
      undo.unshift(...undoOf(resolution, c));
      if (outgrowsRules(prev.ruleSet, c)) rulesMayChange = true;
      deltas.push(...resolution.apply(c));
    }
    try {
      if (!rulesMayChange) {
        // Same rules: only set members changed (no re-lowering, no chain rewrite).
        const doc = renderSetDeltas(deltas, prev.sets, intervalOf(resolution));
        if (doc.nftables.length > 0) this.run(doc);
        this.state = prev;
        return { kind: doc.nftables.length > 0 ? 'elements' : 'none', commands: doc.nftables.length, rules: prev.ruleSet.rules.length, durationMs: performance.now() - t0 };
      }
      const next = this.compile(prev.policies, resolution);
      const doc = renderFull({ ruleSet: next.ruleSet, members: (id) => resolution.prefixes(id), interval: intervalOf(resolution), ...(this.opts.denyLog ? { log: this.opts.denyLog } : {}) }, this.contents());
      this.run(doc);
      this.state = next;
      return { kind: 'full', commands: doc.nftables.length, rules: next.ruleSet.rules.length, durationMs: performance.now() - t0 };
    } catch (e) {
      // The kernel kept the previous table: put the resolution back to match it.
      for (const u of undo) resolution.apply(u);
      throw e;
    }
  }

  delete(): void {
    this.run(renderDelete());
    this.state = undefined;
  }

  /**
   * Denied flows logged since the last call, as deny-log records (needs `denyLog`). The NFLOG
   * group is bound on the first call; close() releases it.
   */
  drainDenied(max = 4096): DenyRecord[] {
    const log = this.opts.denyLog;
    if (!log) throw Object.assign(new Error('deny logging is off (NftablesOptions.denyLog)'), { code: 'ERR_PALISADE_NO_DENY_LOG' });
    this.nflogFd ??= this.native.nflogOpen(log.group, this.opts.netnsPath);
    const state = this.state;
    const packets = this.native.nflogDrain(this.nflogFd, max);
    if (!state) return [];
    return packets.flatMap((p) => denyRecord(p, state.ruleSet, state.resolution) ?? []);
  }

  /** Release the NFLOG socket; the table stays in force. */
  close(): void {
    if (this.nflogFd !== undefined) this.native.nflogClose(this.nflogFd);
    this.nflogFd = undefined;
  }

  /** `list table inet palisade` as parsed JSON (for stats and tests). */
  listTable(): unknown {
    const out = this.native.nftRun(JSON.stringify({ nftables: [{ list: { table: { family: 'inet', name: 'palisade' } } }] }), this.opts.netnsPath);
    return JSON.parse(out) as unknown;
  }

  /**
   * What the table holds now: from our state after a successful apply, else read from the kernel
   * (a table left by an earlier run is replaced in place too); undefined when there is none.
   */
  private contents(): TableContents | undefined {
    if (this.state) {
      const interval = intervalOf(this.state.resolution);
      return { chains: OUR_CHAINS, sets: [...this.state.sets].flatMap((id) => [setName(id, 4, interval(id)), setName(id, 6, interval(id))]) };
    }
    try {
      return tableContents(this.listTable());
    } catch (e) {
      if ((e as NftErrorFields).code === 'ERR_PALISADE_NFT') return undefined; // no table yet
      throw e;
    }
  }

  private compile(policies: PolicySet, resolution: Resolution): State {
    const ruleSet = lower(policies, resolution);
    return {
      policies: { networkPolicies: policies.networkPolicies, clusterPolicies: policies.clusterPolicies },
      resolution,
      ruleSet,
      sets: new Set(usedSets(ruleSet)),
    };
  }

  private run(doc: NftDocument): void {
    this.native.nftRun(JSON.stringify(doc), this.opts.netnsPath);
  }
}

/** The changes that take `resolution` back to where it is now once `c` has been applied. */
function undoOf(resolution: Resolution, c: InventoryChange): InventoryChange[] {
  const podBack = (key: string, ns: string, name: string): InventoryChange => {
    const p = resolution.pod(key);
    return p ? { kind: 'pod', pod: p } : { kind: 'pod-removed', namespace: ns, name };
  };
  switch (c.kind) {
    case 'pod':
      return [podBack(podKey(c.pod), c.pod.namespace, c.pod.name)];
    case 'pod-removed':
      return [podBack(podKey(c), c.namespace, c.name)];
    case 'namespace':
    case 'namespace-removed': {
      const name = c.kind === 'namespace' ? c.namespace.name : c.name;
      const inv = resolution.inventory();
      const ns = inv.namespaces.find((n) => n.name === name);
      const pods = inv.pods.filter((p) => p.namespace === name).map((pod): InventoryChange => ({ kind: 'pod', pod }));
      return [ns ? { kind: 'namespace', namespace: ns } : { kind: 'namespace-removed', name }, ...pods];
    }
    case 'node':
    case 'node-removed': {
      const name = c.kind === 'node' ? c.node.name : c.name;
      const node = resolution.inventory().nodes.find((n) => n.name === name);
      return [node ? { kind: 'node', node } : { kind: 'node-removed', name }];
    }
  }
}

/** Sets of prefixes need interval sets; every other kind only ever holds host addresses. */
const intervalOf =
  (resolution: Resolution) =>
  (id: SetId): boolean =>
    resolution.definition(id).kind === 'prefixes';
