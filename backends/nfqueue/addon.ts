/**
 * The nfqueue backend's typed view of the native addon (backends/nfqueue/native/nfqueue.h).
 *
 * The product has ONE addon, build/Release/palisade.node, whose init calls RegisterNfqueue; it is
 * reached through the one door, src/native/binding.ts `nativeModule()`. Two fallbacks, both for
 * development: a compiled copy of the sources (e.g. .bench-tmp/nfq-dist, where binding.ts's
 * relative path does not reach build/) finds the same file from the package root; and the private
 * build (build-nfq/palisade_nfq.node, `cmake -S backends/nfqueue/native -B build-nfq -G Ninja &&
 * cmake --build build-nfq`) is preferred when it is newer than the product addon (a developer
 * rebuilding only this backend). This is the only file of the backend that touches native code.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeModule } from '../../src/native/binding.js';

export type ParseStatusName =
  | 'ok'
  | 'unported'
  | 'non-first-fragment'
  | 'truncated'
  | 'malformed'
  | 'ext-header-limit';

export interface ParsedPacket {
  readonly status: ParseStatusName;
  readonly family: number;
  readonly proto: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly icmpType: number;
  readonly icmpCode: number;
  /** network order, 16 bytes (IPv4 in the first 4) */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly l4Offset: number;
  readonly firstFragment: boolean;
}

export interface NfqLoopOptions {
  readonly queues: readonly number[];
  readonly mode?: 'enforce' | 'accept-all';
  readonly failOpen?: boolean;
  /** 0: plain NF_ACCEPT; else NF_REPEAT with this mark bit (needs the steering chain, steer.ts) */
  readonly acceptMark?: number;
  readonly queueMaxLen?: number;
  readonly copyRangeBytes?: number;
  readonly rcvbufBytes?: number;
  readonly maxBatch?: number;
  readonly logDenied?: boolean;
  readonly eventFlushMs?: number;
  /** open the queue sockets inside this network namespace (e.g. /run/netns/NAME) */
  readonly netnsPath?: string;
}

export interface NfqLoopStats {
  readonly packets: number;
  readonly accepted: number;
  readonly denied: number;
  readonly unclassifiable: number;
  readonly verdictMessages: number;
  readonly batches: number;
  readonly recvErrors: number;
  readonly verdictErrors: number;
  readonly recordsDropped: number;
  readonly snapshotVersion: number;
  readonly latencySamples: number;
  readonly latencyP50Ns: number;
  readonly latencyP99Ns: number;
  readonly latencyP999Ns: number;
  readonly byParseStatus: Readonly<Record<ParseStatusName, number>>;
}

export interface NfqLoop {
  start(): void;
  stop(): void;
  /** packed LinearRuleTable rules (rules.ts), first match wins; returns the published version */
  publishRules(packed: Uint8Array, defaultAllow: boolean): number;
  /** the native classifier pair (policy.ts compileLoopPolicy); returns the published version */
  publishEngine(egressRules: Uint32Array, ingressRules: Uint32Array, setEdits: Uint32Array, egressNpTierStart: number, ingressNpTierStart: number): number;
  /** the current engine's compiled rules with this complete set membership; returns the version */
  publishMembership(setEdits: Uint32Array): number;
  stats(): NfqLoopStats;
  resetLatency(): void;
  /** --strict: delete conntrack entries whose flows the current snapshot denies */
  cutDenied(): { scanned: number; cut: number; errors: number };
  /** --strict: delete entries opened in the reverse direction of the last cut flows (reply race) */
  cutReverse(): { scanned: number; cut: number; errors: number };
  /** tests only: stop reading the queues (the kernel queue fills up) */
  setPaused(paused: boolean): void;
  /** mean ns of parse + classify of `packet` in C++ over `iterations` runs (benchmarks) */
  timeDecide(packet: Uint8Array, iterations: number): number;
  /** the decision for one packet under the current snapshot, without a queue (tests) */
  decide(packet: Uint8Array): { status: ParseStatusName; hasPolicy: boolean; allow: boolean; direction: 'egress' | 'ingress' | 'none'; ruleId: number };
}

export interface NfqAddon {
  nfqParsePacket(bytes: Uint8Array): ParsedPacket;
  nfqParseStatuses(bytes: Uint8Array, offsets: Uint32Array): Uint8Array;
  NfqLoop: new (options: NfqLoopOptions, onDenied?: (records: Buffer) => void) => NfqLoop;
  nfqConstants: { denyRecordBytes: number; ruleBytes: number; parseStatus: ParseStatusName[] };
}

/** The package root: the nearest directory upwards with palisade's package.json (this file may run
 *  from the source tree or from a compiled copy such as .bench-tmp/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'palisade') return dir + '/';
    const up = dirname(dir);
    if (up === dir) return fileURLToPath(new URL('../../', import.meta.url));
    dir = up;
  }
}
const CANDIDATES = ['build/Release/palisade.node', 'build-nfq/palisade_nfq.node'];

let cached: NfqAddon | undefined;

/** Loads the addon that carries the nfqueue functions; throws NFQ_ADDON_MISSING when none does. */
export function nfqAddon(): NfqAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  const root = packageRoot();
  // The product addon first; the private build only when it is newer (a developer's fresh edit).
  const present = CANDIDATES.map((rel) => ({ rel, path: root + rel })).filter((c) => {
    if (existsSync(c.path)) return true;
    tried.push(`${c.rel} (missing)`);
    return false;
  });
  const privateNewer = present.length === 2 && statSync(present[1]!.path).mtimeMs > statSync(present[0]!.path).mtimeMs;
  if (!privateNewer) {
    try {
      const mod = nativeModule() as unknown as Partial<NfqAddon>;
      if (typeof mod.NfqLoop === 'function' && typeof mod.nfqParsePacket === 'function') {
        cached = mod as NfqAddon;
        return cached;
      }
      tried.push('src/native/binding.ts nativeModule() (no nfqueue exports)');
    } catch (e) {
      tried.push(`src/native/binding.ts nativeModule() (${(e as Error).message})`);
    }
  }
  if (privateNewer) present.reverse();
  for (const { rel, path } of present) {
    const mod = require(path) as Partial<NfqAddon>;
    if (typeof mod.NfqLoop === 'function' && typeof mod.nfqParsePacket === 'function') {
      cached = mod as NfqAddon;
      return cached;
    }
    tried.push(`${rel} (no nfqueue exports)`);
  }
  const err = new Error(`nfqueue native code not found: ${tried.join(', ')}`) as Error & { code: string };
  err.code = 'NFQ_ADDON_MISSING';
  throw err;
}
