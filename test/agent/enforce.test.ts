/**
 * The agent end to end on real packets, per backend (nftables, nfqueue): watch events of the
 * shared differential inventory and scenarios (test/harness/scenarios.ts) go into the agent
 * (src/agent/agent.ts) through a WatchSource the test drives (feed.ts); the agent puts them in
 * the kernel through createBackend; every ordered address pair is probed (TCP, UDP, SCTP, IPv4
 * and IPv6) and compared with the reference evaluator over the same objects built as
 * `palisade check` builds files: zero mismatches after the first full state, after every policy
 * set (policy churn), after an invalid policy (ignored, the rest stays), and through seeded pod
 * churn (relabels, deletes, re-adds). Each step also checks that the agent used deltas where it
 * should (a pod event never reinstalls the rules).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { jsonLog } from '../../src/agent/log.js';
import { createBackend } from '../../backends/registry.js';
import type { BackendName } from '../../src/enforce/backend.js';
import { buildCluster } from '../../src/manifests/cluster.js';
import type { Cluster } from '../../src/model/types.js';
import { compareWithReference, formatMismatch } from '../harness/differential.js';
import { externalCandidates } from '../harness/externals.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { INVENTORY, PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { FeedSource, keyOf, objectsOf } from './feed.js';
import { mulberry, pick } from './random.js';

type Obj = Record<string, any>;
const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === 'true') throw new Error('test/agent/enforce.test.ts needs root (network namespaces) and CI=true: failing, not skipping');

function truth(feed: FeedSource): Cluster {
  const r = buildCluster([...feed.objects.values()].map((obj) => ({ obj, file: 'api' })));
  if (!r.cluster) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.cluster;
}

for (const backendName of ['nftables', 'nfqueue'] as const satisfies readonly BackendName[]) {
  describe.skipIf(!isRoot)(`palisade agent (${backendName}) = reference evaluator on real packets`, () => {
    let topo: Topology | undefined;
    let fleet: ProbeFleet | undefined;
    let agent: Agent | undefined;
    const feed = new FeedSource();
    const logLines: Obj[] = [];

    const compare = async (what: string, denies = true): Promise<void> => {
      await agent!.flushed();
      const r = await compareWithReference(truth(feed), topo!, fleet!, PORTS);
      expect(r.mismatches.map(formatMismatch), what).toEqual([]);
      expect(r.allowed, what).toBeGreaterThan(0);
      if (denies) expect(r.denied, what).toBeGreaterThan(0);
      else expect(r.denied, what).toBe(0);
    };
    const applies = async (update: 'install' | 'deltas'): Promise<number> =>
      (await agent!.metrics.applies.get()).values.find((v) => v.labels.update === update)?.value ?? 0;

    beforeAll(async () => {
      const externals = externalCandidates(Object.values(SCENARIOS).map((p) => scenarioCluster(p)));
      topo = await buildTopology(scenarioCluster(''), { tag: `ag${backendName.slice(0, 3)}`, externals });
      fleet = await ProbeFleet.start(topo, PORTS);
      const backend = await createBackend(backendName, { netnsPath: topo.nodeNetnsPath });
      agent = new Agent({ backend, nodeName: 'node-a', source: feed, log: jsonLog((l) => logLines.push(JSON.parse(l) as Obj), 'debug') });
      agent.start();
    }, 120_000);
    afterAll(async () => {
      await agent?.stop({ remove: true }).catch(() => undefined);
      await fleet?.stop();
      await topo?.destroy();
    });

    it('the first full state, then every scenario as policy churn', async () => {
      for (const o of objectsOf(INVENTORY)) feed.objects.set(keyOf(o), { ...o, metadata: { ...(o.metadata as Record<string, unknown>), resourceVersion: '1' } });
      feed.listAll();
      await agent!.ready();
      expect(agent!.isReady()).toBe(true);
      expect(agent!.healthy()).toEqual({ ok: true });
      await compare('no policy', false);
      let previous: Obj[] = [];
      for (const [name, text] of Object.entries(SCENARIOS)) {
        const next = objectsOf(text);
        const keep = new Set(next.map(keyOf));
        feed.remove(previous.filter((o) => !keep.has(keyOf(o))));
        feed.upsert(next);
        previous = next;
        await compare(name);
      }
    }, 240_000);

    it('an invalid policy is reported with its field path and ignored; the rest stays enforced', async () => {
      const installsBefore = await applies('install');
      const bad = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'broken', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 90, endPort: 80 }] }] } };
      feed.upsert([bad]);
      await agent!.flushed();
      const line = logLines.find((l) => l.msg?.startsWith('invalid object ignored') && l.name === 'broken');
      expect(line).toMatchObject({ kind: 'NetworkPolicy', namespace: 'shop', name: 'broken', path: 'spec.egress[0].ports[0].endPort' });
      expect(await applies('install')).toBe(installsBefore);
      const text = await agent!.metrics.registry.getSingleMetricAsString('palisade_invalid_objects');
      expect(text).toContain('palisade_invalid_objects{kind="NetworkPolicy"} 1');
      feed.objects.delete(keyOf(bad)); // the truth: the API server has it, but it is not in force
      await compare('with an invalid policy');
      feed.remove([bad]);
    }, 120_000);

    it('a policy that cannot be enforced is held back, reported with its path; the rest stays enforced and later changes go in', async () => {
      // valid to the API server, refused by the compiler: a Redirect to a single-stack Service
      // with a pods peer (docs/extension-semantics.md, Redirect); nfqueue refuses Redirect itself
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'proxy', namespace: 'ops' }, spec: { selector: { app: 'agent' }, clusterIP: '10.244.240.9', clusterIPs: ['10.244.240.9'], ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] } };
      const bad = {
        apiVersion: 'policy.palisade.dev/v1alpha1',
        kind: 'PalisadeClusterNetworkPolicy',
        metadata: { name: 'via-proxy' },
        spec: {
          tier: 'Admin',
          priority: 5,
          subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } },
          egress: [{ name: 'all-via-proxy', action: 'Redirect', redirect: { service: { namespace: 'ops', name: 'proxy' } }, to: [{ pods: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } }, podSelector: {} } }] }],
        },
      };
      feed.upsert([svc]);
      await compare('with a Service');
      feed.upsert([bad]);
      // bounded: an agent stuck retrying the refused batch never flushes
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the agent is stuck on the refused policy: nothing flushed in 20 s')), 20_000)));
      await Promise.race([agent!.flushed(), stuck]).finally(() => clearTimeout(timer));
      const line = logLines.find((l) => l.msg?.startsWith('invalid object ignored') && l.name === 'via-proxy');
      expect(line).toMatchObject({ kind: 'PalisadeClusterNetworkPolicy', name: 'via-proxy' });
      expect(String(line!.path)).toMatch(/^spec\.egress\[0\]/);
      expect(agent!.status().invalid).toContainEqual(expect.objectContaining({ kind: 'PalisadeClusterNetworkPolicy', name: 'via-proxy' }));
      feed.objects.delete(keyOf(bad)); // the truth: the API server has it, but it is not in force
      await compare('with a held-back policy');
      // the node is not stuck on it: a relabel goes in
      const web = [...feed.objects.values()].find((o) => o.kind === 'Pod' && (o.metadata as Obj).name === 'web')!;
      feed.upsert([{ ...web, metadata: { ...(web.metadata as Obj), labels: { app: 'db' } } }]);
      await compare('a relabel after the held-back policy');
      feed.upsert([web]);
      feed.remove([svc]);
      feed.objects.set(keyOf(bad), bad);
      feed.remove([bad]);
      await compare('held-back policy and Service deleted');
      expect(agent!.status().invalid.filter((i) => i.name === 'via-proxy')).toEqual([]);
    }, 120_000);

    it('pod churn (relabels, deletes, re-adds) goes in as deltas and matches the reference', async () => {
      const rnd = mulberry(backendName === 'nftables' ? 11 : 12);
      const pods = [...feed.objects.values()].filter((o) => o.kind === 'Pod' && !(o.spec as Obj)?.hostNetwork);
      const installsBefore = await applies('install');
      const deltasBefore = await applies('deltas');
      for (let round = 0; round < 4; round++) {
        const batch: Obj[] = [];
        const gone: Obj[] = [];
        for (const p of pods) {
          const r = rnd();
          if (r < 0.25 && feed.objects.has(keyOf(p))) gone.push(p);
          else batch.push({ ...p, metadata: { ...(p.metadata as Obj), labels: { app: pick(rnd, ['web', 'db', 'probe', 'other']) } } });
        }
        feed.remove(gone);
        feed.upsert(batch);
        await compare(`pod churn round ${round}`);
      }
      expect(await applies('deltas')).toBeGreaterThan(deltasBefore);
      // the named port sql group may appear or vanish with a relabel: then (only then) the rules change
      expect((await applies('install')) - installsBefore).toBeLessThanOrEqual(4);
      const hist = await agent!.metrics.registry.getSingleMetricAsString('palisade_event_to_kernel_seconds');
      expect(hist).toMatch(/palisade_event_to_kernel_seconds_count \d+/);
    }, 240_000);
  });
}
