/**
 * instance.ts: one pinned Palisade eBPF instance (programs + maps under
 * /sys/fs/bpf/palisade/<netns-tag>/) and the two ways its policy changes:
 *
 * - `install(tables)`: a full apply. Every table of the INACTIVE generation is written, then one
 *   array update flips `config.activeGen`. A packet reads the generation once, so it classifies
 *   entirely against the old or entirely against the new policy, never a mix.
 *   The old generation is rewritten only on the next install, and not before GRACE_MS after the
 *   flip: a tc program runs to completion in well under a microsecond with preemption disabled,
 *   so no packet can still be reading it then.
 * - `updateAddresses(...)` (pod churn): address entries of the ACTIVE generation are added or
 *   removed in place; when an address needs a class that does not exist yet, its rows and heads
 *   are appended first and the address entry is written last.
 *
 * Counter slots are allocated per rule stableId and kept across installs (and across agent
 * restarts, through the state file), so a rule's counter survives policy changes that move it.
 * Not thread-safe: one owner (the agent's main thread).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bpfObjectPath, nativeEbpf, type NativeDatapath } from '../../src/native/binding.js';
import {
  CHUNK_U32,
  DIM_PEER,
  DIM_PORT,
  DIM_SUBJECT,
  MAX_CLASSES,
  MAX_RULES,
  INDEX_PER_GEN,
  ROWS_PER_GEN,
  NO_EXPIRY_MS,
  type BpfTables,
} from './tables.js';

/** A host entry written in place; a learned member carries its expiry and the class it lapses to. */
export interface HostClassWrite {
  readonly family: 4 | 6;
  readonly addr: Uint8Array;
  readonly classId: number;
  readonly expiredClassId?: number;
  /** ms since the epoch; absent or NO_EXPIRY_MS = never */
  readonly expiresAtMs?: number;
}

export const GRACE_MS = 5;
/** PAL_GEN_OBSERVED in palisade_maps.h */
export const GEN_OBSERVED = 2;
export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/palisade';
export const DEFAULT_STATE_ROOT = '/run/palisade/ebpf';

export interface OpenOptions {
  /** the instance's name under the pin root; default: `ns<inode of this netns>` */
  readonly tag?: string;
  readonly pinRoot?: string;
  readonly stateRoot?: string;
  /** load the object again even when programs are pinned (an upgrade) */
  readonly forceReload?: boolean;
  /** test hook (failure injection): called before every kernel write; a throw fails that write */
  readonly faults?: InstanceFaults;
}

/** Failure injection for the Backend failure-rule tests; production code never sets it. */
export interface InstanceFaults {
  /** before the write: a throw means the kernel saw nothing of it */
  beforeWrite?(op: WriteOp): void;
  /** after the write succeeded: a throw means the kernel holds it and a later step "failed" */
  afterWrite?(op: WriteOp): void;
}

/** The datapath calls that change kernel state. */
export const WRITE_OPS = ['attach', 'detach', 'activate', 'clearAddresses', 'writeAddresses', 'deleteAddresses', 'writePortClasses', 'writeRowHeads', 'writeRowIndex', 'writeRows', 'writeVerdicts'] as const;
export type WriteOp = (typeof WRITE_OPS)[number];

/** `native` with the fault hooks around each write (a Proxy: reads pass through unchanged). */
function withFaults(native: NativeDatapath, faults: InstanceFaults): NativeDatapath {
  const writes = new Set<string>(WRITE_OPS);
  return new Proxy(native, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (typeof prop !== 'string' || !writes.has(prop)) return fn.bind(target);
      return (...args: unknown[]) => {
        faults.beforeWrite?.(prop as WriteOp);
        const r = fn.apply(target, args);
        faults.afterWrite?.(prop as WriteOp);
        return r;
      };
    },
  });
}

interface SlotState {
  /** sha256 of the BPF object the pinned programs were loaded from */
  objectHash?: string;
  slots: Record<string, number>;
  next: number;
  /** slot -> stableId (for deny logs after a restart) */
  names: Record<number, string>;
  version: number;
}

/** The tag of the network namespace this process is in: `ns<inode>`. */
export function netnsTag(netnsPath = '/proc/self/ns/net'): string {
  return `ns${statSync(netnsPath).ino}`;
}

/** Mount bpffs at /sys/fs/bpf when it is not mounted (as systemd does on most distributions). */
export function ensureBpffs(root = '/sys/fs/bpf'): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === root && l.split(' ')[2] === 'bpf')) return;
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', root], { stdio: 'pipe' });
  } catch (e) {
    const err = new Error(`bpffs is not mounted at ${root} and mounting it failed: ${(e as Error).message}`);
    (err as Error & { code: string }).code = 'ERR_PALISADE_EBPF_BPFFS';
    throw err;
  }
}

const sleepMs = (ms: number): void => {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

export class EbpfInstance {
  readonly native: NativeDatapath;
  readonly pinDir: string;
  readonly tag: string;
  private readonly statePath: string;
  private state: SlotState;
  private lastFlip = 0;
  /** the tables in force (for incremental updates); undefined after adoption until an install */
  private current: { tables: BpfTables; gen: number; rowsUsed: number; indexUsed: number; classCount: number } | undefined;

  private constructor(native: NativeDatapath, tag: string, pinDir: string, statePath: string) {
    this.native = native;
    this.tag = tag;
    this.pinDir = pinDir;
    this.statePath = statePath;
    this.state = loadState(statePath);
  }

  static open(opts: OpenOptions = {}): EbpfInstance {
    const n = nativeEbpf();
    const layout = n.ebpfLayout();
    if (layout.maxRules !== MAX_RULES || layout.maxClasses !== MAX_CLASSES || layout.rowsPerGen !== ROWS_PER_GEN || layout.indexPerGen !== INDEX_PER_GEN)
      throw Object.assign(new Error('tables.ts constants disagree with palisade_maps.h; rebuild the addon'), { code: 'ERR_PALISADE_EBPF_LAYOUT' });
    const pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
    if (pinRoot.startsWith('/sys/fs/bpf')) ensureBpffs();
    const tag = opts.tag ?? netnsTag();
    const pinDir = join(pinRoot, tag);
    const statePath = join(opts.stateRoot ?? DEFAULT_STATE_ROOT, `${tag}.json`);
    const objPath = bpfObjectPath('palisade');
    const objectHash = createHash('sha256').update(readFileSync(objPath)).digest('hex');
    // a different object than the pinned programs came from is an upgrade: load it, reusing the
    // pinned maps (policy, flows, counters), and re-attach (tc filters are replaced in place)
    const upgrade = loadState(statePath).objectHash !== undefined && loadState(statePath).objectHash !== objectHash;
    const loaded = new n.EbpfDatapath(objPath, pinDir, (opts.forceReload ?? false) || upgrade);
    const native = opts.faults ? withFaults(loaded, opts.faults) : loaded;
    const inst = new EbpfInstance(native, tag, pinDir, statePath);
    inst.state.objectHash = objectHash;
    inst.saveState();
    return inst;
  }

  /**
   * The allocation state of the in-place path (rows and index entries used, class count), to put
   * back when an in-place update fails part-way (the rows it appended become free again).
   */
  checkpoint(): { restore(): void } {
    const cur = this.current;
    const saved = cur ? { rowsUsed: cur.rowsUsed, indexUsed: cur.indexUsed, classCount: cur.classCount } : undefined;
    return {
      restore: () => {
        if (cur && saved && this.current === cur) Object.assign(cur, saved);
      },
    };
  }

  /**
   * Deny events on or off (config.flags PAL_CFG_LOG_DENIED); off by default, as the ring buffer
   * costs per denied packet. `observe`: events for new flows of observed subjects (PAL_CFG_OBSERVE).
   * `bothDirections`: the host role (PAL_CFG_BOTH_DIRECTIONS): a new flow is judged egress then
   * ingress at the first hook that sees it (backend.ts hostJudging()).
   */
  setLogDenied(on: boolean, observe = false, bothDirections = false): void {
    this.native.setFlags((on ? 1 : 0) | (observe ? 2 : 0) | (bothDirections ? 4 : 0));
  }

  /**
   * The observed subjects (src/enforce/observed.ts): exact entries of key generation
   * PAL_GEN_OBSERVED (palisade_maps.h), replaced whole. They change no verdict.
   */
  setObserved(entries: readonly { family: 4 | 6; addr: Uint8Array }[]): void {
    const dp = this.native;
    dp.clearAddresses(GEN_OBSERVED);
    const n = entries.length;
    if (n === 0) return;
    const fam = new Uint8Array(n);
    const plen = new Uint8Array(n);
    const addrs = new Uint8Array(n * 16);
    entries.forEach((e, i) => {
      fam[i] = e.family;
      plen[i] = e.family === 4 ? 32 : 128;
      addrs.set(e.addr, i * 16);
    });
    dp.writeAddresses(GEN_OBSERVED, fam, plen, addrs, new Uint32Array(n).fill(1));
  }

  get adopted(): boolean {
    return this.native.adopted();
  }

  /** Full apply into the inactive generation, then the flip. Returns the generation now active. */
  install(tables: BpfTables, version = Date.now()): number {
    const { gen: active } = this.native.activeGeneration();
    const gen = active ^ 1;
    sleepMs(GRACE_MS - (Date.now() - this.lastFlip));
    const dp = this.native;
    dp.clearAddresses(gen);
    dp.writePortClasses(gen, tables.portClasses);
    const rowBase = gen * ROWS_PER_GEN;
    const indexBase = gen * INDEX_PER_GEN;
    if (tables.rowCount > 0) dp.writeRows(rowBase, u64(tables.rows));
    if (tables.indexCount > 0) dp.writeRowIndex(indexBase, offsetBy(tables.index, rowBase));
    for (let dir = 0; dir < 2; dir++) {
      for (const dim of [DIM_SUBJECT, DIM_PEER, DIM_PORT]) {
        const h = tables.heads[dir]![dim]!;
        dp.writeRowHeads(gen, dir, dim, 0, h.masks, offsetBy(h.firstIndexes, indexBase));
      }
      const v = tables.verdicts[dir]!;
      dp.writeVerdicts(gen, dir, v.actions, v.tiers, v.passTargets, this.counterSlots(v.stableIds), v.ruleIds);
    }
    const r = tables.redirects;
    if (r.rules.length > 0) dp.writeRedirects(gen, r.rules, r.addrs, r.ports, r.present);
    const a = tables.addresses;
    dp.writeAddresses(gen, a.families, a.prefixLens, a.addrs, a.classIds, a.expiredClassIds, monotonicNsOf(a.expiresAtMs));
    dp.activate(gen, version);
    this.lastFlip = Date.now();
    this.current = { tables, gen, rowsUsed: tables.rowCount, indexUsed: tables.indexCount, classCount: tables.addrClassCount };
    this.saveState();
    return gen;
  }

  /**
   * Pod churn in place: host addresses (/32, /128) with the address class they now belong to.
   * `rowsForNewClass` gives, for a class id >= the current count, its rule bitmaps [dir][dim]
   * (subject, peer; the port dimension is not address-dependent).
   */
  setHostClasses(
    entries: readonly HostClassWrite[],
    newClasses: readonly { classId: number; bitmaps: readonly (readonly Uint32Array[])[] }[] = [],
  ): void {
    const cur = this.current;
    if (!cur) throw Object.assign(new Error('no installed tables to update in place (install first)'), { code: 'ERR_PALISADE_NOT_APPLIED' });
    const dp = this.native;
    for (const nc of newClasses) {
      if (nc.classId >= MAX_CLASSES) throw Object.assign(new Error('address classes exhausted'), { code: 'ERR_PALISADE_EBPF_CAPACITY' });
      for (let dir = 0; dir < 2; dir++) {
        for (const dim of [DIM_SUBJECT, DIM_PEER]) {
          const bits = nc.bitmaps[dir]![dim]!;
          let mask = 0n;
          const chunks: Uint32Array[] = [];
          for (let c = 0; c * CHUNK_U32 < bits.length; c++) {
            const ch = bits.subarray(c * CHUNK_U32, (c + 1) * CHUNK_U32);
            if (ch.some((w) => w !== 0)) {
              mask |= 1n << BigInt(c);
              chunks.push(ch);
            }
          }
          if (cur.rowsUsed + chunks.length > ROWS_PER_GEN || cur.indexUsed + chunks.length > INDEX_PER_GEN)
            throw Object.assign(new Error('bitmap rows exhausted; a full apply compacts them'), { code: 'ERR_PALISADE_EBPF_CAPACITY' });
          const firstRow = cur.gen * ROWS_PER_GEN + cur.rowsUsed;
          const firstIndex = cur.gen * INDEX_PER_GEN + cur.indexUsed;
          if (chunks.length) {
            const words = new Uint32Array(chunks.length * CHUNK_U32);
            chunks.forEach((ch, i) => words.set(ch, i * CHUNK_U32));
            dp.writeRows(firstRow, u64(words));
            dp.writeRowIndex(firstIndex, Uint32Array.from(chunks, (_, i) => firstRow + i));
          }
          cur.rowsUsed += chunks.length;
          cur.indexUsed += chunks.length;
          // the head last: until it is written, no address can reach this class's rows
          dp.writeRowHeads(cur.gen, dir, dim, nc.classId, BigUint64Array.of(mask), Uint32Array.of(firstIndex));
        }
      }
      cur.classCount = Math.max(cur.classCount, nc.classId + 1);
    }
    const n = entries.length;
    const fam = new Uint8Array(n);
    const plen = new Uint8Array(n);
    const addrs = new Uint8Array(n * 16);
    const cls = new Uint32Array(n);
    const expiredCls = new Uint32Array(n);
    const expiresAtMs = new Float64Array(n);
    entries.forEach((e, i) => {
      fam[i] = e.family;
      plen[i] = e.family === 4 ? 32 : 128;
      addrs.set(e.addr, i * 16);
      cls[i] = e.classId;
      expiredCls[i] = e.expiredClassId ?? e.classId;
      expiresAtMs[i] = e.expiresAtMs ?? NO_EXPIRY_MS;
    });
    dp.writeAddresses(cur.gen, fam, plen, addrs, cls, expiredCls, monotonicNsOf(expiresAtMs));
  }

  /** Remove host address entries of the active generation (the address falls back to its LPM class). */
  removeHosts(entries: readonly { family: 4 | 6; addr: Uint8Array }[]): void {
    const { gen } = this.native.activeGeneration();
    const n = entries.length;
    const fam = new Uint8Array(n);
    const plen = new Uint8Array(n);
    const addrs = new Uint8Array(n * 16);
    entries.forEach((e, i) => {
      fam[i] = e.family;
      plen[i] = e.family === 4 ? 32 : 128;
      addrs.set(e.addr, i * 16);
    });
    this.native.deleteAddresses(gen, fam, plen, addrs);
  }

  /** The rule stableId behind a counter slot (deny events carry the slot). */
  stableIdOfSlot(slot: number): string | undefined {
    return this.state.names[slot];
  }

  /** Every counter slot this instance has handed out, with its rule's stableId. */
  knownSlots(): { slot: number; stableId: string }[] {
    return Object.entries(this.state.names)
      .map(([slot, stableId]) => ({ slot: Number(slot), stableId }))
      .sort((a, b) => a.slot - b.slot);
  }

  slotOf(stableId: string): number | undefined {
    return this.state.slots[stableId];
  }

  installedTables(): BpfTables | undefined {
    return this.current?.tables;
  }

  close(): void {
    this.native.close();
  }

  /** Stop enforcing in this instance's pins: empty both generations and unpin. */
  destroy(): void {
    this.native.unpin();
    this.native.close();
    rmSync(this.statePath, { force: true });
  }

  private counterSlots(stableIds: readonly string[]): Uint32Array {
    const out = new Uint32Array(stableIds.length);
    stableIds.forEach((id, i) => {
      let s = this.state.slots[id];
      if (s === undefined) {
        s = this.state.next++ % (2 * MAX_RULES);
        this.state.slots[id] = s;
        this.state.names[s] = id;
      }
      out[i] = s;
    });
    return out;
  }

  private saveState(): void {
    try {
      mkdirSync(dirname(this.statePath), { recursive: true });
      writeFileSync(this.statePath, JSON.stringify(this.state));
    } catch {
      /* counters still work; names after a restart are what is lost */
    }
  }
}

function loadState(path: string): SlotState {
  try {
    if (existsSync(path)) {
      const s = JSON.parse(readFileSync(path, 'utf8')) as SlotState;
      if (s && typeof s.next === 'number') return s;
    }
  } catch {
    /* start afresh */
  }
  return { slots: {}, next: 0, names: {}, version: 0 };
}

/**
 * Wall-clock expiries (ms since the epoch) as the program's clock: CLOCK_MONOTONIC ns, which
 * bpf_ktime_get_coarse_ns() reads (coarse: up to one tick behind, so an entry lapses up to ~4 ms
 * late, never early). process.hrtime is CLOCK_MONOTONIC (libuv). NO_EXPIRY_MS -> 0 (never); an
 * expiry already past -> 1 (expired at once).
 */
function monotonicNsOf(expiresAtMs: Float64Array): BigUint64Array {
  const out = new BigUint64Array(expiresAtMs.length);
  const nowMono = process.hrtime.bigint();
  const nowMs = Date.now();
  for (let i = 0; i < expiresAtMs.length; i++) {
    const t = expiresAtMs[i]!;
    if (t === NO_EXPIRY_MS) continue;
    const ns = nowMono + BigInt(Math.round((t - nowMs) * 1e6));
    out[i] = ns > 0n ? ns : 1n;
  }
  return out;
}

function u64(words: Uint32Array): BigUint64Array {
  return new BigUint64Array(words.buffer, words.byteOffset, words.length / 2);
}

function offsetBy(values: Uint32Array, base: number): Uint32Array {
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! + base;
  return out;
}
