/**
 * The rig of the nftables Redirect tests (redirect.test.ts, redirect-ipv6.test.ts): a topology of
 * the given cluster with kube-proxy's tables, a proxy pod answering PAYLOAD on TCP and UDP 8080 of
 * each of its addresses, the cluster enforced by nftables, and `dial` (one connection or datagram
 * from a pod, the peer it saw and the data it got). Registers its own beforeAll / afterAll.
 *
 * Bounded: every client is one connection or datagram with a 1.5 s socket timeout and a 10 s
 * process limit; the proxy server exits when its stdin closes (afterAll) or after 120 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import { installKubeProxy } from '../../src/topology/kube-proxy.js';
import { nsExec } from '../../src/topology/netns.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';

export const PAYLOAD = 'palisade-proxy kube2iam';

/** TCP and UDP on 8080 of each address (argv[1..n]), each answering argv[n+1]; exits on stdin EOF or after 120 s. */
const SERVER = `
import socket, sys, threading, time
addrs, payload = sys.argv[1:-1], sys.argv[-1].encode()
def serve(addr):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    t = socket.socket(fam, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, 8080)); t.listen(16)
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, 8080))
    def tcp():
        while True:
            c, _ = t.accept(); c.sendall(payload); c.close()
    def udp():
        while True:
            _, peer = u.recvfrom(512); u.sendto(payload, peer)
    for f in (tcp, udp): threading.Thread(target=f, daemon=True).start()
for a in addrs: serve(a)
print("ready", flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), sys.exit(0)), daemon=True).start()
deadline = time.time() + 120
while time.time() < deadline and threading.active_count() > 1 + 2 * len(addrs): time.sleep(0.2)
`;

/** One TCP connection or UDP datagram; prints JSON {peer, data} or {error}; IPv6 peers as [addr]:port. */
const CLIENT = `
import json, socket, sys
proto, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
try:
    if proto == 'TCP':
        s = socket.create_connection((dst, port), timeout=1.5); data = s.recv(256); peer = s.getpeername()
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(1.5); s.sendto(b'who', (dst, port)); data, peer = s.recvfrom(256)
    host = '[%s]' % peer[0] if fam == socket.AF_INET6 else peer[0]
    print(json.dumps({'peer': '%s:%d' % (host, peer[1]), 'data': data.decode()}))
except Exception as e:
    print(json.dumps({'error': type(e).__name__}))
`;

export interface Answer {
  readonly peer?: string;
  readonly data?: string;
  readonly error?: string;
}

export interface RedirectRig {
  cluster(): Cluster;
  dial(pod: string, protocol: 'TCP' | 'UDP', dst: string, port: number): Promise<Answer>;
}

/** `proxy`: the proxy pod (namespace/name) and the addresses it serves on. */
export function redirectRig(tag: string, load: () => Cluster, proxy: { readonly pod: string; readonly addresses: readonly string[] }): RedirectRig {
  let cluster: Cluster | undefined;
  let topo: Topology | undefined;
  let enforcement: Enforcement | undefined;
  let server: ChildProcess | undefined;
  const nsOf = (pod: string): string => topo!.hosts.find((h) => h.name === pod)!.netns;

  beforeAll(async () => {
    cluster = load();
    topo = await buildTopology(cluster, { tag });
    await installKubeProxy(topo.nodeNs, cluster);
    server = spawn('ip', ['netns', 'exec', nsOf(proxy.pod), 'python3', '-c', SERVER, ...proxy.addresses, PAYLOAD], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('proxy server did not start')), 10_000);
      server!.stdout!.once('data', () => (clearTimeout(t), resolve()));
    });
    enforcement = new Enforcement(new NftablesBackend({ netnsPath: topo.nodeNetnsPath }));
    await enforcement.apply(cluster);
  }, 60_000);

  afterAll(async () => {
    await enforcement?.remove().catch(() => undefined);
    server?.stdin?.end();
    server?.kill();
    await topo?.destroy();
  });

  return {
    cluster: () => cluster!,
    dial: async (pod, protocol, dst, port) => {
      const r = await nsExec(nsOf(pod), ['python3', '-c', CLIENT, protocol, dst, String(port)], { timeoutMs: 10_000 });
      return JSON.parse(r.stdout.trim()) as Answer;
    },
  };
}
