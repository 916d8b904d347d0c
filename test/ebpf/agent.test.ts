/**
 * The eBPF agent as a separate process (`bin/palisade enforce --backend ebpf` on the root dist/
 * build), in the node namespace of a real CNI topology:
 * - it enforces the policy (probes = reference evaluator), applies a manifest change (pod churn)
 *   in place, and starts enforcing on a veth that appears after it started;
 * - kill -9 of the agent leaves enforcement in place (pinned programs and maps, tc filters owned
 *   by the interfaces): the reference still matches with no agent running;
 * - a restarted agent adopts the pinned instance instead of tearing it down;
 * - `apply --delete` removes every filter and pin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import { run as cli } from '../../src/cli/main.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import type { Cluster } from '../../src/model/types.js';
import { compareWithReference } from '../harness/differential.js';
import { ensureDist, PALISADE_BIN } from '../harness/cli.js';
import { run } from '../../src/topology/exec.js';
import { ipIn } from '../../src/topology/netns.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT, ebpfMismatches } from './backend.js';


const INVENTORY = `
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { team: shop } }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
status: { podIPs: [ { ip: 10.244.7.10 }, { ip: "fd00:10:244:7::10" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
status: { podIPs: [ { ip: 10.244.7.11 }, { ip: "fd00:10:244:7::11" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: other, namespace: shop, labels: { app: other } }
status: { podIPs: [ { ip: 10.244.7.12 }, { ip: "fd00:10:244:7::12" } ] }
`;
// kubernetes.io "Network Policies": db is isolated for ingress; only web may reach it on 5432
const POLICY = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress:
  - from: [ { podSelector: { matchLabels: { app: web } } } ]
    ports: [ { protocol: TCP, port: 5432 } ]
`;
const PORTS: PortPlan = { TCP: [5432, 80], UDP: [53], SCTP: [] };

function cluster(inventory: string, policy = POLICY): Cluster {
  const r = safeParseCluster(`${inventory}\n---\n${policy}`, 'agent.test.yaml');
  if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
  return r.cluster;
}

interface Agent {
  readonly proc: ChildProcess;
  stderr: string;
  stdout: string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
}

function startAgent(nodeNetnsPath: string, dir: string, tag: string): Agent {
  const proc = spawn(
    'nsenter',
    [`--net=${nodeNetnsPath}`, process.execPath, PALISADE_BIN, 'enforce', '--backend', 'ebpf', '-f', dir, '--tag', tag, '--pin-root', TEST_PIN_ROOT, '--log-denied', '--interfaces-ms', '200'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const a: Agent = {
    proc,
    stderr: '',
    stdout: '',
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = (): void => {
          if (re.test(a.stderr)) return resolve();
          if (proc.exitCode !== null) return reject(new Error(`agent exited ${proc.exitCode}: ${a.stderr}`));
          if (Date.now() - t0 > ms) return reject(new Error(`timeout waiting for ${re}: ${a.stderr}`));
          setTimeout(tick, 50);
        };
        tick();
      });
    },
  };
  proc.stderr!.on('data', (d: Buffer) => (a.stderr += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (a.stdout += d.toString()));
  return a;
}

async function killHard(a: Agent | undefined): Promise<void> {
  if (!a || a.proc.exitCode !== null || a.proc.signalCode !== null) return;
  const gone = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill('SIGKILL');
  await gone;
}

describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'))('eBPF agent process: enforce, kill -9, adopt, delete', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let dir = '';
  let agent: Agent | undefined;
  const tag = `agent-${process.pid}`;

  beforeAll(async () => {
    await ensureDist();
    dir = mkdtempSync(join(tmpdir(), 'pal-ebpf-agent-'));
    writeFileSync(join(dir, 'cluster.yaml'), `${INVENTORY}\n---\n${POLICY}`);
    topo = await buildTopology(cluster(INVENTORY), { tag: 'ebpfagent' });
    fleet = await ProbeFleet.start(topo, PORTS);
  }, 200_000);

  afterAll(async () => {
    await killHard(agent);
    if (topo) await cli(['apply', '--backend', 'ebpf', '--delete', '--netns', topo.nodeNetnsPath, '--tag', tag, '--pin-root', TEST_PIN_ROOT], { out: () => {}, err: () => {} }).catch(() => 1);
    await fleet?.stop();
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('enforces, applies pod churn in place, and picks up a new veth', async () => {
    agent = startAgent(topo!.nodeNetnsPath, dir, tag);
    await agent.waitFor(/applied #1/);
    const c = cluster(INVENTORY);
    const r = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(ebpfMismatches(r)).toEqual([]);
    expect(r.denied).toBeGreaterThan(0);
    // deny-log lines on stdout, the shared format
    await new Promise((res) => setTimeout(res, 300));
    const line = agent.stdout.split('\n').find((l) => l.includes('"dstPort":5432'));
    expect(line && JSON.parse(line)).toMatchObject({ backend: 'ebpf', direction: 'ingress', tier: 'NetworkPolicy', policy: 'NetworkPolicy/shop/db-from-web' });

    // pod churn: `other` gets web's label, so it may reach db:5432 now (in place, no new generation)
    const relabelled = INVENTORY.replace('labels: { app: other }', 'labels: { app: web }');
    writeFileSync(join(dir, 'cluster.yaml'), `${relabelled}\n---\n${POLICY}`);
    await agent.waitFor(/applied #2: \d+ address entries in place/);
    const r2 = await compareWithReference(cluster(relabelled), topo!, fleet!, PORTS);
    expect(ebpfMismatches(r2)).toEqual([]);
    expect(r2.allowed).toBeGreaterThan(r.allowed);

    // a new pod interface appears: the agent attaches within its polling interval
    await ipIn(topo!.nodeNs, ['link', 'add', 'palnew0', 'type', 'veth', 'peer', 'name', 'palnew1']);
    await agent.waitFor(/enforcing on new interface palnew0/, 5000);
    const filters = await run('nsenter', [`--net=${topo!.nodeNetnsPath}`, 'tc', 'filter', 'show', 'dev', 'palnew0', 'ingress']);
    expect(filters.stdout).toMatch(/pal_egress/);
    await ipIn(topo!.nodeNs, ['link', 'del', 'palnew0']);
    // the same name again (a pod replaced): attached again
    await ipIn(topo!.nodeNs, ['link', 'add', 'palnew0', 'type', 'veth', 'peer', 'name', 'palnew1']);
    await agent.waitFor(/enforcing on new interface palnew0[\s\S]*enforcing on new interface palnew0/, 5000);
    await ipIn(topo!.nodeNs, ['link', 'del', 'palnew0']);
  });

  it('kill -9 of the agent leaves enforcement in place; a restarted agent adopts it', async () => {
    const c = cluster(INVENTORY.replace('labels: { app: other }', 'labels: { app: web }'));
    await killHard(agent);
    expect(agent!.proc.signalCode).toBe('SIGKILL');
    const afterKill = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(ebpfMismatches(afterKill)).toEqual([]);
    expect(afterKill.denied).toBeGreaterThan(0);

    agent = startAgent(topo!.nodeNetnsPath, dir, tag);
    await agent.waitFor(/adopted the pinned instance/);
    await agent.waitFor(/applied #1/);
    const afterRestart = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(ebpfMismatches(afterRestart)).toEqual([]);

    // per-rule counters survived both agents (pinned per-CPU array, slots kept by stableId)
    const out: string[] = [];
    expect(await cli(['stats', '--backend', 'ebpf', '--tag', tag, '--pin-root', TEST_PIN_ROOT, '-o', 'json'], { out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(0);
    const stats = JSON.parse(out.join('')) as { rules: { rule: string; packets: number }[]; details: { datapath: Record<string, number> } };
    const allow = stats.rules.find((r) => /db-from-web/.test(r.rule) && !/isolation/.test(r.rule));
    expect(allow?.packets).toBeGreaterThan(0);
    expect(stats.details.datapath.newDenied).toBeGreaterThan(0);
    expect(stats.details.datapath.established).toBeGreaterThan(0);
    const stopped = new Promise((r) => agent!.proc.once('exit', r));
    agent.proc.kill('SIGTERM');
    await stopped;
    expect(agent.proc.exitCode).toBe(0);
  });

  it('apply --delete removes every filter and pin', async () => {
    const out: string[] = [];
    const rc = await cli(['apply', '--backend', 'ebpf', '--delete', '--netns', topo!.nodeNetnsPath, '--tag', tag, '--pin-root', TEST_PIN_ROOT], {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
    });
    expect(rc).toBe(0);
    expect(out.join('')).toMatch(/detached from every interface and unpinned/);
    const veths = JSON.parse((await run('nsenter', [`--net=${topo!.nodeNetnsPath}`, 'ip', '-j', 'link', 'show', 'type', 'veth'])).stdout) as { ifname: string }[];
    expect(veths.length).toBe(3);
    for (const dev of veths.map((l) => l.ifname)) {
      const tc = await run('nsenter', [`--net=${topo!.nodeNetnsPath}`, 'tc', 'filter', 'show', 'dev', dev, 'ingress']);
      expect(tc.stdout).not.toMatch(/pal_/);
    }
    expect(existsSync(join(TEST_PIN_ROOT, tag))).toBe(false);
    const r = await compareWithReference(cluster(INVENTORY, ''), topo!, fleet!, PORTS); // no policy: all allowed
    expect(ebpfMismatches(r)).toEqual([]);
    expect(r.denied).toBe(0);
  });
});
