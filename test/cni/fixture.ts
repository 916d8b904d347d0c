/**
 * One node for the CNI tests: an example (S12, S01) wired by the real ptp + host-local plugins
 * (src/topology), minus the pod the test ADDs itself through the CNI chain; an Enforcement over a real backend in the node namespace; `palisade install-cni` into a
 * temporary bin and conf dir; the agent's CNI server on a socket in a temporary directory.
 *
 * Pods the test adds get a namespace made before ADD (as a runtime makes the sandbox first) and a
 * prober started inside it before ADD, so the first packet after ADD is sent at once, not after a
 * Node start-up. Everything is bounded and removed by `destroy()` (call it from afterAll), also
 * after a partial set-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from '../../backends/registry.js';
import { startCniServer, type CniServer, type CniServerOptions } from '../../src/agent/cni/server.js';
import type { CniAgent } from '../../src/agent/cni-types.js';
import { runInstallCni } from '../../src/cli/install-cni.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { BackendName } from '../../src/enforce/backend.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import { topologyAsset } from '../../src/topology/assets.js';
import { run } from '../../src/topology/exec.js';
import { createNetns, deleteNetns, netnsPath, sysctlIn } from '../../src/topology/netns.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { PolicyAgent } from './policy-agent.js';
import type { Conflist, Invocation } from './runtime.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHIM = join(ROOT, 'build/palisade-cni');
/** An example, and the pod of it that the tests ADD through the chain (the others are wired first). */
export interface Scenario {
  readonly example: string;
  readonly newPod: { readonly namespace: string; readonly name: string };
}
/** team-b/worker: denied into team-a (a1's ingress), allowed to team-b/api */
export const S12: Scenario = { example: 'examples/s12-namespace-isolation', newPod: { namespace: 'team-b', name: 'worker' } };
/** apps/web: its own egress is denied to the critical node (node-2), allowed to node-1 */
export const S01: Scenario = { example: 'examples/s01-egress-to-nodes', newPod: { namespace: 'apps', name: 'web' } };
/** host-local's range for the pods the tests add: used by no example pod */
export const NEW_POD_RANGE = { rangeStart: '10.244.7.20', rangeEnd: '10.244.7.29' } as const;
/** buildTopology's gateway for these clusters (the highest free address of 10.244.255.0/24) */
const GATEWAY_V4 = '10.244.255.254';

export interface PluginSettings {
  readonly onAgentDown?: 'fail' | 'pass';
  readonly onTimeout?: 'fail' | 'pass';
  readonly timeoutMs?: number;
}

export interface CniNode {
  readonly topo: Topology;
  readonly cluster: Cluster;
  readonly enforcement: Enforcement;
  readonly agent: PolicyAgent;
  readonly dir: string;
  readonly socketPath: string;
  readonly queueDir: string;
  readonly binDir: string;
  /** the conflist `palisade install-cni` wrote, ipam pointed at this node's data dir and range */
  conflist(settings?: PluginSettings): Promise<Conflist>;
  /** start (or restart) the CNI server; the agent defaults to the node's PolicyAgent */
  startServer(opts?: { agent?: CniAgent; addTimeoutMs?: number; ready?: () => boolean }): Promise<CniServer>;
  stopServer(): Promise<void>;
  /** a fresh pod sandbox (namespace + a prober inside), and the runtime's invocation for it */
  newPod(): Promise<{ inv: Invocation; prober: PodProber }>;
  /** the node's nftables ruleset text (nftables backend) */
  ruleset(): Promise<string>;
  destroy(): Promise<void>;
}

export async function startCniNode(tag: string, backend: BackendName = 'nftables', scenario: Scenario = S12): Promise<CniNode> {
  const NEW_POD = scenario.newPod;
  const loaded = safeLoadCluster([join(ROOT, scenario.example)]);
  if (!loaded.cluster) throw new Error(loaded.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
  const full = loaded.cluster;
  const isNew = (p: Pod): boolean => p.namespace === NEW_POD.namespace && p.name === NEW_POD.name;
  const templates = new Map(full.pods.filter(isNew).map((p) => [`${p.namespace}/${p.name}`, p] as const));
  const cluster: Cluster = { ...full, pods: full.pods.filter((p) => !isNew(p)) };

  const dir = await mkdtemp(join(tmpdir(), `pal-cni-${tag}-`));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const destroy = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const topo = await buildTopology(cluster, { tag });
    cleanups.push(() => topo.destroy());
    // TCP servers on port 80 in every existing pod (the new pod's connections go to them)
    const fleet = await ProbeFleet.start(topo, { TCP: [80], UDP: [], SCTP: [] });
    cleanups.push(() => fleet.stop());
    const kernel = await createBackend(backend, backend === 'nfqueue' ? { netnsPath: topo.nodeNetnsPath, firstQueue: 4700 } : { netnsPath: topo.nodeNetnsPath });
    const enforcement = new Enforcement(kernel);
    cleanups.push(async () => {
      await enforcement.remove();
      await kernel.close();
    });
    await enforcement.apply(cluster);
    const agent = new PolicyAgent(enforcement, templates);

    const socketPath = join(dir, 'run/cni.sock');
    const queueDir = join(dir, 'run/cni-queue');
    const binDir = join(dir, 'bin');
    const confDir = join(dir, 'net.d');
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    const rc = await runInstallCni(['--bin-dir', binDir, '--conf-dir', confDir, '--socket', socketPath, '--queue-dir', queueDir], io);
    if (rc !== 0) throw new Error(`install-cni exited ${rc}: ${out.join('')}`);
    const written = JSON.parse(await readFile(join(confDir, '10-palisade.conflist'), 'utf8')) as Conflist;

    let server: CniServer | undefined;
    const stopServer = async (): Promise<void> => {
      await server?.close();
      server = undefined;
    };
    cleanups.push(stopServer);
    const serverLog: string[] = [];
    let pods = 0;
    const node: CniNode = {
      topo,
      cluster,
      enforcement,
      agent,
      dir,
      socketPath,
      queueDir,
      binDir,
      async conflist(settings = {}) {
        return {
          ...written,
          plugins: written.plugins.map((p) =>
            p.type === 'ptp'
              ? {
                  ...p,
                  ipam: {
                    type: 'host-local',
                    dataDir: join(dir, 'ipam'),
                    ranges: [[{ subnet: '10.244.0.0/16', ...NEW_POD_RANGE, gateway: GATEWAY_V4 }]],
                    routes: [{ dst: '0.0.0.0/0' }],
                  },
                }
              : { ...p, ...settings },
          ),
        };
      },
      async startServer(opts = {}) {
        await stopServer();
        const o: CniServerOptions = {
          socketPath,
          queueDir,
          agent: opts.agent ?? agent,
          log: (l) => void serverLog.push(l),
          addTimeoutMs: opts.addTimeoutMs ?? 10_000,
          ...(opts.ready ? { ready: opts.ready } : {}),
        };
        server = await startCniServer(o);
        return server;
      },
      stopServer,
      async newPod() {
        const ns = `pal-${tag}-${process.pid}-c${pods}`;
        const containerId = `cni-${tag}-${process.pid}-${pods++}`;
        await createNetns(ns);
        cleanups.push(() => deleteNetns(ns));
        await sysctlIn(ns, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 });
        const prober = await PodProber.start(ns);
        cleanups.push(() => prober.stop());
        const inv: Invocation = {
          nodeNs: topo.nodeNs,
          containerId,
          netns: netnsPath(ns),
          ifname: 'eth0',
          args: { K8S_POD_NAMESPACE: NEW_POD.namespace, K8S_POD_NAME: NEW_POD.name, K8S_POD_INFRA_CONTAINER_ID: containerId },
          cniPath: [binDir, '/usr/lib/cni'],
        };
        return { inv, prober };
      },
      async ruleset() {
        return (await run('ip', ['netns', 'exec', topo.nodeNs, 'nft', 'list', 'ruleset'])).stdout;
      },
      destroy,
    };
    return node;
  } catch (e) {
    await destroy();
    throw e;
  }
}

export type ProbeOutcome = 'open' | 'dropped' | 'refused' | 'error';

/**
 * A prober living in one pod namespace (src/topology/agent.mjs `serve` with no servers), started
 * before the pod has an address; `tcp()` connects from the pod's address once asked.
 */
export class PodProber {
  private buf = '';
  private next = 1;
  private readonly waiting = new Map<number, (r: unknown) => void>();

  private constructor(private readonly child: ChildProcess) {}

  static async start(ns: string): Promise<PodProber> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, topologyAsset('agent.mjs'), 'serve', '{"addrs":[]}'], { stdio: 'pipe' });
    const p = new PodProber(child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`prober in ${ns}: not ready after 10 s`)), 10_000);
      child.once('exit', (c) => reject(new Error(`prober in ${ns} exited ${c}`)));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        p.buf += d;
        let nl: number;
        while ((nl = p.buf.indexOf('\n')) >= 0) {
          const line = p.buf.slice(0, nl);
          p.buf = p.buf.slice(nl + 1);
          if (line === 'ready') {
            clearTimeout(t);
            resolve();
          } else if (line.startsWith('{"req"')) {
            const m = JSON.parse(line) as { req: number; results: unknown };
            p.waiting.get(m.req)?.(m.results);
            p.waiting.delete(m.req);
          }
        }
      });
    });
    return p;
  }

  /** TCP connects from `src`, all at once; outcome per probe, in order. */
  async tcp(probes: readonly { src: string; dst: string; dstPort: number; srcPort: number }[], timeoutMs: number): Promise<ProbeOutcome[]> {
    const req = this.next++;
    const answer = new Promise<{ outcome: ProbeOutcome }[]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('prober: no answer')), timeoutMs + 10_000);
      this.waiting.set(req, (r) => {
        clearTimeout(t);
        resolve(r as { outcome: ProbeOutcome }[]);
      });
    });
    const wire = probes.map((p, i) => ({ id: i + 1, proto: 'TCP', ...p }));
    this.child.stdin!.write(JSON.stringify({ req, timeoutMs, concurrency: 16, probes: wire }) + '\n');
    return (await answer).map((r) => r.outcome);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.child.stdin?.end();
      this.child.kill('SIGTERM');
    });
  }
}
