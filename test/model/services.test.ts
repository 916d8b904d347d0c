/**
 * The service tuples of docs/extension-semantics.md (Services), worked out by hand on one
 * inventory: endpoints with their slice ports, ClusterIPs / external / load-balancer IPs on the
 * service ports, node ports on every node address; headless, no-ports and orphan slices; and the
 * reference evaluator's use of them as a peer (both views) and as a subject (a non-pod endpoint).
 */
import { describe, expect, test } from 'vitest';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import { serviceGroups, serviceSourceAddresses, serviceTuples } from '../../src/model/services.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type ClusterPolicy } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { EVERYTHING } from '../../src/model/labels.js';

const ip = (s: string): IpAddr => parseIp(s)!;
const src = { file: 'hand' };
const text = (ts: ReturnType<typeof serviceTuples>): string[] => ts.map((t) => `${t.view} ${t.ip.text} ${t.protocol ?? '*'}/${t.port ?? '*'}`);

const inventory: Cluster = {
  namespaces: ['db', 'app', 'default'].map((name) => ({ name, labels: { [NAMESPACE_NAME_LABEL]: name }, source: src })),
  nodes: [{ name: 'n1', labels: {}, addresses: [ip('10.244.255.1')], source: src }],
  pods: [
    { namespace: 'db', name: 'pg', labels: { app: 'pg' }, ips: [ip('10.244.1.5')], hostNetwork: false, nodeName: 'n1', containerPorts: [], source: src },
    { namespace: 'app', name: 'web', labels: { app: 'web' }, ips: [ip('10.244.1.9')], hostNetwork: false, nodeName: 'n1', containerPorts: [], source: src },
  ],
  services: [
    {
      namespace: 'db',
      name: 'pg',
      clusterIPs: [ip('10.244.240.5')],
      externalIPs: [ip('10.244.241.5')],
      loadBalancerIPs: [ip('10.244.241.50')],
      ports: [{ protocol: 'TCP', port: 5432, targetPort: 15432, nodePort: 30432 }],
      source: src,
    },
    { namespace: 'db', name: 'headless', clusterIPs: [], ports: [], source: src },
    { namespace: 'default', name: 'kubernetes', clusterIPs: [ip('10.244.240.1')], ports: [{ protocol: 'TCP', port: 443, targetPort: 6443 }], source: src },
  ],
  endpointSlices: [
    { namespace: 'db', name: 'pg-a', serviceName: 'pg', addresses: [ip('10.244.1.5')], ports: [{ protocol: 'TCP', port: 15432 }], source: src },
    { namespace: 'db', name: 'headless-a', serviceName: 'headless', addresses: [ip('10.244.1.5')], ports: [], source: src },
    { namespace: 'app', name: 'pg-elsewhere', serviceName: 'pg', addresses: [ip('10.244.1.9')], ports: [{ protocol: 'TCP', port: 1 }], source: src },
    { namespace: 'db', name: 'orphan', serviceName: 'gone', addresses: [ip('10.244.1.5')], ports: [{ protocol: 'TCP', port: 2 }], source: src },
    { namespace: 'default', name: 'kubernetes', serviceName: 'kubernetes', addresses: [ip('10.244.255.1')], ports: [{ protocol: 'TCP', port: 6443 }], source: src },
  ],
  networkPolicies: [],
  clusterPolicies: [],
};

describe('serviceTuples', () => {
  test('endpoints on slice ports, frontends on service ports, node ports on every node address', () => {
    expect(text(serviceTuples({ namespace: 'db', name: 'pg' }, inventory))).toEqual([
      'endpoint 10.244.1.5 TCP/15432',
      'cluster-ip 10.244.240.5 TCP/5432',
      'external-ip 10.244.241.5 TCP/5432',
      'load-balancer 10.244.241.50 TCP/5432',
      'node-port 10.244.255.1 TCP/30432',
    ]);
    expect(serviceGroups({ namespace: 'db', name: 'pg' }, inventory).map((g) => `${g.protocol}/${g.port}`)).toEqual(['TCP/5432', 'TCP/15432', 'TCP/30432']);
  });

  test('headless without ports: the endpoints on every port and protocol; orphan slices and missing Services: nothing', () => {
    expect(text(serviceTuples({ namespace: 'db', name: 'headless' }, inventory))).toEqual(['endpoint 10.244.1.5 */*']);
    expect(serviceTuples({ namespace: 'db', name: 'gone' }, inventory)).toEqual([]);
    expect(serviceSourceAddresses({ namespace: 'db', name: 'pg' }, inventory).map((a) => a.text)).toEqual(['10.244.1.5']);
  });
});

describe('the reference evaluator on services peers and subjects', () => {
  const policy = (p: Partial<ClusterPolicy> & Pick<ClusterPolicy, 'name' | 'subject'>): ClusterPolicy => ({
    kind: 'ClusterNetworkPolicy',
    tier: 'Admin',
    priority: 1,
    ingress: [],
    egress: [],
    source: src,
    ...p,
  });
  test('S15 shape: Accept to the Service, Deny the rest: the ClusterIP and the endpoint agree, other ports do not match', () => {
    const c: Cluster = {
      ...inventory,
      clusterPolicies: [
        policy({
          name: 'through-pg',
          subject: { kind: 'namespaces', namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'app' }, matchExpressions: [] } },
          egress: [
            { index: 0, action: 'Accept', peers: [{ kind: 'services', services: [{ namespace: 'db', name: 'pg' }] }], protocols: null },
            { index: 1, action: 'Deny', peers: [{ kind: 'networks', cidrs: [{ family: 4, base: 0n, prefixLen: 0, text: '0.0.0.0/0' }] }], protocols: null },
          ],
        }),
      ],
    };
    const ref = new ReferenceEvaluator(c);
    const v = (dst: string, port: number) => ref.evaluate({ src: ip('10.244.1.9'), dst: ip(dst), protocol: 'TCP', dstPort: port }).verdict;
    expect([v('10.244.240.5', 5432), v('10.244.1.5', 15432), v('10.244.241.50', 5432), v('10.244.255.1', 30432)]).toEqual(['allow', 'allow', 'allow', 'allow']);
    expect([v('10.244.240.5', 15432), v('10.244.1.5', 5432), v('10.244.255.1', 6443)]).toEqual(['deny', 'deny', 'deny']);
    const notes = ref.evaluate({ src: ip('10.244.1.9'), dst: ip('10.244.240.5'), protocol: 'TCP', dstPort: 5432 }).egress.notes;
    expect(notes.join('\n')).toContain('10.244.240.5 is the ClusterIP of Service db/pg (TCP/5432)');
  });

  test('S9 / S4 subject: a Service whose endpoint is a node address is a subject; the pod gets the verdict through the ClusterIP too', () => {
    const c: Cluster = {
      ...inventory,
      clusterPolicies: [
        policy({
          name: 'apiserver',
          subject: { kind: 'services', services: [{ namespace: 'default', name: 'kubernetes' }] },
          ingress: [{ index: 0, action: 'Deny', peers: [{ kind: 'pods', namespaceSelector: EVERYTHING, podSelector: { matchLabels: { app: 'web' }, matchExpressions: [] } }], protocols: null }],
        }),
      ],
    };
    const ref = new ReferenceEvaluator(c);
    const f = (dst: string, port: number, from = '10.244.1.9') => ref.evaluate({ src: ip(from), dst: ip(dst), protocol: 'TCP', dstPort: port });
    expect(f('10.244.255.1', 6443).verdict).toBe('deny');
    expect(f('10.244.240.1', 443).verdict).toBe('deny');
    expect(f('10.244.255.1', 22).verdict).toBe('allow'); // not a tuple of the Service
    expect(f('10.244.255.1', 6443, '10.244.1.5').verdict).toBe('allow'); // not app=web
  });
});
