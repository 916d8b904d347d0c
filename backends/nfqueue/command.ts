/**
 * `palisade enforce --backend nfqueue -f DIR [--queues N] [--fail-open] [--strict] [--log-denied]`
 *
 * Why nfqueue: a userspace verdict per NEW flow lets Palisade enforce where kernel sets cannot
 * (later: FQDN egress, audit mode), at the price of one queue round trip per new flow only: the
 * steering chain (steer.ts) sends only conntrack NEW packets without the accepted mark, and the
 * native loop (native/loop.h) marks what it accepts, so established traffic never leaves the kernel.
 *
 * Life cycle: bind the queues and start the loop -> load DIR and publish the first policy (an
 * invalid first load exits 2 and installs nothing) -> install steering -> watch DIR
 * (src/enforce/watch.ts: each valid change is compiled and published as a new snapshot without
 * stopping the loop; an invalid one keeps the last good policy) -> on SIGTERM/SIGINT stop and
 * remove the steering (unless --keep-steering).
 * Fail modes: see steer.ts. Fail-closed (default): if this process dies, the steering stays and
 * the kernel drops new flows until an enforcer binds the queues again; established flows continue.
 * --strict: after every policy change, conntrack entries of flows the new policy denies are
 * deleted (conntrack.h), so their next packet is judged again and dropped.
 * Output: deny log lines (src/enforce/deny-log.ts format, one per denied flow per 10 s) on stdout
 * with --log-denied; notices on
 * stderr; counters as JSON in --stats-file (default /run/palisade/nfqueue-stats.json) every second,
 * read by `palisade stats` through readNfqueueStats().
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Enforcer } from '../../src/enforce/backend.js';
type ApplyReport = { readonly summary: string; readonly ms: number };
import { startEnforceLoop } from '../../src/enforce/watch.js';
import { formatProblem } from '../../src/model/problems.js';
import type { Cluster } from '../../src/model/types.js';
import { nativeNfqueue, type NfqLoop, type NfqLoopStats } from '../../src/native/binding.js';
import { DenyLog, FlowDedup } from './deny.js';
import { Engine } from '../../src/engine/engine.js';
import { linearClassifier } from '../../src/engine/linear-classifier.js';
import { inventoryChanges } from './diff.js';
import { packLoopPolicy, packMembership } from './policy.js';
import { decodeDenyRecords } from './records.js';
import {
  DEFAULT_ACCEPT_MARK,
  detectSteering,
  installSteering,
  kernelQueueStats,
  removeSteering,
  type KernelQueueStats,
  type SteeringMethod,
  type SteeringPlan,
} from './steer.js';

export const DEFAULT_FIRST_QUEUE = 4200;
export const DEFAULT_STATS_FILE = '/run/palisade/nfqueue-stats.json';

export interface EnforceNfqueueOptions {
  readonly paths: readonly string[];
  readonly queues: number;
  readonly firstQueue: number;
  readonly failOpen: boolean;
  readonly strict: boolean;
  readonly logDenied: boolean;
  readonly acceptMark: number;
  readonly statsFile: string;
  readonly keepSteering: boolean;
}

export class NfqUsageError extends Error {
  readonly code = 'NFQ_USAGE';
}

export const ENFORCE_NFQUEUE_HELP = `Usage: palisade enforce --backend nfqueue -f DIR [-f DIR...] [flags]

  --queues N          kernel queues, one native thread each, CPU fanout (default 1)
  --first-queue Q     first queue number (default ${DEFAULT_FIRST_QUEUE})
  --fail-open         pass traffic when the enforcer is gone or the queue is full (default: drop)
  --strict            on a policy change, cut existing flows that are now denied (conntrack delete)
  --log-denied        print one JSON line per denied flow on stdout
  --stats-file PATH   counters as JSON, rewritten every second (default ${DEFAULT_STATS_FILE})
  --keep-steering     leave the steering rules in place on exit
`;

export function parseEnforceNfqueueArgs(argv: readonly string[]): EnforceNfqueueOptions {
  const paths: string[] = [];
  let queues = 1;
  let firstQueue = DEFAULT_FIRST_QUEUE;
  let failOpen = false;
  let strict = false;
  let logDenied = false;
  let statsFile = DEFAULT_STATS_FILE;
  let keepSteering = false;
  const int = (flag: string, v: string | undefined, lo: number, hi: number): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < lo || n > hi) throw new NfqUsageError(`${flag} needs an integer ${lo}..${hi}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--backend':
        if (argv[++i] !== 'nfqueue') throw new NfqUsageError('this command is the nfqueue backend');
        break;
      case '-f':
      case '--file': {
        const p = argv[++i];
        if (p === undefined) throw new NfqUsageError(`${a} needs a path`);
        paths.push(p);
        break;
      }
      case '--queues':
        queues = int(a, argv[++i], 1, 64);
        break;
      case '--first-queue':
        firstQueue = int(a, argv[++i], 0, 65535);
        break;
      case '--fail-open':
        failOpen = true;
        break;
      case '--strict':
        strict = true;
        break;
      case '--log-denied':
        logDenied = true;
        break;
      case '--keep-steering':
        keepSteering = true;
        break;
      case '--stats-file': {
        const p = argv[++i];
        if (p === undefined) throw new NfqUsageError('--stats-file needs a path');
        statsFile = p;
        break;
      }
      default:
        throw new NfqUsageError(`unknown flag ${JSON.stringify(a)}`);
    }
  }
  if (paths.length === 0) throw new NfqUsageError('-f DIR is required');
  if (firstQueue + queues - 1 > 65535) throw new NfqUsageError('queue numbers past 65535');
  return { paths, queues, firstQueue, failOpen, strict, logDenied, acceptMark: DEFAULT_ACCEPT_MARK, statsFile, keepSteering };
}

/** What `palisade stats` reads. */
export interface NfqueueStatsFile {
  readonly backend: 'nfqueue';
  readonly pid: number;
  readonly time: string;
  readonly generation: number;
  readonly steering: SteeringMethod;
  readonly failOpen: boolean;
  readonly loop: NfqLoopStats;
  readonly kernel: readonly KernelQueueStats[];
  /** denied packets per deciding rule (`Kind/ns/name#ruleIndex`, or `isolation`/`default`) */
  readonly deniedByRule: Readonly<Record<string, number>>;
  readonly strictCuts: number;
}

export function readNfqueueStats(path = DEFAULT_STATS_FILE): NfqueueStatsFile {
  return JSON.parse(readFileSync(path, 'utf8')) as NfqueueStatsFile;
}

/** `palisade stats` text for the nfqueue backend: loop, kernel queues, denies per rule. Pure. */
export function formatNfqueueStats(f: NfqueueStatsFile): string {
  const l = f.loop;
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const lines = [
    `nfqueue enforcer pid ${f.pid}, generation ${f.generation}, ${f.failOpen ? 'fail-open' : 'fail-closed'}, steering ${f.steering}, at ${f.time}`,
    `  packets ${l.packets}  accepted ${l.accepted}  denied ${l.denied}  unclassifiable ${l.unclassifiable}  snapshot v${l.snapshotVersion}`,
    `  verdict latency p50 ${us(l.latencyP50Ns)} us  p99 ${us(l.latencyP99Ns)} us  p99.9 ${us(l.latencyP999Ns)} us  (${l.latencySamples} samples)`,
    `  verdict messages ${l.verdictMessages} in ${l.batches} batches; recv errors ${l.recvErrors}, verdict errors ${l.verdictErrors}, deny records dropped ${l.recordsDropped}`,
    ...f.kernel.map((k) => `  kernel queue ${k.queue}: waiting ${k.waiting}, queue_dropped ${k.queueDropped}, user_dropped ${k.userDropped}`),
    ...(f.strictCuts > 0 ? [`  --strict cut ${f.strictCuts} flows`] : []),
    '  denied packets by rule:',
    ...Object.entries(f.deniedByRule)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([rule, n]) => `    ${String(n).padStart(10)}  ${rule}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The nfqueue backend behind the shared enforce loop: apply = publish a new snapshot.
 * A change that touches only the inventory (and that the Engine can absorb without rebuilding its
 * rule set: no new named-port group, no new node) is published as new set membership over the
 * same compiled rules (publishMembership, O(members)); anything else recompiles (publishEngine).
 */
export class NfqueueEnforcer implements Enforcer {
  readonly name = 'nfqueue';
  private current: { engine: Engine; cluster: Cluster; log: DenyLog } | undefined;
  private strictCuts = 0;
  /** applies published as membership only / as a full compile (for tests and stats) */
  readonly applied = { membership: 0, full: 0 };
  constructor(
    private readonly loop: NfqLoop,
    private readonly strict: boolean,
    private readonly notice: (line: string) => void,
  ) {}

  async apply(cluster: Cluster): Promise<ApplyReport> {
    const t0 = performance.now();
    const hadPolicy = this.current !== undefined;
    let summary: string;
    const changes = this.current ? inventoryChanges(this.current.cluster, cluster) : undefined;
    let engine: Engine;
    if (this.current && changes !== undefined) {
      engine = this.current.engine;
      let rebuilt = false;
      for (const c of changes) rebuilt = engine.update(c).rebuilt || rebuilt;
      if (!rebuilt) {
        const version = this.loop.publishMembership(packMembership(engine.resolution));
        this.applied.membership++;
        summary = `snapshot v${version}: ${changes.length} inventory changes, same ${engine.ruleSet.rules.length} rules`;
      } else {
        summary = this.publishFull(engine, `${changes.length} inventory changes, rules rebuilt`);
      }
    } else {
      engine = new Engine(cluster, { classifier: linearClassifier });
      summary = this.publishFull(engine, hadPolicy ? 'policies changed' : 'first load');
    }
    this.current = { engine, cluster, log: new DenyLog(engine.ruleSet, cluster) };
    if (this.strict && hadPolicy) {
      const r = this.loop.cutDenied();
      this.strictCuts += r.cut;
      summary += `, --strict: ${r.cut} of ${r.scanned} tracked flows cut`;
      if (r.errors > 0) this.notice(`--strict: ${r.errors} conntrack deletes failed`);
      // A reply in flight when its flow was cut opens an entry the other way (server -> client),
      // which the policy may allow; the client's packets would then pass as its replies. The loop
      // refuses new flows that are the exact reverse of a cut one for 10 s (native/tombstones.h);
      // entries that raced in before that are swept here, once soon and once within the 2 s.
      if (r.cut > 0) {
        for (const delayMs of [100, 1000]) {
          setTimeout(() => {
            const rev = this.loop.cutReverse();
            this.strictCuts += rev.cut;
            if (rev.cut > 0) this.notice(`--strict: ${rev.cut} reverse-direction entries of cut flows removed`);
          }, delayMs).unref();
        }
      }
    }
    return { summary, ms: performance.now() - t0 };
  }

  private publishFull(engine: Engine, why: string): string {
    const p = packLoopPolicy(engine.ruleSet, engine.resolution);
    const version = this.loop.publishEngine(p.egressRules, p.ingressRules, p.setEdits, p.egressNpTierStart, p.ingressNpTierStart);
    this.applied.full++;
    return `snapshot v${version}: ${engine.ruleSet.rules.length} rules (${why})`;
  }

  async remove(): Promise<void> {}
  async close(): Promise<void> {}

  denyLog(): DenyLog | undefined {
    return this.current?.log;
  }
  ruleKey(ruleId: number | undefined): string {
    const r = ruleId === undefined ? undefined : this.current?.engine.ruleSet.rules[ruleId];
    if (!r) return 'default';
    if (r.origin.ref) return `${r.origin.ref.policy.kind}/${r.origin.ref.policy.namespace ? r.origin.ref.policy.namespace + '/' : ''}${r.origin.ref.policy.name}#${r.origin.ref.ruleIndex}`;
    return r.action === 'isolation-deny' ? `isolation/${r.direction}` : r.origin.stableId;
  }
  get cuts(): number {
    return this.strictCuts;
  }
}

export async function runEnforceNfqueue(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(ENFORCE_NFQUEUE_HELP);
    return 0;
  }
  let o: EnforceNfqueueOptions;
  try {
    o = parseEnforceNfqueueArgs(argv);
  } catch (e) {
    process.stderr.write(`palisade enforce: ${(e as Error).message}\n${ENFORCE_NFQUEUE_HELP}`);
    return 2;
  }
  const notice = (line: string): void => void process.stderr.write(`palisade enforce: ${line}\n`);
  const method = await detectSteering();
  const queues = Array.from({ length: o.queues }, (_, i) => o.firstQueue + i);
  const deniedByRule = new Map<string, number>();
  const dedup = new FlowDedup();
  let enforcer: NfqueueEnforcer | undefined;
  const { NfqLoop } = nativeNfqueue();
  const loop = new NfqLoop({ queues, acceptMark: o.acceptMark, failOpen: o.failOpen, logDenied: true }, (buf) => {
    for (const d of decodeDenyRecords(buf)) {
      const key = d.reason === 'policy' ? (enforcer?.ruleKey(d.ruleId) ?? 'default') : d.reason;
      deniedByRule.set(key, (deniedByRule.get(key) ?? 0) + 1);
      if (!o.logDenied || !dedup.first(d)) continue;
      const line = enforcer?.denyLog()?.line(d);
      if (line) process.stdout.write(line + '\n');
    }
  });
  loop.start();
  enforcer = new NfqueueEnforcer(loop, o.strict, notice);
  let generation = 0;
  const plan: SteeringPlan = {
    firstQueue: o.firstQueue,
    queueCount: o.queues,
    failOpen: o.failOpen,
    acceptMark: o.acceptMark,
    hooks: ['FORWARD', 'INPUT', 'OUTPUT'],
    families: [4, 6],
  };
  const watchLoop = startEnforceLoop({
    paths: o.paths,
    enforcer,
    onEvent: (e) => {
      if (e.type === 'applied') {
        generation = e.generation;
        for (const w of e.warnings) notice(formatProblem(w));
        notice(`applied generation ${e.generation} (${e.report.summary}) in ${e.report.ms.toFixed(1)} ms`);
      } else if (e.type === 'rejected') {
        for (const p of e.problems) notice(formatProblem(p));
        notice(generation > 0 ? `change rejected; generation ${generation} stays in force` : 'first load rejected; nothing installed');
      } else {
        notice(`apply failed: ${e.error.message}`);
      }
    },
  });
  await watchLoop.ready;
  if (generation === 0) {
    await watchLoop.stop();
    loop.stop();
    return 2;
  }
  await installSteering(plan);
  notice(`enforcing: nfqueue ${queues[0]}${o.queues > 1 ? `-${queues[queues.length - 1]}` : ''}, ${o.failOpen ? 'fail-open' : 'fail-closed'}, steering ${method === 'xt-nfqueue' ? 'iptables-nft NFQUEUE' : 'iptables-nft NFQUEUE (nft queue available but not used)'}`);

  const writeStats = async (): Promise<void> => {
    const file: NfqueueStatsFile = {
      backend: 'nfqueue',
      pid: process.pid,
      time: new Date().toISOString(),
      generation,
      steering: method,
      failOpen: o.failOpen,
      loop: loop.stats(),
      kernel: (await kernelQueueStats()).filter((k) => queues.includes(k.queue)),
      deniedByRule: Object.fromEntries(deniedByRule),
      strictCuts: enforcer?.cuts ?? 0,
    };
    try {
      mkdirSync(dirname(o.statsFile), { recursive: true });
      writeFileSync(o.statsFile + '.tmp', JSON.stringify(file) + '\n');
      renameSync(o.statsFile + '.tmp', o.statsFile);
    } catch (e) {
      notice(`cannot write ${o.statsFile}: ${(e as Error).message}`);
    }
  };
  await writeStats();
  const statsTimer = setInterval(() => void writeStats(), 1000);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      clearInterval(statsTimer);
      await watchLoop.stop();
      if (!o.keepSteering) await removeSteering().catch((e: Error) => notice(`removing steering: ${e.message}`));
      loop.stop();
      await writeStats();
      notice(`stopped (${signal})${o.keepSteering ? ', steering left in place' : ''}`);
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
