/**
 * `palisade check`: the verdict and, per direction, the deciding tier, policy, rule and action,
 * the Pass trail, isolatedBy and notes. Run in-process.
 */
import { describe, expect, it } from 'vitest';
import { example, palisade } from './helpers.js';

const NS_BY_NAME = example('namespace-by-name');
const S11 = example('s11-deny-with-priorities');
const S14 = example('s14-block-metadata-server');

describe('palisade check (text)', () => {
  it('allowed by a NetworkPolicy rule: names the policy, the rule index and the action', async () => {
    const r = await palisade('check', '-f', NS_BY_NAME, '--from', 'x/a', '--to', 'y/b', '--port', '80');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^x\/a \(10\.244\.1\.10\) -> y\/b \(10\.244\.2\.10\) TCP\/80: ALLOWED$/m);
    expect(r.stdout).toContain('egress (at the source, x/a): allow');
    expect(r.stdout).toContain('no policy decided (nothing matched, not isolated): the default allows');
    expect(r.stdout).toContain('ingress (at the destination, y/b): allow');
    expect(r.stdout).toContain('NetworkPolicy tier: NetworkPolicy y/allow-from-x-by-name ingress[0]: Allow');
  });

  it('denied by isolation: says which NetworkPolicies isolate the pod and that no rule matched', async () => {
    // kubernetes.io "Network Policies": an isolated pod accepts only what some rule allows; the
    // manifest of z claims kubernetes.io/metadata.name=x, which the control plane overrides.
    const r = await palisade('check', '-f', NS_BY_NAME, '--from', 'z/c', '--to', 'y/b', '--port', '80');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/TCP\/80: DENIED/);
    expect(r.stdout).toContain('ingress (at the destination, y/b): deny');
    expect(r.stdout).toContain('isolated by NetworkPolicy y/allow-from-x-by-name; no rule of those policies matches this flow');
  });

  it('denied by an Admin rule: kind, name, rule index and name, action, priority', async () => {
    const r = await palisade('check', '-f', NS_BY_NAME, '--from', 'x/a', '--to', 'z/c');
    expect(r.stdout).toContain('egress (at the source, x/a): deny');
    expect(r.stdout).toContain('Admin tier: ClusterNetworkPolicy x-must-not-reach-z egress[0] "deny-z-by-name": Deny, priority 50');
  });

  it('shows the Pass trail when an Admin Pass hands the flow to a NetworkPolicy (network-policy-api.md §1.5)', async () => {
    const r = await palisade('check', '-f', S11, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/TCP\/9187: ALLOWED/);
    expect(r.stdout).toContain('NetworkPolicy tier: NetworkPolicy db/postgres-metrics-from-backend ingress[0]: Allow');
    expect(r.stdout).toContain('passed: Admin tier: ClusterNetworkPolicy protect-db ingress[1] "backend-rest-to-netpol": Pass, priority 20');
    expect(r.stdout).toContain('isolated by: NetworkPolicy db/postgres-metrics-from-backend');
  });

  it('a v1alpha1 AdminNetworkPolicy is named with its own kind', async () => {
    const r = await palisade('check', '-f', S11, '--from', 'frontend/web', '--to', 'db/postgres', '--port', '5432');
    expect(r.stdout).toContain('Admin tier: AdminNetworkPolicy frontend-not-to-db-port egress[0] "no-direct-db": Deny, priority 5');
  });

  it('accepts IP addresses; an address that is no pod has no policy of its own', async () => {
    const r = await palisade('check', '-f', S14, '--from', 'apps/web', '--to', '169.254.169.254');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-> 169\.254\.169\.254 \(external\) TCP\/80: DENIED/);
    expect(r.stdout).toContain('169.254.169.254 is not a pod: no policy of its own applies in this direction');
    const byIp = await palisade('check', '-f', NS_BY_NAME, '--from', '10.244.1.10', '--to', '10.244.2.10');
    expect(byIp.stdout).toMatch(/^x\/a \(10\.244\.1\.10\) -> y\/b \(10\.244\.2\.10\) TCP\/80: ALLOWED$/m);
  });

  it('--ip-family 6 resolves pods to their IPv6 address; default is the first common family, IPv4 first', async () => {
    const v6 = await palisade('check', '-f', S14, '--from', 'apps/web', '--to', 'iam/kube2iam', '--ip-family', '6');
    expect(v6.stdout).toContain('apps/web (fd00:10:244:1::10) -> iam/kube2iam (fd00:10:244:1::50) TCP/80: ALLOWED');
    const dflt = await palisade('check', '-f', S14, '--from', 'apps/web', '--to', 'iam/kube2iam');
    expect(dflt.stdout).toContain('apps/web (10.244.1.10) -> iam/kube2iam (10.244.1.50)');
    const v6ext = await palisade('check', '-f', S14, '--from', 'batch/job', '--to', 'fd00:ec2::254');
    expect(v6ext.stdout).toContain('batch/job (fd00:10:244:2::10) -> fd00:ec2::254 (external) TCP/80: DENIED');
  });

  it('a host-network pod resolves to its node address and is judged as node traffic', async () => {
    const r = await palisade('check', '-f', example('s10-block-node-ports-except-dns'), '--from', 'apps/web', '--to', 'kube-system/node-local-dns', '--port', '10250');
    expect(r.stdout).toContain('-> kube-system/node-local-dns on node node-1 (10.244.255.1) TCP/10250: DENIED');
    expect(r.stdout).toContain('ClusterNetworkPolicy block-node-ports-except-dns egress[1] "no-other-node-ports": Deny');
  });
});

describe('palisade check -o json', () => {
  it('prints the FlowVerdict with addresses as text', async () => {
    const r = await palisade('check', '-f', S11, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187', '-o', 'json');
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.verdict).toBe('allow');
    expect(v.flow).toEqual({ src: '10.244.1.10', dst: '10.244.2.10', protocol: 'TCP', dstPort: 9187 });
    expect(v.src).toMatchObject({ kind: 'pod', pod: 'backend/api' });
    expect(v.egress).toMatchObject({ direction: 'egress', verdict: 'allow', tier: 'Default', reason: 'no-match' });
    expect(v.ingress).toMatchObject({
      direction: 'ingress',
      verdict: 'allow',
      tier: 'NetworkPolicy',
      reason: 'rule',
      rule: { policy: { kind: 'NetworkPolicy', namespace: 'db', name: 'postgres-metrics-from-backend' }, ruleIndex: 0, action: 'Allow' },
      passed: [{ tier: 'Admin', policy: { kind: 'ClusterNetworkPolicy', name: 'protect-db' }, ruleIndex: 1, action: 'Pass', priority: 20 }],
    });
  });
});

describe('palisade check: bad questions exit 2 and say why', () => {
  it.each([
    [['--from', 'x/a'], /--from and --to are required/],
    [['--from', 'x/a', '--to', 'y/nope'], /--to: no pod y\/nope in the manifests/],
    [['--from', 'justaname', '--to', 'y/b'], /--from: "justaname" is neither namespace\/pod nor an IP address/],
    [['--from', 'x/a', '--to', 'y/b', '--port', '70000'], /--port: 70000 is not a port number/],
    [['--from', 'x/a', '--to', 'y/b', '--protocol', 'ICMP'], /--protocol: "ICMP" is not one of TCP, UDP, SCTP/],
    [['--from', 'x/a', '--to', 'y/b', '--ip-family', '6'], /no IPv6 address for x\/a and y\/b/],
    [['--from', 'x/a', '--to', 'fd00::1'], /have no address family in common/],
    [['--from', 'x/a', '--to', 'y/b', '-o', 'yaml'], /-o: "yaml" is not text or json/],
    [['--from', 'x/a', '--to', 'y/b', '--engine', 'fast'], /--engine: "fast" is not one of native, reference/],
  ])('%j', async (args, msg) => {
    const r = await palisade('check', '-f', NS_BY_NAME, ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).toContain('(see palisade check --help)');
  });

  it('-f is required', async () => {
    const r = await palisade('check', '--from', 'x/a', '--to', 'y/b');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-f PATH is required');
  });
});

describe('--engine', () => {
  // check and matrix use the native classifier by default, and their output is
  // unchanged; --engine reference keeps the oracle available.
  it('native is the default, really runs the classifier, and prints exactly what the reference prints', async () => {
    const { Engine, nativeAvailable } = await import('../../src/index.js');
    const { selectEvaluator, parseEngine } = await import('../../src/cli/engine.js');
    const { safeLoadCluster } = await import('../../src/manifests/cluster.js');
    expect(nativeAvailable()).toBe(true);
    const chosen = selectEvaluator(parseEngine(undefined), safeLoadCluster([NS_BY_NAME]).cluster!, { out: () => {}, err: () => {} });
    expect(chosen).toBeInstanceOf(Engine);
    expect((chosen as InstanceType<typeof Engine>).classifier).toBe('native');
    for (const [from, to] of [['x/a', 'y/b'], ['y/b', 'x/a'], ['x/a', 'x/a']] as const) {
      const ref = await palisade('check', '-f', NS_BY_NAME, '--from', from, '--to', to, '--engine', 'reference');
      const def = await palisade('check', '-f', NS_BY_NAME, '--from', from, '--to', to);
      const nat = await palisade('check', '-f', NS_BY_NAME, '--from', from, '--to', to, '--engine', 'native', '-o', 'json');
      const refJson = await palisade('check', '-f', NS_BY_NAME, '--from', from, '--to', to, '--engine', 'reference', '-o', 'json');
      expect(def.code).toBe(0);
      expect(def.stdout).toBe(ref.stdout);
      expect(nat.stdout).toBe(refJson.stdout);
      expect(def.stderr).not.toMatch(/native/);
    }
  });
});

describe('palisade check: a pod to itself', () => {
  it('is not subject to policy (kubernetes.io: "a pod cannot block access to itself"; network-policy-api hairpin doc)', async () => {
    const r = await palisade('check', '-f', example('s18-priority-zero'), '--from', 'shop/web', '--to', 'shop/web');
    expect(r.stdout).toMatch(/TCP\/80: ALLOWED/);
    expect(r.stdout.match(/a pod's traffic to its own IP is not subject to policy/g)).toHaveLength(2);
  });
});

describe('palisade check: node traffic', () => {
  it('a host-network source is node traffic: no egress policy of its own, and the note says why (semantics doc §9.3)', async () => {
    const r = await palisade('check', '-f', example('s10-block-node-ports-except-dns'), '--from', 'kube-system/node-local-dns', '--to', 'apps/worker');
    expect(r.stdout).toContain('kube-system/node-local-dns on node node-1 (10.244.255.1) -> apps/worker (10.244.2.10) TCP/80: ALLOWED');
    expect(r.stdout).toContain('10.244.255.1 is an address of node node-1, not a pod: no policy of its own applies in this direction');
    expect(r.stdout).toContain('note: kube-system/node-local-dns is a host-network pod');
  });

  it('ingress from the pod\'s own node is allowed even when NetworkPolicy isolates it (types.go: "OR if the traffic source is the pod\'s local node")', async () => {
    const s12 = example('s12-namespace-isolation');
    // node-agent runs on node-1; team-b/api on node-2 (denied) -- and node-1's address to a pod on node-1 is node-local
    const far = await palisade('check', '-f', s12, '--from', 'kube-system/node-agent', '--to', 'team-b/api');
    expect(far.stdout).toMatch(/TCP\/80: DENIED/);
    const r = await palisade('check', '-f', s12, '--from', '10.244.255.2', '--to', 'team-b/api');
    expect(r.stdout).toMatch(/TCP\/80: ALLOWED/);
    expect(r.stdout).toContain("but the source is the pod's own node (always allowed)");
  });
});
