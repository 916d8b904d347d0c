/**
 * `palisade stats --backend NAME [--netns PATH] [--stats-file PATH] [--json | -o json]`: per-rule
 * counters of what a backend has installed, the same for every backend.
 *
 * Source: with --stats-file, the file a running `enforce` rewrites every second (enforce.ts
 * StatsFile); without it, the kernel directly for backends that can read it (Backend.stats() of a
 * fresh backend in that namespace), else the backend's default stats file.
 * Output: a table `packets bytes rule` then the backend's own figures; --json one JSON object per
 * rule per line; -o json the whole statistics object on one line.
 * Exit: 0, 1 when nothing can be read (no table, no file), 2 usage.
 */
import { PalisadeError } from '../model/errors.js';
import { readFileSync } from 'node:fs';
import type { Backend, BackendName, BackendStats } from '../enforce/backend.js';
import { createBackend } from '../../backends/registry.js';
import { UsageError } from './args.js';
import { backendUsage, defaultStatsFile, describeFailure, parseBackendArgs, usageFailure } from './backend.js';
import type { StatsFile } from './enforce.js';
import type { Io } from './io.js';

export async function runStats(name: BackendName, argv: readonly string[], io: Io): Promise<number> {
  let a;
  try {
    a = parseBackendArgs('stats', name, argv);
    if (a.flags.help) {
      io.out(backendUsage('stats', name));
      return 0;
    }
    if (a.flags.output !== undefined && a.flags.output !== 'json' && a.flags.output !== 'text') throw new UsageError(`-o: ${JSON.stringify(a.flags.output)} is not text or json`);
    if (a.flags.json && a.flags.output === 'json') throw new UsageError('--json and -o json: choose one');
  } catch (e) {
    return usageFailure('stats', name, e, io);
  }
  let stats: BackendStats | StatsFile;
  let backend: Backend | undefined;
  try {
    const file = a.flags['stats-file'] ?? (a.cli.statsFrom === 'file' ? defaultStatsFile(name) : undefined);
    if (file !== undefined) stats = readStatsFile(file, name);
    else {
      backend = await createBackend(name, a.options);
      stats = await backend.stats();
    }
  } catch (e) {
    io.err(`palisade stats --backend ${name}: ${describeFailure(e)}\n`);
    return 1;
  } finally {
    await backend?.close().catch(() => undefined);
  }
  if (a.flags.output === 'json') io.out(`${JSON.stringify(stats)}\n`);
  else if (a.flags.json) for (const r of stats.rules) io.out(`${JSON.stringify(r)}\n`);
  else io.out(formatStats(stats));
  return 0;
}

function readStatsFile(path: string, name: BackendName): StatsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PalisadeError('ERR_PALISADE_STATS_FILE', `cannot read ${path} (is \`palisade enforce --backend ${name}\` running with this --stats-file?): ${(e as Error).message}`, { cause: e, details: { path } });
  }
  const s = JSON.parse(text) as StatsFile;
  if (s.backend !== name || !Array.isArray(s.rules)) throw new PalisadeError('ERR_PALISADE_STATS_FILE', `${path} holds no ${name} statistics`, { details: { path } });
  return s;
}

/** The text form: the counters table, then the backend's own figures. Pure. */
export function formatStats(s: BackendStats | StatsFile): string {
  const lines: string[] = [];
  if ('pid' in s) lines.push(`${s.backend} enforcer pid ${s.pid}, generation ${s.generation}, at ${s.time}`);
  lines.push(`${'packets'.padStart(10)} ${'bytes'.padStart(12)}  rule`);
  for (const r of s.rules) lines.push(`${String(r.packets).padStart(10)} ${String(r.bytes).padStart(12)}  ${r.rule}`);
  const details = Object.entries(s.details);
  if (details.length > 0) lines.push(`${s.backend}:`, ...details.map(([k, v]) => `  ${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`));
  return `${lines.join('\n')}\n`;
}
