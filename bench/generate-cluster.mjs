/**
 * A generated, Kubernetes-shaped cluster for the benchmarks (issue 6 build point 7):
 * N namespaces x P pods, nodes, and a mix of NetworkPolicies and ClusterNetworkPolicies, as the
 * plain objects `kubectl get -o yaml` prints. Deterministic for a given seed.
 *
 * Shape (defaults: 500 namespaces, 10 pods each = 5,000 pods, 50 nodes, 1,000 policies):
 * - namespaces `ns-NNN` labelled team (25 teams), env (prod/staging/dev) and tenant;
 * - pods labelled app (8 apps), tier and version, dual-stack in 10.244.0.0/16 and
 *   fd00:10:244::/48, spread over the nodes; containerPorts `http` (8080 or 80), `metrics` 9090,
 *   `grpc` 50051 on some;
 * - nodes with an InternalIP (and an IPv6 address), labelled zone and role;
 * - 70% NetworkPolicies: a default-deny, and allows from the same namespace by app, from the
 *   team's namespaces, from a monitoring namespace on the named `metrics` port, ipBlock egress
 *   with an except, port ranges;
 * - 30% ClusterNetworkPolicies: Admin (priorities 0..999: deny env crossings, pass team traffic,
 *   deny the metadata server, accept kubelet from nodes, named ports) and Baseline (default
 *   deny per tenant, allow DNS).
 */

export function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

export const APPS = ['web', 'api', 'db', 'cache', 'queue', 'auth', 'search', 'batch'];
const TIERS = ['frontend', 'backend', 'data'];
const ENVS = ['prod', 'staging', 'dev'];

const nsName = (i) => `ns-${String(i).padStart(3, '0')}`;

/** The address of pod number `i` (0-based), IPv4 and IPv6. */
export function podAddresses(i) {
  const hi = (i >> 8) & 255;
  const lo = i & 255;
  return [`10.244.${hi}.${lo}`, `fd00:10:244:${hi.toString(16)}::${lo.toString(16)}`];
}

export function podObject(r, ns, name, i, nodeCount, labels) {
  const [v4, v6] = podAddresses(i);
  const ports = [{ name: 'http', containerPort: r.next() < 0.5 ? 8080 : 80, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }];
  if (r.next() < 0.3) ports.push({ name: 'grpc', containerPort: 50051, protocol: 'TCP' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: labels ?? { app: r.pick(APPS), tier: r.pick(TIERS), version: `v${r.int(1, 3)}` } },
    spec: { nodeName: `node-${String(i % nodeCount).padStart(2, '0')}`, containers: [{ name: 'main', image: 'app:1', ports }] },
    status: { podIP: v4, podIPs: [{ ip: v4 }, { ip: v6 }] },
  };
}

const sel = (matchLabels) => ({ matchLabels });

function networkPolicy(r, ns, k) {
  const app = r.pick(APPS);
  const kinds = [
    () => ({ podSelector: {}, policyTypes: ['Ingress'] }),
    () => ({
      podSelector: sel({ app }),
      ingress: [{ from: [{ podSelector: sel({ app: r.pick(APPS) }) }], ports: [{ port: 'http' }, { port: 8443, endPort: 8453 }] }],
    }),
    () => ({
      podSelector: sel({ tier: r.pick(TIERS) }),
      ingress: [{ from: [{ namespaceSelector: sel({ team: `t${r.int(0, 24)}` }), podSelector: sel({ app: r.pick(APPS) }) }], ports: [{ port: 8080 }] }],
    }),
    () => ({
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'ns-000' }) }], ports: [{ port: 'metrics' }] }],
    }),
    () => ({
      podSelector: sel({ app }),
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`10.${r.int(1, 200)}.0.0/16`] } }], ports: [{ port: 443 }, { port: 30000, endPort: 32767 }] },
        { to: [{ namespaceSelector: {}, podSelector: sel({ app: 'db' }) }], ports: [{ port: 5432 }] },
        { ports: [{ port: 53, protocol: 'UDP' }] },
      ],
    }),
  ];
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np-${k}`, namespace: ns }, spec: kinds[k % kinds.length]() };
}

function clusterPolicy(r, k, admin) {
  const team = `t${r.int(0, 24)}`;
  const env = r.pick(ENVS);
  const name = `${admin ? 'admin' : 'baseline'}-${k}`;
  const subject = r.next() < 0.6 ? { namespaces: sel({ team }) } : { pods: { namespaceSelector: sel({ env }), podSelector: sel({ app: r.pick(APPS) }) } };
  const spec = admin
    ? {
        tier: 'Admin',
        priority: r.int(0, 999),
        subject,
        ingress: [
          { name: 'from-monitoring', action: 'Accept', from: [{ namespaces: sel({ 'kubernetes.io/metadata.name': 'ns-000' }) }], protocols: [{ destinationNamedPort: 'metrics' }] },
          { name: 'cross-env', action: 'Deny', from: [{ namespaces: sel({ env: r.pick(ENVS.filter((e) => e !== env)) }) }] },
          { name: 'same-team', action: 'Pass', from: [{ namespaces: sel({ team }) }] },
        ],
        egress: [
          { name: 'metadata', action: 'Deny', to: [{ networks: ['169.254.169.254/32', 'fd00:ec2::254/128'] }] },
          { name: 'kubelet', action: 'Accept', to: [{ nodes: sel({ role: 'worker' }) }], protocols: [{ tcp: { destinationPort: { number: 10250 } } }] },
          { name: 'team-db', action: 'Pass', to: [{ pods: { namespaceSelector: sel({ team }), podSelector: sel({ app: 'db' }) } }], protocols: [{ tcp: { destinationPort: { range: { start: 5432, end: 5439 } } } }] },
        ],
      }
    : {
        tier: 'Baseline',
        priority: r.int(0, 1000),
        subject,
        ingress: [
          { name: 'tenant', action: 'Accept', from: [{ namespaces: sel({ tenant: `tenant-${r.int(0, 9)}` }) }] },
          { name: 'rest', action: 'Deny', from: [{ namespaces: {} }] },
        ],
        egress: [
          { name: 'dns', action: 'Accept', to: [{ pods: { namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'ns-001' }), podSelector: sel({ app: 'auth' }) } }], protocols: [{ udp: { destinationPort: { number: 53 } } }] },
          { name: 'internet', action: 'Deny', to: [{ networks: ['0.0.0.0/0', '::/0'] }] },
        ],
      };
  return { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name }, spec };
}

/**
 * The objects (Namespace, Node, Pod, NetworkPolicy, ClusterNetworkPolicy) of a generated cluster.
 * @param {{ namespaces?: number, podsPerNamespace?: number, nodes?: number, policies?: number, seed?: number }} o
 */
export function generateCluster(o = {}) {
  const namespaces = o.namespaces ?? 500;
  const perNs = o.podsPerNamespace ?? 10;
  const nodeCount = o.nodes ?? 50;
  const policies = o.policies ?? 1000;
  const r = rng(o.seed ?? 42);
  const objects = [];
  for (let i = 0; i < namespaces; i++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: nsName(i), labels: { team: `t${i % 25}`, env: ENVS[i % 3], tenant: `tenant-${i % 10}` } },
    });
  }
  for (let i = 0; i < nodeCount; i++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${String(i).padStart(2, '0')}`, labels: { zone: `z${i % 3}`, role: i < 3 ? 'infra' : 'worker' } },
      status: { addresses: [{ type: 'InternalIP', address: `10.244.250.${i + 1}` }, { type: 'InternalIP', address: `fd00:10:244:fa::${(i + 1).toString(16)}` }] },
    });
  }
  let podIndex = 0;
  for (let n = 0; n < namespaces; n++) {
    for (let p = 0; p < perNs; p++) objects.push(podObject(r, nsName(n), `pod-${p}`, podIndex++, nodeCount));
  }
  const nps = Math.round(policies * 0.7);
  for (let k = 0; k < nps; k++) objects.push(networkPolicy(r, nsName(k % namespaces), k));
  const cnps = policies - nps;
  for (let k = 0; k < cnps; k++) objects.push(clusterPolicy(r, k, k < Math.round(cnps * 0.67)));
  return { objects, podCount: podIndex, nodeCount };
}
