/** The eBPF backend as the differential harness's EnforcingBackend (pins under a test root). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbpfEnforcer } from '../../backends/ebpf/enforcer.js';
import type { Cluster } from '../../src/model/types.js';
import type { EnforcingBackend, NodeTarget } from '../harness/differential.js';

export const TEST_PIN_ROOT = '/sys/fs/bpf/palisade-test';

export class EbpfTestBackend implements EnforcingBackend {
  readonly name = 'ebpf';
  enforcer: EbpfEnforcer | undefined;
  private readonly stateRoot = mkdtempSync(join(tmpdir(), 'pal-ebpf-state-'));

  constructor(private readonly tag: string) {}

  async apply(cluster: Cluster, node: NodeTarget): Promise<void> {
    this.enforcer ??= new EbpfEnforcer({
      netnsPath: node.netnsPath,
      tag: `${this.tag}-${process.pid}`,
      pinRoot: TEST_PIN_ROOT,
      stateRoot: this.stateRoot,
      logDenied: true,
    });
    this.enforcer.applyCluster(cluster);
  }

  async delete(): Promise<void> {
    this.enforcer?.remove();
    this.enforcer = undefined;
  }
}
