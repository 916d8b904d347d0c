#!/usr/bin/env node
/**
 * nftables benchmarks, run by `npm run bench` as root: full apply for
 * 5,000 pods / 1,000 policies, one pod change (set-element delta), forwarding with ~10k rules
 * versus none (a bounded UDP flood between two test namespaces). The measuring code is
 * bench/nftables.measure.ts (it needs the test topology); this runs it through vitest with
 * bench/vitest.config.ts and passes its `BENCH` lines through; its one `BENCH-JSON` line becomes
 * this file's last stdout line, the JSON object of the headline figures (keys in bench/RESULTS.md).
 * Not root: says so and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.getuid?.() !== 0) {
  console.log('nftables benchmarks need root (network namespaces, nftables); skipped');
  console.log(JSON.stringify({ skipped: 'needs root' }));
  process.exit(0);
}
const r = spawnSync('npx', ['vitest', 'run', '--config', 'bench/vitest.config.ts', '--reporter=dot'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 << 20,
});
// vitest colours its console output: the escape codes go, so the lines read (and parse) plain
const all = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
const lines = all.filter((l) => l.includes('BENCH') && !l.startsWith('BENCH-JSON '));
console.log(lines.join('\n') || '(no BENCH lines printed)');
const json = all.filter((l) => l.startsWith('BENCH-JSON '));
let headline = null;
if (json.length === 1) {
  headline = JSON.parse(json[0].slice('BENCH-JSON '.length));
} else console.log(`(${json.length} BENCH-JSON lines printed, expected 1)`);
process.exitCode = r.status === 0 && lines.length > 0 && headline ? 0 : 1;
// the headline figures, machine-readable, as the last line (bench/run.mjs collects it)
if (headline) console.log(JSON.stringify(headline));
