/** A seeded PRNG for the agent tests (mulberry32), so a failing sequence replays. */
export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

type Obj = Record<string, unknown>;
const APPS = ['web', 'db', 'probe', 'agent', 'other'];
const NAMESPACES = ['shop', 'ops'];
const PORT_CHOICES: readonly Obj[] = [
  { protocol: 'TCP', port: 80 },
  { protocol: 'TCP', port: 80, endPort: 81 },
  { protocol: 'TCP', port: 5432 },
  { port: 'sql' },
  { protocol: 'UDP', port: 53 },
  { protocol: 'UDP', port: 54 },
  { protocol: 'SCTP', port: 9000 },
];
const CIDRS = ['10.244.1.0/24', '10.244.0.0/16', 'fd00:10:244:1::/64', '10.244.200.1/32', '10.244.2.12/32'];

function randomPeer(rnd: () => number): Obj {
  const r = rnd();
  if (r < 0.35) return { podSelector: { matchLabels: { app: pick(rnd, APPS) } } };
  if (r < 0.6) return { namespaceSelector: { matchLabels: { team: pick(rnd, NAMESPACES) } } };
  if (r < 0.8) return { namespaceSelector: {}, podSelector: { matchLabels: { app: pick(rnd, APPS) } } };
  const cidr = pick(rnd, CIDRS);
  return cidr === '10.244.0.0/16' && rnd() < 0.5 ? { ipBlock: { cidr, except: ['10.244.1.10/32'] } } : { ipBlock: { cidr } };
}

function randomRules(rnd: () => number, dir: 'from' | 'to'): Obj[] {
  const n = Math.floor(rnd() * 3);
  return Array.from({ length: n }, () => {
    const rule: Obj = {};
    if (rnd() < 0.8) rule[dir] = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => randomPeer(rnd));
    if (rnd() < 0.6) rule.ports = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(rnd, PORT_CHOICES));
    return rule;
  });
}

/** A random valid NetworkPolicy over the shared inventory (test/harness/scenarios.ts INVENTORY). */
export function randomNetworkPolicy(rnd: () => number, name: string): Obj {
  const types = pick(rnd, [['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
  const spec: Obj = {
    podSelector: rnd() < 0.3 ? {} : { matchLabels: { app: pick(rnd, APPS) } },
    policyTypes: types,
  };
  if (types.includes('Ingress')) spec.ingress = randomRules(rnd, 'from');
  if (types.includes('Egress')) spec.egress = randomRules(rnd, 'to');
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: pick(rnd, NAMESPACES) }, spec };
}

/** A random valid ClusterNetworkPolicy (Admin or Baseline tier). */
export function randomClusterNetworkPolicy(rnd: () => number, name: string): Obj {
  const tier = rnd() < 0.6 ? 'Admin' : 'Baseline';
  const action = tier === 'Admin' ? pick(rnd, ['Accept', 'Deny', 'Pass']) : pick(rnd, ['Accept', 'Deny']);
  const peer = rnd() < 0.5 ? { namespaces: { matchLabels: { team: pick(rnd, NAMESPACES) } } } : { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: pick(rnd, APPS) } } } };
  const proto = pick(rnd, [undefined, { tcp: { destinationPort: { number: 80 } } }, { udp: { destinationPort: { number: 53 } } }, { tcp: { destinationPort: { range: { start: 80, end: 81 } } } }]);
  const rule: Obj = { name: 'r0', action, ...(rnd() < 0.5 ? { from: [peer] } : { to: [peer] }), ...(proto ? { protocols: [proto] } : {}) };
  const dir = 'from' in rule ? 'ingress' : 'egress';
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name },
    spec: { tier, priority: 1 + Math.floor(rnd() * 50), subject: rnd() < 0.5 ? { namespaces: {} } : { namespaces: { matchLabels: { team: pick(rnd, NAMESPACES) } } }, [dir]: [rule] },
  };
}
