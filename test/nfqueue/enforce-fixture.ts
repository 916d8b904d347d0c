/**
 * The shared fixture of the enforce-process tests (enforcer.test.ts, strict.test.ts): a dual-stack
 * client and server pod in the node topology (test/harness), probe servers, a manifests directory
 * the enforcer watches, and `start()` for `palisade enforce --backend nfqueue` processes, every one
 * of which is stopped after each test (a failed test must not leave the queues bound).
 * Call `enforceFixture(tag)` inside a describe block: it registers the hooks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { run } from '../../src/topology/exec.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { ensureEnforcerBuilt, startEnforcer, type EnforcerProcess } from './enforcer-process.js';
import { clientServer } from '../harness/fixtures.js';

export const INVENTORY = clientServer({ subnet: 8, appLabels: true });
/** NetworkPolicy: the server accepts only the client, only on `ports` (a YAML list body). */
export const policy = (ports: string) => `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: server-in, namespace: app }
spec:
  podSelector: { matchLabels: { app: server } }
  policyTypes: [Ingress]
  ingress:
  - from: [ { podSelector: { matchLabels: { app: client } } } ]
    ports: [ ${ports} ]
`;
export const BASE_PORTS = '{ protocol: TCP, port: 80 }, { protocol: UDP, port: 53 }';
export const PORTS: PortPlan = { TCP: [80, 8080], UDP: [53, 54], SCTP: [] };
const ip = (t: string) => parseIp(t)!;
export const C4 = ip('10.244.8.10'), S4 = ip('10.244.8.20'), C6 = ip('fd00:10:244:8::10'), S6 = ip('fd00:10:244:8::20');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EnforceFixture {
  readonly topo: Topology;
  readonly fleet: ProbeFleet;
  /** the watched manifests directory (inventory.yaml + policy.yaml) */
  readonly dir: string;
  readonly statsFile: string;
  clientNs(): string;
  serverNs(): string;
  writePolicy(ports: string): void;
  start(extra?: string[]): EnforcerProcess;
}

export function enforceFixture(tag: string, firstQueue: number): EnforceFixture {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let base = '';
  const started: EnforcerProcess[] = [];
  const f: EnforceFixture = {
    get topo() {
      return topo!;
    },
    get fleet() {
      return fleet!;
    },
    get dir() {
      return join(base, 'manifests');
    },
    get statsFile() {
      return join(base, 'stats.json');
    },
    clientNs: () => topo!.hosts.find((h) => h.name === 'app/client')!.netns,
    serverNs: () => topo!.hosts.find((h) => h.name === 'app/server')!.netns,
    writePolicy: (ports) => writeFileSync(join(base, 'manifests', 'policy.yaml'), policy(ports)),
    start: (extra = []) => {
      const e = startEnforcer(topo!.nodeNs, ['-f', join(base, 'manifests'), '--first-queue', String(firstQueue), '--stats-file', join(base, 'stats.json'), ...extra]);
      started.push(e);
      return e;
    },
  };
  beforeAll(async () => {
    await ensureEnforcerBuilt();
    const r = safeParseCluster(INVENTORY, `${tag}.yaml`);
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    topo = await buildTopology(r.cluster, { tag });
    fleet = await ProbeFleet.start(topo, PORTS);
    base = mkdtempSync(join(tmpdir(), `nfq-${tag}-`));
    await run('mkdir', ['-p', join(base, 'manifests')]);
    writeFileSync(join(base, 'manifests', 'inventory.yaml'), INVENTORY);
    f.writePolicy(BASE_PORTS);
  }, 180_000);
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });
  afterAll(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
    await fleet?.stop();
    await topo?.destroy();
    if (base) rmSync(base, { recursive: true, force: true });
  });
  return f;
}
