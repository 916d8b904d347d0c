/**
 * Atomic replacement: while another process classifies a packet through the pinned program
 * (BPF_PROG_TEST_RUN in a tight loop), the policy is replaced 500 times, alternating between two
 * rule sets that both deny the packet but number their sets, classes and rules differently, so
 * that a packet reading addresses of one generation and rule bitmaps or verdicts of the other
 * would be allowed. Expected: zero wrong verdicts (issue 5, "no packet sees a mix").
 * Note: each test_run repetition reads the generation once, as a packet does; 50 repetitions per
 * call, so a call that straddles a flip mixes generations across repetitions, never within one.
 * The test can fail: with install() writing the ACTIVE generation in place (mutation tried by
 * hand), the worker saw 345,189 wrong verdicts out of 17.8 M.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import { EbpfInstance } from '../../backends/ebpf/instance.js';
import { buildTables } from '../../backends/ebpf/tables.js';
import { ensureDist } from '../harness/cli.js';
import { run } from '../../src/topology/exec.js';
import { TEST_PIN_ROOT } from './backend.js';
import { packet, TC_ACT_SHOT } from './packets.js';
import { makeInput } from './rulesets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe.skipIf(requires('root', 'addon', 'bpffs', 'bpf'))('eBPF generation flip is atomic under concurrent classification', () => {
  let inst: EbpfInstance;
  let stateDir = '';
  const tag = `atomic-${process.pid}`;

  beforeAll(async () => {
    await ensureDist(); // atomic-worker.mjs runs the root dist/ build
    stateDir = mkdtempSync(join(tmpdir(), 'pal-ebpf-atomic-'));
    inst = EbpfInstance.open({ pinRoot: TEST_PIN_ROOT, tag, stateRoot: stateDir });
  }, 200_000);
  afterAll(() => {
    inst?.destroy();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('500 replacements, zero packets allowed that both policies deny', async () => {
    // A: set 0 = the pod, set 1 = a /24; rule 0 allows subjects in set 1 on TCP 80, rule 1 denies set 0.
    // B: the same sets numbered the other way round, plus padding so classes and rows move.
    const a = buildTables(
      makeInput([['10.244.1.1'], ['10.244.2.0/24']], [
        { tier: 'Admin', subject: 1, peer: null, protocol: 'TCP', ports: [80, 80], action: 'accept' },
        { tier: 'Admin', subject: 0, peer: null, protocol: null, action: 'deny' },
      ], []),
    ).tables!;
    const b = buildTables(
      makeInput([['10.244.2.0/24'], ['10.244.3.0/24'], ['10.244.1.1']], [
        { tier: 'Admin', subject: 1, peer: null, protocol: 'UDP', ports: [1, 65535], action: 'accept' },
        { tier: 'Admin', subject: 0, peer: null, protocol: 'TCP', ports: [80, 80], action: 'accept' },
        { tier: 'Admin', subject: 2, peer: null, protocol: null, action: 'deny' },
      ], []),
    ).tables!;
    inst.install(a);
    const frame = packet({ src: '10.244.1.1', dst: '10.244.9.9', l4: 'tcp', srcPort: 1234, dstPort: 80 });
    expect(inst.native.testRun('pal_egress', frame, 1).retval).toBe(TC_ACT_SHOT);
    inst.install(b);
    expect(inst.native.testRun('pal_egress', frame, 1).retval).toBe(TC_ACT_SHOT);

    const child = spawn(process.execPath, [join(ROOT, 'test/ebpf/atomic-worker.mjs'), TEST_PIN_ROOT, tag, '8', Buffer.from(frame).toString('hex'), String(TC_ACT_SHOT)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const done = new Promise<number | null>((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 300)); // let the worker start its loop
    const t0 = Date.now();
    for (let i = 0; i < 500; i++) inst.install(i % 2 === 0 ? a : b);
    const flipMs = Date.now() - t0;
    expect(await done).toBe(0);
    const res = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { runs: number; wrong: number };
    console.log(`[ebpf] atomic: 500 replacements in ${flipMs} ms; worker classified ${res.runs} packets, wrong verdicts ${res.wrong} ${err}`);
    expect(res.runs).toBeGreaterThan(10_000);
    expect(res.wrong).toBe(0);
  });
});
