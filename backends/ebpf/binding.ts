/**
 * The eBPF backend's door to native code: loads the addon and types what RegisterEbpf adds
 * (native/ebpf_napi.cc). Nothing else in backends/ebpf touches the addon.
 *
 * Which binary: the single product addon build/Release/palisade.node or the private build
 * build-ebpf/Release/palisade_ebpf.node (backends/ebpf/native/CMakeLists.txt), whichever carries
 * `EbpfDatapath` and is newer. BPF objects: build/palisade.bpf.o (root CMake) or
 * build-ebpf/palisade.bpf.o. Errors thrown natively carry `code` (PAL_EBPF_EPERM,
 * PAL_EBPF_ERRNO, PAL_EBPF_ARG) and `errno`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProgInfo {
  readonly id: number;
  readonly verifiedInsns: number;
  readonly xlatedBytes: number;
  readonly jitedBytes: number;
}

export interface TestRunResult {
  readonly retval: number;
  /** average per repetition, as the kernel measures it */
  readonly durationNs: number;
}

export interface RawDenyEvent {
  readonly timeNs: bigint;
  readonly ifindex: number;
  readonly ruleId: number;
  readonly counterIndex: number;
  readonly family: number;
  readonly proto: number;
  /** 0 ingress, 1 egress */
  readonly direction: number;
  /** 0 Admin, 1 NetworkPolicy, 2 Baseline, 3 Default */
  readonly tier: number;
  readonly srcPort: number;
  readonly dstPort: number;
  /** 0 rule, 1 malformed, 2 fragment, 3 map miss */
  readonly reason: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

export interface NativeDatapath {
  adopted(): boolean;
  progInfo(program: 'pal_egress' | 'pal_ingress'): ProgInfo;
  attach(netnsPath: string, ifname: string, role: 'pod' | 'host'): void;
  detach(netnsPath: string, ifname: string): void;
  query(netnsPath: string, ifname: string): { ingressProgId: number; egressProgId: number };
  activeGeneration(): { gen: number; version: number };
  activate(gen: number, version: number): void;
  /** config.flags: 1 = emit deny events (PAL_CFG_LOG_DENIED) */
  setFlags(flags: number): void;
  clearAddresses(gen: number): void;
  writeAddresses(gen: number, families: Uint8Array, prefixLens: Uint8Array, addrs: Uint8Array, classIds: Uint32Array): void;
  deleteAddresses(gen: number, families: Uint8Array, prefixLens: Uint8Array, addrs: Uint8Array): void;
  writePortClasses(gen: number, classes: Uint32Array): void;
  writeRowHeads(gen: number, dir: number, dim: number, firstClass: number, masks: BigUint64Array, firstIndexes: Uint32Array): void;
  /** row_index entries from firstIndex (absolute): absolute rows */
  writeRowIndex(firstIndex: number, rows: Uint32Array): void;
  writeRows(firstRow: number, words: BigUint64Array): void;
  writeVerdicts(
    gen: number,
    dir: number,
    actions: Uint8Array,
    tiers: Uint8Array,
    passTargets: Uint32Array,
    counterIndexes: Uint32Array,
    ruleIds: Uint32Array,
  ): void;
  readCounters(slots: Uint32Array): { packets: BigUint64Array; bytes: BigUint64Array };
  clearCounters(): void;
  readStats(): BigUint64Array;
  drainDenyEvents(max?: number): RawDenyEvent[];
  flowCount(): number;
  clearFlows(): void;
  testRun(program: 'pal_egress' | 'pal_ingress', packet: Uint8Array, repeat: number): TestRunResult;
  unpin(): void;
  close(): void;
}

export interface EbpfLayout {
  readonly generations: number;
  readonly maxRules: number;
  readonly maxClasses: number;
  readonly rowsPerGen: number;
  readonly indexPerGen: number;
  readonly chunkRules: number;
  readonly maxCounters: number;
  readonly stats: number;
  readonly exactEntries: number;
  readonly lpmEntries: number;
  readonly flagLogDenied: number;
}

export interface EbpfNative {
  EbpfDatapath: new (objPath: string, pinDir: string, forceReload: boolean) => NativeDatapath;
  ebpfLoadStandalone(objPath: string, program: string): number;
  ebpfTestRunFd(fd: number, packet: Uint8Array, repeat: number): TestRunResult;
  ebpfCloseFd(fd: number): void;
  ebpfLayout(): EbpfLayout;
}

const ADDONS = ['build/Release/palisade.node', 'build-ebpf/Release/palisade_ebpf.node'];
const OBJECT_DIRS = ['build/', 'build-ebpf/'];

/** The repository root: the nearest ancestor with palisade's package.json (works from src, dist or a compiled copy). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'palisade') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return fileURLToPath(new URL('../../', import.meta.url));
    dir = up;
  }
}

let cached: EbpfNative | undefined;
let cachedObjectDir: string | undefined;

export function loadEbpfNative(): EbpfNative {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  const root = projectRoot();
  // Both builds may exist (the product addon and the private one); take the newer, so that a
  // stale product build never shadows the loader being worked on (and vice versa).
  const found: { rel: string; mod: EbpfNative; mtime: number }[] = [];
  for (const rel of ADDONS) {
    const path = join(root, rel);
    tried.push(path);
    if (!existsSync(path)) continue;
    const mod = require(path) as Partial<EbpfNative>;
    if (typeof mod.EbpfDatapath === 'function' && typeof mod.ebpfLayout === 'function') {
      found.push({ rel, mod: mod as EbpfNative, mtime: statSync(path).mtimeMs });
    }
  }
  found.sort((a, b) => b.mtime - a.mtime);
  if (found[0]) {
    cached = found[0].mod;
    cachedObjectDir = OBJECT_DIRS[ADDONS.indexOf(found[0].rel)];
    return cached;
  }
  const e = new Error(`the eBPF loader is not built (looked in ${tried.join(', ')}); run \`npm run build:native\``);
  (e as Error & { code: string }).code = 'PAL_EBPF_MISSING';
  throw e;
}

/** Path of a BPF object (`palisade` or `pass_all`), from the build the loaded addon came from. */
export function bpfObjectPath(name: 'palisade' | 'pass_all'): string {
  const tried: string[] = [];
  loadEbpfNative();
  const root = projectRoot();
  for (const rel of [cachedObjectDir!, ...OBJECT_DIRS]) {
    const path = join(root, `${rel}${name}.bpf.o`);
    tried.push(path);
    if (existsSync(path)) return path;
  }
  const e = new Error(`BPF object ${name}.bpf.o is not built (looked in ${tried.join(', ')})`);
  (e as Error & { code: string }).code = 'PAL_EBPF_MISSING';
  throw e;
}

export function ebpfAvailable(): boolean {
  try {
    loadEbpfNative();
    bpfObjectPath('palisade');
    return true;
  } catch {
    return false;
  }
}
