/**
 * The agent of the CNI tests: a `CniAgent` (src/agent/cni-types.ts) over the real `Enforcement`
 * (src/enforce/enforcement.ts) with a real kernel backend. It knows the pods the API server would
 * tell it about (labels, node) from an example's manifests, but not their addresses: those come
 * only from CNI ADD (prevResult), as on a real node. podAdded puts the pod with its CNI IPs in the
 * inventory as one change and resolves once Enforcement's apply has returned, i.e. once the
 * kernel holds it; podDeleted removes it (idempotent); podCheck compares with the policy in force.
 */
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import type { Pod } from '../../src/model/types.js';
import type { CniAgent, CniPodAttachment } from '../../src/agent/cni-types.js';
import type { Enforcement } from '../../src/enforce/enforcement.js';

export class PolicyAgent implements CniAgent {
  /** container/ifname -> namespace/name, for a DEL that does not carry CNI_ARGS */
  private readonly byContainer = new Map<string, string>();
  readonly applied: { readonly pod: string; readonly ms: number }[] = [];

  constructor(
    readonly enforcement: Enforcement,
    /** namespace/name -> the pod as the API server describes it (its ips are ignored) */
    private readonly templates: ReadonlyMap<string, Pod>,
  ) {}

  async podAdded(p: CniPodAttachment, signal: AbortSignal): Promise<void> {
    const id = `${p.namespace}/${p.name}`;
    const template = this.templates.get(id);
    if (!template) throw new Error(`pod ${id} is not known to the API server`);
    signal.throwIfAborted();
    const ips: IpAddr[] = p.ips.map((t) => {
      const ip = parseIp(t);
      if (!ip) throw new Error(`pod ${id}: ${t} is not an address`);
      return ip;
    });
    const report = await this.enforcement.applyChanges([{ kind: 'pod', pod: { ...template, ips } }]);
    this.byContainer.set(`${p.containerId}/${p.ifname}`, id);
    this.applied.push({ pod: id, ms: report.ms });
  }

  async podDeleted(p: { readonly containerId: string; readonly namespace?: string; readonly name?: string; readonly ifname: string }): Promise<void> {
    const id = p.namespace && p.name ? `${p.namespace}/${p.name}` : this.byContainer.get(`${p.containerId}/${p.ifname}`);
    this.byContainer.delete(`${p.containerId}/${p.ifname}`);
    if (id === undefined || !this.inForce(id)) return; // already gone: DEL is idempotent
    const [namespace, name] = id.split('/') as [string, string];
    await this.enforcement.applyChanges([{ kind: 'pod-removed', namespace, name }]);
  }

  async podCheck(p: CniPodAttachment): Promise<void> {
    const id = `${p.namespace}/${p.name}`;
    const pod = this.inForce(id);
    if (!pod) throw new Error(`pod ${id} is not in the policy in force`);
    const want = [...p.ips].sort().join(',');
    const have = pod.ips.map((ip) => ip.text).sort().join(',');
    if (want !== have) throw new Error(`pod ${id}: the policy in force has ${have || 'no address'}, the runtime says ${want}`);
  }

  private inForce(id: string): Pod | undefined {
    return this.enforcement.current()?.cluster().pods.find((q) => `${q.namespace}/${q.name}` === id && q.ips.length > 0);
  }
}
