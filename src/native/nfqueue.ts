/**
 * The `nfqueue` sub-module of the addon (addon/napi/nfqueue.cc over backends/nfqueue/native:
 * packet.h, loop.h, rule_table.h, engine_source.h), as src/native/binding.ts `nativeNfqueue()`
 * hands it to backends/nfqueue. Types only: loading happens in binding.ts.
 *
 * Errors thrown natively carry a stable `code`; binding.ts rethrows them with the codes of
 * docs/error-codes.md (ERR_PALISADE_NATIVE_ARGUMENT, ERR_PALISADE_NFQUEUE_START,
 * ERR_PALISADE_NFQUEUE_RULES, ERR_PALISADE_NOT_APPLIED).
 */

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
  /** the native classifier pair (backends/nfqueue/policy.ts packLoopPolicy); returns the published version */
  publishEngine(egressRules: Uint32Array, ingressRules: Uint32Array, setEdits: Uint32Array, egressNpTierStart: number, ingressNpTierStart: number): number;
  /**
   * the current engine with these set edits (adds and removes) applied, as one new version: cost
   * O(edits), not O(members); `changed`: edits that changed a membership
   */
  editMembership(setEdits: Uint32Array): { version: number; changed: number };
  /** the observed subjects, 17 bytes each (family, address in network order, IPv4 zero-padded); empty: off */
  publishObserved(keys: Uint8Array): void;
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

export interface NfqueueNative {
  nfqParsePacket(bytes: Uint8Array): ParsedPacket;
  nfqParseStatuses(bytes: Uint8Array, offsets: Uint32Array): Uint8Array;
  NfqLoop: new (options: NfqLoopOptions, onDenied?: (records: Buffer) => void) => NfqLoop;
  nfqConstants: { denyRecordBytes: number; ruleBytes: number; parseStatus: ParseStatusName[] };
}
