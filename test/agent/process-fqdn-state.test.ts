/**
 * `bin/palisade agent --fqdn-state PATH` (docs/fqdn.md §6 "Persistence"): the agent keeps its
 * learned DNS addresses across restarts as `palisade enforce` does. A snapshot file holds one
 * live entry (pod app/client learned db.example.test = 10.244.200.1); the agent, started with
 * it, puts the entry into the kernel before any DNS answer: client -> 10.244.200.1:80 is open
 * with no lookup, while 10.244.200.2 (never learned) is dropped. SIGTERM retracts the learned
 * address (dropped) and rewrites the file; a second agent from that file opens it again.
 * nftables backend (the wiring is backend-independent). Every wait is bounded; the agents are
 * stopped by pid (SIGTERM, then SIGKILL) and the namespaces deleted in afterAll.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { ensureDist } from '../harness/cli.js';
import { requires } from '../harness/prerequisites.js';
import { startTestApiServer, type TestApiServer } from '../kube/apiserver.js';
import { objectsOf } from './feed.js';
import { ApiObjects, startAgentProcess, type AgentProcess } from './process.js';

const CLIENT = '10.244.1.10';
const DB = '10.244.200.1';
const NEVER = '10.244.200.2';
const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status: { addresses: [ { type: InternalIP, address: 10.244.100.1 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: app, labels: { app: client } }
spec: { nodeName: node-a }
status: { phase: Running, podIPs: [ { ip: ${CLIENT} } ] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn-egress }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - { name: names, action: Accept, to: [ { domainNames: [ db.example.test ] } ] }
  - { name: rest, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ] }
`;

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'iptables-nft', 'cni-plugins'))('bin/palisade agent --fqdn-state: learned addresses survive a restart', () => {
  let server: TestApiServer | undefined;
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  const agents: AgentProcess[] = [];
  let dir = '';

  beforeAll(async () => {
    await ensureDist();
    server = await startTestApiServer({ installed: ['clusternetworkpolicies'] });
    dir = mkdtempSync(join(tmpdir(), 'pal-agent-fqdn-'));
    new ApiObjects(server).apply(objectsOf(YAML));
    const c = buildCluster(objectsOf(YAML).map((obj) => ({ obj, file: 'fqdn-state.yaml' })));
    topo = await buildTopology(c.cluster!, { tag: `agfq${process.pid % 1000}`, externals: [parseIp(DB)!, parseIp(NEVER)!] });
    fleet = await ProbeFleet.start(topo, { TCP: [80], UDP: [], SCTP: [] });
  }, 120_000);

  afterAll(async () => {
    for (const a of agents) await a.term();
    await fleet?.stop();
    await topo?.destroy();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('restores the snapshot into the kernel at start and rewrites it at stop', async () => {
    const state = join(dir, 'learned.json');
    const now = Date.now();
    const entry = { pod: 'app/client', name: 'db.example.test', address: DB, expiresAtMs: now + 600_000, query: 'db.example.test' };
    writeFileSync(state, JSON.stringify({ atMs: now, entries: [entry] }));
    const probe = async (dst: string): Promise<string> => (await fleet!.probe([{ protocol: 'TCP', src: parseIp(CLIENT)!, dst: parseIp(dst)!, dstPort: 80 }], { timeoutMs: 500 }))[0]!.outcome;
    const start = async (): Promise<AgentProcess> => {
      const a = startAgentProcess({ backend: 'nftables', kubeconfig: server!.writeKubeconfig(dir), netnsPath: topo!.nodeNetnsPath, args: ['--dns-server', '10.244.1.53', '--fqdn-state', state] });
      agents.push(a);
      await a.ready();
      await a.logLine((l) => typeof l.msg === 'string' && l.msg.startsWith('learning domainNames addresses'));
      return a;
    };

    const first = await start();
    expect(await probe(DB)).toBe('open');
    expect(await probe(NEVER)).toBe('dropped');
    expect(await first.term()).toBe(0);
    // the agent retracts what it learned at stop (nothing would expire it), and keeps it in the file
    expect(await probe(DB)).toBe('dropped');
    const kept = JSON.parse(readFileSync(state, 'utf8')) as { entries: (typeof entry)[] };
    expect(kept.entries).toEqual([entry]);

    await start();
    expect(await probe(DB)).toBe('open');
    expect(await probe(NEVER)).toBe('dropped');
  }, 120_000);
});
