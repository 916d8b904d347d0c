/**
 * The nfqueue backend as the differential harness's EnforcingBackend (test/harness/differential.ts):
 * an in-process NfqLoop whose queue sockets live in the node namespace, the EngineSource policy,
 * and the real steering chain (FORWARD, INPUT, OUTPUT; IPv4 and IPv6). `apply` publishes a new
 * snapshot into the running loop (no restart), as the enforce command does.
 */
import type { Cluster } from '../../src/model/types.js';
import { nativeNfqueue, type NfqLoop } from '../../src/native/binding.js';
import { compileLoopPolicy } from '../../backends/nfqueue/policy.js';
import { DEFAULT_ACCEPT_MARK, installSteering, removeSteering } from '../../backends/nfqueue/steer.js';
import type { EnforcingBackend, NodeTarget } from '../harness/differential.js';

export class NfqueueTestBackend implements EnforcingBackend {
  readonly name = 'nfqueue';
  loop: NfqLoop | undefined;
  private netns: string | undefined;
  constructor(private readonly queues: readonly number[] = [4400]) {}

  async apply(cluster: Cluster, node: NodeTarget): Promise<void> {
    const p = compileLoopPolicy(cluster);
    if (!this.loop) {
      const { NfqLoop } = nativeNfqueue();
      this.loop = new NfqLoop({ queues: this.queues, acceptMark: DEFAULT_ACCEPT_MARK, netnsPath: node.netnsPath });
      this.loop.start();
      this.loop.publishEngine(p.egressRules, p.ingressRules, p.setEdits, p.egressNpTierStart, p.ingressNpTierStart);
      this.netns = node.netns;
      await installSteering(
        { firstQueue: this.queues[0]!, queueCount: this.queues.length, failOpen: false, acceptMark: DEFAULT_ACCEPT_MARK, hooks: ['FORWARD', 'INPUT', 'OUTPUT'], families: [4, 6] },
        { netns: node.netns },
      );
      return;
    }
    this.loop.publishEngine(p.egressRules, p.ingressRules, p.setEdits, p.egressNpTierStart, p.ingressNpTierStart);
  }

  async delete(): Promise<void> {
    if (this.netns) await removeSteering({ netns: this.netns }).catch(() => undefined);
    this.loop?.stop();
    this.loop = undefined;
    this.netns = undefined;
  }
}
