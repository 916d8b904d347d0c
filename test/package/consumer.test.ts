// The library as a dependency: the packed tarball, installed into a fresh project the way a CNI
// plugin author would (`npm install palisade`), builds its addon on install, answers with the
// native classifier (checked, not assumed), type-checks from a consumer's TypeScript, runs the
// README's embedding example as written, ships no tests or benchmarks, and says exactly what is
// missing when the build tools are not there.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'pal-consumer-'));
const consumer = join(work, 'consumer');
let tarball = '';
let packed: string[] = [];

function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const after = readme.split('<!-- embedding-example -->')[1];
  const block = after?.split('```js\n')[1]?.split('```')[0];
  if (!block) throw new Error('README.md has no <!-- embedding-example --> js block');
  return block;
}

describe('npm install palisade into a fresh project', () => {
  beforeAll(() => {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, info[0]!.filename);
    packed = info[0]!.files.map((f) => f.path);
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'my-cni-plugin', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: consumer, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 540_000 });
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships what a user needs and no tests or benchmarks', () => {
    expect(packed.some((p) => p.startsWith('test/') || p.startsWith('bench/'))).toBe(false);
    for (const need of ['dist/src/index.js', 'dist/src/index.d.ts', 'bin/palisade', 'CMakeLists.txt', 'scripts/install-native.mjs', 'addon/napi/module.cc', 'backends/ebpf/bpf/palisade.bpf.c', 'docs/engine-api.md']) {
      expect(packed, need).toContain(need);
    }
    expect(packed.some((p) => p.startsWith('examples/'))).toBe(true);
    expect(packed.length).toBeLessThan(600);
  });

  it('runs the README embedding example as written, on the native classifier', () => {
    writeFileSync(join(consumer, 'embed.mjs'), readmeExample());
    const out = execFileSync(process.execPath, ['embed.mjs'], { cwd: consumer, encoding: 'utf8' });
    expect(out.split('\n')[0]).toBe('native allow deny');
    expect(out).toContain('isolated-no-match');
  });

  it('the native path really ran: lookups counted by the native classifier', () => {
    writeFileSync(
      join(consumer, 'proof.mjs'),
      `import { compile, nativeAvailable, parseIp } from 'palisade';
const dir = new URL('./node_modules/palisade/examples/s11-deny-with-priorities/', import.meta.url);
const engine = compile({ paths: [dir.pathname] }, { classifier: 'native' });
const before = engine.classifierLookups;
engine.lookup({ src: parseIp('10.244.1.10'), dst: parseIp('10.244.2.10'), protocol: 'TCP', dstPort: 80 });
console.log(JSON.stringify({ available: nativeAvailable(), kind: engine.classifier, counted: engine.classifierLookups - before }));
`,
    );
    const out = execFileSync(process.execPath, ['proof.mjs'], { cwd: consumer, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { available: boolean; kind: string; counted: number };
    expect(r).toMatchObject({ available: true, kind: 'native' });
    expect(r.counted).toBeGreaterThan(0);
  });

  it("types resolve from a consumer's TypeScript", () => {
    writeFileSync(
      join(consumer, 'plugin.ts'),
      `import { compile, parseIp, type LookupResult } from 'palisade';
const engine = compile({ text: 'apiVersion: v1\\nkind: Namespace\\nmetadata: { name: a }\\n' });
const r: LookupResult = engine.lookup({ src: parseIp('10.244.0.1')!, dst: parseIp('10.244.0.2')!, protocol: 'TCP', dstPort: 80 });
const v: 'allow' | 'deny' = r.verdict;
// @ts-expect-error: protocol is checked by the compiler
engine.lookup({ src: parseIp('10.244.0.1')!, dst: parseIp('10.244.0.2')!, protocol: 'ICMP', dstPort: 80 });
export { v };
`,
    );
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['plugin.ts'] }));
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('the install step names every missing build tool and its Debian package', () => {
    // A PATH holding only `node`: no cmake, compiler, clang or pkg-config.
    const bare = join(work, 'bare-bin');
    mkdirSync(bare);
    symlinkSync(process.execPath, join(bare, 'node'));
    const r = spawnSync(process.execPath, ['scripts/install-native.mjs'], { cwd: join(consumer, 'node_modules/palisade'), encoding: 'utf8', env: { PATH: bare } });
    expect(r.status).toBe(1);
    for (const line of ['apt-get install cmake', 'apt-get install build-essential', 'apt-get install clang', 'apt-get install pkg-config', 'PALISADE_SKIP_NATIVE=1']) expect(r.stderr).toContain(line);
  });
});
