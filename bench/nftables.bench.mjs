#!/usr/bin/env node
/**
 * nftables benchmarks, run by `npm run bench` as root: full apply for
 * 5,000 pods / 1,000 policies, one pod change (set-element delta), forwarding with ~10k rules
 * versus none (a bounded UDP flood between two test namespaces). The measuring code is
 * bench/nftables.measure.ts (it needs the test topology); this runs it through vitest with
 * bench/vitest.config.ts and passes its `BENCH` lines through. Not root: says so and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.getuid?.() !== 0) {
  console.log('nftables benchmarks need root (network namespaces, nftables); skipped');
  process.exit(0);
}
const r = spawnSync('npx', ['vitest', 'run', '--config', 'bench/vitest.config.ts', '--reporter=dot'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 << 20,
});
const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('BENCH'));
console.log(lines.join('\n') || '(no BENCH lines printed)');
process.exitCode = r.status === 0 && lines.length > 0 ? 0 : 1;
