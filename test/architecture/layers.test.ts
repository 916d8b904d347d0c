/**
 * The layers of ARCHITECTURE.md hold: every import of every .ts file under src/ and backends/ is
 * one the layer table allows, and no two folders import each other (directly or round a loop).
 * The checker (check-layers.ts) is first run on small synthetic trees with planted faults, so a
 * pass on the real tree means something.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkLayers, parseFileImports, parseLayerTable } from './check-layers.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the real tree', () => {
  test('every import is allowed by the ARCHITECTURE.md table and no folders form a cycle', () => {
    const table = parseLayerTable(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
    expect(table.layers.length).toBeGreaterThan(10);
    const report = checkLayers(ROOT, table);
    // the checker saw the tree (a checker that reads nothing passes everything)
    expect(report.files).toBeGreaterThan(100);
    expect(report.imports).toBeGreaterThan(500);
    expect([...report.violations, ...report.cycles].join('\n')).toBe('');
  });
});

const TABLE = `# x

## Layers and who may import whom

| layer | folders | may import | what |
|---|---|---|---|
| \`model\` | \`src/model\` | nothing | types |
| \`rules\` | \`src/rules\` | model | rules |
| \`engine\` | \`src/engine\`, \`src/index.ts\` | model, rules | engine |
| \`backends\` | \`backends/*\` | model, rules, engine | kernel |
| \`cli\` | \`src/cli\` | model, rules, engine, backends (dynamic import only, so check loads no glue) | commands |

### Temporary exceptions

| file | may import | why |
|---|---|---|
| \`backends/a/command.ts\` | \`src/cli/args.ts\` | being moved |

## Next section
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pal-layers-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** A tree that keeps every rule; each test plants one fault in a copy of it. */
const CLEAN: Record<string, string> = {
  'src/model/types.ts': 'export type Flow = { port: number };\n',
  'src/rules/lower.ts': "import type { Flow } from '../model/types.js';\nexport const lower = (f: Flow) => f.port;\n",
  'src/engine/engine.ts': "import { lower } from '../rules/lower.js';\nexport { lower };\n",
  'src/index.ts': "export { lower } from './engine/engine.js';\n",
  'backends/a/command.ts': "import { parse } from '../../src/cli/args.js';\nimport { lower } from '../../src/rules/lower.js';\nexport { parse, lower };\n",
  'backends/b/apply.ts': "import { lower } from '../../src/engine/engine.js';\nexport const apply = lower;\n",
  'src/cli/args.ts': 'export const parse = (a: string[]) => a;\n',
  'src/cli/main.ts': [
    "import { lower } from '../engine/engine.js';",
    "import type { apply } from '../../backends/b/apply.js';",
    '// an import in a comment is not one: import { x } from "../../backends/b/apply.js";',
    "const s = \"import '../../backends/b/apply.js'\";",
    "export const run = async () => (await import('../../backends/b/apply.js')).apply;",
    'export { lower, s };',
    'export type A = typeof apply;',
    '',
  ].join('\n'),
};

const check = (files: Record<string, string>, table = TABLE) => checkLayers(tree(files), parseLayerTable(table));

describe('the checker', () => {
  test('passes a tree that keeps every rule, and reads the table as written', () => {
    const t = parseLayerTable(TABLE);
    expect(t.problems).toEqual([]);
    expect(t.layers.map((l) => l.name)).toEqual(['model', 'rules', 'engine', 'backends', 'cli']);
    expect([...t.layers[4]!.imports]).toEqual(['model', 'rules', 'engine', 'backends']);
    expect([...t.layers[4]!.dynamicOnly]).toEqual(['backends']);
    expect(t.exceptions).toEqual([{ file: 'backends/a/command.ts', targets: ['src/cli/args.ts'], line: 17 }]);
    const r = check(CLEAN);
    expect([...r.violations, ...r.cycles]).toEqual([]);
    expect(r.files).toBe(8);
  });

  test('sees every kind of import, and none in comments or strings', () => {
    const imps = parseFileImports('src/cli/main.ts', CLEAN['src/cli/main.ts']!);
    expect(imps.map((i) => [i.line, i.kind, i.target])).toEqual([
      [1, 'static', 'src/engine/engine.ts'],
      [2, 'type', 'backends/b/apply.ts'],
      [5, 'dynamic', 'backends/b/apply.ts'],
    ]);
    const more = parseFileImports('src/x/y.ts', "import './reg.js';\nexport * from '../z/w.js';\nexport type { T } from './t.js';\ntype M = typeof import('../m/n.js');\nimport q = require('../r/s.js');\n");
    expect(more.map((i) => [i.line, i.kind, i.target])).toEqual([
      [1, 'side-effect', 'src/x/reg.ts'],
      [2, 'static', 'src/z/w.ts'],
      [3, 'type', 'src/x/t.ts'],
      [4, 'type', 'src/m/n.ts'],
      [5, 'static', 'src/r/s.ts'],
    ]);
  });

  test('a planted violation is reported with file:line and the rule broken', () => {
    const r = check({ ...CLEAN, 'src/rules/lower.ts': "import type { Flow } from '../model/types.js';\nimport { lower as l } from '../engine/engine.js';\nexport const lower = (f: Flow) => f.port + l.length;\n" });
    expect(r.violations).toEqual([
      'src/rules/lower.ts:2: layer rules (src/rules) may not import layer engine (src/engine/engine.ts); it may import: model (ARCHITECTURE.md:8)',
    ]);
  });

  test('a planted cycle between folders is reported, with one import per edge', () => {
    // the table allows backends/* to import each other here, so only the cycle is wrong
    const table = TABLE.replace('| model, rules, engine | kernel |', '| model, rules, engine, backends | kernel |');
    const r = check({ ...CLEAN, 'backends/a/loop.ts': "export { apply } from '../b/apply.js';\n", 'backends/b/more.ts': "export { lower } from '../a/command.js';\n" }, table);
    expect(r.violations).toEqual([]);
    expect(r.cycles).toEqual(['cycle between folders backends/a, backends/b: backends/a -> backends/b (backends/a/loop.ts:1); backends/b -> backends/a (backends/b/more.ts:1)']);
  });

  test('both at once: a violation and a cycle through it are each reported', () => {
    const r = check({ ...CLEAN, 'src/model/back.ts': "import { lower } from '../rules/lower.js';\nexport const x = lower;\n" });
    expect(r.violations).toEqual(['src/model/back.ts:1: layer model (src/model) may not import layer rules (src/rules/lower.ts); it may import: nothing (ARCHITECTURE.md:7)']);
    expect(r.cycles).toEqual(['cycle between folders src/model, src/rules: src/model -> src/rules (src/model/back.ts:1); src/rules -> src/model (src/rules/lower.ts:1)']);
  });

  test('two units of one layer, a static import where only dynamic is allowed, a bare import, a file in no layer, a stale exception', () => {
    const r = check({
      ...CLEAN,
      'backends/a/command.ts': "import { apply } from '../b/apply.js';\nexport { apply };\n",
      'src/cli/main.ts': "import { apply } from '../../backends/b/apply.js';\nimport './args.js';\nexport { apply };\n",
      'src/stray/x.ts': 'export const x = 1;\n',
      'src/engine/dyn.ts': 'export const load = (p: string) => import(p);\n',
    });
    expect(r.violations).toEqual([
      'src/stray/x.ts: in no layer of the ARCHITECTURE.md table (add its folder to a row)',
      'src/cli/main.ts:1: layer cli may import layer backends by dynamic import only, and this import of backends/b/apply.ts is static (ARCHITECTURE.md:11)',
      "src/cli/main.ts:2: import './args.js' runs a module for its side effect (registration by import); import what you use",
      'src/engine/dyn.ts:1: import(p) is not a literal path; the layer rules cannot be checked',
      'backends/a/command.ts:1: backends/a imports backends/b/apply.ts: two units of layer backends may not import each other (ARCHITECTURE.md:10)',
      'ARCHITECTURE.md:17: the exception for backends/a/command.ts -> src/cli/args.ts is no longer used; delete the row',
    ]);
  });

  test('the exception allows exactly its file and target', () => {
    const r = check({ ...CLEAN, 'backends/b/apply.ts': "import { parse } from '../../src/cli/args.js';\nexport const apply = parse;\n" });
    expect(r.violations).toEqual([
      'backends/b/apply.ts:1: layer backends (backends/b) may not import layer cli (src/cli/args.ts); it may import: model, rules, engine (ARCHITECTURE.md:10)',
    ]);
  });

  test('a table naming an unknown layer, or with a cycle of its own, is reported', () => {
    const bad = TABLE.replace('| `rules` | `src/rules` | model |', '| `rules` | `src/rules` | model, engine, modle |');
    const t = parseLayerTable(bad);
    expect(t.problems).toEqual([
      'ARCHITECTURE.md:8: layer rules may import "modle", which is no layer of the table',
      'ARCHITECTURE.md: the table itself has a cycle: engine -> rules -> engine',
    ]);
  });
});
