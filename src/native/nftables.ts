/**
 * The `nftables` sub-module of the addon (addon/napi/nftables.cc over backends/nftables/native:
 * nft.h, setelem.h, nflog.h), as src/native/binding.ts `nativeNftables()` hands it to backends/nftables.
 * Types only: loading happens in binding.ts.
 *
 * Errors thrown by these functions carry a stable `code` (ERR_PALISADE_NFT, ERR_PALISADE_NFT_INPUT,
 * ERR_PALISADE_NFT_CTX, ERR_PALISADE_NETNS with `errno` and `path`, ERR_PALISADE_NFLOG with
 * `errno`, ERR_PALISADE_NFT_NETLINK with `errno`) and, for ERR_PALISADE_NFT, `nftError` (libnftables' or
 * the netlink batch's error text; from nftSetElements also `errno` and `element`).
 */

export interface NftNative {
  /** Run one JSON document in one kernel transaction; returns libnftables' JSON output. */
  nftRun(json: string, netnsPath?: string, echo?: boolean): string;
  /**
   * One netlink batch of set-element deletes/adds in table inet palisade (setelem.h), without
   * libnftables: element i is ops[i] (0 delete, 1 add, 2 destroy: a delete that is no error when
   * the element is absent, Linux >= 6.3) of addrs[16i..16i+16) (family[i] 4: the first 4 bytes)
   * in set sets[setIndex[i]], an add with timeoutMs[i] (0 = none; sets with the timeout flag).
   * All or nothing. Plain (non-interval) sets only.
   */
  nftSetElements(sets: readonly string[], ops: Uint8Array, setIndex: Uint32Array, family: Uint8Array, addrs: Uint8Array, timeoutMs: Uint32Array, netnsPath?: string): void;
  /**
   * One whole table change as one netlink batch built by libnftnl (backends/nftables/native/table.h)
   * from a table program (backends/nftables/netlink-program.ts), without libnftables. All or
   * nothing. Absent on test doubles that only record JSON documents: the backend then sends
   * everything through nftRun.
   */
  nftApplyProgram?(words: Uint32Array, strings: readonly string[], elementKeys: Uint8Array, elementFlags: Uint8Array, elementTimeoutMs: Uint32Array, netnsPath?: string): void;
  /** Call fn with this thread inside the network namespace at netnsPath (synchronous code only). */
  nftWithNetns<T>(netnsPath: string, fn: () => T): T;
  /** NFLOG reader (backends/nftables/native/nflog.h): bind `group` (inside netnsPath when given); returns the fd. */
  nflogOpen(group: number, netnsPath?: string): number;
  nflogDrain(fd: number, max?: number): NflogPacket[];
  nflogClose(fd: number): void;
}

/** One logged packet, parsed from its network header. */
export interface NflogPacket {
  readonly prefix: string;
  readonly family: 4 | 6;
  /** IP protocol number */
  readonly protocol: number;
  readonly src: string;
  readonly dst: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
}

export interface NftErrorFields {
  readonly code?: string;
  readonly nftError?: string;
  /** nftSetElements: the index of the element the kernel refused (absent: the commit) */
  readonly element?: number;
  readonly errno?: number;
}
