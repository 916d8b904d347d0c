/**
 * The `ebpf` sub-module of the addon (addon/napi/ebpf.cc over backends/ebpf/native/datapath.h), as
 * src/native/binding.ts `nativeEbpf()` hands it to backends/ebpf; the BPF objects it loads come
 * from binding.ts `bpfObjectPath()`. Types only: loading happens in binding.ts.
 *
 * Errors thrown natively carry `code` (ERR_PALISADE_EBPF_PERMISSION, ERR_PALISADE_EBPF_SYSCALL, ERR_PALISADE_NATIVE_ARGUMENT) and `errno`; they
 * pass unchanged until backends/ebpf moves to the names of docs/error-codes.md (binding.ts
 * NATIVE_CODES already maps them).
 */

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
  /**
   * Host entries may carry an expiry (palisade_maps.h pal_host_class): per entry the class once
   * expired and the expiry in CLOCK_MONOTONIC ns (0 = never); without them nothing expires.
   */
  writeAddresses(gen: number, families: Uint8Array, prefixLens: Uint8Array, addrs: Uint8Array, classIds: Uint32Array, expiredClassIds?: Uint32Array, expiresNs?: BigUint64Array): void;
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
  /**
   * Redirect targets (palisade_maps.h pal_redirect) of the egress rules at positions `rules`:
   * per rule 32 address bytes (IPv4 in the first 4 of 16, then IPv6), two ports (IPv4, IPv6; host
   * order) and two presence flags.
   */
  writeRedirects(gen: number, rules: Uint32Array, addrs: Uint8Array, ports: Uint32Array, present: Uint8Array): void;
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
