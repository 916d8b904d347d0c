/**
 * FQDN egress over IPv6 on real traffic (docs/fqdn.md §1: AAAA answers teach addresses), on
 * every backend: the topology of traffic.test.ts, dual-stack (pods in 10.244.0.0/16 and
 * fd00:10:244::/48), a real dnsmasq in pod kube-system/dns behind Service kube-system/kube-dns
 * (one EndpointSlice per family), outside servers with IPv6 addresses only.
 * Checked per backend: a TCP connection to a learned IPv6 address is denied before the lookup
 * and allowed right after it, with the AAAA answer
 *   - over UDP carried by IPv6 (the resolver's IPv6 address),
 *   - over TCP carried by IPv6,
 *   - over UDP carried by IPv4 (an AAAA answer from the resolver's IPv4 address: what a
 *     single-stack kube-dns Service does for a dual-stack pod);
 * a name not in the policy stays denied after its AAAA answer; another subject pod that did not
 * ask is denied; answers arriving while an earlier answer's kernel write runs (merged into one
 * batch) are each in the kernel before they reach the pod. The kernel write is slowed (200 ms):
 * an answer must reach the pod only after it.
 * Every process this file starts is killed by pid; namespaces are deleted in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../backends/registry.js';
import { BACKEND_NAMES, type BackendName } from '../../src/enforce/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { learnTarget } from '../../src/fqdn/start.js';
import { FqdnNode, type LearnTarget } from '../../src/fqdn/node.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import type { Cluster } from '../../src/model/types.js';
import { nsExec } from '../../src/topology/netns.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT } from '../ebpf/backend.js';
import { requires } from '../harness/prerequisites.js';

const ip = (t: string): IpAddr => parseIp(t)!;
const DNS4 = '10.244.1.53';
const DNS6 = 'fd00:10:244:1::53';
const CLIENT4 = '10.244.1.10';
const CLIENT6 = 'fd00:10:244:1::10';
const OTHER6 = 'fd00:10:244:1::11';
const UDP6 = 'fd00:10:244:200::1'; // db6.example.test, asked over UDP/IPv6
const TCP6 = 'fd00:10:244:200::2'; // tcp6.example.test, asked over TCP/IPv6
const V4T = 'fd00:10:244:200::3'; // mixed.example.test, asked over UDP/IPv4
const NOT_ALLOWED6 = 'fd00:10:244:200::4'; // other6.test: not in the policy
/** b<i>.burst.example.test: answers that arrive while an earlier answer's kernel write runs */
const BURST6 = [1, 2, 3, 4].map((i) => `fd00:10:244:200::1${i}`);

const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: kube-system }
---
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status: { addresses: [ { type: InternalIP, address: 10.244.100.1 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: ${DNS4} }, { ip: "${DNS6}" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: app, labels: { app: client } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: ${CLIENT4} }, { ip: "${CLIENT6}" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: other, namespace: app, labels: { app: other } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.1.11 }, { ip: "${OTHER6}" } ] }
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system }
spec: { clusterIP: 10.244.250.10, clusterIPs: [ 10.244.250.10, "fd00:10:244:250::10" ], ipFamilies: [ IPv4, IPv6 ], ipFamilyPolicy: PreferDualStack, selector: { k8s-app: kube-dns }, ports: [ { name: dns, port: 53, protocol: UDP }, { name: dns-tcp, port: 53, protocol: TCP } ] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kube-dns-v4, namespace: kube-system, labels: { kubernetes.io/service-name: kube-dns } }
addressType: IPv4
endpoints: [ { addresses: [ ${DNS4} ] } ]
ports: [ { name: dns, port: 53, protocol: UDP }, { name: dns-tcp, port: 53, protocol: TCP } ]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kube-dns-v6, namespace: kube-system, labels: { kubernetes.io/service-name: kube-dns } }
addressType: IPv6
endpoints: [ { addresses: [ "${DNS6}" ] } ]
ports: [ { name: dns, port: 53, protocol: UDP }, { name: dns-tcp, port: 53, protocol: TCP } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn-egress }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - name: dns
    action: Accept
    to: [ { pods: { namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } } } ]
  - name: names
    action: Accept
    to: [ { domainNames: [ db6.example.test, tcp6.example.test, mixed.example.test, "*.burst.example.test" ] } ]
  - name: rest
    action: Deny
    to: [ { networks: [ 10.244.0.0/16, "fd00:10:244::/48" ] } ]
`;

function cluster(): Cluster {
  const r = safeParseCluster(YAML, 'fqdn-traffic-ipv6.yaml');
  if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
  return r.cluster;
}

const stopChild = (c: ChildProcess | undefined): void => {
  if (c && c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
};

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'bpffs', 'bpf', 'nfqueue', 'iptables-nft', 'cni-plugins', 'dnsmasq'))('FQDN egress over IPv6 (AAAA answers), on real traffic', () => {
  let topo: Topology | undefined;
  let dnsmasq: ChildProcess | undefined;
  const nsOf = (who: string): string => topo!.hosts.find((h) => h.name === who)!.netns;

  /** AAAA lookup from the client; `server` picks the transport family, `tcp` the protocol */
  const dig6 = async (name: string, server: string, tcp: boolean): Promise<string[]> => {
    const r = await nsExec(nsOf('app/client'), ['dig', `@${server}`, 'AAAA', '+short', '+tries=1', '+time=3', ...(tcp ? ['+tcp'] : ['+notcp', '+ignore']), name], { timeoutMs: 10_000, allowFailure: true });
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f:]+$/i.test(l) && l.includes(':'));
  };

  /** one TCP connect from the client (its own process: several may run at once) */
  const connect6 = async (dst: string): Promise<string> => {
    const py = `import socket\ns=socket.socket(socket.AF_INET6)\ns.settimeout(0.5)\ntry:\n  s.connect(('${dst}',80));print('open')\nexcept OSError:\n  print('dropped')\n`;
    return (await nsExec(nsOf('app/client'), ['python3', '-c', py], { timeoutMs: 5000 })).stdout.trim();
  };

  beforeAll(async () => {
    topo = await buildTopology(cluster(), { tag: 'fqdn6', externals: [UDP6, TCP6, V4T, NOT_ALLOWED6, ...BURST6].map(ip) });
    const dnsNs = nsOf('kube-system/dns');
    dnsmasq = spawn(
      'ip',
      [
        'netns', 'exec', dnsNs,
        'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root',
        `--listen-address=${DNS4}`, `--listen-address=${DNS6}`, '--bind-interfaces', '--port=53',
        `--host-record=db6.example.test,${UDP6},30`, `--host-record=tcp6.example.test,${TCP6},30`,
        `--host-record=mixed.example.test,${V4T},30`, `--host-record=other6.test,${NOT_ALLOWED6},30`, '--local-ttl=30',
        ...BURST6.map((a, i) => `--host-record=b${i}.burst.example.test,${a},30`),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    dnsmasq.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    for (let i = 0; ; i++) {
      if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq exited: ${err}`);
      const r = await nsExec(dnsNs, ['dig', `@${DNS6}`, 'AAAA', '+short', '+tries=1', '+time=1', 'db6.example.test'], { timeoutMs: 5000, allowFailure: true }).catch(() => ({ stdout: '' }));
      if (r.stdout.includes(UDP6)) break;
      if (i >= 50) throw new Error(`dnsmasq not ready: ${err}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }, 180_000);

  afterAll(async () => {
    stopChild(dnsmasq);
    await topo?.destroy();
  });

  for (const name of BACKEND_NAMES) {
    it(`${name}: learned IPv6 addresses are allowed after the AAAA answer (UDP and TCP DNS, over IPv6 and IPv4), everything else denied`, async () => {
      await runBackend(name);
    }, 180_000);
  }

  async function runBackend(name: BackendName): Promise<void> {
    const backend = await createBackend(name, { netnsPath: topo!.nodeNetnsPath, ...(name === 'ebpf' ? { tag: `fqdn6-${process.pid}`, pinRoot: TEST_PIN_ROOT } : {}) });
    const enforcement = new Enforcement(backend);
    const fleet = await ProbeFleet.start(topo!, { TCP: [80], UDP: [], SCTP: [] });
    const base = learnTarget(enforcement);
    // a slow kernel write: releasing the answer before it would fail the first probe after dig
    const target: LearnTarget = { cluster: () => base.cluster(), learn: async (a, r) => (await new Promise((res) => setTimeout(res, 200)), base.learn(a, r)) };
    let node: FqdnNode | undefined;
    const tcp = async (src: string, dst: string): Promise<string> => (await fleet.probe([{ protocol: 'TCP', src: ip(src), dst: ip(dst), dstPort: 80 }], { timeoutMs: 500 }))[0]!.outcome;
    try {
      await enforcement.apply(cluster());
      node = await FqdnNode.start(target, { netnsPath: topo!.nodeNetnsPath, queueNum: 4242 });

      // UDP DNS over IPv6
      expect(await tcp(CLIENT6, UDP6)).toBe('dropped');
      expect(await dig6('db6.example.test', DNS6, false)).toEqual([UDP6]);
      expect(await tcp(CLIENT6, UDP6)).toBe('open');
      // scope: the other subject pod did not ask
      expect(await tcp(OTHER6, UDP6)).toBe('dropped');

      // TCP DNS over IPv6
      expect(await tcp(CLIENT6, TCP6)).toBe('dropped');
      expect(await dig6('tcp6.example.test', DNS6, true)).toEqual([TCP6]);
      expect(await tcp(CLIENT6, TCP6)).toBe('open');

      // an AAAA answer carried by IPv4
      expect(await tcp(CLIENT6, V4T)).toBe('dropped');
      expect(await dig6('mixed.example.test', DNS4, false)).toEqual([V4T]);
      expect(await tcp(CLIENT6, V4T)).toBe('open');

      // a name not in the policy, over both transports
      expect(await dig6('other6.test', DNS6, false)).toEqual([NOT_ALLOWED6]);
      expect(await dig6('other6.test', DNS6, true)).toEqual([NOT_ALLOWED6]);
      expect(await tcp(CLIENT6, NOT_ALLOWED6)).toBe('dropped');

      // the cache holds every answer the pod got (other6.test too); the policy decides what matches
      // answers that arrive while the first one's (slowed) kernel write runs are merged into
      // the next batch (src/fqdn/queue.ts): each must still be in the kernel before its release
      // (each connection is tried the moment its own answer arrived: a release with an earlier
      // batch's verdict, before its own write, would find it denied)
      const askThenConnect = async (i: number): Promise<[string[], string]> => {
        const answer = await dig6(`b${i}.burst.example.test`, DNS6, false);
        return [answer, await connect6(BURST6[i]!)];
      };
      const first = askThenConnect(0);
      await new Promise((res) => setTimeout(res, 60));
      const rest = await Promise.all([1, 2, 3].map(askThenConnect));
      expect([await first, ...rest]).toEqual(BURST6.map((a) => [[a], 'open']));

      const learned = node.stats().entries.filter((e) => e.pod === 'app/client').map((e) => `${e.name}=${e.address}`).sort();
      expect(learned).toEqual([...BURST6.map((a, i) => `b${i}.burst.example.test=${a}`), `db6.example.test=${UDP6}`, `mixed.example.test=${V4T}`, `other6.test=${NOT_ALLOWED6}`, `tcp6.example.test=${TCP6}`]);
    } finally {
      await node?.stop().catch(() => undefined);
      await fleet.stop();
      await enforcement.remove().catch(() => undefined);
      await backend.close().catch(() => undefined);
    }
  }
});
