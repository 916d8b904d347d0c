/**
 * Where the topology's non-TypeScript helpers live at run time. `agent.mjs` (the in-namespace
 * servers and probers) and `sctp_raw.py` (raw SCTP INITs) stay in src/topology/: tsc does not copy
 * them into dist/, so both the sources (vitest) and the compiled copy (dist/src/topology) find
 * them from the package root, the nearest folder above this module holding the package.json
 * named "palisade".
 *
 * Cost: a few stat/read calls on first use, then cached. Pure apart from the file system reads.
 */
import { PalisadeError } from '../model/errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The folder holding Palisade's package.json, found by walking up from `fromUrl`. */
export function packageRoot(fromUrl: string = import.meta.url): string {
  if (fromUrl === import.meta.url && cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isPalisade(manifest)) {
      if (fromUrl === import.meta.url) cachedRoot = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `no package.json named "palisade" above ${fileURLToPath(fromUrl)}`);
    dir = up;
  }
}

function isPalisade(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'palisade';
  } catch {
    return false;
  }
}

/** Absolute path of a helper script kept in src/topology/ (e.g. "agent.mjs"); throws when missing. */
export function topologyAsset(name: 'agent.mjs' | 'sctp_raw.py'): string {
  const path = join(packageRoot(), 'src', 'topology', name);
  if (!existsSync(path)) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `topology helper ${path} is missing`);
  return path;
}
