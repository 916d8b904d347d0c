/** The nftables backend as the differential harness's EnforcingBackend. */
import { NftablesEnforcer } from '../../backends/nftables/apply.js';
import type { Cluster } from '../../src/model/types.js';
import type { EnforcingBackend, NodeTarget } from '../harness/differential.js';

export class NftablesTestBackend implements EnforcingBackend {
  readonly name = 'nftables';
  enforcer: NftablesEnforcer | undefined;

  async apply(cluster: Cluster, node: NodeTarget): Promise<void> {
    this.enforcer ??= new NftablesEnforcer({ netnsPath: node.netnsPath });
    this.enforcer.applyCluster(cluster);
  }

  async delete(): Promise<void> {
    this.enforcer?.delete();
  }
}
