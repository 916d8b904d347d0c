/**
 * The backend registry: `createBackend(name, options)` builds a kernel backend by name, loading
 * its module on demand (a process that only runs `palisade check` never loads kernel glue). The
 * CLI (src/cli/enforce.ts, apply.ts, stats.ts) and the agent build backends only through it.
 *
 * Options are typed per backend (BackendOptionsByName); every backend takes the common ones.
 * No side effects beyond the module load. Thread-safety: none needed (no state).
 */
import type { Backend, BackendName } from '../src/enforce/backend.js';
import type { EbpfOptions } from './ebpf/backend.js';
import type { NfqueueOptions } from './nfqueue/backend.js';
import type { NftablesOptions } from './nftables/backend.js';

/** What every backend takes. */
export interface CommonBackendOptions {
  /** network namespace of the node (e.g. /run/netns/NAME); default: the current one */
  readonly netnsPath?: string;
  /** report denied flows through Backend.drainDenied() */
  readonly logDenied?: boolean;
  /** the backend's notices (e.g. eBPF: a new interface attached); default: none */
  readonly log?: (text: string) => void;
}

export interface NftablesBackendOptions extends CommonBackendOptions, Pick<NftablesOptions, 'native' | 'beforeTransaction'> {
  /** NFLOG group the deny rules log to (with logDenied); default 100 */
  readonly nflogGroup?: number;
}

/** The eBPF backend's options (backends/ebpf/backend.ts EbpfOptions). */
export interface EbpfBackendOptions
  extends CommonBackendOptions,
    Pick<EbpfOptions, 'tag' | 'pinRoot' | 'stateRoot' | 'hostInterfaces' | 'interfacesMs' | 'faults'> {}

/** The nfqueue backend's options (backends/nfqueue/backend.ts NfqueueOptions). */
export interface NfqueueBackendOptions extends CommonBackendOptions, Pick<NfqueueOptions, 'queues' | 'firstQueue' | 'failOpen' | 'strict' | 'keepSteering' | 'faults'> {}

export interface BackendOptionsByName {
  readonly nftables: NftablesBackendOptions;
  readonly ebpf: EbpfBackendOptions;
  readonly nfqueue: NfqueueBackendOptions;
}

export const DEFAULT_NFLOG_GROUP = 100;

type Factory<N extends BackendName> = (options: BackendOptionsByName[N]) => Promise<Backend>;

const FACTORIES: { readonly [N in BackendName]: Factory<N> } = {
  nftables: async (o) => {
    const { NftablesBackend } = await import('./nftables/backend.js');
    return new NftablesBackend({
      ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}),
      ...(o.logDenied ? { denyLog: { group: o.nflogGroup ?? DEFAULT_NFLOG_GROUP } } : {}),
      ...(o.native ? { native: o.native } : {}),
      ...(o.beforeTransaction ? { beforeTransaction: o.beforeTransaction } : {}),
    });
  },
  ebpf: async (o) => {
    const { EbpfBackend } = await import('./ebpf/backend.js');
    return new EbpfBackend({
      ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}),
      ...(o.logDenied ? { logDenied: true } : {}),
      ...(o.log ? { log: o.log } : {}),
      ...(o.tag !== undefined ? { tag: o.tag } : {}),
      ...(o.pinRoot !== undefined ? { pinRoot: o.pinRoot } : {}),
      ...(o.stateRoot !== undefined ? { stateRoot: o.stateRoot } : {}),
      ...(o.hostInterfaces ? { hostInterfaces: o.hostInterfaces } : {}),
      ...(o.interfacesMs !== undefined ? { interfacesMs: o.interfacesMs } : {}),
      ...(o.faults ? { faults: o.faults } : {}),
    });
  },
  nfqueue: async (o) => {
    const { NfqueueBackend } = await import('./nfqueue/backend.js');
    return new NfqueueBackend({
      ...(o.netnsPath !== undefined ? { netnsPath: o.netnsPath } : {}),
      ...(o.logDenied ? { logDenied: true } : {}),
      ...(o.queues !== undefined ? { queues: o.queues } : {}),
      ...(o.firstQueue !== undefined ? { firstQueue: o.firstQueue } : {}),
      ...(o.failOpen ? { failOpen: true } : {}),
      ...(o.strict ? { strict: true } : {}),
      ...(o.keepSteering ? { keepSteering: true } : {}),
      ...(o.faults ? { faults: o.faults } : {}),
    });
  },
};

/** Build the backend `name` with its options; the module loads on the first call. */
export function createBackend<N extends BackendName>(name: N, options: BackendOptionsByName[N]): Promise<Backend> {
  const factory = FACTORIES[name] as Factory<N>;
  return factory(options);
}
