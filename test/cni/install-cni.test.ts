/**
 * `palisade install-cni` in temporary directories: the plugin lands in the bin dir as `palisade`
 * (executable, byte-identical to build/palisade-cni), the conflist it writes chains ptp +
 * host-local + palisade, `--chain-into` adds palisade to an existing conflist (idempotent:
 * a second run leaves the file unchanged), and bad conflists are refused with the file and field
 * named, left untouched.
 */
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import { run as runCli } from '../../src/cli/main.js';
import { SHIM } from './fixture.js';


function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe.skipIf(requires('cni-shim'))('palisade install-cni', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pal-install-cni-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));


  it('installs the plugin and writes a ptp + host-local + palisade conflist', async () => {
    const c = capture();
    const bin = join(dir, 'a/bin');
    const conf = join(dir, 'a/net.d');
    expect(await runCli(['install-cni', '--bin-dir', bin, '--conf-dir', conf, '--socket', '/run/x/cni.sock', '--on-agent-down', 'pass'], c.io)).toBe(0);
    const installed = join(bin, 'palisade');
    expect((await stat(installed)).mode & 0o777).toBe(0o755);
    expect((await readFile(installed)).equals(await readFile(SHIM))).toBe(true);
    const list = JSON.parse(await readFile(join(conf, '10-palisade.conflist'), 'utf8')) as { cniVersion: string; plugins: Record<string, unknown>[] };
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.plugins.map((p) => p.type)).toEqual(['ptp', 'palisade']);
    expect((list.plugins[0]!.ipam as { type: string }).type).toBe('host-local');
    expect(list.plugins[1]).toEqual({ type: 'palisade', socket: '/run/x/cni.sock', queueDir: '/run/palisade/cni-queue', onAgentDown: 'pass', onTimeout: 'fail', timeoutMs: 10000 });
    expect(c.out.join('')).toContain(`installed ${installed}`);
    // again: nothing changes, and no temporary file is left behind
    const again = capture();
    expect(await runCli(['install-cni', '--bin-dir', bin, '--conf-dir', conf, '--socket', '/run/x/cni.sock', '--on-agent-down', 'pass'], again.io)).toBe(0);
    expect(again.out.join('')).toBe(`unchanged ${installed} (from ${SHIM})\nunchanged ${join(conf, '10-palisade.conflist')}\n`);
    expect(await readdir(bin)).toEqual(['palisade']);
    expect(await readdir(conf)).toEqual(['10-palisade.conflist']);
  });

  it('--chain-into adds palisade to an existing conflist, once', async () => {
    const bin = join(dir, 'b/bin');
    const file = join(dir, 'b/10-mynet.conflist');
    await rm(join(dir, 'b'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'b'), { recursive: true }));
    const original = {
      cniVersion: '1.0.0',
      name: 'mynet',
      plugins: [
        { type: 'bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.3.0/24' }]] } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    await writeFile(file, JSON.stringify(original), { mode: 0o640 });
    const c = capture();
    expect(await runCli(['install-cni', '--bin-dir', bin, '--chain-into', file], c.io)).toBe(0);
    const text = await readFile(file, 'utf8');
    const list = JSON.parse(text) as typeof original;
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'palisade']);
    expect(list.plugins.slice(0, 2)).toEqual(original.plugins);
    expect(list.name).toBe('mynet');
    expect((await stat(file)).mode & 0o777).toBe(0o640); // the file's mode is kept
    const again = capture();
    expect(await runCli(['install-cni', '--bin-dir', bin, '--chain-into', file], again.io)).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(again.out.join('')).toContain(`unchanged ${file}`);
    // new settings replace the palisade entry in place
    expect(await runCli(['install-cni', '--bin-dir', bin, '--chain-into', file, '--timeout-ms', '3000'], capture().io)).toBe(0);
    const updated = JSON.parse(await readFile(file, 'utf8')) as { plugins: Record<string, unknown>[] };
    expect(updated.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'palisade']);
    expect(updated.plugins[2]!.timeoutMs).toBe(3000);
  });

  it('refuses bad conflists with the file and field named, and leaves them untouched', async () => {
    const bin = join(dir, 'c/bin');
    const cases: [string, string][] = [
      ['{"cniVersion":"1.0.0",', 'not valid JSON'],
      ['{"cniVersion":"1.0.0","name":"n","type":"ptp"}', 'plugins: missing or not an array (a single-plugin .conf file cannot chain; use a .conflist)'],
      ['{"cniVersion":"1.0.0","name":"n","plugins":[]}', 'plugins: empty'],
      ['{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"ptp"},{"name":"x"}]}', 'plugins[1].type: missing or not a string'],
      ['{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"palisade"},{"type":"ptp"}]}', 'plugins[0] is palisade; it must come after the plugin that assigns addresses'],
    ];
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'c'), { recursive: true }));
    for (const [i, [text, why]] of cases.entries()) {
      const file = join(dir, `c/${i}.conflist`);
      await writeFile(file, text);
      const c = capture();
      expect(await runCli(['install-cni', '--bin-dir', bin, '--chain-into', file], c.io)).toBe(2);
      expect(c.err.join('')).toContain(`palisade install-cni: ${file}: ${why}`);
      expect(await readFile(file, 'utf8')).toBe(text);
    }
    const missing = capture();
    expect(await runCli(['install-cni', '--bin-dir', bin, '--chain-into', join(dir, 'c/none.conflist')], missing.io)).toBe(2);
    expect(missing.err.join('')).toContain('none.conflist: cannot read');
    const usage = capture();
    expect(await runCli(['install-cni', '--on-timeout', 'sometimes'], usage.io)).toBe(2);
    expect(usage.err.join('')).toContain('--on-timeout: "sometimes" is not fail or pass');
  });
});
