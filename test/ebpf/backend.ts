/** The eBPF backend as the differential harness's EnforcingBackend (pins under a test root). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbpfEnforcer } from '../../backends/ebpf/enforcer.js';
import type { Cluster } from '../../src/model/types.js';
import { formatMismatch, type DifferentialReport, type EnforcingBackend, type NodeTarget } from '../harness/differential.js';

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

/**
 * Mismatches, with one adjustment stated here: a packet the node namespace itself sends (a
 * host-network pod or node address as the source) that the tc program drops on the pod veth's
 * egress is reported to the sender by the kernel as ENOBUFS (net_xmit_errno(NET_XMIT_DROP)),
 * where nftables' output hook reports EPERM. The harness counts a local EPERM as "dropped"; the
 * eBPF equivalent is ENOBUFS, so an expected deny observed as `error (ENOBUFS)` is a deny. Any
 * other error, and any ENOBUFS where the reference expects allow, stays a mismatch.
 */
export function ebpfMismatches(report: DifferentialReport): string[] {
  return report.mismatches.filter((m) => !(m.expected === 'deny' && m.observed === 'error' && m.detail === 'ENOBUFS')).map(formatMismatch);
}
