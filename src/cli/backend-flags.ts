/**
 * The one table of what differs between backends on the command line: each backend's own flags,
 * which verbs take them and how they become the backend's options (backends/registry.ts).
 * Everything else (-f, --netns, --log-denied, --stats-file, output, exit codes, the enforce loop)
 * is common and lives once in apply.ts, enforce.ts and stats.ts.
 * Pure data plus option builders (they throw UsageError on a bad value).
 */
import type { BackendName } from '../enforce/backend.js';
import type { BackendOptionsByName, CommonBackendOptions } from '../../backends/registry.js';
import { UsageError, type FlagSpecs, type ParsedFlags } from './args.js';

/** backends/nfqueue/backend.ts DEFAULT_FIRST_QUEUE (not imported: this table loads no backend module) */
const DEFAULT_FIRST_QUEUE = 4200;

export type BackendVerb = 'apply' | 'enforce' | 'stats';

export interface BackendCli<N extends BackendName, S extends FlagSpecs> {
  /** verbs this backend has */
  readonly verbs: readonly BackendVerb[];
  /** this backend's own flags */
  readonly flags: S;
  /** flags that only some verbs take (default: every verb) */
  readonly flagVerbs?: { readonly [K in keyof S]?: readonly BackendVerb[] };
  /** parsed flags (common options already built) -> the backend's options */
  options(flags: ParsedFlags<S>, common: CommonBackendOptions): BackendOptionsByName[N];
  /** what `apply --delete` reports after Backend.remove() */
  readonly removed: string;
  /** where `stats` reads figures when --stats-file is not given: the kernel, or the default file */
  readonly statsFrom: 'kernel' | 'file';
  /** on stop, `enforce` closes (what is installed stays in force) or removes it */
  stopAction(flags: ParsedFlags<S>): 'close' | 'remove';
}

const entry = <N extends BackendName, const S extends FlagSpecs>(_name: N, e: BackendCli<N, S>): BackendCli<N, S> => e;

function int(text: string | undefined, flag: string, lo: number, hi: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < lo || Number(text) > hi) throw new UsageError(`${flag} takes a number ${lo}..${hi}`);
  return Number(text);
}

const nftables = entry('nftables', {
  verbs: ['apply', 'enforce', 'stats'],
  flags: {
    'nflog-group': { kind: 'string', value: 'N', help: 'NFLOG group for --log-denied (default 100)' },
  },
  flagVerbs: { 'nflog-group': ['enforce'] },
  options: (f, common) => {
    const group = int(f['nflog-group'], '--nflog-group', 0, 65535);
    return { ...common, ...(group !== undefined ? { nflogGroup: group } : {}) };
  },
  removed: 'removed table inet palisade',
  statsFrom: 'kernel',
  stopAction: () => 'close',
});

const ebpf = entry('ebpf', {
  verbs: ['apply', 'enforce', 'stats'],
  flags: {
    tag: { kind: 'string', value: 'NAME', help: 'instance name under /sys/fs/bpf/palisade (default: ns<netns inode>)' },
    'pin-root': { kind: 'string', value: 'DIR', help: 'bpffs directory for the pins (default /sys/fs/bpf/palisade)' },
    'host-interface': { kind: 'list', value: 'IF', help: 'also enforce on this node uplink (role host); repeatable' },
    'interfaces-ms': { kind: 'string', value: 'MS', help: 'how often to look for new pod interfaces (default 500)' },
  },
  flagVerbs: { 'interfaces-ms': ['enforce'] },
  options: (f, common) => {
    const ms = int(f['interfaces-ms'], '--interfaces-ms', 1, 3_600_000);
    return {
      ...common,
      ...(f.tag !== undefined ? { tag: f.tag } : {}),
      ...(f['pin-root'] !== undefined ? { pinRoot: f['pin-root'] } : {}),
      hostInterfaces: f['host-interface'],
      ...(ms !== undefined ? { interfacesMs: ms } : {}),
    };
  },
  removed: 'detached from every interface and unpinned',
  statsFrom: 'kernel',
  stopAction: () => 'close',
});

const nfqueue = entry('nfqueue', {
  verbs: ['enforce', 'stats'],
  flags: {
    queues: { kind: 'string', value: 'N', help: 'kernel queues, one native thread each, CPU fanout (default 1)' },
    'first-queue': { kind: 'string', value: 'Q', help: `first queue number (default ${DEFAULT_FIRST_QUEUE})` },
    'fail-open': { kind: 'boolean', help: 'pass traffic when the enforcer is gone or the queue is full (default: drop)' },
    strict: { kind: 'boolean', help: 'on a policy change, cut existing flows that are now denied (conntrack delete)' },
    'keep-steering': { kind: 'boolean', help: 'leave the steering rules in place on exit' },
  },
  flagVerbs: { queues: ['enforce'], 'first-queue': ['enforce'], 'fail-open': ['enforce'], strict: ['enforce'], 'keep-steering': ['enforce'] },
  options: (f, common) => {
    const queues = int(f.queues, '--queues', 1, 64);
    const firstQueue = int(f['first-queue'], '--first-queue', 0, 65535);
    if ((firstQueue ?? DEFAULT_FIRST_QUEUE) + (queues ?? 1) - 1 > 65535) throw new UsageError('queue numbers past 65535');
    return {
      ...common,
      ...(queues !== undefined ? { queues } : {}),
      ...(firstQueue !== undefined ? { firstQueue } : {}),
      failOpen: f['fail-open'],
      strict: f.strict,
      keepSteering: f['keep-steering'],
    };
  },
  removed: 'removed the steering rules',
  statsFrom: 'file',
  // the steering goes with the enforcer unless it is kept (fail-closed hold for the next one)
  stopAction: (f) => (f['keep-steering'] ? 'close' : 'remove'),
});

/** Every backend's command-line entry. */
export const BACKEND_CLI = { nftables, ebpf, nfqueue } as const;
// The entries' flag types differ; callers see them through this one shape.
export type AnyBackendCli = BackendCli<BackendName, FlagSpecs>;
export const backendCli = (name: BackendName): AnyBackendCli => BACKEND_CLI[name] as unknown as AnyBackendCli;
