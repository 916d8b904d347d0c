/**
 * S14 Redirect on real packets through the eBPF backend (docs/extension-semantics.md, Redirect;
 * backends/ebpf/bpf/palisade.bpf.c pal_redirect_record / pal_nat_rewrite: the address rewrite on
 * the client's veth), the same cases as test/nftables/redirect.test.ts, over the example
 * examples/s14-redirect in its own topology with kube-proxy's tables: a pod of namespace apps that
 * dials the metadata address 169.254.169.254 on TCP/80 and UDP/80 reaches the proxy pod
 * iam/kube2iam on 8080 (which answers with a payload naming itself), and the replies come back
 * from 169.254.169.254:80 (TCP: the handshake completes to the address dialled; UDP: an
 * unconnected socket's recvfrom names the sender). Other destinations are untouched (the proxy's
 * own address answers as itself), a port the rule does not name is denied by the Deny after it,
 * and a pod the Redirect does not select (batch/job) never reaches the proxy.
 *
 * Every pod sends full checksums (transmit offload off), so a stale checksum is dropped by the
 * receiver. Beyond the nftables cases: many packets of one redirected TCP connection and of one
 * UDP flow (the established paths, hints included, rewrite every one of them), the backend's
 * redirect counter, the same in the host role (a node subject in force), and the story over IPv6
 * (dual-stack pods and Service). The refusal of a node subject's Redirect is
 * test/enforce/capabilities.test.ts's.
 *
 * Bounded: every client is one connection or datagram with a 1.5 s socket timeout and a 10 s
 * process limit; the proxy server exits when its stdin closes (afterAll) or after 120 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { safeLoadCluster, safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import type { Cluster } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { installKubeProxy } from '../../src/topology/kube-proxy.js';
import { nsExec } from '../../src/topology/netns.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';
import { testEbpfBackend } from './backend.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/s14-redirect', import.meta.url));
const PAYLOAD = 'palisade-proxy kube2iam';

/** TCP and UDP on ADDR:8080, each answering PAYLOAD (TCP: then echoing every line back); exits on stdin EOF or after 120 s. */
const SERVER = `
import socket, sys, threading, time
addr, payload = sys.argv[1], sys.argv[2].encode()
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, 8080)); t.listen(16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, 8080))
def tcp():
    while True:
        c, _ = t.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
def serve(c):
    try:
        c.settimeout(5); c.sendall(payload)
        f = c.makefile('rb')
        for line in f:
            c.sendall(line)
    except Exception:
        pass
    c.close()
def udp():
    while True:
        data, peer = u.recvfrom(512); u.sendto(payload if data == b'who' else data, peer)
for f in (tcp, udp): threading.Thread(target=f, daemon=True).start()
print("ready", flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), sys.exit(0)), daemon=True).start()
deadline = time.time() + 120
while time.time() < deadline and threading.active_count() > 3: time.sleep(0.2)
`;

/** One TCP connection or UDP datagram; prints JSON {peer, data} or {error}. */
const CLIENT = `
import json, socket, sys
proto, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    if proto == 'TCP':
        s = socket.create_connection((dst, port), timeout=1.5); data = s.recv(256); peer = s.getpeername()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5); s.sendto(b'who', (dst, port)); data, peer = s.recvfrom(256)
    print(json.dumps({'peer': '%s:%d' % (peer[0], peer[1]), 'data': data.decode()}))
except Exception as e:
    print(json.dumps({'error': type(e).__name__}))
`;

/** One TCP connection carrying N lines, or N datagrams from one UDP socket (one flow): each echoed; prints {peer, echoed, data} or {error}. */
const MANY = `
import json, socket, sys
proto, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
try:
    echoed = 0
    if proto == 'TCP':
        s = socket.create_connection((dst, port), timeout=1.5); f = s.makefile('rb'); first = s.recv(len('${PAYLOAD}')); peer = s.getpeername()
        for i in range(n):
            line = ('line %d %s\\n' % (i, 'x' * 1200)).encode(); s.sendall(line)
            got = f.readline()
            if got == line: echoed += 1
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5); s.sendto(b'who', (dst, port)); first, peer = s.recvfrom(256)
        for i in range(n):
            d = ('dgram %d' % i).encode(); s.sendto(d, (dst, port)); got, p2 = s.recvfrom(256)
            if got == d and p2 == peer: echoed += 1
    print(json.dumps({'peer': '%s:%d' % (peer[0], peer[1]), 'data': first.decode(), 'echoed': echoed}))
except Exception as e:
    print(json.dumps({'error': type(e).__name__}))
`;

/**
 * Turns transmit checksum offload off on eth0 (ETHTOOL_STXCSUM through SIOCETHTOOL; no ethtool
 * binary here), so the pod sends full checksums and the receiving pod verifies them: with offload
 * a veth pair never checks, and a rewrite that left a checksum stale would go unnoticed.
 */
const FULL_CHECKSUMS = `
import array, fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ev = array.array('B', struct.pack('II', 0x17, 0))
fcntl.ioctl(s.fileno(), 0x8946, struct.pack('16sP', b'eth0', ev.buffer_info()[0]))
print('ok')
`;

interface Answer {
  readonly peer?: string;
  readonly data?: string;
  readonly error?: string;
  readonly echoed?: number;
}

/**
 * The host role (PAL_CFG_BOTH_DIRECTIONS, on while some subject is a node: DESIGN.md "The host
 * role") must not overwrite the Redirect: a node-subject policy turns it on, and a policy denying
 * apps the proxy pod's own address makes the translated flow fail if its egress were judged again
 * at the proxy's veth (its Redirect rule decided its egress, as nftables' ct mark says).
 */
const HOST_ROLE = `
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: nodes-not-to-testnet }
spec:
  tier: Admin
  priority: 30
  subject: { nodes: {} }
  egress:
  - { name: no-testnet, action: Deny, to: [{ networks: [10.244.251.0/24] }] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: apps-not-to-the-proxy-directly }
spec:
  tier: Admin
  priority: 20
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: apps } } }
  egress:
  - { name: no-direct, action: Deny, to: [{ networks: [10.244.1.50/32] }] }
`;

const VARIANTS = [
  { title: 'the example', tag: 'ebredir', pin: 'redir', extra: undefined, directFromApps: true },
  { title: 'the example in the host role, apps denied the proxy directly', tag: 'ebredh', pin: 'redirh', extra: HOST_ROLE, directFromApps: false },
] as const;

for (const variant of VARIANTS)
describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'bpffs', 'bpf', 'cni-plugins'))(`eBPF: Redirect (S14) on real packets, ${variant.title}`, () => {
  let cluster: Cluster;
  let topo: Topology | undefined;
  let enforcement: Enforcement | undefined;
  let server: ChildProcess | undefined;
  const nsOf = (pod: string): string => topo!.hosts.find((h) => h.name === pod)!.netns;
  const dial = async (pod: string, protocol: 'TCP' | 'UDP', dst: string, port: number): Promise<Answer> => {
    const r = await nsExec(nsOf(pod), ['python3', '-c', CLIENT, protocol, dst, String(port)], { timeoutMs: 10_000 });
    return JSON.parse(r.stdout.trim()) as Answer;
  };
  const dialMany = async (pod: string, protocol: 'TCP' | 'UDP', dst: string, port: number, n: number): Promise<Answer> => {
    const r = await nsExec(nsOf(pod), ['python3', '-c', MANY, protocol, dst, String(port), String(n)], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout.trim()) as Answer;
  };

  beforeAll(async () => {
    let tmp: string | undefined;
    if (variant.extra) {
      tmp = mkdtempSync(join(tmpdir(), 'pal-redir-'));
      writeFileSync(join(tmp, 'host-role.yaml'), variant.extra);
    }
    const r = safeLoadCluster(tmp ? [EXAMPLE, tmp] : [EXAMPLE]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
    cluster = r.cluster;
    topo = await buildTopology(cluster, { tag: variant.tag });
    for (const pod of ['apps/web', 'batch/job', 'iam/kube2iam']) await nsExec(nsOf(pod), ['python3', '-c', FULL_CHECKSUMS], { timeoutMs: 10_000 });
    await installKubeProxy(topo.nodeNs, cluster);
    server = spawn('ip', ['netns', 'exec', nsOf('iam/kube2iam'), 'python3', '-c', SERVER, '10.244.1.50', PAYLOAD], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('proxy server did not start')), 10_000);
      server!.stdout!.once('data', () => (clearTimeout(t), resolve()));
    });
    enforcement = new Enforcement(testEbpfBackend(variant.pin, topo.nodeNetnsPath));
    await enforcement.apply(cluster);
  }, 60_000);

  afterAll(async () => {
    await enforcement?.remove().catch(() => undefined);
    server?.stdin?.end();
    server?.kill();
    await topo?.destroy();
  });

  for (const protocol of ['TCP', 'UDP'] as const) {
    it(`${protocol}: apps/web -> 169.254.169.254:80 reaches the proxy, and the reply comes from 169.254.169.254:80`, async () => {
      expect(await dial('apps/web', protocol, '169.254.169.254', 80)).toEqual({ peer: '169.254.169.254:80', data: PAYLOAD });
    });
    it(`${protocol}: other destinations are untouched (the proxy's own address answers as itself${variant.directFromApps ? '' : ', to iam/kube2iam itself; apps is denied it'})`, async () => {
      if (variant.directFromApps) expect(await dial('apps/web', protocol, '10.244.1.50', 8080)).toEqual({ peer: '10.244.1.50:8080', data: PAYLOAD });
      else {
        expect((await dial('apps/web', protocol, '10.244.1.50', 8080)).error).toBeDefined();
        expect(await dial('batch/job', protocol, '10.244.1.50', 8080)).toEqual({ peer: '10.244.1.50:8080', data: PAYLOAD });
      }
    });
    it(`${protocol}: batch/job (not a subject of the Redirect) never reaches the proxy through the metadata address`, async () => {
      const a = await dial('batch/job', protocol, '169.254.169.254', 80);
      expect(a.error).toBeDefined();
      expect(a.data).toBeUndefined();
    });
  }

  it('TCP: a port the Redirect does not name (81) is not redirected', async () => {
    // the node has no route to 169.254.169.254: the client sees an error either way (no answer)
    const a = await dial('apps/web', 'TCP', '169.254.169.254', 81);
    expect(a.error).toBeDefined();
    expect(a.data).toBeUndefined();
  });

  for (const protocol of ['TCP', 'UDP'] as const) {
    it(`${protocol}: every packet of one redirected flow is rewritten both ways (established paths and hints never skip it)`, async () => {
      expect(await dialMany('apps/web', protocol, '169.254.169.254', 80, 200)).toEqual({ peer: '169.254.169.254:80', data: PAYLOAD, echoed: 200 });
    });
  }

  it('the backend counts the redirected flows', async () => {
    const s = await enforcement!.stats();
    const datapath = s.details.datapath as Record<string, number>;
    expect(datapath.redirected).toBeGreaterThanOrEqual(4);
  });

  it('the reference evaluator says the same: allowed by the Redirect rule, naming the target', () => {
    const v = new ReferenceEvaluator(cluster).evaluate({ src: parseIp('10.244.1.10')!, dst: parseIp('169.254.169.254')!, protocol: 'TCP', dstPort: 80 });
    expect(v.egress.rule?.action).toBe('Redirect');
    expect(v.egress.notes).toContain('PalisadeClusterNetworkPolicy metadata-via-proxy egress[0] (to-kube2iam): redirected to Service iam/metadata-proxy 10.244.240.30:80/TCP');
  });
});

/** The same story over IPv6: dual-stack pods and Service, the metadata address fd00:ec2::254. */
const WEB6 = 'fd00:10:244:1::10';
const PROXY6 = 'fd00:10:244:1::50';
const METADATA6 = 'fd00:ec2::254';
const DUAL_STACK = `apiVersion: v1
kind: Namespace
metadata: { name: apps }
---
apiVersion: v1
kind: Namespace
metadata: { name: batch }
---
apiVersion: v1
kind: Namespace
metadata: { name: iam }
---
apiVersion: v1
kind: Node
metadata: { name: node-1 }
spec: { podCIDR: 10.244.1.0/24, podCIDRs: [ 10.244.1.0/24, "fd00:10:244:1::/64" ] }
status: { addresses: [ { type: InternalIP, address: 10.244.255.1 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: apps, labels: { app: web } }
spec: { nodeName: node-1 }
status: { phase: Running, podIPs: [ { ip: 10.244.1.10 }, { ip: "${WEB6}" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: job, namespace: batch, labels: { app: job } }
spec: { nodeName: node-1 }
status: { phase: Running, podIPs: [ { ip: 10.244.1.20 }, { ip: "fd00:10:244:1::20" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: kube2iam, namespace: iam, labels: { app: kube2iam } }
spec: { nodeName: node-1 }
status: { phase: Running, podIPs: [ { ip: 10.244.1.50 }, { ip: "${PROXY6}" } ] }
---
apiVersion: v1
kind: Service
metadata: { name: metadata-proxy, namespace: iam }
spec:
  selector: { app: kube2iam }
  clusterIP: 10.244.240.30
  clusterIPs: [ 10.244.240.30, "fd00:10:244:240::30" ]
  ipFamilies: [ IPv4, IPv6 ]
  ipFamilyPolicy: RequireDualStack
  ports:
  - { name: http, protocol: TCP, port: 80, targetPort: 8080 }
  - { name: dns-like, protocol: UDP, port: 80, targetPort: 8080 }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: metadata-proxy-v6, namespace: iam, labels: { kubernetes.io/service-name: metadata-proxy } }
addressType: IPv6
endpoints: [ { addresses: [ "${PROXY6}" ], conditions: { ready: true } } ]
ports: [ { name: http, protocol: TCP, port: 8080 }, { name: dns-like, protocol: UDP, port: 8080 } ]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: metadata-proxy-v4, namespace: iam, labels: { kubernetes.io/service-name: metadata-proxy } }
addressType: IPv4
endpoints: [ { addresses: [ 10.244.1.50 ], conditions: { ready: true } } ]
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
    to: [ { networks: [ 169.254.169.254/32, "${METADATA6}/128" ] } ]
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
  - { name: no-metadata-server, action: Deny, to: [ { networks: [ 169.254.169.254/32, "${METADATA6}/128" ] } ] }
`;

const v6 = (script: string): string => script.replaceAll('socket.AF_INET,', 'socket.AF_INET6,');

describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'))('eBPF: Redirect (S14) on real IPv6 packets', () => {
  let topo: Topology | undefined;
  let enforcement: Enforcement | undefined;
  let server: ChildProcess | undefined;
  const nsOf = (pod: string): string => topo!.hosts.find((h) => h.name === pod)!.netns;
  const run = async (pod: string, script: string, args: string[]): Promise<Answer> => {
    const r = await nsExec(nsOf(pod), ['python3', '-c', v6(script), ...args], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout.trim()) as Answer;
  };

  beforeAll(async () => {
    const r = safeParseCluster(DUAL_STACK, 'redirect-ipv6.yaml');
    if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
    topo = await buildTopology(r.cluster, { tag: 'ebredir6' });
    for (const pod of ['apps/web', 'batch/job', 'iam/kube2iam']) await nsExec(nsOf(pod), ['python3', '-c', FULL_CHECKSUMS], { timeoutMs: 10_000 });
    server = spawn('ip', ['netns', 'exec', nsOf('iam/kube2iam'), 'python3', '-c', v6(SERVER), PROXY6, PAYLOAD], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('proxy server did not start')), 10_000);
      server!.stdout!.once('data', () => (clearTimeout(t), resolve()));
    });
    enforcement = new Enforcement(testEbpfBackend('redir6', topo.nodeNetnsPath));
    await enforcement.apply(r.cluster);
  }, 60_000);

  afterAll(async () => {
    await enforcement?.remove().catch(() => undefined);
    server?.stdin?.end();
    server?.kill();
    await topo?.destroy();
  });

  for (const protocol of ['TCP', 'UDP'] as const) {
    it(`${protocol}: apps/web -> [${METADATA6}]:80 reaches the proxy, and the reply comes from [${METADATA6}]:80`, async () => {
      expect(await run('apps/web', CLIENT, [protocol, METADATA6, '80'])).toEqual({ peer: `${METADATA6}:80`, data: PAYLOAD });
    });
    it(`${protocol}: every packet of one redirected IPv6 flow is rewritten both ways`, async () => {
      expect(await run('apps/web', MANY, [protocol, METADATA6, '80', '200'])).toEqual({ peer: `${METADATA6}:80`, data: PAYLOAD, echoed: 200 });
    });
    it(`${protocol}: the proxy's own IPv6 address answers as itself; batch/job does not reach the proxy through the metadata address`, async () => {
      expect(await run('apps/web', CLIENT, [protocol, PROXY6, '8080'])).toEqual({ peer: `${PROXY6}:8080`, data: PAYLOAD });
      const a = await run('batch/job', CLIENT, [protocol, METADATA6, '80']);
      expect(a.error).toBeDefined();
      expect(a.data).toBeUndefined();
    });
  }
});
