#!/usr/bin/env node
// The package's `install` step: builds the native addon (build/Release/palisade.node and the BPF
// objects) when Palisade is installed as a dependency (`npm install palisade`), so that
// `compile()` answers with the native classifier, and fails with a message naming each missing
// tool or header (and the Debian package that brings it) instead of silently falling back to the
// TypeScript classifier.
//
// - In a development checkout (a `.git` or `test/` folder beside package.json) it does nothing:
//   scripts/setup.sh owns the build there (apt packages first, then npm ci, then the build).
// - PALISADE_SKIP_NATIVE=1 skips the build on purpose (compile() then uses the TypeScript
//   classifier, and `classifier: 'native'` throws ERR_PALISADE_NATIVE_MISSING).
// No shell: every command is an argv array.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const say = (line) => process.stderr.write(`palisade install: ${line}\n`);

if (existsSync(join(root, '.git')) || existsSync(join(root, 'test'))) process.exit(0);
if (process.env.PALISADE_SKIP_NATIVE === '1') {
  say('PALISADE_SKIP_NATIVE=1: not building the native addon (the TypeScript classifier will answer)');
  process.exit(0);
}

const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const missing = [];
if (!has('cmake')) missing.push(['cmake', 'cmake']);
if (!has('c++') && !has('g++')) missing.push(['a C++17 compiler (c++)', 'build-essential']);
if (!has('clang')) missing.push(['clang (compiles the BPF programs)', 'clang']);
if (!has('pkg-config')) missing.push(['pkg-config', 'pkg-config']);
else {
  for (const [mod, pkg] of [['libnftables', 'libnftables-dev'], ['libnetfilter_queue', 'libnetfilter-queue-dev'], ['libmnl', 'libmnl-dev'], ['libbpf', 'libbpf-dev']]) {
    if (!has('pkg-config', ['--exists', mod])) missing.push([`the ${mod} headers (pkg-config ${mod})`, pkg]);
  }
}
const nodeInclude = join(dirname(process.execPath), '..', 'include', 'node');
if (!existsSync(join(nodeInclude, 'uv.h'))) missing.push([`Node's own headers (uv.h under ${nodeInclude})`, 'libnode-dev, or a Node.js build that ships include/node']);
if (missing.length > 0) {
  say('cannot build the native addon; missing:');
  for (const [what, pkg] of missing) say(`  - ${what}: apt-get install ${pkg}`);
  say('install them and run `npm rebuild palisade`, or set PALISADE_SKIP_NATIVE=1 to use the TypeScript classifier only');
  process.exit(1);
}

const require = createRequire(join(root, 'package.json'));
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  say('cmake-js is not installed (it is a dependency of palisade: reinstall)');
  process.exit(1);
}
say('building the native addon (cmake-js, about a minute)');
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(r.stdout.slice(-20000) + r.stderr.slice(-20000));
  say(`the native build failed (exit ${r.status}); the compiler output is above`);
  process.exit(1);
}
// Prove the built addon loads through the package's own loader.
const check = execFileSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(join(root, 'dist/src/index.js'))}).then((m) => console.log(m.nativeAvailable() ? 'native' : 'missing'))`], { encoding: 'utf8' }).trim();
if (check !== 'native') {
  say('the addon was built but does not load (see the error above); run `npm rebuild palisade`');
  process.exit(1);
}
say('native addon built and loaded');
