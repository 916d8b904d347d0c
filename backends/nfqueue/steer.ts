/**
 * Steering: the kernel rules that send packets of flows needing a decision to the nfqueue loop.
 *
 * Why two methods: nft's native `queue` statement needs CONFIG_NFT_QUEUE, which this machine's
 * kernel lacks (toolchain.md pitfall 7: `add rule ... queue num 3` fails with ENOENT). `detectSteering`
 * asks the kernel with `nft --check` on a throw-away table (validated by the kernel, never committed)
 * inside the target namespace; without it, the xtables NFQUEUE target is used through iptables-nft,
 * which libnftables cannot create (pitfall 7), so `iptables-nft-restore` is run as a subprocess.
 *
 * The xt method (IPv4 and IPv6 alike, table `filter`, Palisade's own chain PALISADE-NFQ, jumped to
 * from the first position of FORWARD, INPUT and OUTPUT):
 *   1 -m mark --mark M/M -j CONNMARK --or-mark M    the loop accepted this packet (NF_REPEAT + mark):
 *   2 -m mark --mark M/M -j MARK --and-mark ~M      remember it in the flow, restore the packet mark,
 *   3 -m connmark --mark M/M -j RETURN              and let an accepted flow pass on to others' rules
 *   4 -m conntrack --ctstate NEW -j NFQUEUE --queue-balance A:B --queue-cpu-fanout [--queue-bypass]
 * So only conntrack NEW packets of flows without the accepted bit reach the queue; replies and later
 * packets of accepted flows (ESTABLISHED, or NEW but marked) never do. Untracked packets (a raw-table
 * NOTRACK) are not steered: they have no conntrack entry to carry the mark.
 *
 * Fail modes (`failOpen`):
 * - enforcer gone (crash, kill -9, not started): with --queue-bypass the kernel accepts (fail-open);
 *   without it the packet is dropped (fail-closed). Restarting the enforcer re-binds the queues and
 *   enforcement resumes at once; nothing here needs re-installing.
 * - queue full: NFQA_CFG_F_FAIL_OPEN on the queue (set by the loop) accepts; otherwise the kernel drops.
 *
 * Safety: arguments are fixed strings and validated integers (no user text reaches a command); the
 * rules are installed in ONE iptables-nft-restore --noflush transaction per family and touch only
 * PALISADE-NFQ and the one jump rule per hook. Nothing here flushes or rewrites others' rules.
 */
import { PalisadeError } from '../../src/model/errors.js';
import { spawn } from 'node:child_process';

export type SteeringMethod = 'nft-queue' | 'xt-nfqueue';
export type Hook = 'FORWARD' | 'INPUT' | 'OUTPUT';

export const STEER_CHAIN = 'PALISADE-NFQ';
/** conntrack/packet mark bit meaning "accepted by Palisade"; far from kube-proxy's 0x4000/0x8000 */
export const DEFAULT_ACCEPT_MARK = 0x00400000;
const PROBE_TABLE = 'palisade_queue_probe';

export interface SteeringPlan {
  readonly firstQueue: number;
  readonly queueCount: number;
  readonly failOpen: boolean;
  readonly acceptMark: number;
  readonly hooks: readonly Hook[];
  readonly families: readonly (4 | 6)[];
}

export interface SteerContext {
  /** run inside this named network namespace (`ip netns exec NAME`); absent: the current one */
  readonly netns?: string;
  /** run inside the network namespace at this path (`nsenter --net=PATH`, e.g. /run/netns/NAME) */
  readonly netnsPath?: string;
}

export class SteeringError extends PalisadeError {
  constructor(code: 'ERR_PALISADE_STEER_COMMAND' | 'ERR_PALISADE_STEER_PLAN', message: string) {
    super(code, message);
  }
}

export function checkPlan(p: SteeringPlan): void {
  const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(p.firstQueue, 0, 65535) || !int(p.queueCount, 1, 64) || p.firstQueue + p.queueCount - 1 > 65535)
    throw new SteeringError('ERR_PALISADE_STEER_PLAN', `bad queue range ${p.firstQueue}+${p.queueCount}`);
  if (!int(p.acceptMark, 1, 0xffffffff) || (p.acceptMark & (p.acceptMark - 1)) !== 0)
    throw new SteeringError('ERR_PALISADE_STEER_PLAN', `acceptMark must be a single bit: ${p.acceptMark}`);
  if (p.hooks.length === 0 || p.families.length === 0) throw new SteeringError('ERR_PALISADE_STEER_PLAN', 'no hooks or families');
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

/** The NFQUEUE target's arguments for the plan. */
export function queueTargetArgs(p: SteeringPlan): string[] {
  const q =
    p.queueCount === 1
      ? ['--queue-num', String(p.firstQueue)]
      : ['--queue-balance', `${p.firstQueue}:${p.firstQueue + p.queueCount - 1}`, '--queue-cpu-fanout'];
  return [...q, ...(p.failOpen ? ['--queue-bypass'] : [])];
}

/** The PALISADE-NFQ chain body (xt method), as iptables-restore lines. Pure. */
export function renderChainRules(p: SteeringPlan): string[] {
  checkPlan(p);
  const m = hex(p.acceptMark);
  const notM = hex(~p.acceptMark >>> 0);
  return [
    `-A ${STEER_CHAIN} -m mark --mark ${m}/${m} -j CONNMARK --or-mark ${m}`,
    `-A ${STEER_CHAIN} -m mark --mark ${m}/${m} -j MARK --and-mark ${notM}`,
    `-A ${STEER_CHAIN} -m connmark --mark ${m}/${m} -j RETURN`,
    `-A ${STEER_CHAIN} -m conntrack --ctstate NEW -j NFQUEUE ${queueTargetArgs(p).join(' ')}`,
  ];
}

/** One iptables-nft-restore --noflush transaction: (re)fill the chain, add missing jumps. Pure. */
export function renderInstall(p: SteeringPlan, missingJumps: readonly Hook[]): string {
  return [
    '*filter',
    `:${STEER_CHAIN} - [0:0]`, // declaring a chain in --noflush mode flushes it: a refill, atomically
    ...renderChainRules(p),
    ...missingJumps.map((h) => `-I ${h} 1 -j ${STEER_CHAIN}`),
    'COMMIT',
    '',
  ].join('\n');
}

export function renderRemove(presentJumps: readonly Hook[]): string {
  return ['*filter', ...presentJumps.map((h) => `-D ${h} -j ${STEER_CHAIN}`), `-F ${STEER_CHAIN}`, `-X ${STEER_CHAIN}`, 'COMMIT', ''].join('\n');
}

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(ctx: SteerContext, argv: readonly string[], input?: string): Promise<Out> {
  let cmd = argv[0]!;
  let args = argv.slice(1);
  if (ctx.netns !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(ctx.netns)) throw new SteeringError('ERR_PALISADE_STEER_PLAN', `bad netns name`);
    args = ['netns', 'exec', ctx.netns, cmd, ...args];
    cmd = 'ip';
  } else if (ctx.netnsPath !== undefined) {
    if (!ctx.netnsPath.startsWith('/') || ctx.netnsPath.includes('\0')) throw new SteeringError('ERR_PALISADE_STEER_PLAN', `netnsPath must be an absolute path`);
    args = [`--net=${ctx.netnsPath}`, '--', cmd, ...args];
    cmd = 'nsenter';
  }
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

const IPT = { 4: 'iptables-nft', 6: 'ip6tables-nft' } as const;
const IPT_RESTORE = { 4: 'iptables-nft-restore', 6: 'ip6tables-nft-restore' } as const;

/** Does the kernel accept nft's native `queue` statement? Checked, never committed. */
export async function detectSteering(ctx: SteerContext = {}): Promise<SteeringMethod> {
  const script = `add table inet ${PROBE_TABLE}; add chain inet ${PROBE_TABLE} c; add rule inet ${PROBE_TABLE} c queue num 0 bypass`;
  const r = await exec(ctx, ['nft', '--check', script]);
  return r.code === 0 ? 'nft-queue' : 'xt-nfqueue';
}

async function jumps(ctx: SteerContext, family: 4 | 6, hooks: readonly Hook[]): Promise<Hook[]> {
  const present: Hook[] = [];
  for (const h of hooks) {
    const r = await exec(ctx, [IPT[family], '-w', '-t', 'filter', '-C', h, '-j', STEER_CHAIN]);
    if (r.code === 0) present.push(h);
  }
  return present;
}

async function restore(ctx: SteerContext, family: 4 | 6, text: string): Promise<void> {
  const r = await exec(ctx, [IPT_RESTORE[family], '-w', '--noflush'], text);
  if (r.code !== 0) throw new SteeringError('ERR_PALISADE_STEER_COMMAND', `${IPT_RESTORE[family]} failed: ${r.stderr.trim()}`);
}

/**
 * Install (or refresh) steering. Only the xt method is implemented: with `nft-queue` detected the
 * caller still gets the xt rules when the kernel has NFT_COMPAT (it does wherever iptables-nft runs).
 */
export async function installSteering(plan: SteeringPlan, ctx: SteerContext = {}, beforeFamily?: (family: 4 | 6) => void): Promise<void> {
  checkPlan(plan);
  for (const f of plan.families) {
    beforeFamily?.(f);
    const present = await jumps(ctx, f, plan.hooks);
    await restore(ctx, f, renderInstall(plan, plan.hooks.filter((h) => !present.includes(h))));
  }
}

/** Remove everything installSteering added. Idempotent. */
export async function removeSteering(ctx: SteerContext = {}, families: readonly (4 | 6)[] = [4, 6]): Promise<void> {
  for (const f of families) {
    const chainExists = (await exec(ctx, [IPT[f], '-w', '-t', 'filter', '-S', STEER_CHAIN])).code === 0;
    const present = await jumps(ctx, f, ['FORWARD', 'INPUT', 'OUTPUT']);
    if (!chainExists && present.length === 0) continue;
    if (!chainExists) {
      await restore(ctx, f, ['*filter', ...present.map((h) => `-D ${h} -j ${STEER_CHAIN}`), 'COMMIT', ''].join('\n'));
      continue;
    }
    await restore(ctx, f, renderRemove(present));
  }
}

/** What the steering of one family was: PALISADE-NFQ's rules (undefined: no chain) and the hooks jumping to it. */
export interface SteeringSnapshot {
  readonly family: 4 | 6;
  readonly chain: readonly string[] | undefined;
  readonly jumps: readonly Hook[];
}

const ALL_HOOKS: readonly Hook[] = ['FORWARD', 'INPUT', 'OUTPUT'];

/** Read the steering as it is (to put it back after a failed install: restoreSteering). */
export async function captureSteering(ctx: SteerContext = {}, families: readonly (4 | 6)[] = [4, 6]): Promise<SteeringSnapshot[]> {
  const out: SteeringSnapshot[] = [];
  for (const family of families) {
    const r = await exec(ctx, [IPT[family], '-w', '-t', 'filter', '-S', STEER_CHAIN]);
    const chain = r.code === 0 ? r.stdout.split('\n').filter((l) => l.startsWith(`-A ${STEER_CHAIN} `)) : undefined;
    out.push({ family, chain, jumps: await jumps(ctx, family, ALL_HOOKS) });
  }
  return out;
}

/**
 * Put the steering back as `captureSteering` saw it: the chain's rules refilled (or the chain
 * removed when there was none), jumps added since removed. One transaction per family. The rule
 * lines are iptables' own listing of our chain, never user text.
 */
export async function restoreSteering(saved: readonly SteeringSnapshot[], ctx: SteerContext = {}): Promise<void> {
  for (const s of saved) {
    const now = await jumps(ctx, s.family, ALL_HOOKS);
    const chainNow = (await exec(ctx, [IPT[s.family], '-w', '-t', 'filter', '-S', STEER_CHAIN])).code === 0;
    const extra = now.filter((h) => !s.jumps.includes(h));
    const missing = s.jumps.filter((h) => !now.includes(h));
    const lines = ['*filter'];
    if (s.chain !== undefined) lines.push(`:${STEER_CHAIN} - [0:0]`, ...s.chain);
    lines.push(...extra.map((h) => `-D ${h} -j ${STEER_CHAIN}`), ...missing.map((h) => `-I ${h} 1 -j ${STEER_CHAIN}`));
    if (s.chain === undefined && chainNow) lines.push(`-F ${STEER_CHAIN}`, `-X ${STEER_CHAIN}`);
    if (lines.length === 1) continue;
    await restore(ctx, s.family, [...lines, 'COMMIT', ''].join('\n'));
  }
}

/** Kernel per-queue counters (/proc/net/netfilter/nfnetlink_queue of the namespace). */
export interface KernelQueueStats {
  readonly queue: number;
  readonly portId: number;
  readonly waiting: number;
  readonly copyMode: number;
  readonly copyRange: number;
  readonly queueDropped: number;
  readonly userDropped: number;
  readonly lastId: number;
}

export async function kernelQueueStats(ctx: SteerContext = {}): Promise<KernelQueueStats[]> {
  const r = await exec(ctx, ['cat', '/proc/net/netfilter/nfnetlink_queue']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const n = l.trim().split(/\s+/).map(Number);
      return { queue: n[0]!, portId: n[1]!, waiting: n[2]!, copyMode: n[3]!, copyRange: n[4]!, queueDropped: n[5]!, userDropped: n[6]!, lastId: n[7]! };
    });
}
