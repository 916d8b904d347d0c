/**
 * `palisade agent --backend nftables|ebpf|nfqueue --node-name NAME [--kubeconfig PATH]
 *  [--health-address HOST:PORT] [--netns PATH] [--log-denied] [--remove-on-exit]`: the node agent
 * (src/agent/agent.ts). Watches the API server (the kubeconfig's cluster, CA and token; without
 * --kubeconfig the in-cluster service account), enforces through the backend built by
 * backends/registry.ts (the backend's own `enforce` flags from src/cli/backend-flags.ts apply),
 * serves /readyz, /healthz and /metrics (src/agent/health.ts), logs JSON lines on stderr and, with
 * --log-denied, one JSON deny line per denied flow on stdout.
 * SIGTERM / SIGINT: stop watching and leave the last state in the kernel (fail closed), or remove
 * it with --remove-on-exit; exit 0. A restart adopts what is installed: its first apply replaces
 * the installed state in one transaction (no window of open traffic).
 * FQDN learning (docs/fqdn.md) keeps its learned addresses across restarts in --fqdn-state PATH
 * (default /run/palisade/<backend>-fqdn-learned.json, as `palisade enforce`).
 * The CNI plugin's requests (cni/palisade_cni.cc) are served on --cni-socket
 * (src/agent/cni/server.ts over the agent's CniAgent): an ADD is answered once the pod's policy
 * is in the kernel.
 * --service-account-dir and --watch-silence-ms exist for tests and unusual setups (a service
 * account mounted elsewhere, a faster restart of a stalled watch).
 * Exit: 2 on a usage error, 1 when the backend, the kubeconfig or the health address fails at start.
 */
import { BACKEND_NAMES, type BackendName } from '../enforce/backend.js';
import type { CommonBackendOptions } from '../../backends/registry.js';
import { formatFlags, parseArgs, UsageError, type FlagSpecs } from './args.js';
import { dnsServersOf, minTtlOf } from './fqdn.js';
import { backendCli } from './backend-flags.js';
import { defaultFqdnStateFile, describeFailure } from './backend.js';
import type { Io } from './io.js';
import type { LogLevel } from '../agent/log.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** where cni/palisade_cni.cc looks by default */
const DEFAULT_CNI_SOCKET = '/run/palisade/cni.sock';
const DEFAULT_CNI_QUEUE = '/run/palisade/cni-queue';

const AGENT_FLAGS = {
  backend: { kind: 'string', value: 'NAME', help: 'nftables | ebpf | nfqueue' },
  'node-name': { kind: 'string', value: 'NAME', help: 'this node\'s name (the Node object; required)' },
  kubeconfig: { kind: 'string', value: 'PATH', help: 'kubeconfig file (default: the in-cluster service account)' },
  'service-account-dir': { kind: 'string', value: 'DIR', help: 'in-cluster token and ca.crt (default /var/run/secrets/kubernetes.io/serviceaccount)' },
  'watch-silence-ms': { kind: 'string', value: 'MS', help: 'restart a watch silent (not even a bookmark) this long (default 300000)' },
  'log-level': { kind: 'string', value: 'LEVEL', help: 'debug | info | warn | error (default info)' },
  'cni-socket': { kind: 'string', value: 'PATH', help: `the CNI plugin's socket (default ${DEFAULT_CNI_SOCKET}; \`none\`: no CNI server)` },
  'cni-queue-dir': { kind: 'string', value: 'DIR', help: `DELs the plugin queued while the agent was down (default ${DEFAULT_CNI_QUEUE})` },
  'cni-add-timeout-ms': { kind: 'string', value: 'MS', help: 'longest a CNI ADD waits for the pod\'s policy to be in the kernel (default 10000)' },
  'health-address': { kind: 'string', value: 'HOST:PORT', help: '/readyz, /healthz and /metrics (default 127.0.0.1:9090)' },
  netns: { kind: 'string', value: 'PATH', help: 'network namespace of the node (default: the current one)' },
  'log-denied': { kind: 'boolean', help: 'print one JSON line per denied flow on stdout; count them in /metrics' },
  'dns-server': { kind: 'list', value: 'IP', help: 'trusted DNS resolvers for domainNames peers (default: the endpoints of Service kube-system/kube-dns)' },
  'fqdn-min-ttl': { kind: 'string', value: 'SECONDS', help: 'floor of a learned address\'s TTL (default 5; no cap)' },
  'fqdn-state': { kind: 'string', value: 'PATH', help: 'learned DNS addresses kept across restarts (default /run/palisade/<backend>-fqdn-learned.json)' },
  'no-fqdn': { kind: 'boolean', help: 'do not learn domainNames addresses from DNS answers (they then match nothing)' },
  'remove-on-exit': { kind: 'boolean', help: 'on SIGTERM remove what is installed (default: leave it in force)' },
  help: { kind: 'boolean', short: 'h', help: 'this help' },
} as const satisfies FlagSpecs;

const enforceFlagsOf = (name: BackendName): FlagSpecs => {
  const cli = backendCli(name);
  return Object.fromEntries(Object.entries(cli.flags).filter(([k]) => (cli.flagVerbs?.[k] ?? cli.verbs).includes('enforce')));
};

export function agentUsage(name?: BackendName): string {
  const own = name ? enforceFlagsOf(name) : {};
  return `Usage: palisade agent --backend ${name ?? 'nftables|ebpf|nfqueue'} --node-name NAME [flags]\n${formatFlags(AGENT_FLAGS)}\n${Object.keys(own).length > 0 ? `${name} flags:\n${formatFlags(own)}\n` : ''}`;
}

export async function runAgent(argv: readonly string[], io: Io): Promise<number> {
  const eq = argv.find((a) => a.startsWith('--backend='));
  const i = argv.indexOf('--backend');
  const backendText = eq !== undefined ? eq.slice('--backend='.length) : i >= 0 ? argv[i + 1] : undefined;
  if (backendText === undefined && (argv.includes('--help') || argv.includes('-h'))) {
    io.out(agentUsage());
    return 0;
  }
  if (backendText === undefined) throw new UsageError(`--backend is required (${BACKEND_NAMES.join(', ')})`);
  if (!(BACKEND_NAMES as readonly string[]).includes(backendText)) throw new UsageError(`unknown backend ${JSON.stringify(backendText)} (${BACKEND_NAMES.join(', ')})`);
  const name = backendText as BackendName;
  const ownSpecs = enforceFlagsOf(name);
  const flags = parseArgs(argv, { ...ownSpecs, ...AGENT_FLAGS } as FlagSpecs) as Record<string, string | string[] | boolean | undefined>;
  if (flags.help) {
    io.out(agentUsage(name));
    return 0;
  }
  const nodeName = flags['node-name'];
  if (typeof nodeName !== 'string' || nodeName === '') throw new UsageError('--node-name is required');
  const own = Object.fromEntries(Object.keys(ownSpecs).map((k) => [k, flags[k]]));
  const common: CommonBackendOptions = {
    ...(typeof flags.netns === 'string' ? { netnsPath: flags.netns } : {}),
    ...(flags['log-denied'] === true ? { logDenied: true } : {}),
  };
  const built = backendCli(name).options(own as never, common) as Record<string, unknown>;
  // SIGTERM leaves the state in force (fail closed): nfqueue's steering stays for the next agent
  // (Agent.stop with --remove-on-exit removes it through Enforcement.remove)
  const options = name === 'nfqueue' ? { ...built, keepSteering: true } : built;
  const healthAddress = typeof flags['health-address'] === 'string' ? flags['health-address'] : undefined;
  const { parseHostPort, DEFAULT_HEALTH_ADDRESS, startHealthServer } = await import('../agent/health.js');
  try {
    parseHostPort(healthAddress ?? DEFAULT_HEALTH_ADDRESS);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const level = typeof flags['log-level'] === 'string' ? flags['log-level'] : 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level: ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  const silenceText = flags['watch-silence-ms'];
  const silenceMs = typeof silenceText === 'string' ? Number(silenceText) : undefined;
  if (silenceMs !== undefined && (!Number.isInteger(silenceMs) || silenceMs < 100 || silenceMs > 86_400_000)) throw new UsageError(`--watch-silence-ms: ${JSON.stringify(silenceText)} is not an integer from 100 to 86400000`);

  const cniSocket = typeof flags['cni-socket'] === 'string' ? flags['cni-socket'] : DEFAULT_CNI_SOCKET;
  if (cniSocket === '') throw new UsageError('--cni-socket: give a path, or `none`');
  const addText = flags['cni-add-timeout-ms'];
  const addTimeoutMs = typeof addText === 'string' ? Number(addText) : 10_000;
  if (!Number.isInteger(addTimeoutMs) || addTimeoutMs < 100 || addTimeoutMs > 600_000) throw new UsageError(`--cni-add-timeout-ms: ${JSON.stringify(addText)} is not an integer from 100 to 600000`);

  const { jsonLog } = await import('../agent/log.js');
  const log = jsonLog((line) => io.err(line), level as LogLevel);
  const fail = (what: string, e: unknown): number => {
    log.log('error', what, { error: describeFailure(e) });
    return 1;
  };
  const { informerSource, kubeClient, kubeEventSink } = await import('../agent/kube-source.js');
  let client;
  let source;
  try {
    client = kubeClient(typeof flags.kubeconfig === 'string' ? flags.kubeconfig : undefined, typeof flags['service-account-dir'] === 'string' ? { serviceAccountDir: flags['service-account-dir'] } : {});
    source = informerSource(client, {
      ...(silenceMs !== undefined ? { silenceMs } : {}),
      log: ({ level: l, msg, ...rest }) => log.log((LOG_LEVELS as readonly unknown[]).includes(l) ? (l as LogLevel) : 'info', `watch: ${String(msg)}`, rest),
    });
  } catch (e) {
    return fail('cannot configure the API server client', e);
  }
  const { Agent } = await import('../agent/agent.js');
  const { createBackend } = await import('../../backends/registry.js');
  let fqdn;
  try {
    const dnsServers = dnsServersOf(flags['dns-server'] as string[] | undefined);
    const minTtl = typeof flags['fqdn-min-ttl'] === 'string' ? minTtlOf(flags['fqdn-min-ttl']) : undefined;
    // the snapshot of learned addresses (docs/fqdn.md §6), as `palisade enforce` keeps it: a
    // restarted agent puts the live ones back into the kernel before it reads the next answer
    const snapshotFile = typeof flags['fqdn-state'] === 'string' ? flags['fqdn-state'] : defaultFqdnStateFile(name);
    fqdn =
      flags['no-fqdn'] === true
        ? (false as const)
        : { ...(dnsServers ? { dnsServers } : {}), ...(minTtl !== undefined ? { minTtlS: minTtl } : {}), ...(typeof flags.netns === 'string' ? { netnsPath: flags.netns } : {}), snapshotFile };
  } catch (e) {
    return fail('bad FQDN flags', e);
  }
  let backend;
  try {
    backend = await createBackend(name, options as never);
  } catch (e) {
    return fail(`cannot start the ${name} backend`, e);
  }
  const agent = new Agent({
    backend,
    nodeName,
    source,
    log,
    events: kubeEventSink(client),
    ...(flags['log-denied'] === true ? { logDenied: true, denyLine: (l: string) => io.out(l) } : {}),
    fqdn: fqdn,
  });
  let health;
  try {
    health = await startHealthServer(healthAddress ?? DEFAULT_HEALTH_ADDRESS, { ready: () => agent.isReady(), healthy: () => agent.healthy(), registry: agent.metrics.registry, status: () => agent.status() });
  } catch (e) {
    await backend.close();
    return fail('cannot serve the health address', e);
  }
  log.log('info', 'serving /readyz /healthz /metrics', { address: `${health.address.host}:${health.address.port}` });
  let cni: { close(): Promise<void>; readonly replayed: number } | undefined;
  if (cniSocket !== 'none') {
    const { startCniServer } = await import('../agent/cni/server.js');
    try {
      // requests are served at once: an ADD waits (bounded) for the pod's policy in the kernel,
      // which is never before the first full state
      cni = await startCniServer({
        socketPath: cniSocket,
        queueDir: typeof flags['cni-queue-dir'] === 'string' ? flags['cni-queue-dir'] : DEFAULT_CNI_QUEUE,
        agent: agent.cni,
        log: (line) => log.log('info', `cni: ${line}`),
        addTimeoutMs,
        ready: () => agent.isReady(),
      });
    } catch (e) {
      await health.close();
      await backend.close();
      return fail(`cannot serve the CNI socket ${cniSocket}`, e);
    }
    log.log('info', 'serving the CNI socket', { socket: cniSocket, replayedDeletes: cni.replayed });
  }
  try {
    agent.start();
  } catch (e) {
    await cni?.close();
    await health.close();
    await backend.close();
    return fail('cannot start the watches', e);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await cni?.close();
  await agent.stop({ remove: flags['remove-on-exit'] === true });
  await health.close();
  return 0;
}
