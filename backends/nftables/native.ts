/**
 * The nftables backend's door to native code: loads the addon and types the two functions
 * RegisterNftables adds (native/nft.h). Nothing else in backends/nftables touches the addon.
 *
 * Which binary: the single product addon build/Release/palisade.node when it carries `nftRun`;
 * until the root CMake build includes backends/nftables/native/*.cc, the private test build
 * build-nft/palisade_nft.node (backends/nftables/native/CMakeLists.txt).
 * Errors thrown by these functions carry a stable `code` (ERR_PALISADE_NFT, ERR_PALISADE_NFT_INPUT,
 * ERR_PALISADE_NFT_CTX, ERR_PALISADE_NETNS) and, for ERR_PALISADE_NFT, `nftError`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NftNative {
  /** Run one JSON document in one kernel transaction; returns libnftables' JSON output. */
  nftRun(json: string, netnsPath?: string, echo?: boolean): string;
  /** Call fn with this thread inside the network namespace at netnsPath (synchronous code only). */
  nftWithNetns<T>(netnsPath: string, fn: () => T): T;
}

export interface NftErrorFields {
  readonly code?: string;
  readonly nftError?: string;
}

const CANDIDATES = ['../../build/Release/palisade.node', '../../build-nft/palisade_nft.node'];

let cached: NftNative | undefined;

export function loadNftNative(): NftNative {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    tried.push(path);
    if (!existsSync(path)) continue;
    const mod = require(path) as Partial<NftNative>;
    if (typeof mod.nftRun === 'function' && typeof mod.nftWithNetns === 'function') {
      cached = mod as NftNative;
      return cached;
    }
  }
  const e = new Error(`the nftables glue is not built (looked for nftRun in ${tried.join(', ')})`) as Error & { code: string };
  e.code = 'ERR_PALISADE_NATIVE_MISSING';
  throw e;
}
