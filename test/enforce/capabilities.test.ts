/**
 * S14: a policy with a Redirect rule is refused at apply time by every backend that cannot
 * redirect (nfqueue never can; nftables and eBPF only for a node subject), with ERR_PALISADE_BACKEND_CANNOT_ENFORCE naming
 * the policy, the rule and the backend, and nothing reaches the backend: never silently
 * downgraded to the "Deny all" that lowering alone would give. S20: every backend takes node
 * subjects (eBPF through its host role). The manifests go through loading,
 * validation and normalization (safeParseCluster), as `palisade apply` reads them.
 */
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, type Backend, type BackendName } from '../../src/enforce/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { PalisadeError } from '../../src/model/errors.js';
import type { Cluster } from '../../src/model/types.js';
import { NODE_SUBJECT_YAML } from '../harness/node-subject-suite.js';

const BASE = `
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Namespace
metadata: { name: proxy }
---
apiVersion: v1
kind: Service
metadata: { name: metadata-proxy, namespace: proxy }
spec: { clusterIP: 10.244.250.10, clusterIPs: [10.244.250.10], ports: [{ port: 80, protocol: TCP }] }
`;
const REDIRECT = `
---
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: metadata-via-proxy }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: {} }
  egress:
  - name: to-proxy
    action: Redirect
    redirect: { service: { namespace: proxy, name: metadata-proxy } }
    to: [{ networks: [169.254.169.254/32] }]
    protocols: [{ tcp: { destinationPort: { number: 80 } } }]
`;

function cluster(text: string): Cluster {
  const r = safeParseCluster(text, 'redirect.yaml');
  expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return r.cluster!;
}

/** A backend that records what reached it. */
function recording(name: BackendName): Backend & { calls: string[] } {
  const calls: string[] = [];
  const ok = async (what: string) => (calls.push(what), { kind: 'full' as const, summary: what, ms: 0 });
  return {
    name,
    calls,
    install: () => ok('install'),
    applyDeltas: () => ok('deltas'),
    drainDenied: () => [],
    drainObserved: () => [],
    stats: async () => ({ backend: name, details: {} }) as never,
    remove: async () => undefined,
    close: async () => undefined,
  };
}

/** BASE with a dual-stack target Service */
const DUAL = BASE.replace('clusterIP: 10.244.250.10, clusterIPs: [10.244.250.10]', 'clusterIP: 10.244.250.10, clusterIPs: [10.244.250.10, "fd00:10:244:250::10"], ipFamilies: [IPv4, IPv6], ipFamilyPolicy: RequireDualStack');

describe('Redirect is refused at apply time where a backend cannot redirect', () => {
  it('eBPF takes a Redirect of IPv4 and of IPv6 flows (a dual-stack target)', async () => {
    const backend = recording('ebpf');
    const enforcement = new Enforcement(backend);
    await enforcement.apply(cluster(BASE + REDIRECT));
    // the target moved (a second ClusterIP): an install, so the backend rewrites to the new target
    await enforcement.apply(cluster(DUAL + REDIRECT.replace('to: [{ networks: [169.254.169.254/32] }]', 'to: [{ networks: [169.254.169.254/32, "fd00:ec2::254/128"] }]')));
    expect(backend.calls).toEqual(['install', 'install']);
  });
  for (const name of ['nftables', 'ebpf'] as const)
    it(`${name} takes a pod-subject Redirect, refuses a node-subject one`, async () => {
    const backend = recording(name);
    const enforcement = new Enforcement(backend);
    await enforcement.apply(cluster(BASE + REDIRECT));
    expect(backend.calls).toEqual(['install']);
    const hostRedirect = REDIRECT.replace('subject: { namespaces: {} }', 'subject: { nodes: {} }');
    const err = await enforcement.apply(cluster(BASE + hostRedirect)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as PalisadeError).code).toBe('ERR_PALISADE_BACKEND_CANNOT_ENFORCE');
    expect((err as PalisadeError).message).toMatch(new RegExp(`metadata-via-proxy: rule egress\\[0\\] \\("to-proxy"\\) has action Redirect, which the ${name} backend cannot enforce \\(.*a node subject's Redirect \\(host egress\\) is not implemented`));
    expect(backend.calls).toEqual(['install']);
  });
  for (const name of BACKEND_NAMES.filter((n) => n !== 'nftables' && n !== 'ebpf')) {
    it(`${name}: refused with a code naming policy, rule and backend; the backend sees nothing; the previous policy stays`, async () => {
      const backend = recording(name);
      const enforcement = new Enforcement(backend);
      await enforcement.apply(cluster(BASE));
      expect(backend.calls).toEqual(['install']);
      const before = enforcement.current()!.generation;
      const err = await enforcement.apply(cluster(BASE + REDIRECT)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PalisadeError);
      expect((err as PalisadeError).code).toBe('ERR_PALISADE_BACKEND_CANNOT_ENFORCE');
      const msg = (err as PalisadeError).message;
      expect(msg).toContain('PalisadeClusterNetworkPolicy metadata-via-proxy');
      expect(msg).toContain('egress[0] ("to-proxy")');
      expect(msg).toContain(`the ${name} backend`);
      expect(backend.calls).toEqual(['install']);
      expect(enforcement.current()!.generation).toBe(before);
      // and a policy set without Redirect still applies after the refusal
      await enforcement.apply(cluster(BASE));
      expect(backend.calls.length).toBeGreaterThanOrEqual(1);
    });
  }
});

describe('node subjects are installed by every backend (eBPF: its host role)', () => {
  for (const name of BACKEND_NAMES) {
    it(`${name}: installed`, async () => {
      const backend = recording(name);
      const enforcement = new Enforcement(backend);
      await enforcement.apply(cluster(NODE_SUBJECT_YAML));
      expect(backend.calls).toEqual(['install']);
    });
  }
});
