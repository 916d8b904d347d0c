/**
 * The eBPF backend as the tests build it: pins under a test root and a private state directory,
 * so a test never adopts or removes a real agent's instance; plus the one stated adjustment the
 * differential comparison makes for eBPF (ebpfMismatches).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbpfBackend, type EbpfOptions } from '../../backends/ebpf/backend.js';
import { formatMismatch, type DifferentialReport } from '../harness/differential.js';

export const TEST_PIN_ROOT = '/sys/fs/bpf/palisade-test';

/** An EbpfBackend in `netnsPath` under the test pin root, tag `<tag>-<pid>`, deny events on. */
export function testEbpfBackend(tag: string, netnsPath: string, extra: Partial<EbpfOptions> = {}): EbpfBackend {
  return new EbpfBackend({
    netnsPath,
    tag: `${tag}-${process.pid}`,
    pinRoot: TEST_PIN_ROOT,
    stateRoot: mkdtempSync(join(tmpdir(), 'pal-ebpf-state-')),
    logDenied: true,
    ...extra,
  });
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
