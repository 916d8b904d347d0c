/**
 * The nftables backend's commands, for the CLI to dispatch to (`--backend nftables`):
 *
 *   palisade apply   --backend nftables -f PATH... [--netns PATH]   -> runApplyNftables
 *   palisade apply   --backend nftables --delete [--netns PATH]     -> runApplyNftables
 *   palisade enforce --backend nftables -f DIR [--netns PATH] [--log-denied [--nflog-group N]]
 *                                                                    -> runEnforceNftables
 *   palisade stats   --backend nftables [--netns PATH] [--json]     -> runStatsNftables
 *
 * `apply` puts the policy in force in the current network namespace (or --netns) as one
 * transaction on `table inet palisade` and exits; the rules stay. `--delete` removes that table
 * and nothing else. `enforce` keeps running: it watches DIR (src/enforce/watch.ts: converged
 * within a second, an invalid change keeps the last good state) and applies pod churn as set
 * element deltas, anything else as an in-place replacement. `stats` prints the per-rule counters
 * (packets, bytes) summed per policy rule. With --log-denied, each deny rule also logs (10/s per
 * rule, burst 20) to NFLOG group N (default 100) and `enforce` prints one JSON deny-log line per
 * logged flow (src/enforce/deny-log.ts format) on stdout.
 * Exit codes: 0 done, 1 a kernel or internal failure, 2 invalid input or usage.
 */
import { formatProblem } from '../../src/model/problems.js';
import type { Cluster } from '../../src/model/types.js';
import { startEnforceLoop } from '../../src/enforce/watch.js';
import { formatDenyLine } from '../../src/enforce/deny-log.js';
import type { Enforcer } from '../../src/enforce/backend.js';
import { formatFlags, parseArgs, UsageError, type FlagSpecs } from '../../src/cli/args.js';
import { checkBackend, describeFailure, loadForBackend, stdIo, type CommandIo } from '../../src/cli/backend-kit.js';
export type { CommandIo } from '../../src/cli/backend-kit.js';
import { NftablesEnforcer } from './apply.js';
import { inventoryChanges } from './inventory-diff.js';
import { ruleCounters } from './stats.js';

const COMMON = {
  backend: { kind: 'string', value: 'nftables', help: 'the backend (nftables; accepted for the CLI dispatcher)' },
  netns: { kind: 'string', value: 'PATH', help: 'network namespace of the node, e.g. /run/netns/NAME (default: the current one)' },
} as const satisfies FlagSpecs;

const APPLY_FLAGS = {
  filename: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories' },
  delete: { kind: 'boolean', help: 'remove table inet palisade (everything Palisade installed) and nothing else' },
  ...COMMON,
} as const satisfies FlagSpecs;

const ENFORCE_FLAGS = {
  filename: { kind: 'list', short: 'f', value: 'DIR', help: 'manifest directory (or files) to watch' },
  'log-denied': { kind: 'boolean', help: 'print one JSON line per denied flow (NFLOG, rate-limited per rule)' },
  'nflog-group': { kind: 'string', value: 'N', help: 'NFLOG group for --log-denied (default 100)' },
  ...COMMON,
} as const satisfies FlagSpecs;

const STATS_FLAGS = { json: { kind: 'boolean', help: 'one JSON object per rule' }, ...COMMON } as const satisfies FlagSpecs;

function usage<S extends FlagSpecs>(io: CommandIo, command: string, specs: S, e: unknown): number {
  if (!(e instanceof UsageError)) throw e;
  io.err(`palisade ${command} --backend nftables: ${e.message}\n${formatFlags(specs)}\n`);
  return 2;
}

export async function runApplyNftables(argv: readonly string[], io: CommandIo = stdIo): Promise<number> {
  let f;
  try {
    f = parseArgs(argv, APPLY_FLAGS);
    checkBackend('nftables', f.backend);
    if (!f.delete && f.filename.length === 0) throw new UsageError('-f PATH... is required (or --delete)');
    if (f.delete && f.filename.length > 0) throw new UsageError('--delete takes no -f');
  } catch (e) {
    return usage(io, 'apply', APPLY_FLAGS, e);
  }
  try {
    const enforcer = new NftablesEnforcer(f.netns !== undefined ? { netnsPath: f.netns } : {});
    if (f.delete) {
      enforcer.delete();
      io.out('palisade apply --delete (nftables): removed table inet palisade\n');
      return 0;
    }
    const cluster = loadForBackend(f.filename, io);
    if (!cluster) return 2;
    const r = enforcer.applyCluster(cluster);
    io.out(`palisade apply (nftables): ${r.rules} rules in table inet palisade, one transaction of ${r.commands} commands, ${r.durationMs.toFixed(1)} ms\n`);
    return 0;
  } catch (e) {
    io.err(`palisade apply --backend nftables: ${describeFailure(e)}\n`);
    return 1;
  }
}

export interface EnforceHandle {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** The enforce loop without process wiring (tests drive this; runEnforceNftables adds signals). */
export function startNftablesEnforce(
  paths: readonly string[],
  opts: { netnsPath?: string; logDenied?: boolean; nflogGroup?: number },
  io: CommandIo,
): EnforceHandle {
  const enforcer = new NftablesEnforcer({
    ...(opts.netnsPath !== undefined ? { netnsPath: opts.netnsPath } : {}),
    ...(opts.logDenied ? { denyLog: { group: opts.nflogGroup ?? DEFAULT_NFLOG_GROUP } } : {}),
  });
  if (opts.logDenied) enforcer.drainDenied(); // bind the group now: a busy group fails at start, not later
  let current: Cluster | undefined;
  const adapter: Enforcer = {
    name: 'nftables',
    async apply(cluster) {
      const changes = current ? inventoryChanges(current, cluster) : undefined;
      const r = changes ? enforcer.applyChanges(changes) : enforcer.applyCluster(cluster);
      current = cluster;
      const summary = r.kind === 'full' ? `${r.rules} rules, full table (${r.commands} commands)` : r.kind === 'elements' ? `set elements only (${r.commands} commands)` : 'no kernel change';
      return { summary, ms: r.durationMs };
    },
    async remove() {
      enforcer.delete();
    },
    async close() {
      /* the table stays in force */
    },
  };
  const loop = startEnforceLoop({
    paths,
    enforcer: adapter,
    onEvent: (e) => {
      if (e.type === 'applied') io.err(`palisade enforce (nftables): applied #${e.generation}: ${e.report.summary} (${e.report.ms.toFixed(1)} ms)\n`);
      else if (e.type === 'rejected') io.err(`palisade enforce (nftables): change rejected, keeping the last good state:\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
      else io.err(`palisade enforce (nftables): apply failed, keeping the last good state: ${describeFailure(e.error)}\n`);
    },
  });
  const drain = (): void => {
    try {
      for (const r of enforcer.drainDenied()) io.out(`${formatDenyLine(r)}\n`);
    } catch (e) {
      io.err(`palisade enforce (nftables): reading the deny log: ${describeFailure(e)}\n`);
    }
  };
  const logTimer = opts.logDenied ? setInterval(drain, 100) : undefined;
  return {
    ready: loop.ready,
    async stop() {
      if (logTimer) clearInterval(logTimer);
      await loop.stop();
      if (opts.logDenied) drain();
      enforcer.close(); // the table stays in force
    },
  };
}

const DEFAULT_NFLOG_GROUP = 100;

export async function runEnforceNftables(argv: readonly string[], io: CommandIo = stdIo): Promise<number> {
  let f;
  try {
    f = parseArgs(argv, ENFORCE_FLAGS);
    checkBackend('nftables', f.backend);
    if (f.filename.length === 0) throw new UsageError('-f DIR is required');
    if (f['nflog-group'] !== undefined && !/^\d{1,5}$/.test(f['nflog-group'])) throw new UsageError('--nflog-group takes a number 0..65535');
    if (f['nflog-group'] !== undefined && Number(f['nflog-group']) > 65535) throw new UsageError('--nflog-group takes a number 0..65535');
  } catch (e) {
    return usage(io, 'enforce', ENFORCE_FLAGS, e);
  }
  let handle: EnforceHandle;
  try {
    handle = startNftablesEnforce(
      f.filename,
      {
        ...(f.netns !== undefined ? { netnsPath: f.netns } : {}),
        logDenied: f['log-denied'],
        ...(f['nflog-group'] !== undefined ? { nflogGroup: Number(f['nflog-group']) } : {}),
      },
      io,
    );
    await handle.ready;
  } catch (e) {
    io.err(`palisade enforce --backend nftables: ${describeFailure(e)}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await handle.stop();
  return 0;
}

export async function runStatsNftables(argv: readonly string[], io: CommandIo = stdIo): Promise<number> {
  let f;
  try {
    f = parseArgs(argv, STATS_FLAGS);
    checkBackend('nftables', f.backend);
  } catch (e) {
    return usage(io, 'stats', STATS_FLAGS, e);
  }
  try {
    const enforcer = new NftablesEnforcer(f.netns !== undefined ? { netnsPath: f.netns } : {});
    const rows = ruleCounters(enforcer.listTable());
    if (f.json) for (const r of rows) io.out(`${JSON.stringify(r)}\n`);
    else {
      io.out(`${'packets'.padStart(10)} ${'bytes'.padStart(12)}  rule\n`);
      for (const r of rows) io.out(`${String(r.packets).padStart(10)} ${String(r.bytes).padStart(12)}  ${r.rule}\n`);
    }
    return 0;
  } catch (e) {
    io.err(`palisade stats --backend nftables: ${describeFailure(e)}\n`);
    return 1;
  }
}
