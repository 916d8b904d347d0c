/**
 * The CNI socket wired into `bin/palisade agent` (--cni-socket, src/agent/cni/server.ts): the
 * real shim (build/palisade-cni, run as a runtime runs it: test/cni/runtime.ts execPlugin) sends
 * ADD for a pod the API server knows without IPs yet; the ADD is answered only once the pod, with
 * the IPs from prevResult, is in the kernel:
 * - while the API server's watches are stalled (the pod not delivered), the ADD stays pending and
 *   the pod's address is still not policed (a probe to it is open);
 * - the stall ends, the ADD answers 0 with prevResult, and the very next probe is dropped
 *   (default deny ingress now covers it); the whole matrix then matches the reference with the
 *   pod's CNI IPs; DEL answers 0 and is idempotent.
 * nftables backend (the wiring is backend-independent). Bounded: the shim's own 10 s deadline.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, ROOT } from '../harness/cli.js';
import { compareWithReference, formatMismatch } from '../harness/differential.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { INVENTORY, PORTS } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { buildCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { startTestApiServer, type TestApiServer } from '../kube/apiserver.js';
import { execPlugin, type Invocation } from '../cni/runtime.js';
import { objectsOf } from './feed.js';
import { ApiObjects, startAgentProcess, type AgentProcess } from './process.js';

type Obj = Record<string, any>;
const SHIM = join(ROOT, 'build/palisade-cni');
const isRoot = process.getuid?.() === 0;
const ready = isRoot && existsSync(SHIM);
if (!ready && process.env.CI === 'true') throw new Error(`test/agent/process-cni.test.ts needs root and ${SHIM} (npm run build:native) in CI: failing, not skipping`);

const LATE_IPS = ['10.244.1.20', 'fd00:10:244:1::20'];
const late = (withIps: boolean): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'late', namespace: 'shop', labels: { app: 'late' } },
  spec: { nodeName: 'node-a' },
  status: withIps ? { phase: 'Running', podIPs: LATE_IPS.map((ip) => ({ ip })) } : { phase: 'Pending' },
});
const DENY = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };

describe.skipIf(!ready)('bin/palisade agent --cni-socket: a CNI ADD resolves only once the pod is in the kernel', () => {
  let server: TestApiServer | undefined;
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let agent: AgentProcess | undefined;
  let dir = '';
  let api: ApiObjects;
  const socketPath = (): string => join(dir, 'run/cni.sock');

  beforeAll(async () => {
    await ensureDist();
    server = await startTestApiServer({ installed: ['clusternetworkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies', 'palisadeclusternetworkpolicies'] });
    dir = mkdtempSync(join(tmpdir(), 'pal-agent-cni-'));
    api = new ApiObjects(server);
    api.apply([...(objectsOf(INVENTORY) as Obj[]), DENY]);
    // the topology has the pod's sandbox with its address; the API server does not know it yet
    const withLate = buildCluster([...(objectsOf(INVENTORY) as Obj[]), late(true)].map((obj) => ({ obj, file: 'cni.yaml' })));
    topo = await buildTopology(withLate.cluster!, { tag: `agcni${process.pid % 1000}` });
    fleet = await ProbeFleet.start(topo, PORTS);
    agent = startAgentProcess({ backend: 'nftables', kubeconfig: server.writeKubeconfig(dir), netnsPath: topo.nodeNetnsPath, args: ['--cni-socket', socketPath(), '--cni-queue-dir', join(dir, 'run/cni-queue')] });
    await agent.ready();
    await agent.logLine((l) => l.msg === 'serving the CNI socket');
  }, 120_000);

  afterAll(async () => {
    await agent?.term();
    await fleet?.stop();
    await topo?.destroy();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ADD waits for the pod in the kernel, then the next packet is policed; DEL is idempotent', async () => {
    const probe = parseIp('10.244.2.12')!;
    const target = parseIp(LATE_IPS[0]!)!;
    const toLate = async (): Promise<string> => (await fleet!.probe([{ protocol: 'TCP', src: probe, dst: target, dstPort: 80 }]))[0]!.outcome;
    expect(await toLate()).toBe('open'); // not a pod the agent knows: no policy selects it

    const podNs = topo!.hosts.find((h) => h.name === 'shop/late')!.netns;
    const inv: Invocation = { nodeNs: topo!.nodeNs, containerId: 'agent-cni-late', netns: `/run/netns/${podNs}`, ifname: 'eth0', args: { K8S_POD_NAMESPACE: 'shop', K8S_POD_NAME: 'late' }, cniPath: [join(ROOT, 'build')] };
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'vethlate' }, { name: 'eth0', sandbox: inv.netns }], ips: [{ address: `${LATE_IPS[0]}/24`, interface: 1 }, { address: `${LATE_IPS[1]}/64`, interface: 1 }] };
    const config = (command: string): string => JSON.stringify({ cniVersion: '1.0.0', name: 'palisade-test', type: 'palisade-cni', socket: socketPath(), queueDir: join(dir, 'run/cni-queue'), timeoutMs: 10_000, prevResult });

    server!.faults.stall(20_000);
    api.apply([late(false)]);
    let answered = false;
    const add = execPlugin('palisade-cni', 'ADD', inv, config('ADD')).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 1500));
    if (answered) console.log('early answer', JSON.stringify(await add));
    expect(answered).toBe(false); // the agent has not seen the pod: no answer
    expect(await toLate()).toBe('open');
    server!.faults.stall(0);
    const r = await add;
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '1.0.0', ips: prevResult.ips });
    expect(await toLate()).toBe('dropped'); // the answer came after the kernel had the pod

    const truth = buildCluster([...api.objects().filter((o) => !(o.kind === 'Pod' && o.metadata.name === 'late')), late(true)].map((obj) => ({ obj, file: 'api' })));
    const report = await compareWithReference(truth.cluster!, topo!, fleet!, PORTS);
    expect(report.mismatches.map(formatMismatch)).toEqual([]);
    expect(report.denied).toBeGreaterThan(0);

    for (let i = 0; i < 2; i++) {
      const del = await execPlugin('palisade-cni', 'DEL', inv, config('DEL'));
      expect(del.exitCode, del.stdout + del.stderr).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await toLate()).toBe('open'); // the API server still has no IPs for it: no longer policed
  }, 90_000);
});
