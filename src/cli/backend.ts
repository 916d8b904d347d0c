/**
 * `palisade apply | enforce | stats --backend nftables|ebpf|nfqueue ...`: routes to the backend's
 * own command (backends/<name>/command.ts), loaded on demand so that a person who only runs
 * `check` never loads kernel glue. The backend parses its own flags and prints its own help.
 *
 *   apply    nftables, ebpf    apply once in the current network namespace and exit (--delete removes)
 *   enforce  nftables, ebpf, nfqueue    stay running: watch -f DIR and apply each change
 *   stats    nftables, ebpf, nfqueue    per-rule counters of what is installed
 */
import { UsageError } from './args.js';
import type { Io } from './io.js';

export type BackendVerb = 'apply' | 'enforce' | 'stats';
export const BACKENDS = ['nftables', 'ebpf', 'nfqueue'] as const;
export type BackendName = (typeof BACKENDS)[number];

type BackendCommand = (argv: readonly string[], io: Io) => Promise<number>;

/** Where each verb of each backend lives; undefined = the backend has no such verb. */
const TABLE: Record<BackendName, Partial<Record<BackendVerb, () => Promise<BackendCommand>>>> = {
  nftables: {
    apply: async () => (await import('../../backends/nftables/command.js')).runApplyNftables,
    enforce: async () => (await import('../../backends/nftables/command.js')).runEnforceNftables,
    stats: async () => (await import('../../backends/nftables/command.js')).runStatsNftables,
  },
  ebpf: {
    apply: async () => (await import('../../backends/ebpf/command.js')).runApplyEbpf,
    enforce: async () => (await import('../../backends/ebpf/command.js')).runEnforceEbpf,
    stats: async () => (await import('../../backends/ebpf/command.js')).runStatsEbpf,
  },
  nfqueue: {
    enforce: async () => {
      const m = await import('../../backends/nfqueue/command.js');
      return (argv) => m.runEnforceNfqueue(argv);
    },
    stats: async () => {
      const m = await import('../../backends/nfqueue/command.js');
      return async (argv, io) => {
        const i = argv.indexOf('--stats-file');
        const file = i >= 0 ? argv[i + 1] : undefined;
        const stats = m.readNfqueueStats(file ?? m.DEFAULT_STATS_FILE);
        io.out(argv.includes('-o') && argv[argv.indexOf('-o') + 1] === 'json' ? JSON.stringify(stats) + '\n' : m.formatNfqueueStats(stats));
        return 0;
      };
    },
  },
};

export const BACKEND_HELP = (verb: BackendVerb): string => {
  const which = BACKENDS.filter((b) => TABLE[b][verb] !== undefined).join('|');
  return `Usage: palisade ${verb} --backend ${which} [flags]\n       palisade ${verb} --backend NAME --help   the backend's own flags\n`;
};

export async function runBackendVerb(verb: BackendVerb, argv: readonly string[], io: Io): Promise<number> {
  const i = argv.indexOf('--backend');
  const eq = argv.find((a) => a.startsWith('--backend='));
  const name = eq !== undefined ? eq.slice('--backend='.length) : i >= 0 ? argv[i + 1] : undefined;
  if (name === undefined) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(BACKEND_HELP(verb));
      return 0;
    }
    throw new UsageError(`--backend is required (${BACKENDS.filter((b) => TABLE[b][verb]).join(', ')})`);
  }
  if (!(BACKENDS as readonly string[]).includes(name)) throw new UsageError(`unknown backend ${JSON.stringify(name)} (${BACKENDS.join(', ')})`);
  const load = TABLE[name as BackendName][verb];
  if (!load) throw new UsageError(`the ${name} backend has no \`${verb}\` command${verb === 'apply' ? ' (it enforces from a running process: use enforce)' : ''}`);
  const command = await load();
  return command(argv, io);
}
