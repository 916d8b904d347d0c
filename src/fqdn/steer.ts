/**
 * Steering DNS answers into the learner's queue (docs/fqdn.md §6), in the node's network
 * namespace, the same way for every backend.
 *
 * Why iptables-nft NFQUEUE: this kernel lacks nft's native `queue` (CONFIG_NFT_QUEUE; see
 * backends/nfqueue/steer.ts); the xtables NFQUEUE target through iptables-nft works everywhere
 * iptables-nft does. Why a queue at all: the answer must be HELD until its addresses are in the
 * kernel (NFLOG or a tc program that copies the answer cannot hold it: the pod would race the
 * map write); NFQUEUE holds it and the verdict releases it.
 *
 * Rules (table filter, own chain PALISADE-DNS, jumped to from the first position of FORWARD and
 * OUTPUT: answers from resolver pods, and from a resolver on the node itself):
 *   -A PALISADE-DNS -p udp --sport 53 -j NFQUEUE --queue-num Q --queue-bypass
 *   -A PALISADE-DNS -p tcp --sport 53 -j NFQUEUE --queue-num Q --queue-bypass
 * Every source is steered: the learner itself checks the trusted resolvers (so a change of
 * kube-dns endpoints needs no steering change, and a forged answer is seen and counted).
 * Fail mode: --queue-bypass (no learner bound: the kernel accepts) and the queue's fail-open
 * flag (queue full: accepted). DNS is never lost for want of a learner; an answer so passed
 * teaches nothing, so new connections to its addresses are denied (fail closed for policy).
 * Safety: fixed strings and a validated queue number; one iptables-nft-restore --noflush
 * transaction per family, touching only PALISADE-DNS and its jumps.
 */
import { spawn } from 'node:child_process';
import { PalisadeError } from '../model/errors.js';

export const DNS_CHAIN = 'PALISADE-DNS';
const HOOKS = ['FORWARD', 'OUTPUT'] as const;
const IPT = { 4: 'iptables-nft', 6: 'ip6tables-nft' } as const;
const IPT_RESTORE = { 4: 'iptables-nft-restore', 6: 'ip6tables-nft-restore' } as const;

export interface DnsSteerContext {
  /** run inside the network namespace at this path (`nsenter --net=PATH`) */
  readonly netnsPath?: string;
}

/** The chain body and missing jumps as one iptables-restore transaction. Pure. */
export function renderDnsSteering(queueNum: number, missingJumps: readonly string[]): string {
  if (!Number.isInteger(queueNum) || queueNum < 0 || queueNum > 65535) throw new PalisadeError('ERR_PALISADE_STEER_PLAN', `bad DNS queue number ${queueNum}`);
  return [
    '*filter',
    `:${DNS_CHAIN} - [0:0]`,
    `-A ${DNS_CHAIN} -p udp --sport 53 -j NFQUEUE --queue-num ${queueNum} --queue-bypass`,
    `-A ${DNS_CHAIN} -p tcp --sport 53 -j NFQUEUE --queue-num ${queueNum} --queue-bypass`,
    ...missingJumps.map((h) => `-I ${h} 1 -j ${DNS_CHAIN}`),
    'COMMIT',
    '',
  ].join('\n');
}

export async function installDnsSteering(queueNum: number, ctx: DnsSteerContext = {}): Promise<void> {
  for (const f of [4, 6] as const) {
    const missing: string[] = [];
    for (const h of HOOKS) if ((await run(ctx, [IPT[f], '-w', '-t', 'filter', '-C', h, '-j', DNS_CHAIN])).code !== 0) missing.push(h);
    const r = await run(ctx, [IPT_RESTORE[f], '-w', '--noflush'], renderDnsSteering(queueNum, missing));
    if (r.code !== 0) throw new PalisadeError('ERR_PALISADE_STEER_COMMAND', `${IPT_RESTORE[f]} failed: ${r.stderr.trim()}`);
  }
}

/** Remove the chain and its jumps. Idempotent. */
export async function removeDnsSteering(ctx: DnsSteerContext = {}): Promise<void> {
  for (const f of [4, 6] as const) {
    const lines = ['*filter'];
    for (const h of HOOKS) if ((await run(ctx, [IPT[f], '-w', '-t', 'filter', '-C', h, '-j', DNS_CHAIN])).code === 0) lines.push(`-D ${h} -j ${DNS_CHAIN}`);
    if ((await run(ctx, [IPT[f], '-w', '-t', 'filter', '-S', DNS_CHAIN])).code === 0) lines.push(`-F ${DNS_CHAIN}`, `-X ${DNS_CHAIN}`);
    if (lines.length === 1) continue;
    await run(ctx, [IPT_RESTORE[f], '-w', '--noflush'], [...lines, 'COMMIT', ''].join('\n'));
  }
}

function run(ctx: DnsSteerContext, argv: readonly string[], input?: string): Promise<{ code: number | null; stderr: string }> {
  let cmd = argv[0]!;
  let args = argv.slice(1);
  if (ctx.netnsPath !== undefined) {
    if (!ctx.netnsPath.startsWith('/') || ctx.netnsPath.includes('\0')) throw new PalisadeError('ERR_PALISADE_STEER_PLAN', 'netnsPath must be an absolute path');
    args = [`--net=${ctx.netnsPath}`, '--', cmd, ...args];
    cmd = 'nsenter';
  }
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
