/**
 * The real entry point, `bin/palisade`, as a person runs it (a child process on dist/). dist/ is
 * built by `npm run setup` (pretest); when it is missing or older than src/, this test builds it
 * with `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { FIXTURES, ROOT } from './helpers.js';

const MAIN_JS = join(ROOT, 'dist/src/cli/main.js');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function palisadeBin(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/palisade'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const newestSrc = Math.max(...['src/cli', 'src/matrix', 'src/lint'].map((d) => newestMtimeMs(join(ROOT, d))));
  const stale = !existsSync(MAIN_JS) || statSync(MAIN_JS).mtimeMs < newestSrc;
  if (stale) spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (!existsSync(MAIN_JS)) throw new Error('dist/src/cli/main.js is missing and `npx tsc -p .` did not produce it');
}, 200_000);

describe('bin/palisade (child process)', () => {
  it('matrix: exit 0 and the truth table on stdout', () => {
    const r = palisadeBin('matrix', '-f', 'examples/namespace-by-name', '--port', '80,81');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 5)).toEqual(['TCP/80', '-    x/a  y/b  z/c', 'x/a  .    .    X', 'y/b  .    .    .', 'z/c  .    X    .']);
  });

  it('matrix -o json: parseable, with the contract keys', () => {
    const r = palisadeBin('matrix', '-f', 'examples/s11-deny-with-priorities', '-o', 'json');
    expect(r.code).toBe(0);
    const { cells } = JSON.parse(r.stdout) as { cells: Record<string, unknown>[] };
    expect(cells).toHaveLength(16);
    expect(Object.keys(cells[0] ?? {})).toEqual(expect.arrayContaining(['from', 'to', 'port', 'protocol', 'verdict', 'egress', 'ingress']));
  });

  it('check: exit 0 with the explanation', () => {
    const r = palisadeBin('check', '-f', 'examples/s18-priority-zero', '--from', 'shop/cart', '--to', 'shop/web');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TCP/80: DENIED');
    expect(r.stdout).toContain('Admin tier: ClusterNetworkPolicy quarantine ingress[1] "deny-all-pods": Deny, priority 0');
  });

  it('validate on invalid input: exit 2, problems with file, object, path and code on stderr', () => {
    const r = palisadeBin('validate', '-f', join(FIXTURES, 'invalid'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/policies\.yaml:11: error NP_ENDPORT_BEFORE_PORT: NetworkPolicy x\/backwards-range: spec\.ingress\[0\]\.ports\[0\]\.endPort: /);
    expect(r.stdout).toContain('nothing was used');
  });

  it('matrix on invalid input prints no table', () => {
    const r = palisadeBin('matrix', '-f', join(FIXTURES, 'invalid'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('usage errors exit 2; no command prints the usage', () => {
    expect(palisadeBin().code).toBe(2);
    expect(palisadeBin('check', '-f', 'examples/namespace-by-name', '--from', 'x/a').code).toBe(2);
  });

  it('demo (what npm start runs): exit 0, a matrix and an explanation', () => {
    // the computed path (src/cli/demo.ts); the enforcing path, as root, is test/cli/demo.test.ts
    process.env.PALISADE_DEMO_NO_ENFORCE = '1';
    onTestFinished(() => void delete process.env.PALISADE_DEMO_NO_ENFORCE);
    const r = palisadeBin('demo');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TCP\/80$/m);
    expect(r.stdout).toContain('TCP/9187: ALLOWED');
  });
});
