/**
 * The ONE door to native code: the only TypeScript file that loads a `.node` binary
 * (build/Release/palisade.node, with an ABI check) and the only place that knows where the build
 * puts its outputs (the BPF objects build/*.bpf.o). It hands each user its typed sub-module of the
 * addon (the registration table in addon/napi/module.cc):
 *   new NativeClassifier() -> the classifier (below; the engine, classbench, the nfqueue packing)
 *   nativeNftables()    -> NftNative      (src/native/nftables.ts; backends/nftables)
 *   nativeEbpf()        -> EbpfNative     (src/native/ebpf.ts; backends/ebpf), bpfObjectPath()
 *   nativeNfqueue()     -> NfqueueNative  (src/native/nfqueue.ts; backends/nfqueue)
 * The binary and build/ are found from the package root (the nearest package.json named
 * "palisade"), so the same code works from src/ under vitest and from dist/ when compiled. A
 * missing or stale binary is a NativeError with code ERR_PALISADE_NATIVE_MISSING (rebuild with
 * `npm run build:native`); it is reported once and remembered.
 *
 * What crosses: packed Uint32Arrays (rules, set edits, packet headers), never object graphs. The
 * layouts are defined once in addon/classifier/wire.h and mirrored here (the `*_WORDS` constants and the
 * `write*` functions); addresses and ports are HOST-order unsigned integers (`10.0.0.1` is
 * 0x0A000001), IPv6 addresses are four 32-bit words, most significant first.
 *
 * The classifier (design in addon/classifier/classifier.h):
 * - Rules: source and destination address fields, source and destination port ranges (inclusive),
 *   protocol with mask (match when (proto & mask) == (value & mask); mask 0 = any protocol), an
 *   action byte (opaque, returned with the match), a priority and a unique rule id (u32, not
 *   0xFFFFFFFF). Total order: (priority, ruleId), lower first. The answer is the FIRST match.
 * - Address fields are either BOTH prefixes of one family (`prefix4`/`prefix6`, ClassBench shape)
 *   or BOTH address-set references (`set` id or `any`, Kubernetes shape; a set holds IPv4 and IPv6
 *   prefixes and changes through `updateSets` without a rebuild). `any` next to a prefix means /0.
 * - `minPriority`: only rules with priority >= minPriority are considered ("skip the rest of this
 *   tier" for Pass).
 * - `compile()` builds off the main thread and publishes atomically; `updateSets()` applies a batch
 *   of membership edits as one new version. A lookup never sees half of either.
 *
 * Arguments are checked here, before they cross. Native code sets its own `code` on what it throws;
 * NATIVE_CODES maps each of those spellings to its row of docs/error-codes.md, and the classifier
 * and the nfqueue sub-module rethrow every native failure as a NativeError (a PalisadeError) with
 * that code, the native error as its `cause`. The nftables sub-module's codes are already the
 * table's (ERR_PALISADE_NFT, ...) and its errors pass unchanged, with their `nftError`, `errno`,
 * `path` fields, and so are the eBPF sub-module's (with `errno`).
 * Cost: the binary loads once per process (a few ms); every getter after that is a field read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EbpfNative } from './ebpf.js';
import type { NfqLoop, NfqLoopOptions, NfqueueNative } from './nfqueue.js';
import { PalisadeError, type ErrorCode, type PalisadeErrorOptions } from '../model/errors.js';
import type { NftNative } from './nftables.js';
import type { DnsPacketsHandler, DnsQueue, DnsQueueOptions } from './dnsqueue.js';

export type * from './ebpf.js';
export type * from './nfqueue.js';
export type * from './nftables.js';
export type * from './dnsqueue.js';

// ---- wire layouts (mirror of addon/classifier/wire.h) ---------------------------------------------

export const RULE_WORDS = 16;
export const EDIT_WORDS = 6;
export const HEADER4_WORDS = 4;
export const HEADER6_WORDS = 10;
export const ANY_SET = 0xffffffff;
export const NO_RULE_ID = 0xffffffff;
/** addon/napi/module.cc kAbi: 2 = one sub-object per module */
export const NATIVE_ABI = 2;

export const RULE_KIND = { prefix4: 0, prefix6: 1, sets: 2 } as const;

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}
export interface ProtoMatch {
  readonly value: number;
  readonly mask: number;
}

export type AddressField =
  | { readonly kind: 'any' }
  | { readonly kind: 'prefix4'; readonly addr: number; readonly prefixLen: number }
  | { readonly kind: 'prefix6'; readonly addr: bigint; readonly prefixLen: number }
  | { readonly kind: 'set'; readonly setId: number };

export interface ClassifierRule {
  readonly ruleId: number;
  readonly priority: number;
  /** 0..255, returned with the match */
  readonly action: number;
  readonly src: AddressField;
  readonly dst: AddressField;
  /** default: every port */
  readonly srcPort?: PortRange;
  readonly dstPort?: PortRange;
  /** default: every protocol */
  readonly proto?: ProtoMatch;
}

export interface SetEdit {
  readonly op: 'add' | 'remove';
  readonly setId: number;
  readonly family: 4 | 6;
  /** host-order address: number for IPv4, bigint for IPv6 (host bits are cleared natively) */
  readonly addr: number | bigint;
  readonly prefixLen: number;
}

export interface Match {
  readonly ruleId: number;
  readonly action: number;
}

export interface BuildResult {
  readonly version: number;
  /** time spent in the C++ compile (not in packing or thread hand-off) */
  readonly buildNs: number;
}

export interface ClassifierStats {
  readonly version: number;
  readonly rules: number;
  readonly prefixRules4: number;
  readonly prefixRules6: number;
  readonly setRules: number;
  /** IPv4 prefix rules: trees of the split forest (addon/classifier/split_tree.h), or TupleMerge tables when the cost estimate chose TupleMerge (addon/classifier/prefix4_index.h) */
  readonly tables4: number;
  /** IPv6 prefix rules: TupleMerge tables (addon/classifier/tuple_index.h) */
  readonly tables6: number;
  readonly members: number;
  /** bytes of the compiled rule structures (excludes set membership) */
  readonly ruleBytes: number;
  readonly memberBytes: number;
  /** address equivalence classes known (distinct set-id lists of members and CIDR intervals) */
  readonly addressClasses: number;
  /** classes with rule bitmaps of their own (a rule names one of their sets); the rest share `any` */
  readonly namedClasses: number;
  /** bytes of the class bitmaps (the set rules' compiled form, besides ruleBytes) */
  readonly classBytes: number;
  /** headers classified by native code through this object (proves the native path ran) */
  readonly nativeLookups: number;
}

// ---- errors ---------------------------------------------------------------------------------

/** A failure of (or before) a native call; the message starts with the code, as the addon's own do. */
export class NativeError extends PalisadeError {
  constructor(code: ErrorCode, message: string, options?: PalisadeErrorOptions) {
    super(code, `${code}: ${message}`, options);
  }
}

/**
 * The addon's spellings of its codes (addon/napi/*.cc, addon/classifier) and their rows of
 * docs/error-codes.md. A native code that is already the table's maps to itself.
 */
export const NATIVE_CODES: Readonly<Record<string, ErrorCode>> = {
  PAL_NATIVE: 'ERR_PALISADE_NATIVE',
  PAL_NATIVE_ARG: 'ERR_PALISADE_NATIVE_ARGUMENT',
  PAL_RULE_TOO_MANY: 'ERR_PALISADE_RULE_TOO_MANY',
  PAL_RULE_ID_RESERVED: 'ERR_PALISADE_RULE_ID_RESERVED',
  PAL_RULE_ID_DUPLICATE: 'ERR_PALISADE_RULE_ID_DUPLICATE',
  PAL_RULE_PORT_RANGE: 'ERR_PALISADE_RULE_PORT_RANGE',
  PAL_RULE_PREFIX_LEN: 'ERR_PALISADE_RULE_PREFIX_LEN',
  PAL_RULE_KIND: 'ERR_PALISADE_RULE_KIND',
  PAL_SET_EDIT: 'ERR_PALISADE_SET_EDIT',
  NFQ_BAD_ARGUMENT: 'ERR_PALISADE_NATIVE_ARGUMENT',
  NFQ_START_FAILED: 'ERR_PALISADE_NFQUEUE_START',
  NFQ_BAD_RULES: 'ERR_PALISADE_NFQUEUE_RULES',
  NFQ_NO_ENGINE: 'ERR_PALISADE_NOT_APPLIED',
  DNSQ_BAD_ARGUMENT: 'ERR_PALISADE_NATIVE_ARGUMENT',
  DNSQ_START_FAILED: 'ERR_PALISADE_DNS_QUEUE_START',
  ERR_PALISADE_NFT: 'ERR_PALISADE_NFT',
  ERR_PALISADE_NFT_INPUT: 'ERR_PALISADE_NFT_INPUT',
  ERR_PALISADE_NFT_CTX: 'ERR_PALISADE_NFT_CTX',
  ERR_PALISADE_NETNS: 'ERR_PALISADE_NETNS',
  ERR_PALISADE_NFLOG: 'ERR_PALISADE_NFLOG',
};

const argError = (msg: string): NativeError => new NativeError('ERR_PALISADE_NATIVE_ARGUMENT', msg);

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isU16 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
const isU8 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;

// ---- loading --------------------------------------------------------------------------------

interface RawClassifier {
  compile(rules: Uint32Array): Promise<BuildResult>;
  compileSync(rules: Uint32Array): BuildResult;
  updateSets(edits: Uint32Array): { version: number; changed: number };
  lookup4(src: number, dst: number, sport: number, dport: number, proto: number, minPriority: number): number;
  lookup6(header: Uint32Array, minPriority: number): number;
  lookupBatch4(headers: Uint32Array, outRuleId: Uint32Array, outAction: Uint8Array, minPriority: number, scalar: boolean): number;
  lookupBatch6(headers: Uint32Array, outRuleId: Uint32Array, outAction: Uint8Array, minPriority: number, scalar: boolean): number;
  stats(): ClassifierStats;
}
interface RawModule {
  readonly abi: number;
  readonly modules: readonly string[];
  readonly classifier: { readonly Classifier: new () => RawClassifier };
  readonly nftables: NftNative;
  readonly ebpf: EbpfNative;
  readonly nfqueue: NfqueueNative;
  readonly dnsqueue: { readonly DnsQueue: new (options: DnsQueueOptions, onPackets: DnsPacketsHandler) => DnsQueue };
}

/** The package root: the nearest directory upwards holding palisade's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'palisade') return dir;
      } catch {
        // an unreadable package.json is not ours: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return fileURLToPath(new URL('../../', import.meta.url));
    dir = up;
  }
}

let loaded: RawModule | null = null;
let loadError: NativeError | null = null;

function addon(): RawModule {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  const path = join(packageRoot(), 'build/Release/palisade.node');
  try {
    const mod = createRequire(import.meta.url)(path) as RawModule;
    if (mod.abi !== NATIVE_ABI) throw new Error(`addon ABI ${String(mod.abi)}, expected ${NATIVE_ABI}: rebuild with npm run build:native`);
    loaded = mod;
    return mod;
  } catch (e) {
    loadError = new NativeError('ERR_PALISADE_NATIVE_MISSING', `cannot load ${path} (${(e as Error).message})`, { cause: e });
    throw loadError;
  }
}

/** True when the addon loads (with the expected ABI). */
export function nativeAvailable(): boolean {
  try {
    addon();
    return true;
  } catch {
    return false;
  }
}

/** The nftables backend's native functions (libnftables JSON runs, netns calls, the NFLOG reader). */
export const nativeNftables = (): NftNative => addon().nftables;

/** The eBPF backend's loader (pinned maps and programs, tc attach, test runs). */
export const nativeEbpf = (): EbpfNative => addon().ebpf;

let nfqueue: NfqueueNative | undefined;

/** The nfqueue backend's packet parser and verdict loop (native failures rethrown with the table's codes). */
export function nativeNfqueue(): NfqueueNative {
  if (nfqueue) return nfqueue;
  const raw = addon().nfqueue;
  const RawLoop = raw.NfqLoop;
  const parse = raw.nfqParsePacket.bind(raw);
  const statuses = raw.nfqParseStatuses.bind(raw);
  nfqueue = {
    nfqConstants: raw.nfqConstants,
    nfqParsePacket: (bytes) => coded(() => parse(bytes)),
    nfqParseStatuses: (bytes, offsets) => coded(() => statuses(bytes, offsets)),
    NfqLoop: function NfqLoop(options: NfqLoopOptions, onDenied?: (records: Buffer) => void): NfqLoop {
      const loop = coded(() => (onDenied === undefined ? new RawLoop(options) : new RawLoop(options, onDenied)));
      // Each method runs on the native object (its `this` must be the wrapped instance).
      const out: Record<string, unknown> = {};
      for (const key of LOOP_METHODS) {
        const fn = loop[key] as (...args: unknown[]) => unknown;
        out[key] = (...args: unknown[]) => coded(() => fn.apply(loop, args));
      }
      return out as unknown as NfqLoop;
    } as unknown as NfqueueNative['NfqLoop'],
  };
  return nfqueue;
}

/** The FQDN learner's DNS answer queue (src/fqdn/learner.ts); native failures rethrown with the table's codes. */
export function nativeDnsQueue(options: DnsQueueOptions, onPackets: DnsPacketsHandler): DnsQueue {
  const Raw = addon().dnsqueue.DnsQueue;
  const q = coded(() => new Raw(options, onPackets));
  return {
    start: () => coded(() => q.start()),
    accept: (ids) => coded(() => q.accept(ids)),
    stop: () => coded(() => q.stop()),
    stats: () => coded(() => q.stats()),
  };
}

/** Every method of NfqLoop (the Record type makes the compiler hold this list to the interface). */
const LOOP_METHODS = Object.keys({
  start: true,
  stop: true,
  publishRules: true,
  publishEngine: true,
  editMembership: true,
  stats: true,
  resetLatency: true,
  cutDenied: true,
  cutReverse: true,
  setPaused: true,
  timeDecide: true,
  decide: true,
  publishObserved: true,
} satisfies Record<keyof NfqLoop, true>) as (keyof NfqLoop)[];

/** Path of a BPF object built by the root CMakeLists.txt (build/<name>.bpf.o); ERR_PALISADE_NATIVE_MISSING when absent. */
export function bpfObjectPath(name: 'palisade' | 'pass_all'): string {
  const path = join(packageRoot(), 'build', `${name}.bpf.o`);
  if (!existsSync(path)) throw new NativeError('ERR_PALISADE_NATIVE_MISSING', `BPF object ${path} is not built: run npm run build:native`);
  return path;
}

/** Path of the CNI plugin executable (build/palisade-cni, cni/palisade_cni.cc); ERR_PALISADE_NATIVE_MISSING when absent. */
export function cniPluginPath(): string {
  const path = join(packageRoot(), 'build', 'palisade-cni');
  if (!existsSync(path)) throw new NativeError('ERR_PALISADE_NATIVE_MISSING', `CNI plugin ${path} is not built: run npm run build:native`);
  return path;
}

/** Rethrows a native failure as a NativeError with its table code; anything else unchanged. */
function rethrow(e: unknown): never {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? NATIVE_CODES[err.code] : undefined;
  if (code === undefined || e instanceof PalisadeError || typeof err.message !== 'string') throw e;
  const prefix = `${err.code as string}: `;
  const msg = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  // an inner reason keeps its native code in the text ("NFQ_BAD_RULES" around "PAL_SET_EDIT: ..."): say the table's
  throw new NativeError(code, msg.replace(/\b(?:PAL|NFQ)_[A-Z0-9_]+(?=:)/g, (c) => NATIVE_CODES[c] ?? c), { cause: e });
}

function coded<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    rethrow(e);
  }
}

// ---- packing --------------------------------------------------------------------------------

function writeAddr6(words: Uint32Array, at: number, v: bigint): void {
  words[at] = Number((v >> 96n) & 0xffffffffn);
  words[at + 1] = Number((v >> 64n) & 0xffffffffn);
  words[at + 2] = Number((v >> 32n) & 0xffffffffn);
  words[at + 3] = Number(v & 0xffffffffn);
}

function checkPorts(p: PortRange | undefined, what: string): void {
  if (p === undefined) return;
  if (!isU16(p.lo) || !isU16(p.hi) || p.lo > p.hi) throw argError(`${what} must be 0 <= lo <= hi <= 65535`);
}

/** Packs rules into the 16-word wire layout (checked). */
export function packRules(rules: readonly ClassifierRule[]): Uint32Array {
  const words = new Uint32Array(rules.length * RULE_WORDS);
  rules.forEach((r, i) => writeRule(words, i, r));
  return words;
}

/** Writes one rule at index `i` of a packed rule array (checked). */
export function writeRule(words: Uint32Array, i: number, r: ClassifierRule): void {
  const at = `rule ${i} (id ${String(r.ruleId)})`;
  if (!isU32(r.ruleId) || r.ruleId === NO_RULE_ID) throw argError(`${at}: ruleId must be a u32 other than 0xFFFFFFFF`);
  if (!isU32(r.priority)) throw argError(`${at}: priority must be a u32`);
  if (!isU8(r.action)) throw argError(`${at}: action must be 0..255`);
  checkPorts(r.srcPort, `${at}: srcPort`);
  checkPorts(r.dstPort, `${at}: dstPort`);
  if (r.proto !== undefined && (!isU8(r.proto.value) || !isU8(r.proto.mask))) throw argError(`${at}: proto value/mask must be 0..255`);
  const o = i * RULE_WORDS;
  const kinds = new Set([r.src.kind, r.dst.kind]);
  kinds.delete('any');
  let kind: number;
  if (kinds.size === 0 || (kinds.size === 1 && kinds.has('set'))) kind = RULE_KIND.sets;
  else if (kinds.size === 1 && kinds.has('prefix4')) kind = RULE_KIND.prefix4;
  else if (kinds.size === 1 && kinds.has('prefix6')) kind = RULE_KIND.prefix6;
  else throw argError(`${at}: src and dst must both be prefixes of one family, or both sets/any`);
  words[o] = kind | (r.action << 8);
  words[o + 1] = r.priority;
  words[o + 2] = r.ruleId;
  const fields: [AddressField, number][] = [
    [r.src, 4],
    [r.dst, 8],
  ];
  let lens = 0;
  fields.forEach(([f, w], k) => {
    let len = 0;
    if (f.kind === 'any') {
      if (kind === RULE_KIND.sets) words[o + w] = ANY_SET;
    } else if (f.kind === 'set') {
      if (!isU32(f.setId) || f.setId === ANY_SET) throw argError(`${at}: setId must be a u32 other than 0xFFFFFFFF (use kind 'any')`);
      words[o + w] = f.setId;
    } else if (f.kind === 'prefix4') {
      if (!isU32(f.addr) || !Number.isInteger(f.prefixLen) || f.prefixLen < 0 || f.prefixLen > 32) throw argError(`${at}: bad IPv4 prefix`);
      words[o + w] = f.addr;
      len = f.prefixLen;
    } else {
      if (typeof f.addr !== 'bigint' || f.addr < 0n || f.addr >= 1n << 128n || !Number.isInteger(f.prefixLen) || f.prefixLen < 0 || f.prefixLen > 128)
        throw argError(`${at}: bad IPv6 prefix`);
      writeAddr6(words, o + w, f.addr);
      len = f.prefixLen;
    }
    lens |= len << (8 * k);
  });
  words[o + 3] = lens;
  const sp = r.srcPort ?? { lo: 0, hi: 65535 };
  const dp = r.dstPort ?? { lo: 0, hi: 65535 };
  words[o + 12] = (sp.lo | (sp.hi << 16)) >>> 0;
  words[o + 13] = (dp.lo | (dp.hi << 16)) >>> 0;
  words[o + 14] = r.proto ? r.proto.value | (r.proto.mask << 8) : 0;
  words[o + 15] = 0;
}

/** Packs set edits into the 6-word wire layout (checked). */
export function packSetEdits(edits: readonly SetEdit[]): Uint32Array {
  const words = new Uint32Array(edits.length * EDIT_WORDS);
  edits.forEach((e, i) => {
    const o = i * EDIT_WORDS;
    if (!isU32(e.setId) || e.setId === ANY_SET) throw argError(`edit ${i}: setId must be a u32 other than 0xFFFFFFFF`);
    if (e.op !== 'add' && e.op !== 'remove') throw argError(`edit ${i}: op must be add or remove`);
    const max = e.family === 4 ? 32 : e.family === 6 ? 128 : -1;
    if (!Number.isInteger(e.prefixLen) || e.prefixLen < 0 || e.prefixLen > max) throw argError(`edit ${i}: bad family or prefixLen`);
    words[o] = (e.op === 'add' ? 1 : 2) | (e.family << 8) | (e.prefixLen << 16);
    words[o + 1] = e.setId;
    if (e.family === 4) {
      if (!isU32(e.addr)) throw argError(`edit ${i}: IPv4 addr must be a u32 number`);
      words[o + 2] = e.addr;
    } else {
      if (typeof e.addr !== 'bigint' || e.addr < 0n || e.addr >= 1n << 128n) throw argError(`edit ${i}: IPv6 addr must be a 128-bit bigint`);
      writeAddr6(words, o + 2, e.addr);
    }
  });
  return words;
}

/** Writes one IPv4 header at index `i` of a packed header array. Unchecked: hot path. */
export function writeHeader4(words: Uint32Array, i: number, src: number, dst: number, sport: number, dport: number, proto: number): void {
  const o = i * HEADER4_WORDS;
  words[o] = src;
  words[o + 1] = dst;
  words[o + 2] = ((sport << 16) | dport) >>> 0;
  words[o + 3] = proto;
}

/** Writes one IPv6 header at index `i` of a packed header array. */
export function writeHeader6(words: Uint32Array, i: number, src: bigint, dst: bigint, sport: number, dport: number, proto: number): void {
  const o = i * HEADER6_WORDS;
  writeAddr6(words, o, src);
  writeAddr6(words, o + 4, dst);
  words[o + 8] = ((sport << 16) | dport) >>> 0;
  words[o + 9] = proto;
}

// ---- the classifier -------------------------------------------------------------------------

export interface BatchOutput {
  /** rule id per header, NO_RULE_ID (0xFFFFFFFF) when nothing matched */
  readonly ruleId: Uint32Array;
  /** action per header, 0 when nothing matched */
  readonly action: Uint8Array;
}

export interface BatchOptions {
  readonly minPriority?: number;
  /** one header at a time, no batching or prefetch (the "native-scalar" engine) */
  readonly scalar?: boolean;
}

const decodeMatch = (raw: number): Match | null => (raw < 0 ? null : { ruleId: raw % 4294967296, action: Math.floor(raw / 4294967296) });

export class NativeClassifier {
  private readonly raw: RawClassifier;
  private readonly header6 = new Uint32Array(HEADER6_WORDS);

  constructor() {
    this.raw = new (addon().classifier.Classifier)();
  }

  /** Compiles packed rules on a worker thread, then publishes them atomically. */
  async compile(rules: Uint32Array): Promise<BuildResult> {
    checkRuleWords(rules);
    try {
      return await this.raw.compile(rules);
    } catch (e) {
      rethrow(e);
    }
  }

  /** The same as compile(), on the calling thread. */
  compileSync(rules: Uint32Array): BuildResult {
    checkRuleWords(rules);
    try {
      return this.raw.compileSync(rules);
    } catch (e) {
      rethrow(e);
    }
  }

  /** Applies packed set edits as one new version; `changed` counts edits that changed membership. */
  updateSets(edits: Uint32Array): { version: number; changed: number } {
    if (!(edits instanceof Uint32Array) || edits.length % EDIT_WORDS !== 0) throw argError(`edits must be a Uint32Array of ${EDIT_WORDS}-word edits`);
    try {
      return this.raw.updateSets(edits);
    } catch (e) {
      rethrow(e);
    }
  }

  lookup4(src: number, dst: number, sport: number, dport: number, proto: number, minPriority = 0): Match | null {
    return decodeMatch(this.lookup4Raw(src, dst, sport, dport, proto, minPriority));
  }

  /** -1 for no match, else ruleId + action * 2^32 (no object per call). */
  lookup4Raw(src: number, dst: number, sport: number, dport: number, proto: number, minPriority = 0): number {
    if (!isU32(src) || !isU32(dst) || !isU16(sport) || !isU16(dport) || !isU8(proto) || !isU32(minPriority)) throw argError('lookup4: bad header field');
    return this.raw.lookup4(src, dst, sport, dport, proto, minPriority);
  }

  lookup6(src: bigint, dst: bigint, sport: number, dport: number, proto: number, minPriority = 0): Match | null {
    if (typeof src !== 'bigint' || typeof dst !== 'bigint' || src < 0n || dst < 0n || src >= 1n << 128n || dst >= 1n << 128n) throw argError('lookup6: addresses must be 128-bit bigints');
    if (!isU16(sport) || !isU16(dport) || !isU8(proto) || !isU32(minPriority)) throw argError('lookup6: bad header field');
    writeHeader6(this.header6, 0, src, dst, sport, dport, proto);
    return decodeMatch(this.raw.lookup6(this.header6, minPriority));
  }

  /** Classifies every IPv4 header of a packed array (HEADER4_WORDS per header). */
  lookupBatch4(headers: Uint32Array, out: BatchOutput, opts: BatchOptions = {}): void {
    this.batch(headers, HEADER4_WORDS, out, opts, false);
  }

  /** Classifies every IPv6 header of a packed array (HEADER6_WORDS per header). */
  lookupBatch6(headers: Uint32Array, out: BatchOutput, opts: BatchOptions = {}): void {
    this.batch(headers, HEADER6_WORDS, out, opts, true);
  }

  stats(): ClassifierStats {
    return this.raw.stats();
  }

  private batch(headers: Uint32Array, words: number, out: BatchOutput, opts: BatchOptions, v6: boolean): void {
    if (!(headers instanceof Uint32Array) || headers.length % words !== 0) throw argError(`headers must be a Uint32Array of ${words}-word headers`);
    const n = headers.length / words;
    if (!(out.ruleId instanceof Uint32Array) || !(out.action instanceof Uint8Array) || out.ruleId.length < n || out.action.length < n)
      throw argError('out.ruleId (Uint32Array) and out.action (Uint8Array) must hold one entry per header');
    const minPriority = opts.minPriority ?? 0;
    if (!isU32(minPriority)) throw argError('minPriority must be a u32');
    const scalar = opts.scalar === true;
    if (v6) this.raw.lookupBatch6(headers, out.ruleId, out.action, minPriority, scalar);
    else this.raw.lookupBatch4(headers, out.ruleId, out.action, minPriority, scalar);
  }
}

function checkRuleWords(rules: Uint32Array): void {
  if (!(rules instanceof Uint32Array) || rules.length % RULE_WORDS !== 0) throw argError(`rules must be a Uint32Array of ${RULE_WORDS}-word rules (use packRules/writeRule)`);
  for (let o = 0; o < rules.length; o += RULE_WORDS) {
    const kind = rules[o]! & 0xff;
    const sl = rules[o + 3]! & 0xff;
    const dl = (rules[o + 3]! >> 8) & 0xff;
    const max = kind === 0 ? 32 : kind === 1 ? 128 : kind === 2 ? 255 : -1;
    if (max < 0) throw argError(`rule ${o / RULE_WORDS}: unknown kind ${kind}`);
    if (sl > max || dl > max) throw argError(`rule ${o / RULE_WORDS}: prefix length out of range`);
    if (rules[o + 2] === NO_RULE_ID) throw argError(`rule ${o / RULE_WORDS}: ruleId 0xFFFFFFFF is reserved`);
    const sp = rules[o + 12]!;
    const dp = rules[o + 13]!;
    if ((sp & 0xffff) > sp >>> 16 || (dp & 0xffff) > dp >>> 16) throw argError(`rule ${o / RULE_WORDS}: port range lo > hi`);
  }
}
