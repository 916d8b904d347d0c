/**
 * The nftables backend's door to native code: the functions RegisterNftables (native/nft.h) adds
 * to the one addon, build/Release/palisade.node, reached through the project's loader
 * (src/native/binding.ts `nativeModule()`). Nothing else in backends/nftables touches the addon.
 *
 * Errors thrown by these functions carry a stable `code` (ERR_PALISADE_NFT, ERR_PALISADE_NFT_INPUT,
 * ERR_PALISADE_NFT_CTX, ERR_PALISADE_NETNS) and, for ERR_PALISADE_NFT, `nftError` (libnftables'
 * error text). A missing addon is PAL_NATIVE_MISSING (from the loader); an addon built without
 * backends/nftables/native is ERR_PALISADE_NATIVE_NFT_MISSING.
 */
import { nativeModule } from '../../src/native/binding.js';

export interface NftNative {
  /** Run one JSON document in one kernel transaction; returns libnftables' JSON output. */
  nftRun(json: string, netnsPath?: string, echo?: boolean): string;
  /** Call fn with this thread inside the network namespace at netnsPath (synchronous code only). */
  nftWithNetns<T>(netnsPath: string, fn: () => T): T;
  /** NFLOG reader (native/nflog.h): bind `group` (inside netnsPath when given); returns the fd. */
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
}

let cached: NftNative | undefined;

export function loadNftNative(): NftNative {
  if (cached) return cached;
  const mod = nativeModule() as unknown as Partial<NftNative>;
  if (typeof mod.nftRun !== 'function' || typeof mod.nftWithNetns !== 'function') {
    throw Object.assign(new Error('build/Release/palisade.node has no nftRun: rebuild with npm run build:native'), {
      code: 'ERR_PALISADE_NATIVE_NFT_MISSING',
    });
  }
  cached = {
    nftRun: mod.nftRun.bind(mod),
    nftWithNetns: mod.nftWithNetns.bind(mod),
    nflogOpen: (group, netnsPath) => {
      if (typeof mod.nflogOpen !== 'function') throw Object.assign(new Error('the addon has no nflogOpen: rebuild'), { code: 'ERR_PALISADE_NATIVE_NFT_MISSING' });
      return mod.nflogOpen(group, netnsPath);
    },
    nflogDrain: (fd, max) => mod.nflogDrain!(fd, max),
    nflogClose: (fd) => mod.nflogClose!(fd),
  } as NftNative;
  return cached;
}
