/**
 * The dispatcher: help, unknown commands, exit codes 0/1/2, compile/classbench dispatch, and the demo.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../../src/cli/main.js';
import { captureIo, palisade, ROOT } from './helpers.js';

describe('palisade help', () => {
  it('no command: usage on stderr, exit 2', async () => {
    const r = await palisade();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: palisade <command>');
    for (const c of ['check', 'matrix', 'validate', 'lint', 'demo', 'compile', 'classbench']) expect(r.stderr).toContain(`  ${c} `);
  });

  it('help / --help: usage on stdout, exit 0; `help check` = `check --help`', async () => {
    for (const h of ['help', '--help', '-h']) {
      const r = await palisade(h);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: palisade <command>');
    }
    const a = await palisade('help', 'check');
    const b = await palisade('check', '--help');
    expect(a).toEqual(b);
    expect(b.stdout).toContain('Usage: palisade check -f PATH... --from SRC --to DST');
  });

  it.each(['check', 'matrix', 'validate', 'lint', 'demo'])('%s --help lists its flags', async (cmd) => {
    const r = await palisade(cmd, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: palisade ${cmd}`);
    if (cmd !== 'demo') expect(r.stdout).toContain('-f, --file PATH...');
  });

  it('an unknown command or flag exits 2', async () => {
    const a = await palisade('frobnicate');
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown command "frobnicate"');
    const b = await palisade('matrix', '--frobnicate');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('palisade matrix: unknown flag --frobnicate');
  });
});

describe('exit code 1: internal errors', () => {
  it('an exception that is not about the input is an internal error with its stack', async () => {
    const io = captureIo();
    const failing = { ...io, out: () => { throw new Error('stdout went away'); } };
    const code = await run(['matrix', '-f', join(ROOT, 'examples/namespace-by-name')], failing);
    expect(code).toBe(1);
    expect(io.stderr).toMatch(/palisade matrix: internal error: Error: stdout went away\n\s+at /);
  });
});

describe('compile and classbench dispatch', () => {
  it.each([
    ['compile', 'Usage: palisade compile -f PATH...'],
    ['classbench', 'usage: palisade classbench RULES TRACE'],
  ])('palisade %s --help reaches the command (exit 0, its own usage)', async (cmd, usage) => {
    const io = captureIo();
    expect(await run([cmd, '--help'], io)).toBe(0);
    expect(io.stdout + io.stderr).toContain(usage);
  });

  it('a usage error inside compile is exit 2, not an internal error', async () => {
    const io = captureIo();
    expect(await run(['compile', '--classifier', 'fast'], io)).toBe(2);
    expect(io.stderr).toContain('--classifier');
    expect(io.stderr).not.toContain('internal error');
  });
});

describe('palisade demo (npm start)', () => {
  it('prints a matrix and one explained check of a built-in example', async () => {
    // the computed path (src/cli/demo.ts); the enforcing path, as root, is test/cli/demo.test.ts
    process.env.PALISADE_DEMO_NO_ENFORCE = '1';
    onTestFinished(() => void delete process.env.PALISADE_DEMO_NO_ENFORCE);
    const r = await palisade('demo');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('$ palisade matrix -f ');
    expect(r.stdout).toMatch(/^TCP\/9187$/m);
    expect(r.stdout).toMatch(/^frontend\/web +\. +X +\. +\.$/m);
    expect(r.stdout).toContain('backend/api (10.244.1.10) -> db/postgres (10.244.2.10) TCP/9187: ALLOWED');
    expect(r.stdout).toContain('passed: Admin tier: ClusterNetworkPolicy protect-db ingress[1] "backend-rest-to-netpol": Pass, priority 20');
  });
});
