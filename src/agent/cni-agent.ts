/**
 * The agent's side of the CNI plugin (cni-types.ts): ADD merges the plugin's IPs into the pod's
 * record and resolves once a batch holding them is in the kernel; DEL forgets them; CHECK
 * compares them with the record in force.
 *
 * Why wait for the pod: the kubelet runs the plugin for a pod it read from the API server, so the
 * agent's pod watch sees the pod soon; its labels decide its policy, so the agent cannot enforce
 * before. The IPs, though, are the plugin's news: the API server learns them after ADD returns.
 * Invariant: after `podAdded` resolves, the compiled policy in force has the pod with `ips`.
 * Cost: one pod change (set-element deltas) per ADD/DEL. Thread-safety: one owner (the agent).
 */
import { parseIp } from '../model/ip.js';
import type { EngineChange } from '../engine/changes.js';
import type { Pod } from '../model/types.js';
import type { CniAgent, CniPodAttachment } from './cni-types.js';

/** What this module needs from the agent (agent.ts). */
export interface CniHost {
  readonly state: {
    setCniIps(namespace: string, name: string, containerId: string, ips: readonly string[]): EngineChange[];
    clearCni(containerId: string, namespace?: string, name?: string): EngineChange[];
    pod(namespace: string, name: string): Pod | undefined;
  };
  queueChanges(changes: readonly EngineChange[]): number;
  whenApplied(seq: number, signal?: AbortSignal): Promise<void>;
  onStateChange(f: () => void): () => void;
  ready(): Promise<void>;
}

const cniError = (code: string, message: string): Error => Object.assign(new Error(message), { code });
const bare = (ip: string): string => ip.replace(/\/\d+$/, '');

export class AgentCni implements CniAgent {
  constructor(private readonly host: CniHost) {}

  async podAdded(p: CniPodAttachment, signal: AbortSignal): Promise<void> {
    await abortable(this.host.ready(), signal);
    await this.podKnown(p.namespace, p.name, signal);
    const seq = this.host.queueChanges(this.host.state.setCniIps(p.namespace, p.name, p.containerId, p.ips));
    await this.host.whenApplied(seq, signal);
  }

  async podDeleted(p: { readonly containerId: string; readonly namespace?: string; readonly name?: string; readonly ifname: string }): Promise<void> {
    const seq = this.host.queueChanges(this.host.state.clearCni(p.containerId, p.namespace, p.name));
    await this.host.whenApplied(seq);
  }

  async podCheck(p: CniPodAttachment): Promise<void> {
    const pod = this.host.state.pod(p.namespace, p.name);
    if (!pod) throw cniError('ERR_PALISADE_CNI_UNKNOWN_POD', `pod ${p.namespace}/${p.name} is not known to the agent`);
    const want = p.ips.map((ip) => parseIp(bare(ip))?.text ?? ip).sort();
    const have = pod.ips.map((ip) => ip.text).sort();
    if (want.join(',') !== have.join(',')) throw cniError('ERR_PALISADE_CNI_IPS', `pod ${p.namespace}/${p.name} is enforced with IPs [${have.join(', ')}], not [${want.join(', ')}]`);
    // what the record says must also be in force
    await this.host.whenApplied(this.host.queueChanges([]));
  }

  private podKnown(namespace: string, name: string, signal: AbortSignal): Promise<void> {
    if (this.host.state.pod(namespace, name)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const off = this.host.onStateChange(() => {
        if (!this.host.state.pod(namespace, name)) return;
        done();
        resolve();
      });
      const onAbort = (): void => {
        done();
        reject(cniError('ERR_PALISADE_CNI_ABORTED', `pod ${namespace}/${name} did not appear in the pod watch before the deadline`));
      };
      const done = (): void => {
        off();
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cniError('ERR_PALISADE_CNI_ABORTED', 'aborted before the agent was ready'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cniError('ERR_PALISADE_CNI_ABORTED', 'aborted before the agent was ready'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
