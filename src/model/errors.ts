/**
 * The one error base of Palisade: every failure a caller can act on is a `PalisadeError` whose
 * `code` is one row of docs/error-codes.md (what it means, who throws it, what the user does).
 * Callers branch on `code`, never on message text; the message says what failed and names the
 * file, object or option involved.
 * Invariants: `ERROR_CODES` lists exactly the codes of docs/error-codes.md, in its order
 * (test/model/codes.test.ts compares the two), so the compiler rejects a code the table does not
 * list; `cause` is the lower-level error when there is one (a native failure, a syscall, a
 * subprocess); `details` holds machine-readable fields (errno, the libnftables error text, a
 * path) that the message also says in words.
 * Native failures arrive with the addon's own code; src/native/binding.ts turns them into a
 * PalisadeError with the code of this table (its NATIVE_CODES map).
 * Cost: an Error allocation; thread-safety: immutable after construction.
 */

/** Every error code, in the order of docs/error-codes.md. */
export const ERROR_CODES = [
  // input and usage
  'ERR_PALISADE_INVALID_INPUT',
  'ERR_PALISADE_INVALID_FLOW',
  'ERR_PALISADE_UNSUPPORTED_RULE',
  'ERR_PALISADE_USAGE',
  'ERR_PALISADE_STATS_FILE',
  'ERR_PALISADE_CLASSBENCH_RULE',
  'ERR_PALISADE_CLASSBENCH_TRACE',
  'ERR_PALISADE_CLASSBENCH_FIRSTMATCH',
  // engine and native classifier
  'ERR_PALISADE_NO_CLASSIFIER',
  'ERR_PALISADE_NATIVE_MISSING',
  'ERR_PALISADE_NATIVE_ARGUMENT',
  'ERR_PALISADE_NATIVE',
  'ERR_PALISADE_RULE_TOO_MANY',
  'ERR_PALISADE_RULE_ID_RESERVED',
  'ERR_PALISADE_RULE_ID_DUPLICATE',
  'ERR_PALISADE_RULE_PORT_RANGE',
  'ERR_PALISADE_RULE_PREFIX_LEN',
  'ERR_PALISADE_RULE_KIND',
  'ERR_PALISADE_SET_EDIT',
  // enforcement (every backend)
  'ERR_PALISADE_NOT_APPLIED',
  'ERR_PALISADE_RULES_CHANGED',
  'ERR_PALISADE_STAGE_OPEN',
  'ERR_PALISADE_BACKEND_OPTION',
  'ERR_PALISADE_BACKEND_NOT_PORTED',
  'ERR_PALISADE_NO_DENY_LOG',
  'ERR_PALISADE_NETNS',
  // nftables
  'ERR_PALISADE_NFT',
  'ERR_PALISADE_NFT_INPUT',
  'ERR_PALISADE_NFT_CTX',
  'ERR_PALISADE_NFT_NETLINK',
  'ERR_PALISADE_NFLOG',
  // nfqueue
  'ERR_PALISADE_NFQUEUE_START',
  'ERR_PALISADE_DNS_QUEUE_START',
  'ERR_PALISADE_NFQUEUE_RULES',
  'ERR_PALISADE_STEER_PLAN',
  'ERR_PALISADE_STEER_COMMAND',
  // eBPF
  'ERR_PALISADE_EBPF_PERMISSION',
  'ERR_PALISADE_EBPF_SYSCALL',
  'ERR_PALISADE_EBPF_BPFFS',
  'ERR_PALISADE_EBPF_LAYOUT',
  'ERR_PALISADE_EBPF_TABLES',
  'ERR_PALISADE_EBPF_CAPACITY',
  // Kubernetes agent and CNI
  'ERR_PALISADE_KUBE_CONFIG',
  'ERR_PALISADE_KUBE_TRANSPORT',
  'ERR_PALISADE_KUBE_HTTP',
  'ERR_PALISADE_KUBE_DECODE',
  'ERR_PALISADE_KUBE_SILENT',
  'ERR_PALISADE_KUBE_RESOURCE',
  'ERR_PALISADE_KUBE_STATE',
  'ERR_PALISADE_CNI_REQUEST',
  'ERR_PALISADE_CNI_QUEUE',
  'ERR_PALISADE_CNI_SOCKET_IN_USE',
  'ERR_PALISADE_AGENT_RESOURCE',
  'ERR_PALISADE_EVENT_POST',
  'ERR_PALISADE_HEALTH_ADDRESS',
  'ERR_PALISADE_CNI_ABORTED',
  'ERR_PALISADE_CNI_UNKNOWN_POD',
  'ERR_PALISADE_CNI_IPS',
  'ERR_PALISADE_CNI_IP',
  'ERR_PALISADE_INSTALL_CNI',
  // topology (tests and `palisade demo`)
  'ERR_PALISADE_TOPOLOGY',
  'ERR_PALISADE_COMMAND_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `code` is a row of docs/error-codes.md. */
export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && KNOWN.has(code);

export interface PalisadeErrorOptions {
  /** the lower-level failure (a native error, a syscall, a subprocess) */
  readonly cause?: unknown;
  /** machine-readable fields: errno, the libnftables error text, a path, an argv */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class PalisadeError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: PalisadeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.name = new.target.name;
  }
}

/** The code of any thrown value when it is a table code (a PalisadeError, or an error that crossed from native code). */
export function errorCode(e: unknown): ErrorCode | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? code : undefined;
}
