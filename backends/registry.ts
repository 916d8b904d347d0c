/**
 * The backend registry: `createBackend(name, options)` builds a kernel backend by name, loading
 * its module on demand (a process that only runs `palisade check` never loads kernel glue). The
 * CLI (src/cli/enforce.ts, apply.ts, stats.ts) and the agent build backends only through it.
 *
 * Options are typed per backend (BackendOptionsByName); every backend takes the common ones.
 * A backend that does not implement `Backend` yet throws ERR_PALISADE_BACKEND_NOT_PORTED here,
 * and the CLI runs its own commands instead (src/cli/backend-flags.ts `legacy`).
 * No side effects beyond the module load. Thread-safety: none needed (no state).
 */
import type { Backend, BackendName } from '../src/enforce/backend.js';
import type { NfqueueOptions } from './nfqueue/backend.js';
import type { NftablesOptions } from './nftables/backend.js';

/** What every backend takes. */
export interface CommonBackendOptions {
  /** network namespace of the node (e.g. /run/netns/NAME); default: the current one */
  readonly netnsPath?: string;
  /** report denied flows through Backend.drainDenied() */
  readonly logDenied?: boolean;
}

export interface NftablesBackendOptions extends CommonBackendOptions, Pick<NftablesOptions, 'native' | 'beforeTransaction'> {
  /** NFLOG group the deny rules log to (with logDenied); default 100 */
  readonly nflogGroup?: number;
}

/** The eBPF backend's options (its port to `Backend` replaces this with its own type). */
export interface EbpfBackendOptions extends CommonBackendOptions {
  readonly tag?: string;
  readonly pinRoot?: string;
  readonly hostInterfaces?: readonly string[];
  readonly interfacesMs?: number;
}

/** The nfqueue backend's options (backends/nfqueue/backend.ts NfqueueOptions). */
export interface NfqueueBackendOptions extends CommonBackendOptions, Pick<NfqueueOptions, 'queues' | 'firstQueue' | 'failOpen' | 'strict' | 'keepSteering' | 'faults'> {}

export interface BackendOptionsByName {
  readonly nftables: NftablesBackendOptions;
  readonly ebpf: EbpfBackendOptions;
  readonly nfqueue: NfqueueBackendOptions;
}

export const DEFAULT_NFLOG_GROUP = 100;

type Factory<N extends BackendName> = (options: BackendOptionsByName[N]) => Promise<Backend>;

const notPorted = (name: BackendName): never => {
  throw Object.assign(new Error(`the ${name} backend does not implement Backend yet (its own command runs instead)`), { code: 'ERR_PALISADE_BACKEND_NOT_PORTED' });
};

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
  ebpf: async () => notPorted('ebpf'),
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
