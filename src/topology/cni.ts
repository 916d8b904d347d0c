/**
 * A minimal CNI runtime: invokes the real plugin binaries from Debian's containernetworking-plugins
 * (`/usr/lib/cni/ptp` with `host-local` IPAM) the way a container runtime does: CNI_* variables in
 * the environment, the network configuration as JSON on stdin, the result as JSON on stdout
 * (CNI spec 1.0.0, "Execution Protocol").
 *
 * The plugin runs inside the node namespace (`ip netns exec NODE ptp`), because a CNI plugin treats
 * the namespace it runs in as the host. ptp then wires the pod exactly as the topology
 * contract says: a veth pair, the pod side holding the pod IP (/32, /128) with a default route via
 * the gateway, the node side holding the gateway address and a host route to the pod IP.
 *
 * host-local gets a range of exactly one address (rangeStart = rangeEnd = the pod IP), so each pod
 * receives its `status.podIPs`; its allocation state lives in a per-run `dataDir`.
 */
import { run } from './exec.js';
import { netnsPath } from './netns.js';
import type { IpAddr } from '../model/ip.js';

export const CNI_PATH = '/usr/lib/cni';
export const POD_SUBNET_V4 = '10.244.0.0/16';
export const POD_SUBNET_V6 = 'fd00:10:244::/48';

export interface PodNetwork {
  readonly podNs: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly ips: readonly IpAddr[];
  /** the node-side address of the ptp link, per family */
  readonly gateway: Readonly<Record<4 | 6, string>>;
  readonly networkName: string;
  readonly dataDir: string;
}

export function ptpConfig(p: PodNetwork): string {
  const ranges = p.ips.map((ip) => [
    {
      subnet: ip.family === 4 ? POD_SUBNET_V4 : POD_SUBNET_V6,
      rangeStart: ip.text,
      rangeEnd: ip.text,
      gateway: p.gateway[ip.family],
    },
  ]);
  const routes = p.ips.map((ip) => ({ dst: ip.family === 4 ? '0.0.0.0/0' : '::/0' }));
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: p.networkName,
    type: 'ptp',
    ipMasq: false,
    mtu: 1500,
    ipam: { type: 'host-local', dataDir: p.dataDir, ranges, routes },
  });
}

function cniEnv(command: 'ADD' | 'DEL', p: PodNetwork): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: p.containerId,
    CNI_NETNS: netnsPath(p.podNs),
    CNI_IFNAME: p.ifName,
    CNI_PATH,
  };
}

export interface CniResult {
  readonly interfaces?: readonly { name: string; sandbox?: string }[];
  readonly ips?: readonly { address: string; gateway?: string; interface?: number }[];
}

/** CNI ADD, run from the node namespace. Throws with the plugin's error JSON on failure. */
export async function cniAdd(nodeNs: string, p: PodNetwork): Promise<CniResult> {
  const r = await run('ip', ['netns', 'exec', nodeNs, `${CNI_PATH}/ptp`], {
    env: cniEnv('ADD', p),
    input: ptpConfig(p),
    timeoutMs: 20_000,
  });
  return JSON.parse(r.stdout) as CniResult;
}

/** CNI DEL; best effort (the namespaces are deleted right after anyway). */
export async function cniDel(nodeNs: string, p: PodNetwork): Promise<void> {
  await run('ip', ['netns', 'exec', nodeNs, `${CNI_PATH}/ptp`], {
    env: cniEnv('DEL', p),
    input: ptpConfig(p),
    timeoutMs: 20_000,
    allowFailure: true,
  });
}
