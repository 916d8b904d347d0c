/**
 * `palisade enforce --backend NAME -f DIR [--netns PATH] [--log-denied] [--stats-file PATH]`: stay
 * running, the same for every backend. The watch loop (src/enforce/watch.ts: a change converges
 * within a second; an invalid change is reported and the last good state stays) feeds one
 * `Enforcement` (compile once; install when the rules change, set deltas otherwise; roll back on a
 * kernel failure) over the backend built by backends/registry.ts.
 *
 * Output: notices on stderr (`palisade enforce (NAME): applied #N: ...`, `change rejected, keeping
 * the last good state`, `apply failed, keeping the last good state`); with --log-denied one JSON
 * deny line per denied flow (src/enforce/deny-log.ts, named by deny-record.ts) on stdout, and the
 * staged and audit lines of observed flows (src/enforce/observe.ts) in the same format, polled
 * every 100 ms; Backend.stats() as JSON in --stats-file every second (written whole, then renamed),
 * which `palisade stats --stats-file` reads.
 * Exit: 2 when the first load is invalid and 1 when its apply fails (nothing new installed);
 * otherwise runs until SIGINT/SIGTERM, then stops the loop and closes the backend (what is
 * installed stays in force) or removes it, as the backend's table entry says; exit 0.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Backend, BackendName, BackendStats } from '../enforce/backend.js';
import type { FqdnStats } from '../fqdn/node.js';
import { formatDenyLine, formatObservedLine } from '../enforce/deny-log.js';
import { Enforcement } from '../enforce/enforcement.js';
import { startEnforceLoop, type EnforceEvent } from '../enforce/watch.js';
import { createBackend } from '../../backends/registry.js';
import { formatProblem } from '../model/problems.js';
import { UsageError } from './args.js';
import { backendUsage, defaultFqdnStateFile, defaultStatsFile, describeFailure, parseBackendArgs, usageFailure } from './backend.js';
import type { Io } from './io.js';
import { dnsServersOf, minTtlOf } from './fqdn.js';
import { fqdnStarter } from '../fqdn/start.js';

/** What `enforce` writes to --stats-file and `stats --stats-file` reads. */
export interface StatsFile extends BackendStats {
  readonly pid: number;
  readonly time: string;
  /** the compiled policy's generation in force (0: none yet) */
  readonly generation: number;
  /** learned names, addresses and TTLs, hold times (docs/fqdn.md §7), when learning runs */
  readonly fqdn?: FqdnStats;
}

export interface EnforceSessionOptions {
  readonly backend: Backend;
  readonly paths: readonly string[];
  readonly logDenied?: boolean;
  /** write Backend.stats() here every `statsMs`; absent: no file */
  readonly statsFile?: string;
  /** on stop: close (installed state stays in force, the default) or remove it */
  readonly stopAction?: 'close' | 'remove';
  readonly denyPollMs?: number;
  readonly statsMs?: number;
  /** the node namespace (the backend's --netns), where DNS answers are steered and held */
  readonly netnsPath?: string;
  /** FQDN learning (docs/fqdn.md), started once a policy with a domainNames peer and a resolver is in force; false: never */
  readonly fqdn?: false | { readonly dnsServers?: readonly string[]; readonly minTtlS?: number; readonly queueNum?: number; readonly snapshotFile?: string };
}

export interface EnforceSession {
  readonly enforcement: Enforcement;
  /** the outcome of the first load */
  readonly ready: Promise<EnforceEvent['type']>;
  stop(): Promise<void>;
}

/** The enforce loop without process wiring (tests drive this; runEnforce adds flags and signals). */
export function startEnforce(o: EnforceSessionOptions, io: Io): EnforceSession {
  const name = o.backend.name;
  const enforcement = new Enforcement(o.backend);
  const say = (text: string): void => io.err(`palisade enforce (${name}): ${text}\n`);
  if (o.logDenied) enforcement.drainDenied(); // binds the log now: a busy NFLOG group fails at start, not later
  let first: ((t: EnforceEvent['type']) => void) | undefined;
  const ready = new Promise<EnforceEvent['type']>((resolve) => (first = resolve));
  const fqdn = o.fqdn === false ? undefined : fqdnStarter(enforcement, { ...(o.fqdn ?? {}), ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}) }, say);
  const loop = startEnforceLoop({
    paths: o.paths,
    enforcer: enforcement,
    onEvent: (e) => {
      if (e.type === 'applied') {
        for (const w of e.warnings) say(formatProblem(w));
        say(`applied #${e.generation}: ${e.report.summary} (${e.report.ms.toFixed(1)} ms)`);
        fqdn?.maybeStart();
      } else if (e.type === 'rejected') say(`change rejected, keeping the last good state:\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
      else say(`apply failed, keeping the last good state: ${describeFailure(e.error)}`);
      first?.(e.type);
      first = undefined;
    },
  });

  const drain = (): void => {
    try {
      for (const r of enforcement.drainDenied()) io.out(`${formatDenyLine(r)}\n`);
      for (const r of enforcement.drainObserved()) io.out(`${formatObservedLine(r)}\n`);
    } catch (e) {
      say(`reading the deny log: ${describeFailure(e)}`);
    }
  };
  let statsError = '';
  const writeStats = async (): Promise<void> => {
    const file = o.statsFile;
    if (file === undefined || enforcement.current() === undefined) return; // nothing of ours in force yet
    try {
      const s = await enforcement.stats();
      const learned = fqdn?.stats();
      const out: StatsFile = { ...s, ...(learned ? { fqdn: learned } : {}), pid: process.pid, time: new Date().toISOString(), generation: enforcement.current()?.generation ?? 0 };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, `${JSON.stringify(out)}\n`);
      renameSync(`${file}.tmp`, file);
      statsError = '';
    } catch (e) {
      const text = describeFailure(e);
      if (text !== statsError) say(`cannot write ${file}: ${text}`); // once per distinct failure
      statsError = text;
    }
  };
  const logTimer = o.logDenied ? setInterval(drain, o.denyPollMs ?? 100) : undefined;
  const statsTimer = o.statsFile !== undefined ? setInterval(() => void writeStats(), o.statsMs ?? 1000) : undefined;
  void loop.ready.then(() => writeStats());

  let stopped: Promise<void> | undefined;
  return {
    enforcement,
    ready,
    stop() {
      stopped ??= (async () => {
        if (logTimer) clearInterval(logTimer);
        if (statsTimer) clearInterval(statsTimer);
        await loop.stop();
        await fqdn?.stop();
        if (o.logDenied) drain();
        await writeStats();
        if (o.stopAction === 'remove') await enforcement.remove().catch((e: unknown) => say(`removing: ${describeFailure(e)}`));
        await o.backend.close();
      })();
      return stopped;
    },
  };
}

export async function runEnforce(name: BackendName, argv: readonly string[], io: Io): Promise<number> {
  let a;
  try {
    a = parseBackendArgs('enforce', name, argv);
    if (a.flags.help) {
      io.out(backendUsage('enforce', name));
      return 0;
    }
    if (a.flags.filename.length === 0) throw new UsageError('-f DIR is required');
  } catch (e) {
    return usageFailure('enforce', name, e, io);
  }
  let session: EnforceSession;
  try {
    const backend = await createBackend(name, { ...a.options, log: (text: string) => io.err(`palisade enforce (${name}): ${text}\n`) });
    session = startEnforce(
      {
        backend,
        paths: a.flags.filename,
        logDenied: a.flags['log-denied'],
        statsFile: a.flags['stats-file'] ?? defaultStatsFile(name),
        stopAction: a.cli.stopAction(a.own as never),
        ...(a.options.netnsPath !== undefined ? { netnsPath: a.options.netnsPath } : {}),
        fqdn: a.flags['no-fqdn']
          ? false
          : {
              dnsServers: dnsServersOf(a.flags['dns-server']),
              snapshotFile: a.flags['fqdn-state'] ?? defaultFqdnStateFile(name),
              ...(a.flags['fqdn-min-ttl'] !== undefined ? { minTtlS: minTtlOf(a.flags['fqdn-min-ttl']) } : {}),
            },
      },
      io,
    );
  } catch (e) {
    io.err(`palisade enforce --backend ${name}: ${describeFailure(e)}\n`);
    return 1;
  }
  const first = await session.ready;
  if (first !== 'applied') {
    await session.stop();
    return first === 'rejected' ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await session.stop();
  return 0;
}
