/**
 * The real CLI for process tests: `bin/palisade` (on the root dist/ build), the same entry a
 * person runs. ensureDist() rebuilds dist/ with the root tsconfig.json when a TypeScript source
 * under src/ or backends/ is newer than dist/.stamp (the rule scripts/setup.sh uses), so a test
 * never runs stale JavaScript. Type errors do not stop the emit (tsc's default), and the test then
 * fails on behaviour, not on a missing file. Cost: a no-op when fresh, one tsc run (~30 s) when not.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/topology/exec.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** `process.execPath PALISADE_BIN ARGS` runs the CLI. */
export const PALISADE_BIN = join(ROOT, 'bin/palisade');
const STAMP = join(ROOT, 'dist/.stamp');
const MAIN_JS = join(ROOT, 'dist/src/cli/main.js');

function newestTsMtimeMs(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestTsMtimeMs(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export async function ensureDist(): Promise<void> {
  const newest = Math.max(newestTsMtimeMs(join(ROOT, 'src')), newestTsMtimeMs(join(ROOT, 'backends')), statSync(join(ROOT, 'tsconfig.json')).mtimeMs);
  if (existsSync(STAMP) && existsSync(MAIN_JS) && statSync(STAMP).mtimeMs >= newest) return;
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { allowFailure: true, timeoutMs: 170_000 });
  if (!existsSync(MAIN_JS)) throw new Error('dist/src/cli/main.js is missing after `tsc -p tsconfig.json`');
  writeFileSync(STAMP, '');
}
