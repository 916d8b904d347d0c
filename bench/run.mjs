#!/usr/bin/env node
/**
 * `npm run bench`: runs every bench/*.bench.mjs, one after the other, each in its own node process
 * (so one benchmark's heap and JIT state do not colour the next), and prints each one's output.
 * `npm run bench -- classbench` runs only the files whose name contains "classbench".
 * Exit code: 0 when every benchmark exited 0 (each checks its answers before timing anything).
 * Last stdout line: one JSON object holding, under each file's name, the JSON object that file
 * printed as its last line (null when that line is not a JSON object: a failed run).
 * Prebench (scripts/setup.sh) has built dist/ and build/Release/palisade.node.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const cpu = os.cpus()[0]?.model ?? 'unknown';
console.log(`# palisade benchmarks\n\nmachine: ${cpu}, ${os.cpus().length} logical CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${os.type()} ${os.release()}`);
console.log(`started: ${new Date().toISOString()}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

/** Runs one file, its stdout passed through as it comes; resolves with its exit and last line. */
function runOne(file) {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [file], { stdio: ['inherit', 'pipe', 'inherit'] });
    let tail = '';
    c.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d.toString('utf8')).slice(-(1 << 20));
    });
    c.on('close', (status, signal) => {
      const last = tail.trimEnd().split('\n').pop() ?? '';
      let figures = null;
      try {
        const v = JSON.parse(last);
        if (v && typeof v === 'object' && !Array.isArray(v)) figures = v;
      } catch {
        // not JSON: the run failed before its last line (its status says so)
      }
      resolve({ status, signal, figures });
    });
  });
}

const failed = [];
const figures = {};
for (const f of files) {
  console.log(`\n## ${f}\n`);
  const t0 = Date.now();
  const r = await runOne(join(here, f));
  const status = r.status ?? `signal ${r.signal}`;
  console.log(`\n(${f}: exit ${status}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (r.status !== 0) failed.push(f);
  figures[f] = r.figures;
}
if (files.length === 0) console.log('no bench/*.bench.mjs matched');
console.log(failed.length ? `\nFAILED: ${failed.join(', ')}` : `\nall ${files.length} benchmark(s) passed their answer checks`);
process.exitCode = failed.length ? 1 : 0;
console.log(JSON.stringify(figures));
