/**
 * The nftables backend's door to native code: the functions RegisterNftables (native/nft.h) adds
 * to the one addon, build/Release/palisade.node, reached through the project's loader
 * (src/native/binding.ts `nativeModule()`). Nothing else in backends/nftables touches the addon.
 *
 * Errors thrown by these functions carry a stable `code` (ERR_PALISADE_NFT, ERR_PALISADE_NFT_INPUT,
 * ERR_PALISADE_NFT_CTX, ERR_PALISADE_NETNS) and, for ERR_PALISADE_NFT, `nftError` (libnftables'
 * error text). A missing addon is PAL_NATIVE_MISSING (from the loader); an addon built without
 * backends/nftables/native is ERR_PALISADE_NATIVE_NFT_MISSING.
 * When this file runs from a compiled copy outside the source tree (e.g. .bench-tmp/nft-dist, see
 * tsconfig.build.json) the loader's relative path misses; then the addon is taken from the
 * package root (the nearest package.json named "palisade").
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  const mod = loadAddon();
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

type RawNft = Partial<NftNative> & Record<string, unknown>;

function loadAddon(): RawNft {
  try {
    return nativeModule() as unknown as RawNft;
  } catch (e) {
    const root = packageRoot();
    const path = root ? join(root, 'build/Release/palisade.node') : undefined;
    if (!path || !existsSync(path)) throw e;
    return createRequire(import.meta.url)(path) as RawNft;
  }
}

function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'palisade') return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
