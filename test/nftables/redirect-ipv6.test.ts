/**
 * S14 Redirect over IPv6 on real packets through nftables (docs/extension-semantics.md,
 * Redirect): examples/s14-redirect made dual-stack (pods, the proxy Service's ClusterIPs and
 * EndpointSlices of both families) with a metadata address of each family. A pod of namespace
 * apps that dials [fd00:10:244:fe::254]:80 on TCP or UDP reaches the proxy pod on
 * [fd00:10:244:1::50]:8080, and the reply comes from the address it dialled; the IPv4 redirect of
 * the same rule still works beside it; a pod the Redirect does not select never reaches the proxy
 * through the metadata address; the proxy's own IPv6 address answers as itself.
 * The rig (topology, kube-proxy's tables, proxy server, bounds): redirect-rig.ts.
 */
import { describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { requires } from '../harness/prerequisites.js';
import { PAYLOAD, redirectRig } from './redirect-rig.js';

const META6 = 'fd00:10:244:fe::254';
const PROXY6 = 'fd00:10:244:1::50';

const YAML = `
apiVersion: v1
kind: List
items:
- { apiVersion: v1, kind: Namespace, metadata: { name: apps } }
- { apiVersion: v1, kind: Namespace, metadata: { name: batch } }
- { apiVersion: v1, kind: Namespace, metadata: { name: iam } }
- apiVersion: v1
  kind: Node
  metadata: { name: node-1 }
  status: { addresses: [ { type: InternalIP, address: 10.244.255.1 }, { type: InternalIP, address: "fd00:10:244:ff::1" } ] }
- apiVersion: v1
  kind: Pod
  metadata: { name: web, namespace: apps, labels: { app: web } }
  spec: { nodeName: node-1, containers: [ { name: web, image: busybox } ] }
  status: { phase: Running, podIPs: [ { ip: 10.244.1.10 }, { ip: "fd00:10:244:1::10" } ] }
- apiVersion: v1
  kind: Pod
  metadata: { name: job, namespace: batch, labels: { app: job } }
  spec: { nodeName: node-1, containers: [ { name: job, image: busybox } ] }
  status: { phase: Running, podIPs: [ { ip: 10.244.1.20 }, { ip: "fd00:10:244:1::20" } ] }
- apiVersion: v1
  kind: Pod
  metadata: { name: kube2iam, namespace: iam, labels: { app: kube2iam } }
  spec: { nodeName: node-1, containers: [ { name: kube2iam, image: kube2iam, ports: [ { name: http, containerPort: 8080 } ] } ] }
  status: { phase: Running, podIPs: [ { ip: 10.244.1.50 }, { ip: "${PROXY6}" } ] }
- apiVersion: v1
  kind: Service
  metadata: { name: metadata-proxy, namespace: iam }
  spec:
    selector: { app: kube2iam }
    ipFamilyPolicy: RequireDualStack
    ipFamilies: [ IPv4, IPv6 ]
    clusterIP: 10.244.240.30
    clusterIPs: [ 10.244.240.30, "fd00:10:244:f0::30" ]
    ports:
    - { name: http, protocol: TCP, port: 80, targetPort: 8080 }
    - { name: dns-like, protocol: UDP, port: 80, targetPort: 8080 }
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: { name: metadata-proxy-v4, namespace: iam, labels: { kubernetes.io/service-name: metadata-proxy } }
  addressType: IPv4
  endpoints: [ { addresses: [ 10.244.1.50 ], conditions: { ready: true } } ]
  ports: [ { name: http, protocol: TCP, port: 8080 }, { name: dns-like, protocol: UDP, port: 8080 } ]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: { name: metadata-proxy-v6, namespace: iam, labels: { kubernetes.io/service-name: metadata-proxy } }
  addressType: IPv6
  endpoints: [ { addresses: [ "${PROXY6}" ], conditions: { ready: true } } ]
  ports: [ { name: http, protocol: TCP, port: 8080 }, { name: dns-like, protocol: UDP, port: 8080 } ]
---
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: metadata-via-proxy }
spec:
  tier: Admin
  priority: 1
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: apps } } }
  egress:
  - name: to-kube2iam
    action: Redirect
    redirect: { service: { namespace: iam, name: metadata-proxy } }
    to: [ { networks: [ 169.254.169.254/32, "${META6}/128" ] } ]
    protocols: [ { tcp: { destinationPort: { number: 80 } } }, { udp: { destinationPort: { number: 80 } } } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: block-metadata-server }
spec:
  tier: Admin
  priority: 5
  subject: { namespaces: { matchExpressions: [ { key: kubernetes.io/metadata.name, operator: NotIn, values: [ iam ] } ] } }
  egress:
  - { name: no-metadata-server, action: Deny, to: [ { networks: [ 169.254.169.254/32, "${META6}/128" ] } ] }
`;

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'cni-plugins'))('nftables: Redirect (S14) over IPv6 on real packets', () => {
  const rig = redirectRig(
    'redir6',
    () => {
      const r = safeParseCluster(YAML, 'redirect-ipv6.yaml');
      if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
      return r.cluster;
    },
    { pod: 'iam/kube2iam', addresses: ['10.244.1.50', PROXY6] },
  );
  const dial = rig.dial;

  for (const protocol of ['TCP', 'UDP'] as const) {
    it(`${protocol}: apps/web -> [${META6}]:80 reaches the proxy, and the reply comes from the address dialled`, async () => {
      expect(await dial('apps/web', protocol, META6, 80)).toEqual({ peer: `[${META6}]:80`, data: PAYLOAD });
    });
    it(`${protocol}: the IPv4 redirect of the same rule still works beside it`, async () => {
      expect(await dial('apps/web', protocol, '169.254.169.254', 80)).toEqual({ peer: '169.254.169.254:80', data: PAYLOAD });
    });
    it(`${protocol}: the proxy's own IPv6 address answers as itself`, async () => {
      expect(await dial('apps/web', protocol, PROXY6, 8080)).toEqual({ peer: `[${PROXY6}]:8080`, data: PAYLOAD });
    });
    it(`${protocol}: batch/job (not a subject of the Redirect) never reaches the proxy through [${META6}]`, async () => {
      const a = await dial('batch/job', protocol, META6, 80);
      expect(a.error).toBeDefined();
      expect(a.data).toBeUndefined();
    });
  }

  it('the reference evaluator says the same: the IPv6 flow is redirected to the IPv6 ClusterIP', () => {
    const v = new ReferenceEvaluator(rig.cluster()).evaluate({ src: parseIp('fd00:10:244:1::10')!, dst: parseIp(META6)!, protocol: 'TCP', dstPort: 80 });
    expect(v.egress.rule?.action).toBe('Redirect');
    expect(v.egress.notes.join('\n')).toContain('redirected to Service iam/metadata-proxy [fd00:10:244:f0::30]:80/TCP');
  });
});
