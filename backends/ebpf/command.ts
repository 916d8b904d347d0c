/**
 * The eBPF backend's commands, for the CLI to dispatch to:
 *
 *   palisade apply   --backend ebpf -f PATH... [--netns PATH] [--host-interface IF]...  -> runApplyEbpf
 *   palisade apply   --backend ebpf --delete [--netns PATH]                               -> runApplyEbpf
 *   palisade enforce --backend ebpf -f DIR [--log-denied] [--netns PATH] ...             -> runEnforceEbpf
 *   palisade stats   --backend ebpf [--netns PATH]                                       -> runStatsEbpf
 *
 * `apply` puts the policy in force (pinned programs and maps, tc filters on every veth of the
 * node namespace) and exits; enforcement stays after the process is gone. `enforce` keeps
 * running: it watches DIR (a change converges within a second; an invalid change keeps the last
 * good state), attaches to new pod interfaces as they appear, applies pod churn in place, and with
 * --log-denied prints one JSON deny-log line per denied flow. Restarting either adopts what is
 * pinned instead of tearing it down. `--backend ebpf` is the CLI's to strip; it is accepted here.
 * Exit codes: 0 done, 1 a kernel or internal failure (EPERM names the missing capability),
 * 2 invalid input or usage.
 */
import { execFileSync } from 'node:child_process';
import { formatProblem } from '../../src/model/problems.js';
import type { Cluster } from '../../src/model/types.js';
import type { InventoryChange } from '../../src/resolve/index.js';
import { podKey } from '../../src/resolve/index.js';
import { startEnforceLoop } from '../../src/enforce/watch.js';
import type { Enforcer } from '../../src/enforce/backend.js';
import { formatFlags, parseArgs, UsageError, type FlagSpecs } from '../../src/cli/args.js';
import { checkBackend, describeFailure, loadForBackend, stdIo, type CommandIo } from '../../src/cli/backend-kit.js';
export type { CommandIo } from '../../src/cli/backend-kit.js';
import { EbpfEnforcer, type EbpfEnforcerOptions } from './enforcer.js';
import { EbpfInstance } from './instance.js';

const COMMON = {
  help: { kind: 'boolean', short: 'h', help: 'this help' },
  backend: { kind: 'string', value: 'ebpf', help: 'the backend (ebpf; accepted for the CLI dispatcher)' },
  netns: { kind: 'string', value: 'PATH', help: 'network namespace of the node (default: the current one)' },
  tag: { kind: 'string', value: 'NAME', help: 'instance name under /sys/fs/bpf/palisade (default: ns<netns inode>)' },
  'pin-root': { kind: 'string', value: 'DIR', help: 'bpffs directory for the pins (default /sys/fs/bpf/palisade)' },
  'host-interface': { kind: 'list', value: 'IF', help: 'also enforce on this node uplink (role host); repeatable' },
} as const satisfies FlagSpecs;

const APPLY_FLAGS = {
  filename: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories' },
  delete: { kind: 'boolean', help: 'remove everything Palisade installed in this namespace' },
  ...COMMON,
} as const satisfies FlagSpecs;

const ENFORCE_FLAGS = {
  filename: { kind: 'list', short: 'f', value: 'DIR', help: 'manifest directory (or files) to watch' },
  'log-denied': { kind: 'boolean', help: 'print one JSON line per denied flow' },
  'interfaces-ms': { kind: 'string', value: 'MS', help: 'how often to look for new pod interfaces (default 500)' },
  ...COMMON,
} as const satisfies FlagSpecs;

const STATS_FLAGS = { ...COMMON } as const satisfies FlagSpecs;

function enforcerOptions(f: { netns?: string | undefined; tag?: string | undefined; 'pin-root'?: string | undefined; 'host-interface': string[] }): EbpfEnforcerOptions {
  return {
    ...(f.netns !== undefined ? { netnsPath: f.netns } : {}),
    ...(f.tag !== undefined ? { tag: f.tag } : {}),
    ...(f['pin-root'] !== undefined ? { pinRoot: f['pin-root'] } : {}),
    hostInterfaces: f['host-interface'],
  };
}

export async function runApplyEbpf(argv: readonly string[], io: CommandIo = stdIo): Promise<number> {
  let f;
  try {
    f = parseArgs(argv, APPLY_FLAGS);
    checkBackend('ebpf', f.backend);
    if (f.help) {
      io.out(`Usage: palisade apply --backend ebpf -f PATH... | --delete [flags]\n${formatFlags(APPLY_FLAGS)}\n`);
      return 0;
    }
    if (!f.delete && f.filename.length === 0) throw new UsageError('-f PATH... is required (or --delete)');
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`palisade apply --backend ebpf: ${e.message}\n${formatFlags(APPLY_FLAGS)}\n`);
      return 2;
    }
    throw e;
  }
  let enforcer: EbpfEnforcer | undefined;
  try {
    if (f.delete) {
      const inst = EbpfInstance.open(enforcerOptions(f));
      const removed = removeAll(inst, f.netns ?? '');
      io.out(`palisade apply --delete (ebpf): detached from ${removed.length} interface(s), unpinned ${inst.pinDir}\n`);
      return 0;
    }
    const cluster = loadForBackend(f.filename, io);
    if (!cluster) return 2;
    enforcer = new EbpfEnforcer(enforcerOptions(f));
    const r = enforcer.applyCluster(cluster);
    io.out(
      `palisade apply (ebpf): ${r.rules} rules in generation ${r.generation}, enforcing on ${enforcer.attachedInterfaces().length} interface(s), ${r.durationMs.toFixed(1)} ms${enforcer.instance.adopted ? ' (adopted the pinned instance)' : ''}\n`,
    );
    return 0;
  } catch (e) {
    io.err(`palisade apply --backend ebpf: ${describeFailure(e)}\n`);
    return 1;
  } finally {
    enforcer?.close(); // leaves everything in force
  }
}

/** Detach our filters from every interface that carries them, then unpin. */
function removeAll(inst: EbpfInstance, netnsPath: string): string[] {
  const ours = new Set([inst.native.progInfo('pal_egress').id, inst.native.progInfo('pal_ingress').id]);
  const done: string[] = [];
  for (const name of listInterfaces(netnsPath)) {
    let q;
    try {
      q = inst.native.query(netnsPath, name);
    } catch {
      continue;
    }
    if (ours.has(q.ingressProgId) || ours.has(q.egressProgId)) {
      inst.native.detach(netnsPath, name);
      done.push(name);
    }
  }
  inst.destroy();
  return done;
}

function listInterfaces(netnsPath: string): string[] {
  const args = ['-j', 'link', 'show'];
  const out = netnsPath ? execFileSync('nsenter', [`--net=${netnsPath}`, 'ip', ...args], { encoding: 'utf8' }) : execFileSync('ip', args, { encoding: 'utf8' });
  return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname);
}

/** What changed in the inventory when the policies did not: pod churn for applyChanges. */
export function inventoryChanges(prev: Cluster, next: Cluster): InventoryChange[] | undefined {
  const strip = (o: unknown): string => JSON.stringify(o, (k, v: unknown) => (k === 'source' ? undefined : typeof v === 'bigint' ? v.toString() : v));
  if (strip(prev.networkPolicies) !== strip(next.networkPolicies) || strip(prev.clusterPolicies) !== strip(next.clusterPolicies)) return undefined;
  if (strip(prev.namespaces) !== strip(next.namespaces) || strip(prev.nodes) !== strip(next.nodes)) return undefined;
  const before = new Map(prev.pods.map((p) => [podKey(p), p]));
  const after = new Map(next.pods.map((p) => [podKey(p), p]));
  const out: InventoryChange[] = [];
  for (const [k, p] of after) if (!before.has(k) || strip(before.get(k)) !== strip(p)) out.push({ kind: 'pod', pod: p });
  for (const [k, p] of before) if (!after.has(k)) out.push({ kind: 'pod-removed', namespace: p.namespace, name: p.name });
  return out;
}

export interface EnforceHandle {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** The enforce loop without process wiring (tests drive this; runEnforceEbpf adds signals). */
export function startEbpfEnforce(
  paths: readonly string[],
  opts: EbpfEnforcerOptions & { logDenied?: boolean; interfacesMs?: number },
  io: CommandIo,
): EnforceHandle {
  const enforcer = new EbpfEnforcer({ ...opts, logDenied: opts.logDenied ?? false });
  if (enforcer.instance.adopted) io.err(`palisade enforce (ebpf): adopted the pinned instance at ${enforcer.instance.pinDir}\n`);
  let current: Cluster | undefined;
  const adapter: Enforcer = {
    name: 'ebpf',
    async apply(cluster) {
      const changes = current ? inventoryChanges(current, cluster) : undefined;
      const r = changes ? enforcer.applyChanges(changes) : enforcer.applyCluster(cluster);
      current = cluster;
      return { summary: r.kind === 'full' ? `${r.rules} rules, generation ${r.generation}` : `${r.entries} address entries in place`, ms: r.durationMs };
    },
    async remove() {
      enforcer.remove();
    },
    async close() {
      enforcer.close();
    },
  };
  const loop = startEnforceLoop({
    paths,
    enforcer: adapter,
    onEvent: (e) => {
      if (e.type === 'applied') io.err(`palisade enforce (ebpf): applied #${e.generation}: ${e.report.summary} (${e.report.ms.toFixed(1)} ms)\n`);
      else if (e.type === 'rejected') io.err(`palisade enforce (ebpf): change rejected, keeping the last good state:\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
      else io.err(`palisade enforce (ebpf): apply failed, keeping the last good state: ${describeFailure(e.error)}\n`);
    },
  });
  const ifTimer = setInterval(() => {
    if (!current) return;
    try {
      for (const name of enforcer.attachInterfaces()) io.err(`palisade enforce (ebpf): enforcing on new interface ${name}\n`);
    } catch (e) {
      io.err(`palisade enforce (ebpf): attaching: ${describeFailure(e)}\n`);
    }
  }, opts.interfacesMs ?? 500);
  const logTimer = opts.logDenied
    ? setInterval(() => {
        for (const line of enforcer.drainDenyLines()) io.out(`${line}\n`);
      }, 100)
    : undefined;
  return {
    ready: loop.ready,
    async stop() {
      clearInterval(ifTimer);
      if (logTimer) clearInterval(logTimer);
      await loop.stop();
      if (opts.logDenied) for (const line of enforcer.drainDenyLines()) io.out(`${line}\n`);
      enforcer.close(); // enforcement stays: a restarted agent adopts it
    },
  };
}

export async function runEnforceEbpf(argv: readonly string[], io: CommandIo = stdIo): Promise<number> {
  let f;
  try {
    f = parseArgs(argv, ENFORCE_FLAGS);
    checkBackend('ebpf', f.backend);
    if (f.help) {
      io.out(`Usage: palisade enforce --backend ebpf -f DIR [flags]\n${formatFlags(ENFORCE_FLAGS)}\n`);
      return 0;
    }
    if (f.filename.length === 0) throw new UsageError('-f DIR is required');
    if (f['interfaces-ms'] !== undefined && !/^\d+$/.test(f['interfaces-ms'])) throw new UsageError('--interfaces-ms takes a number');
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`palisade enforce --backend ebpf: ${e.message}\n${formatFlags(ENFORCE_FLAGS)}\n`);
      return 2;
    }
    throw e;
  }
  let handle: EnforceHandle;
  try {
    handle = startEbpfEnforce(
      f.filename,
      { ...enforcerOptions(f), logDenied: f['log-denied'], ...(f['interfaces-ms'] ? { interfacesMs: Number(f['interfaces-ms']) } : {}) },
      io,
    );
    await handle.ready;
  } catch (e) {
    io.err(`palisade enforce --backend ebpf: ${describeFailure(e)}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await handle.stop();
  return 0;
}

/** Per-rule counters of the pinned instance (new flows classified per rule since load). */
export async function runStatsEbpf(argv: readonly string[], io: CommandIo = stdIo): Promise<number> {
  let f;
  try {
    f = parseArgs(argv, STATS_FLAGS);
    checkBackend('ebpf', f.backend);
    if (f.help) {
      io.out(`Usage: palisade stats --backend ebpf [flags]\n${formatFlags(STATS_FLAGS)}\n`);
      return 0;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`palisade stats --backend ebpf: ${e.message}\n${formatFlags(STATS_FLAGS)}\n`);
      return 2;
    }
    throw e;
  }
  try {
    const inst = EbpfInstance.open(enforcerOptions(f));
    const slots = inst.knownSlots();
    const c = inst.native.readCounters(Uint32Array.from(slots.map((s) => s.slot)));
    const stats = inst.native.readStats();
    const rows = slots.map((s, i) => ({ rule: s.stableId, packets: Number(c.packets[i]), bytes: Number(c.bytes[i]) }));
    io.out(`${JSON.stringify({ backend: 'ebpf', pinDir: inst.pinDir, rules: rows, datapath: statsObject(stats) })}\n`);
    inst.close();
    return 0;
  } catch (e) {
    io.err(`palisade stats --backend ebpf: ${describeFailure(e)}\n`);
    return 1;
  }
}

const STAT_NAMES = ['nonIp', 'established', 'newAllowed', 'newDenied', 'malformed', 'fragmentUnknown', 'ringbufLost', 'noPolicy', 'neighbourDiscovery', 'mapMiss', 'related'];

function statsObject(s: BigUint64Array): Record<string, number> {
  const o: Record<string, number> = {};
  STAT_NAMES.forEach((n, i) => (o[n] = Number(s[i] ?? 0n)));
  return o;
}
