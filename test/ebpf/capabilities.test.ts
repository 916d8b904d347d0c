/**
 * Only CAP_BPF and CAP_NET_ADMIN are needed, and a failure with EPERM names the missing one:
 * `palisade apply --backend ebpf` run (as a separate process: bin/palisade on the root dist/) with one
 * capability dropped from its bounding set (capsh --drop) must fail with exit 1 and say which.
 * Kernel rules (kernel/bpf/syscall.c): map and program creation need bpf_capable() (CAP_BPF or
 * CAP_SYS_ADMIN); networking program types (SCHED_CLS) also need CAP_NET_ADMIN.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import { DEFAULT_STATE_ROOT } from '../../backends/ebpf/instance.js';
import { ensureDist, PALISADE_BIN } from '../harness/cli.js';
import { run } from '../../src/topology/exec.js';
import { TEST_PIN_ROOT } from './backend.js';


describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf'))('eBPF backend: missing capabilities are named', () => {
  let dir = '';
  const tags: string[] = [];

  beforeAll(async () => {
    await ensureDist();
    dir = mkdtempSync(join(tmpdir(), 'pal-ebpf-caps-'));
    writeFileSync(join(dir, 'c.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n');
  }, 200_000);
  afterAll(() => {
    for (const t of tags) {
      rmSync(join(TEST_PIN_ROOT, t), { recursive: true, force: true });
      rmSync(join(DEFAULT_STATE_ROOT, `${t}.json`), { force: true });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const applyWithout = async (caps: string): Promise<{ code: number | null; stderr: string }> => {
    const tag = `caps-${process.pid}-${tags.length}`;
    tags.push(tag);
    const cmd = `exec ${process.execPath} ${PALISADE_BIN} apply --backend ebpf -f ${dir} --tag ${tag} --pin-root ${TEST_PIN_ROOT} --netns /proc/self/ns/net`;
    const r = await run('capsh', [`--drop=${caps}`, '--', '-c', cmd], { allowFailure: true, timeoutMs: 20_000 });
    return { code: r.exitCode, stderr: r.stderr };
  };

  it('without CAP_BPF (and CAP_SYS_ADMIN, which implies it): names CAP_BPF', async () => {
    const r = await applyWithout('cap_bpf,cap_sys_admin');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_PALISADE_EBPF_PERMISSION/);
    expect(r.stderr).toMatch(/lacks CAP_BPF\b/);
    expect(r.stderr).not.toMatch(/CAP_NET_ADMIN \(/);
  });

  it('CAP_BPF and CAP_NET_ADMIN suffice: without CAP_SYS_ADMIN, apply loads, pins and attaches in a namespace', async () => {
    const ns = `pal-caps-${process.pid}`;
    const tag = `caps-${process.pid}-ok`;
    tags.push(tag);
    await run('ip', ['netns', 'add', ns]);
    try {
      await run('ip', ['-n', ns, 'link', 'add', 'palc0', 'type', 'veth', 'peer', 'name', 'palc1']);
      const cmd = `exec ${process.execPath} ${PALISADE_BIN} apply --backend ebpf -f ${dir} --tag ${tag} --pin-root ${TEST_PIN_ROOT}`;
      const r = await run('nsenter', [`--net=/run/netns/${ns}`, 'capsh', '--drop=cap_sys_admin', '--', '-c', cmd], { allowFailure: true, timeoutMs: 20_000 });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/enforcing on 2 interface\(s\)/);
      const tc = await run('ip', ['netns', 'exec', ns, 'tc', 'filter', 'show', 'dev', 'palc0', 'ingress']);
      expect(tc.stdout).toMatch(/pal_egress/);
    } finally {
      await run('ip', ['netns', 'del', ns], { allowFailure: true });
    }
  });

  it('without CAP_NET_ADMIN: names CAP_NET_ADMIN', async () => {
    const r = await applyWithout('cap_net_admin,cap_sys_admin');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_PALISADE_EBPF_PERMISSION/);
    expect(r.stderr).toMatch(/lacks CAP_NET_ADMIN/);
    expect(r.stderr).not.toMatch(/lacks CAP_BPF/);
  });
});
