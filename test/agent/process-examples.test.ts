/**
 * Every example under examples/ through the test API server, on all three backends:
 * `bin/palisade agent` as a separate process (test/agent/process.ts) lists and watches the
 * example's objects, which the test created through the server, and the probes of every ordered
 * address pair match the reference evaluator over what the server holds: zero mismatches.
 * The three ways the agent finds its API server are covered here, one per backend:
 * nftables runs with the in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT and a
 * service-account directory with `token` and `ca.crt`), eBPF with a kubeconfig naming a token
 * file, nfqueue with a kubeconfig holding the token inline. Bounded: one agent per example, ready
 * within 60 s.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run as cli } from '../../src/cli/main.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { ensureDist } from '../harness/cli.js';
import { compareWithReference, formatMismatch } from '../harness/differential.js';
import { externalCandidates } from '../harness/externals.js';
import { portPlan } from '../../src/topology/ports.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT, ebpfMismatches } from '../ebpf/backend.js';
import { startTestApiServer } from '../kube/apiserver.js';
import { objectsOf } from './feed.js';
import { ApiObjects, keyOf, startAgentProcess, type AgentProcess } from './process.js';

type Obj = Record<string, any>;
const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === 'true') throw new Error('test/agent/process-examples.test.ts needs root (network namespaces) and CI=true: failing, not skipping');
const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const dirs = readdirSync(EXAMPLES)
  .filter((d) => statSync(join(EXAMPLES, d)).isDirectory())
  .sort();
const manifests = (dir: string): Obj[] =>
  readdirSync(join(EXAMPLES, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => objectsOf(readFileSync(join(EXAMPLES, dir, f), 'utf8')) as Obj[])
    // a `kind: List` file is what `kubectl apply` would create item by item
    .flatMap((o) => (o.kind === 'List' ? (o.items as Obj[]) : [o]));

/**
 * Examples with a policy a backend cannot enforce today, and the error the agent must report:
 * it holds that policy back (src/agent/refusal.ts: logged as an ignored object with code
 * BACKEND_CANNOT_ENFORCE, listed in /status), becomes ready on the rest, and the kernel matches
 * the reference over the example without that policy. An entry leaves when the backend learns
 * the field (Redirect on eBPF left with the address rewrite; nfqueue cannot rewrite).
 */
const HELD_BACK: Readonly<Record<string, { readonly policy: string; readonly message: RegExp }>> = {
  'nfqueue/s14-redirect': { policy: 'metadata-via-proxy', message: /metadata-via-proxy: rule egress\[0\] .*has action Redirect, which the nfqueue backend cannot enforce/ },
};

for (const backend of ['nftables', 'ebpf', 'nfqueue'] as const) {
  describe.skipIf(!isRoot)(`every example through the test API server: bin/palisade agent --backend ${backend} = reference`, () => {
    it('has examples', () => expect(dirs.length).toBeGreaterThan(0));
    for (const [i, dir] of dirs.entries()) {
      it(dir, async () => {
        await ensureDist();
        const loaded = safeLoadCluster([join(EXAMPLES, dir)]);
        if (!loaded.cluster) throw new Error(loaded.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
        const server = await startTestApiServer({ installed: ['clusternetworkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies', 'palisadeclusternetworkpolicies'] });
        const tmp = mkdtempSync(join(tmpdir(), 'pal-agent-ex-'));
        const tag = `agx${backend.slice(0, 2)}${i}`;
        let agent: AgentProcess | undefined;
        let fleet: ProbeFleet | undefined;
        const topo = await buildTopology(loaded.cluster, { tag, externals: externalCandidates([loaded.cluster]) });
        try {
          const api = new ApiObjects(server);
          api.apply(manifests(dir));
          const ports = portPlan(loaded.cluster, 4);
          fleet = await ProbeFleet.start(topo, ports);
          if (backend === 'nftables') {
            // in-cluster: the service account's files and the service environment
            writeFileSync(join(tmp, 'token'), server.token);
            writeFileSync(join(tmp, 'ca.crt'), server.caPem);
            const url = new URL(server.url);
            agent = startAgentProcess({ backend, netnsPath: topo.nodeNetnsPath, args: ['--service-account-dir', tmp], env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port } });
          } else {
            const kubeconfig = server.writeKubeconfig(tmp, { tokenFile: backend === 'ebpf' });
            const extra = backend === 'ebpf' ? ['--tag', tag, '--pin-root', TEST_PIN_ROOT, '--interfaces-ms', '200'] : [];
            agent = startAgentProcess({ backend, kubeconfig, netnsPath: topo.nodeNetnsPath, args: extra });
          }
          const held = HELD_BACK[`${backend}/${dir}`];
          const heldObject = held && manifests(dir).find((o) => o.metadata?.name === held.policy);
          if (held && !heldObject) throw new Error(`${dir} has no policy ${held.policy}`);
          // the truth without it: the agent holds it back and enforces the rest (src/agent/refusal.ts)
          if (heldObject) api.invalid.add(keyOf(heldObject));
          await agent.ready(60_000);
          if (held) {
            const line = await agent.logLine((l) => typeof l.msg === 'string' && l.msg.startsWith('invalid object ignored') && l.name === held.policy);
            expect(String(line.message)).toMatch(held.message);
            expect(line.code).toBe('BACKEND_CANNOT_ENFORCE');
            expect((await agent.status()).invalid).toContainEqual(expect.objectContaining({ name: held.policy }));
          }
          const report = await compareWithReference(api.truth(), topo, fleet, ports);
          expect(backend === 'ebpf' ? ebpfMismatches(report) : report.mismatches.map(formatMismatch)).toEqual([]);
          expect(report.probes).toBeGreaterThan(0);
          expect(server.requests.some((r) => r.path === '/api/v1/pods' && r.auth === 'token' && r.status === 200)).toBe(true);
          console.log(`${backend} ${dir}: ${report.probes} probes, ${report.allowed} allowed, ${report.denied} denied`);
        } finally {
          await agent?.kill9();
          if (backend === 'ebpf') await cli(['apply', '--backend', 'ebpf', '--delete', '--netns', topo.nodeNetnsPath, '--tag', tag, '--pin-root', TEST_PIN_ROOT], { out: () => {}, err: () => {} }).catch(() => 1);
          await fleet?.stop();
          await topo.destroy();
          await server.close();
          rmSync(tmp, { recursive: true, force: true });
        }
      }, 120_000);
    }
  });
}
