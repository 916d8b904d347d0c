/**
 * `palisade apply | enforce | stats --backend nftables|ebpf|nfqueue ...`: the one place that picks
 * the backend and parses the flags. Common flags are declared here once per verb; each backend's
 * own flags come from the table in backend-flags.ts. The verbs themselves (apply.ts, enforce.ts,
 * stats.ts) run over `Enforcement` and `Backend` and know no backend by name.
 *
 *   apply    apply once in the current network namespace (or --netns) and exit; --delete removes
 *   enforce  stay running: watch -f DIR and apply each change; --log-denied, --stats-file
 *   stats    per-rule counters: from the kernel, or from a running enforcer's --stats-file
 * Pure except for the dynamic imports of the verbs.
 */
import { BACKEND_NAMES, type BackendName } from '../enforce/backend.js';
import type { CommonBackendOptions } from '../../backends/registry.js';
import { formatFlags, parseArgs, UsageError, type FlagSpecs, type ParsedFlags } from './args.js';
import { backendCli, type AnyBackendCli, type BackendVerb } from './backend-flags.js';
import type { Io } from './io.js';

export type { BackendVerb } from './backend-flags.js';

const BACKEND = { backend: { kind: 'string', value: 'NAME', help: 'nftables | ebpf | nfqueue' } } as const satisfies FlagSpecs;
const NETNS = { netns: { kind: 'string', value: 'PATH', help: 'network namespace of the node, e.g. /run/netns/NAME (default: the current one)' } } as const satisfies FlagSpecs;
const HELP = { help: { kind: 'boolean', short: 'h', help: 'this help' } } as const satisfies FlagSpecs;

export const COMMON_FLAGS = {
  apply: {
    ...BACKEND,
    filename: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories' },
    delete: { kind: 'boolean', help: 'remove everything Palisade installed in this namespace, nothing else' },
    ...NETNS,
    ...HELP,
  },
  enforce: {
    ...BACKEND,
    filename: { kind: 'list', short: 'f', value: 'DIR', help: 'manifest directory (or files) to watch' },
    'log-denied': { kind: 'boolean', help: 'print one JSON line per denied flow on stdout' },
    'stats-file': { kind: 'string', value: 'PATH', help: 'write the backend\'s counters as JSON every second (default /run/palisade/<backend>-stats.json)' },
    'dns-server': { kind: 'list', value: 'IP', help: 'trusted DNS resolvers for domainNames peers (default: the endpoints of Service kube-system/kube-dns)' },
    'fqdn-min-ttl': { kind: 'string', value: 'SECONDS', help: 'floor of a learned address\'s TTL (default 5; no cap)' },
    'fqdn-state': { kind: 'string', value: 'PATH', help: 'learned DNS addresses kept across restarts (default /run/palisade/<backend>-fqdn-learned.json)' },
    'no-fqdn': { kind: 'boolean', help: 'do not learn domainNames addresses from DNS answers (they then match nothing)' },
    ...NETNS,
    ...HELP,
  },
  stats: {
    ...BACKEND,
    'stats-file': { kind: 'string', value: 'PATH', help: 'read a running enforcer\'s counters from this file (default: the kernel, or the enforcer\'s default file)' },
    json: { kind: 'boolean', help: 'one JSON object per rule' },
    output: { kind: 'string', short: 'o', value: 'text|json', help: 'json: the whole statistics object on one line' },
    ...NETNS,
    ...HELP,
  },
} as const satisfies Record<BackendVerb, FlagSpecs>;

export type CommonFlags<V extends BackendVerb> = ParsedFlags<(typeof COMMON_FLAGS)[V]>;

export interface BackendArgs<V extends BackendVerb> {
  readonly name: BackendName;
  readonly cli: AnyBackendCli;
  readonly flags: CommonFlags<V>;
  /** the backend's own flags, parsed */
  readonly own: Record<string, string | string[] | boolean | undefined>;
  /** the backend's options (registry) */
  readonly options: CommonBackendOptions & Record<string, unknown>;
}

export const defaultStatsFile = (name: BackendName): string => `/run/palisade/${name}-stats.json`;
/** Where `palisade enforce` keeps its learned DNS addresses across restarts (docs/fqdn.md §6). */
export const defaultFqdnStateFile = (name: BackendName): string => `/run/palisade/${name}-fqdn-learned.json`;

/** The backend named by `--backend X` / `--backend=X`, or undefined. */
function backendOf(argv: readonly string[]): string | undefined {
  const eq = argv.find((a) => a.startsWith('--backend='));
  if (eq !== undefined) return eq.slice('--backend='.length);
  const i = argv.indexOf('--backend');
  return i >= 0 ? argv[i + 1] : undefined;
}

const withVerb = (verb: BackendVerb): BackendName[] => BACKEND_NAMES.filter((b) => backendCli(b).verbs.includes(verb));

export const BACKEND_HELP = (verb: BackendVerb): string =>
  `Usage: palisade ${verb} --backend ${withVerb(verb).join('|')} [flags]\n       palisade ${verb} --backend NAME --help   every flag, with the backend's own\n`;

export function backendUsage(verb: BackendVerb, name: BackendName): string {
  const cli = backendCli(name);
  const own = Object.fromEntries(Object.entries(cli.flags).filter(([k]) => (cli.flagVerbs?.[k] ?? cli.verbs).includes(verb)));
  const what = verb === 'apply' ? ' -f PATH... | --delete' : verb === 'enforce' ? ' -f DIR' : '';
  return `Usage: palisade ${verb} --backend ${name}${what} [flags]\n${formatFlags(COMMON_FLAGS[verb])}\n${Object.keys(own).length > 0 ? `${name} flags:\n${formatFlags(own)}\n` : ''}`;
}

/**
 * A usage problem of one backend verb, printed as today's backend commands did:
 * `palisade VERB --backend NAME: message` and the flags; exit 2.
 */
export function usageFailure(verb: BackendVerb, name: BackendName, e: unknown, io: Io): number {
  if (!(e instanceof UsageError)) throw e;
  io.err(`palisade ${verb} --backend ${name}: ${e.message}\n${backendUsage(verb, name)}`);
  return 2;
}

/** A kernel or native failure as one line: `CODE: message`. */
export function describeFailure(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`.trim();
}

/** Parse the common and the backend's flags for `verb`; UsageError on anything wrong. */
export function parseBackendArgs<V extends BackendVerb>(verb: V, name: BackendName, argv: readonly string[]): BackendArgs<V> {
  const cli = backendCli(name);
  const all = parseArgs(argv, { ...cli.flags, ...COMMON_FLAGS[verb] } as FlagSpecs) as Record<string, string | string[] | boolean | undefined>;
  const own: Record<string, string | string[] | boolean | undefined> = {};
  for (const k of Object.keys(cli.flags)) {
    const v = all[k];
    const given = v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0);
    const verbs = cli.flagVerbs?.[k] ?? cli.verbs;
    if (given && !verbs.includes(verb)) throw new UsageError(`--${k} is a flag of ${verbs.join(', ')}, not ${verb}`);
    own[k] = v;
  }
  const flags = all as unknown as CommonFlags<V>;
  const f = flags as unknown as Record<string, unknown>;
  const common: CommonBackendOptions = {
    ...(typeof f.netns === 'string' ? { netnsPath: f.netns } : {}),
    ...(f['log-denied'] === true ? { logDenied: true } : {}),
  };
  const options = cli.options(own as never, common) as CommonBackendOptions & Record<string, unknown>;
  return { name, cli, flags, own, options };
}

export async function runBackendVerb(verb: BackendVerb, argv: readonly string[], io: Io): Promise<number> {
  const name = backendOf(argv);
  if (name === undefined) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(BACKEND_HELP(verb));
      return 0;
    }
    throw new UsageError(`--backend is required (${withVerb(verb).join(', ')})`);
  }
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown backend ${JSON.stringify(name)} (${BACKEND_NAMES.join(', ')})`);
  const backend = name as BackendName;
  const cli = backendCli(backend);
  if (!cli.verbs.includes(verb)) throw new UsageError(`the ${backend} backend has no \`${verb}\` command${verb === 'apply' ? ' (it enforces from a running process: use enforce)' : ''}`);
  switch (verb) {
    case 'apply':
      return (await import('./apply.js')).runApply(backend, argv, io);
    case 'enforce':
      return (await import('./enforce.js')).runEnforce(backend, argv, io);
    case 'stats':
      return (await import('./stats.js')).runStats(backend, argv, io);
  }
}
