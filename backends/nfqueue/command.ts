/**
 * `palisade enforce --backend nfqueue -f DIR [--queues N] [--fail-open] [--strict] [--log-denied]`
 * and the nfqueue `palisade stats`: the process around NfqueueBackend (backend.ts), driven through
 * the one Enforcement (src/enforce/enforcement.ts: compile once, install or set deltas, roll back
 * on a failure). Kept until the one generic `palisade enforce|stats` in src/cli takes it over.
 *
 * Why nfqueue: a userspace verdict per NEW flow lets Palisade enforce where kernel sets cannot
 * (later: FQDN egress, audit mode), at the price of one queue round trip per new flow only: the
 * steering chain (steer.ts) sends only conntrack NEW packets without the accepted mark, and the
 * native loop (native/loop.h) marks what it accepts, so established traffic never leaves the kernel.
 *
 * Life cycle: load DIR -> the first install binds the queues, publishes the policy and installs
 * the steering (backend.ts; an invalid first load exits 2 and installs nothing, a failed first
 * install exits 1 and leaves nothing) -> watch DIR (src/enforce/watch.ts: each valid change is
 * compiled and published as a new snapshot without stopping the loop; an invalid or failed one
 * keeps the last good policy) -> on SIGTERM/SIGINT close the backend: stop the loop and remove
 * the steering (unless --keep-steering).
 * Fail modes: see steer.ts. Fail-closed (default): if this process dies, the steering stays and
 * the kernel drops new flows until an enforcer binds the queues again; established flows continue.
 * --strict: after every change, conntrack entries of flows the new policy denies are deleted.
 * Output: deny log lines (src/enforce/deny-log.ts, named by src/enforce/deny-record.ts, one per
 * denied flow per 10 s) on stdout with --log-denied; notices on stderr; Backend.stats() as JSON in
 * --stats-file (default /run/palisade/nfqueue-stats.json) every second, read by `palisade stats`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BackendStats } from '../../src/enforce/backend.js';
import { formatDenyLine } from '../../src/enforce/deny-log.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { startEnforceLoop, type EnforceEvent } from '../../src/enforce/watch.js';
import { formatProblem } from '../../src/model/problems.js';
import type { NfqLoopStats } from '../../src/native/binding.js';
import { DEFAULT_FIRST_QUEUE, NfqueueBackend } from './backend.js';
import { DEFAULT_ACCEPT_MARK, type KernelQueueStats } from './steer.js';

export { DEFAULT_FIRST_QUEUE };
export const DEFAULT_STATS_FILE = '/run/palisade/nfqueue-stats.json';

export interface EnforceNfqueueOptions {
  readonly paths: readonly string[];
  readonly queues: number;
  readonly firstQueue: number;
  readonly failOpen: boolean;
  readonly strict: boolean;
  readonly logDenied: boolean;
  readonly acceptMark: number;
  readonly statsFile: string;
  readonly keepSteering: boolean;
}

export class NfqUsageError extends Error {
  readonly code = 'NFQ_USAGE';
}

export const ENFORCE_NFQUEUE_HELP = `Usage: palisade enforce --backend nfqueue -f DIR [-f DIR...] [flags]

  --queues N          kernel queues, one native thread each, CPU fanout (default 1)
  --first-queue Q     first queue number (default ${DEFAULT_FIRST_QUEUE})
  --fail-open         pass traffic when the enforcer is gone or the queue is full (default: drop)
  --strict            on a policy change, cut existing flows that are now denied (conntrack delete)
  --log-denied        print one JSON line per denied flow on stdout
  --stats-file PATH   counters as JSON, rewritten every second (default ${DEFAULT_STATS_FILE})
  --keep-steering     leave the steering rules in place on exit
`;

export function parseEnforceNfqueueArgs(argv: readonly string[]): EnforceNfqueueOptions {
  const paths: string[] = [];
  let queues = 1;
  let firstQueue = DEFAULT_FIRST_QUEUE;
  let failOpen = false;
  let strict = false;
  let logDenied = false;
  let statsFile = DEFAULT_STATS_FILE;
  let keepSteering = false;
  const int = (flag: string, v: string | undefined, lo: number, hi: number): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < lo || n > hi) throw new NfqUsageError(`${flag} needs an integer ${lo}..${hi}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--backend':
        if (argv[++i] !== 'nfqueue') throw new NfqUsageError('this command is the nfqueue backend');
        break;
      case '-f':
      case '--file': {
        const p = argv[++i];
        if (p === undefined) throw new NfqUsageError(`${a} needs a path`);
        paths.push(p);
        break;
      }
      case '--queues':
        queues = int(a, argv[++i], 1, 64);
        break;
      case '--first-queue':
        firstQueue = int(a, argv[++i], 0, 65535);
        break;
      case '--fail-open':
        failOpen = true;
        break;
      case '--strict':
        strict = true;
        break;
      case '--log-denied':
        logDenied = true;
        break;
      case '--keep-steering':
        keepSteering = true;
        break;
      case '--stats-file': {
        const p = argv[++i];
        if (p === undefined) throw new NfqUsageError('--stats-file needs a path');
        statsFile = p;
        break;
      }
      default:
        throw new NfqUsageError(`unknown flag ${JSON.stringify(a)}`);
    }
  }
  if (paths.length === 0) throw new NfqUsageError('-f DIR is required');
  if (firstQueue + queues - 1 > 65535) throw new NfqUsageError('queue numbers past 65535');
  return { paths, queues, firstQueue, failOpen, strict, logDenied, acceptMark: DEFAULT_ACCEPT_MARK, statsFile, keepSteering };
}

/** What `palisade stats` reads: Backend.stats() and when and by whom it was written. */
export interface NfqueueStatsFile extends BackendStats {
  readonly pid: number;
  readonly time: string;
  /** the compiled policy's generation in force */
  readonly generation: number;
}

export function readNfqueueStats(path = DEFAULT_STATS_FILE): NfqueueStatsFile {
  return JSON.parse(readFileSync(path, 'utf8')) as NfqueueStatsFile;
}

/** `palisade stats` text for the nfqueue backend: loop, kernel queues, denies per rule. Pure. */
export function formatNfqueueStats(f: NfqueueStatsFile): string {
  const d = f.details as { failOpen?: boolean; steering?: string; loop?: NfqLoopStats; kernel?: readonly KernelQueueStats[]; strictCuts?: number; deniedByReason?: Record<string, number> };
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const l = d.loop;
  const lines = [
    `nfqueue enforcer pid ${f.pid}, generation ${f.generation}, ${d.failOpen ? 'fail-open' : 'fail-closed'}, steering ${d.steering ?? 'none'}, at ${f.time}`,
    ...(l
      ? [
          `  packets ${l.packets}  accepted ${l.accepted}  denied ${l.denied}  unclassifiable ${l.unclassifiable}  snapshot v${l.snapshotVersion}`,
          `  verdict latency p50 ${us(l.latencyP50Ns)} us  p99 ${us(l.latencyP99Ns)} us  p99.9 ${us(l.latencyP999Ns)} us  (${l.latencySamples} samples)`,
          `  verdict messages ${l.verdictMessages} in ${l.batches} batches; recv errors ${l.recvErrors}, verdict errors ${l.verdictErrors}, deny records dropped ${l.recordsDropped}`,
        ]
      : []),
    ...(d.kernel ?? []).map((k) => `  kernel queue ${k.queue}: waiting ${k.waiting}, queue_dropped ${k.queueDropped}, user_dropped ${k.userDropped}`),
    ...((d.strictCuts ?? 0) > 0 ? [`  --strict cut ${d.strictCuts} flows`] : []),
    '  denied packets by rule:',
    ...f.rules.map((r) => `    ${String(r.packets).padStart(10)}  ${r.rule}`),
  ];
  return lines.join('\n') + '\n';
}

export async function runEnforceNfqueue(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(ENFORCE_NFQUEUE_HELP);
    return 0;
  }
  let o: EnforceNfqueueOptions;
  try {
    o = parseEnforceNfqueueArgs(argv);
  } catch (e) {
    process.stderr.write(`palisade enforce: ${(e as Error).message}\n${ENFORCE_NFQUEUE_HELP}`);
    return 2;
  }
  const notice = (line: string): void => void process.stderr.write(`palisade enforce: ${line}\n`);
  const backend = new NfqueueBackend({ queues: o.queues, firstQueue: o.firstQueue, failOpen: o.failOpen, strict: o.strict, keepSteering: o.keepSteering, logDenied: o.logDenied, acceptMark: o.acceptMark });
  const enforcement = new Enforcement(backend);
  let generation = 0;
  let first: EnforceEvent['type'] | undefined;
  const watchLoop = startEnforceLoop({
    paths: o.paths,
    enforcer: enforcement,
    onEvent: (e) => {
      first ??= e.type;
      if (e.type === 'applied') {
        generation = e.generation;
        for (const w of e.warnings) notice(formatProblem(w));
        notice(`applied generation ${e.generation} (${e.report.summary}) in ${e.report.ms.toFixed(1)} ms`);
      } else if (e.type === 'rejected') {
        for (const p of e.problems) notice(formatProblem(p));
        notice(generation > 0 ? `change rejected; generation ${generation} stays in force` : 'first load rejected; nothing installed');
      } else {
        const err = e.error as Error & { code?: string };
        notice(`apply failed: ${err.code ? `${err.code}: ` : ''}${err.message}${generation > 0 ? `; generation ${generation} stays in force` : '; nothing installed'}`);
      }
    },
  });
  await watchLoop.ready;
  if (generation === 0) {
    await watchLoop.stop();
    await backend.close();
    return first === 'rejected' ? 2 : 1;
  }
  const queues = `${o.firstQueue}${o.queues > 1 ? `-${o.firstQueue + o.queues - 1}` : ''}`;
  const method = (await backend.stats()).details.steering;
  notice(`enforcing: nfqueue ${queues}, ${o.failOpen ? 'fail-open' : 'fail-closed'}, steering ${method === 'xt-nfqueue' ? 'iptables-nft NFQUEUE' : 'iptables-nft NFQUEUE (nft queue available but not used)'}`);

  const drain = (): void => {
    for (const r of enforcement.drainDenied()) process.stdout.write(`${formatDenyLine(r)}\n`);
  };
  const writeStats = async (): Promise<void> => {
    try {
      const file: NfqueueStatsFile = { ...(await backend.stats()), pid: process.pid, time: new Date().toISOString(), generation: enforcement.current()?.generation ?? 0 };
      mkdirSync(dirname(o.statsFile), { recursive: true });
      writeFileSync(o.statsFile + '.tmp', JSON.stringify(file) + '\n');
      renameSync(o.statsFile + '.tmp', o.statsFile);
    } catch (e) {
      notice(`cannot write ${o.statsFile}: ${(e as Error).message}`);
    }
  };
  await writeStats();
  const statsTimer = setInterval(() => void writeStats(), 1000);
  const drainTimer = o.logDenied ? setInterval(drain, 100) : undefined;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      clearInterval(statsTimer);
      if (drainTimer) clearInterval(drainTimer);
      await watchLoop.stop();
      if (o.logDenied) drain();
      await writeStats();
      await backend.close().catch((e: Error) => notice(`stopping: ${e.message}`));
      notice(`stopped (${signal})${o.keepSteering ? ', steering left in place' : ''}`);
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
