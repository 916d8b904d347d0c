/**
 * The end-to-end suite of `bin/palisade agent`, one backend per test file (process-*.test.ts):
 * the agent is a separate process (test/agent/process.ts) watching the test API server
 * (test/kube/apiserver.ts, TLS + token, on loopback) and enforcing in the node namespace of a
 * real topology (test/harness/topology.ts); every ordered address pair is probed (TCP, UDP,
 * SCTP; IPv4 and IPv6) and compared with the reference evaluator over what the server holds
 * (test/agent/process.ts ApiObjects.truth): zero mismatches after
 * - the first full state (/readyz, /healthz, /metrics, /status over HTTP),
 * - every shared scenario written through the server (policy churn), then seeded random policy
 *   churn (NetworkPolicy and ClusterNetworkPolicy creates, replaces, deletes),
 * - an invalid policy (a Warning Event posted to the server, the invalid-object metric, the
 *   field path in the log; ignored: no reinstall, the rest stays enforced),
 * - seeded pod churn (relabels, deletes, re-adds: deltas only),
 * - watch faults: every watch closed (resumed, counted as restarts), history expired (410:
 *   relisted, counted, and the relist is deltas: a pod change after it is no install), a stall
 *   past --watch-silence-ms (the watch restarted, the held events arrive),
 * - SIGTERM (exit 0; the state stays in the kernel: denied flows stay denied with no agent) and
 *   a restart that adopts it,
 * - kill -9 under a flood of denied datagrams (none delivered, across the crash and the
 *   restart), and the restarted agent converges on changes made while it was down.
 * Bounded: every wait has a timeout; the flood is 6 s at 3,000 datagrams/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../src/cli/main.js';
import { ensureDist } from '../harness/cli.js';
import { compareWithReference, formatMismatch, type DifferentialReport } from '../harness/differential.js';
import { externalCandidates } from '../harness/externals.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { INVENTORY, PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT, ebpfMismatches } from '../ebpf/backend.js';
import { startSink, udpTool } from '../nfqueue/enforcer-process.js';
import { startTestApiServer, type TestApiServer } from '../kube/apiserver.js';
import { objectsOf } from './feed.js';
import { ApiObjects, keyOf, startAgentProcess, type AgentProcess } from './process.js';
import { mulberry, pick, randomClusterNetworkPolicy, randomNetworkPolicy } from './random.js';

type Obj = Record<string, any>;
type BackendName = 'nftables' | 'ebpf' | 'nfqueue';
const isRoot = process.getuid?.() === 0;
const CRDS = ['clusternetworkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies', 'palisadeclusternetworkpolicies'] as const;
const objs = (text: string): Obj[] => objectsOf(text) as Obj[];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `name_total{labels} value` summed over every series of `name` in a Prometheus text. */
export function metricSum(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name || !(m[2] ?? '').includes(labelFilter)) continue;
    sum += Number(m[3]);
  }
  return sum;
}

export function agentProcessSuite(backend: BackendName, seed: number): void {
  if (!isRoot && process.env.CI === 'true') throw new Error(`test/agent/process-${backend}.test.ts needs root (network namespaces) and CI=true: failing, not skipping`);

  describe.skipIf(!isRoot)(`bin/palisade agent --backend ${backend} against the test API server, on real packets`, () => {
    let server: TestApiServer | undefined;
    let topo: Topology | undefined;
    let fleet: ProbeFleet | undefined;
    let agent: AgentProcess | undefined;
    let api: ApiObjects;
    let kubeconfig = '';
    let dir = '';
    const tag = `agp${backend.slice(0, 2)}${process.pid % 10000}`;
    const started: AgentProcess[] = [];

    const start = (): AgentProcess => {
      const extra = backend === 'ebpf' ? ['--tag', tag, '--pin-root', TEST_PIN_ROOT, '--interfaces-ms', '200'] : [];
      const a = startAgentProcess({ backend, kubeconfig, netnsPath: topo!.nodeNetnsPath, args: ['--watch-silence-ms', '2500', ...extra] });
      started.push(a);
      return a;
    };
    const mismatches = (r: DifferentialReport): string[] => (backend === 'ebpf' ? ebpfMismatches(r) : r.mismatches.map(formatMismatch));
    const probe = async (): Promise<DifferentialReport> => compareWithReference(api.truth(), topo!, fleet!, PORTS);
    const compare = async (what: string, opts: { denies?: boolean } = {}): Promise<Obj> => {
      const status = await agent!.inForce(api.written);
      const r = await probe();
      expect(mismatches(r), what).toEqual([]);
      expect(r.allowed, what).toBeGreaterThan(0);
      if (opts.denies !== false) expect(r.denied, what).toBeGreaterThan(0);
      return status;
    };
    const metrics = async (): Promise<string> => (await agent!.get('/metrics')).body;

    beforeAll(async () => {
      await ensureDist();
      server = await startTestApiServer({ installed: [...CRDS], bookmarkMs: 500 });
      dir = mkdtempSync(join(tmpdir(), 'pal-agent-e2e-'));
      kubeconfig = server.writeKubeconfig(dir);
      api = new ApiObjects(server);
      const externals = externalCandidates(Object.values(SCENARIOS).map((p) => scenarioCluster(p)));
      topo = await buildTopology(scenarioCluster(''), { tag, externals });
      fleet = await ProbeFleet.start(topo, PORTS);
      api.apply(objs(INVENTORY));
      agent = start();
    }, 180_000);

    afterAll(async () => {
      for (const a of started) await a.kill9().catch(() => undefined);
      if (backend === 'ebpf' && topo) await cli(['apply', '--backend', 'ebpf', '--delete', '--netns', topo.nodeNetnsPath, '--tag', tag, '--pin-root', TEST_PIN_ROOT], { out: () => {}, err: () => {} }).catch(() => 1);
      await fleet?.stop();
      await topo?.destroy();
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('ready over HTTP once the first full state is in the kernel; /healthz, /metrics, /status', async () => {
      await agent!.ready(60_000);
      expect((await agent!.get('/healthz')).status).toBe(200);
      const text = await metrics();
      for (const m of ['palisade_event_to_kernel_seconds_bucket', 'palisade_applies_total', 'palisade_rules', 'palisade_sets', 'palisade_set_members', 'palisade_watch_restarts_total', 'palisade_relists_total']) expect(text).toContain(m);
      const status = await compare('no policy', { denies: false });
      expect(status.pods).toBeGreaterThan(0);
      expect((await agent!.get('/nothing')).status).toBe(404);
      // the agent's requests were authenticated with the kubeconfig's token over TLS
      expect(server!.requests.some((r) => r.path === '/api/v1/pods' && r.auth === 'token' && r.status === 200)).toBe(true);
    }, 120_000);

    it('policy churn: every scenario, then seeded random policies, written through the API server', async () => {
      let previous: Obj[] = [];
      for (const [name, text] of Object.entries(SCENARIOS)) {
        const next = objs(text);
        const keep = new Set(next.map(keyOf));
        api.delete(previous.filter((o) => !keep.has(keyOf(o))));
        api.apply(next);
        previous = next;
        await compare(name);
      }
      api.delete(previous);
      const rnd = mulberry(seed);
      const live = new Map<string, Obj>();
      for (let round = 0; round < 5; round++) {
        const gone = [...live.values()].filter(() => rnd() < 0.3);
        api.delete(gone);
        for (const g of gone) live.delete(keyOf(g));
        const adds: Obj[] = [];
        for (let i = 0; i < 3; i++) {
          const name = `rnd-${Math.floor(rnd() * 6)}`;
          adds.push(rnd() < 0.7 ? randomNetworkPolicy(rnd, name) : randomClusterNetworkPolicy(rnd, name));
        }
        // the same name twice in one round: the last one wins, as on a real server
        api.apply(adds);
        for (const a of adds) live.set(keyOf(a), a);
        await agent!.inForce(api.written);
        const r = await probe();
        expect(mismatches(r), `random policy round ${round}: ${JSON.stringify([...live.values()])}`).toEqual([]);
      }
      api.delete([...live.values()]);
      api.apply(objs(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!));
      await compare('back to default deny');
    }, 300_000);

    it('an invalid policy: a Warning Event on the server, the metric, the field path in the log; ignored', async () => {
      const installsBefore = metricSum(await metrics(), 'palisade_applies_total', 'update="install"');
      const bad = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'broken', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 90, endPort: 80 }] }] } };
      api.invalid.add(keyOf(bad));
      api.apply([bad]);
      const status = await compare('with an invalid policy');
      expect(status.invalid).toContainEqual(expect.objectContaining({ kind: 'NetworkPolicy', namespace: 'shop', name: 'broken' }));
      const line = await agent!.logLine((l) => typeof l.msg === 'string' && l.msg.startsWith('invalid object ignored') && l.name === 'broken');
      expect(line).toMatchObject({ kind: 'NetworkPolicy', namespace: 'shop', path: 'spec.egress[0].ports[0].endPort' });
      const text = await metrics();
      expect(text).toContain('palisade_invalid_objects{kind="NetworkPolicy"} 1');
      expect(metricSum(text, 'palisade_applies_total', 'update="install"')).toBe(installsBefore);
      const deadline = Date.now() + 10_000;
      let event: Obj | undefined;
      while (!event && Date.now() < deadline) {
        event = server!.list('events').find((e) => (e as Obj).involvedObject?.name === 'broken');
        if (!event) await sleep(100);
      }
      expect(event).toMatchObject({ type: 'Warning', reason: 'InvalidObjectIgnored', involvedObject: { kind: 'NetworkPolicy', namespace: 'shop', name: 'broken' } });
      expect(String(event!.message)).toContain('spec.egress[0].ports[0].endPort');
      api.delete([bad]);
      api.invalid.delete(keyOf(bad));
      await compare('invalid policy deleted');
    }, 120_000);

    it('pod churn through the API server (relabels, deletes, re-adds) goes in as deltas', async () => {
      const rnd = mulberry(seed + 100);
      const pods = objs(INVENTORY).filter((o) => o.kind === 'Pod' && !o.spec?.hostNetwork);
      const before = await metrics();
      for (let round = 0; round < 4; round++) {
        const gone: Obj[] = [];
        const next: Obj[] = [];
        for (const p of pods) {
          if (rnd() < 0.25) gone.push(p);
          else next.push({ ...p, metadata: { ...p.metadata, labels: { app: pick(rnd, ['web', 'db', 'probe', 'other']) } } });
        }
        api.delete(gone);
        api.apply(next);
        await compare(`pod churn round ${round}`, { denies: false });
      }
      api.apply(pods);
      await compare('pods back');
      const after = await metrics();
      expect(metricSum(after, 'palisade_applies_total', 'update="deltas"')).toBeGreaterThan(metricSum(before, 'palisade_applies_total', 'update="deltas"'));
      // the named port `sql` may appear or vanish with a relabel: then (only then) the rules change
      expect(metricSum(after, 'palisade_applies_total', 'update="install"') - metricSum(before, 'palisade_applies_total', 'update="install"')).toBeLessThanOrEqual(5);
    }, 240_000);

    it('watch faults: watches closed, history expired (relist as deltas), a stall past the silence deadline', async () => {
      const web = objs(INVENTORY).find((o) => o.kind === 'Pod' && o.metadata.name === 'web')!;
      const relabel = (app: string): void => api.apply([{ ...web, metadata: { ...web.metadata, labels: { app } } }]);

      let m0 = await metrics();
      server!.faults.closeWatches();
      relabel('other');
      await compare('after closeWatches');
      await sleep(300);
      let m1 = await metrics();
      expect(metricSum(m1, 'palisade_watch_restarts_total')).toBeGreaterThan(metricSum(m0, 'palisade_watch_restarts_total'));

      m0 = m1;
      server!.faults.expireHistory();
      relabel('web');
      await compare('after expireHistory');
      m1 = await metrics();
      expect(metricSum(m1, 'palisade_relists_total', 'resource="pods"')).toBeGreaterThan(metricSum(m0, 'palisade_relists_total', 'resource="pods"'));
      // the relist was folded in as deltas: no reinstall of the rules
      expect(metricSum(m1, 'palisade_applies_total', 'update="install"')).toBe(metricSum(m0, 'palisade_applies_total', 'update="install"'));

      m0 = m1;
      server!.faults.stall(4000);
      relabel('other');
      await sleep(3000);
      // silent past 2.5 s: restarted (the new watch is stalled too; the held events come at the end)
      await compare('after a stall', { denies: true });
      m1 = await metrics();
      expect(metricSum(m1, 'palisade_watch_restarts_total', 'resource="pods"')).toBeGreaterThan(metricSum(m0, 'palisade_watch_restarts_total', 'resource="pods"'));
      relabel('web');
      await compare('after the stall ended');
      expect((await agent!.get('/healthz')).status).toBe(200);
    }, 120_000);

    it('SIGTERM leaves the state in the kernel (denied flows stay denied), and a restart adopts it', async () => {
      const truth = api.truth();
      await agent!.inForce(api.written);
      expect(await agent!.term()).toBe(0);
      const r = await compareWithReference(truth, topo!, fleet!, PORTS);
      if (backend === 'nfqueue') {
        // no process reads the queue: the kept steering drops every flow it steers (fail closed)
        expect(r.mismatches.filter((x) => x.expected === 'deny').map(formatMismatch)).toEqual([]);
        expect(r.denied).toBeGreaterThan(0);
      } else expect(mismatches(r)).toEqual([]);
      agent = start();
      await agent.ready(60_000);
      // ready = lists taken after every write so far are in the kernel (a fresh agent never saw
      // the resourceVersions of deletes made before it started)
      api.written.clear();
      await compare('restarted after SIGTERM');
    }, 180_000);

    it('kill -9 under a flood of denied datagrams: none delivered; the restarted agent adopts and converges', async () => {
      // default deny ingress in shop: ops/probe -> shop/web UDP is denied
      const src = topo!.hosts.find((h) => h.name === 'ops/probe');
      const dst = topo!.hosts.find((h) => h.name === 'shop/web');
      if (!src || !dst) throw new Error(`no ops/probe or shop/web in ${topo!.hosts.map((h) => h.name).join(', ')}`);
      const srcIp = src.ips.find((i) => i.family === 4)!.text;
      const dstIp = dst.ips.find((i) => i.family === 4)!.text;
      await agent!.inForce(api.written);
      const sink = await startSink(dst.netns, dstIp, 5454);
      const flood = udpTool(src.netns, ['flood', srcIp, dstIp, '5454', '6000', '3000'], 30_000);
      await sleep(800);
      await agent!.kill9();
      // changes while no agent runs: the restarted one must pick them up
      const extra = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-probe-53', namespace: 'shop' }, spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }], ports: [{ protocol: 'UDP', port: 53 }] }] } };
      api.apply([extra]);
      await sleep(500);
      agent = start();
      await agent.ready(60_000);
      api.written.clear();
      const { sent } = (await flood) as { sent: number };
      const received = await sink.finish();
      expect(sent).toBeGreaterThan(5000);
      expect(received).toBe(0);
      console.log(`${backend}: kill -9 under ${sent} denied datagrams: ${received} delivered`);
      await compare('restarted after kill -9, with a change made while down');
      api.delete([extra]);
      await compare('converged');
    }, 180_000);
  });
}
