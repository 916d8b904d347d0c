/**
 * The layer checker: reads the layer table of ARCHITECTURE.md ("Layers and who may import whom")
 * and every import of every .ts file under src/ and backends/, and lists what breaks it.
 *
 * What counts as an import: `import ... from`, `import type`, `export ... from`, a bare
 * `import '...'`, `import('...')` and `typeof import('...')`, `import x = require('...')` and a
 * literal `require('...')`. Only relative specifiers are ours; packages and `node:` are not
 * checked. Parsing is the TypeScript parser's (no regular expressions over source text), so an
 * import in a comment or a string is not an import.
 *
 * The table (parsed from markdown, so the document is the rule):
 *   | layer | folders | may import | ... |
 *   - layer: a short name (backticks optional);
 *   - folders: backticked paths, `src/x` (a folder), `src/index.ts` (a file) or `backends/*`
 *     (every folder under backends/ is its own unit of that layer);
 *   - may import: layer names separated by commas, or `nothing`; text in parentheses is a comment,
 *     except `(dynamic import only)` after a name: then only `import('...')` and type-only imports
 *     of that layer are allowed (so the importing code loads it on demand).
 * A unit (a folder, or a file) always imports itself, and the folders named in one row import
 * each other; the folders of a `dir/*` entry (two backends) do not, unless the layer lists itself. An optional table under "### Temporary exceptions" lists
 *   | file | may import | why |
 * one importing file and the files or folders it may import besides its layer's rule; such an
 * import is also left out of the cycle check, and a row nothing uses any more is reported.
 *
 * Reported: an import the table does not allow (file:line, the layer rule broken); a file in no
 * layer; a non-literal `import()`; a bare import of our own module (registration by side effect);
 * a cycle between units (folders), with one import per edge; a cycle in the table itself; a
 * table that names an unknown layer. Cost: one parse per file; the tree is read once.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

export interface Layer {
  readonly name: string;
  /** folder paths (`src/x`), file paths (`src/index.ts`) or `backends/*` */
  readonly folders: readonly string[];
  readonly imports: ReadonlySet<string>;
  /** layers this one may import only dynamically (or type-only) */
  readonly dynamicOnly: ReadonlySet<string>;
  /** 1-based line of the row in the document */
  readonly line: number;
}

export interface Exception {
  readonly file: string;
  readonly targets: readonly string[];
  readonly line: number;
}

export interface LayerTable {
  readonly layers: readonly Layer[];
  readonly exceptions: readonly Exception[];
  /** problems with the table itself */
  readonly problems: readonly string[];
}

export interface Import {
  /** repository-relative, `/`-separated */
  readonly file: string;
  readonly line: number;
  /** repository-relative target path with `.ts` for `.js` (or the specifier when non-literal) */
  readonly target: string;
  readonly specifier: string;
  readonly kind: 'static' | 'type' | 'dynamic' | 'side-effect' | 'non-literal';
}

export interface Report {
  readonly violations: readonly string[];
  readonly cycles: readonly string[];
  readonly imports: number;
  readonly files: number;
}

const HEADING = /^##\s+Layers and who may import whom\s*$/;
const EXCEPTIONS = /^###\s+Temporary exceptions\b/;

/** Parses the layer table (and the exceptions table) out of ARCHITECTURE.md's text. */
export function parseLayerTable(markdown: string): LayerTable {
  const lines = markdown.split('\n');
  const problems: string[] = [];
  const start = lines.findIndex((l) => HEADING.test(l));
  if (start < 0) return { layers: [], exceptions: [], problems: ['no "## Layers and who may import whom" section'] };
  const end = lines.findIndex((l, i) => i > start && /^##\s/.test(l));
  const section = lines.slice(start + 1, end < 0 ? lines.length : end);
  const exAt = section.findIndex((l) => EXCEPTIONS.test(l));
  const layerRows = tableRows(exAt < 0 ? section : section.slice(0, exAt), start + 2);
  const exRows = exAt < 0 ? [] : tableRows(section.slice(exAt + 1), start + 2 + exAt + 1);

  const layers: Layer[] = [];
  for (const { cells, line } of layerRows) {
    if (cells.length < 3) {
      problems.push(`ARCHITECTURE.md:${line}: a layer row needs layer | folders | may import`);
      continue;
    }
    const name = unquote(cells[0]!);
    const folders = backticked(cells[1]!);
    if (folders.length === 0) problems.push(`ARCHITECTURE.md:${line}: layer ${name} names no folder`);
    const { names, dynamicOnly } = parseImportCell(cells[2]!);
    layers.push({ name, folders, imports: new Set(names), dynamicOnly: new Set(dynamicOnly), line });
  }
  const known = new Set(layers.map((l) => l.name));
  for (const l of layers) {
    for (const n of l.imports) if (!known.has(n)) problems.push(`ARCHITECTURE.md:${l.line}: layer ${l.name} may import "${n}", which is no layer of the table`);
  }
  const seen = new Map<string, string>();
  for (const l of layers) {
    for (const f of l.folders) {
      const other = seen.get(f);
      if (other !== undefined) problems.push(`ARCHITECTURE.md:${l.line}: ${f} is in two layers (${other}, ${l.name})`);
      seen.set(f, l.name);
    }
  }
  problems.push(...tableCycles(layers));

  const exceptions: Exception[] = [];
  for (const { cells, line } of exRows) {
    const file = backticked(cells[0] ?? '')[0];
    const targets = backticked(cells[1] ?? '');
    if (file === undefined || targets.length === 0) {
      problems.push(`ARCHITECTURE.md:${line}: an exception row needs \`file\` | \`target\`, ... | why`);
      continue;
    }
    exceptions.push({ file, targets, line });
  }
  return { layers, exceptions, problems };
}

function tableRows(lines: readonly string[], firstLine: number): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let inTable = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    const cells = l.replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
    if (!inTable) {
      inTable = true; // the header row
      continue;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push({ cells, line: firstLine + i });
  }
  return rows;
}

const unquote = (s: string): string => s.replace(/`/g, '').trim();
const backticked = (s: string): string[] => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.trim());

function parseImportCell(cell: string): { names: string[]; dynamicOnly: string[] } {
  const names: string[] = [];
  const dynamicOnly: string[] = [];
  // a parenthesised note belongs to the name before it; commas inside it do not split names
  let depth = 0;
  let current = '';
  let note = '';
  const flush = (): void => {
    const n = unquote(current);
    if (n && n !== 'nothing' && n !== '—' && n !== '-') {
      names.push(n);
      if (/dynamic import only/i.test(note)) dynamicOnly.push(n);
    }
    current = '';
    note = '';
  };
  for (const ch of cell) {
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (depth > 0) note += ch;
    else if (ch === ',') flush();
    else current += ch;
  }
  flush();
  return { names, dynamicOnly };
}

function tableCycles(layers: readonly Layer[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const l of layers) graph.set(l.name, new Set([...l.imports].filter((n) => n !== l.name)));
  return stronglyConnected(graph)
    .filter((c) => c.length > 1)
    .map((c) => `ARCHITECTURE.md: the table itself has a cycle: ${c.join(' -> ')} -> ${c[0]}`);
}

/** Tarjan's strongly connected components; each component in a stable order. */
function stronglyConnected(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** Every .ts file under `dirs` of `root`, repository-relative with `/`. */
export function listSources(root: string, dirs: readonly string[] = ['src', 'backends']): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const name of readdirSync(abs).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts|cts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(join(root, d));
  return out;
}

/** The imports of one source file (relative specifiers resolved against `file`). */
export function parseFileImports(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined, kind: Import['kind']): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    if (spec === undefined || !ts.isStringLiteralLike(spec)) {
      out.push({ file, line, target: spec?.getText(sf) ?? '?', specifier: spec?.getText(sf) ?? '?', kind: 'non-literal' });
      return;
    }
    const specifier = spec.text;
    if (!specifier.startsWith('.')) return;
    // `./x.js` names `./x.ts` (NodeNext resolution); `.mjs`/`.cjs` likewise
    const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.(m|c)?js$/, (_m, mc: string | undefined) => `.${mc ?? ''}ts`);
    out.push({ file, line, target, specifier, kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined && c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, c === undefined ? 'side-effect' : typeOnly ? 'type' : 'static');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      const typeOnly = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      add(node, node.moduleSpecifier, typeOnly ? 'type' : 'static');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly ? 'type' : 'static');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], 'dynamic');
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require' && node.arguments.length === 1) {
      // a literal require is an import; a computed one loads a `.node` file (the native door's concern)
      const a = node.arguments[0]!;
      if (ts.isStringLiteralLike(a)) add(node, a, 'static');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteralLike(node.argument.literal)) {
      add(node, node.argument.literal, 'type');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

interface Unit {
  /** `src/engine`, `src/index.ts`, `backends/nftables` */
  readonly unit: string;
  readonly layer: Layer;
  /** one folder of a `dir/*` entry (those do not import each other) */
  readonly wildcard: boolean;
}

/** The unit (folder, or single file) and layer a path belongs to; undefined = in no layer. */
function unitOf(path: string, layers: readonly Layer[]): Unit | undefined {
  let best: Unit | undefined;
  for (const layer of layers) {
    for (const f of layer.folders) {
      if (f.endsWith('/*')) {
        const base = f.slice(0, -1); // `backends/`
        if (path.startsWith(base)) {
          const rest = path.slice(base.length);
          const first = rest.split('/')[0]!;
          if (rest.includes('/')) {
            const unit = base + first;
            if (!best || unit.length > best.unit.length) best = { unit, layer, wildcard: true };
          }
        }
      } else if (path === f || path.startsWith(f + '/')) {
        if (!best || f.length > best.unit.length) best = { unit: f, layer, wildcard: false };
      }
    }
  }
  return best;
}

const allowedByException = (imp: Import, exceptions: readonly Exception[]): Exception | undefined =>
  exceptions.find((e) => e.file === imp.file && e.targets.some((t) => imp.target === t || imp.target.startsWith(t.replace(/\/$/, '') + '/')));

/** Checks a tree against a table. `root` holds src/ and backends/. */
export function checkLayers(root: string, table: LayerTable): Report {
  const violations: string[] = [...table.problems];
  const files = listSources(root);
  const imports: Import[] = [];
  for (const f of files) imports.push(...parseFileImports(f, readFileSync(join(root, f), 'utf8')));
  const usedExceptions = new Set<Exception>();
  const graph = new Map<string, Set<string>>();
  const witness = new Map<string, Import>();

  for (const f of files) {
    if (!unitOf(f, table.layers)) violations.push(`${f}: in no layer of the ARCHITECTURE.md table (add its folder to a row)`);
  }
  for (const imp of imports) {
    const where = `${imp.file}:${imp.line}`;
    if (imp.kind === 'non-literal') {
      violations.push(`${where}: import(${imp.specifier}) is not a literal path; the layer rules cannot be checked`);
      continue;
    }
    const from = unitOf(imp.file, table.layers);
    if (!from) continue; // reported above
    if (imp.kind === 'side-effect') {
      violations.push(`${where}: import '${imp.specifier}' runs a module for its side effect (registration by import); import what you use`);
    }
    const to = unitOf(imp.target, table.layers);
    const exception = allowedByException(imp, table.exceptions);
    if (exception) usedExceptions.add(exception);
    if (!to) {
      if (!exception) violations.push(`${where}: imports ${imp.target}, which is in no layer of the table (only src/ and backends/ are)`);
      continue;
    }
    if (to.unit === from.unit) continue;
    if (!exception) {
      const sameLayer = to.layer === from.layer;
      const listed = from.layer.imports.has(to.layer.name);
      if (sameLayer && !listed && (from.wildcard || to.wildcard)) {
        violations.push(`${where}: ${from.unit} imports ${imp.target}: two units of layer ${from.layer.name} may not import each other (ARCHITECTURE.md:${from.layer.line})`);
      } else if (!sameLayer && !listed) {
        const may = [...from.layer.imports].join(', ') || 'nothing';
        violations.push(`${where}: layer ${from.layer.name} (${from.unit}) may not import layer ${to.layer.name} (${imp.target}); it may import: ${may} (ARCHITECTURE.md:${from.layer.line})`);
      } else if (from.layer.dynamicOnly.has(to.layer.name) && imp.kind !== 'dynamic' && imp.kind !== 'type') {
        violations.push(`${where}: layer ${from.layer.name} may import layer ${to.layer.name} by dynamic import only, and this import of ${imp.target} is static (ARCHITECTURE.md:${from.layer.line})`);
      }
    }
    // type-only imports are edges too: a cycle of types is still a cycle between folders
    if (!exception) {
      if (!graph.has(from.unit)) graph.set(from.unit, new Set());
      graph.get(from.unit)!.add(to.unit);
      const key = `${from.unit}\0${to.unit}`;
      if (!witness.has(key)) witness.set(key, imp);
    }
  }
  for (const e of table.exceptions) {
    if (!usedExceptions.has(e)) violations.push(`ARCHITECTURE.md:${e.line}: the exception for ${e.file} -> ${e.targets.join(', ')} is no longer used; delete the row`);
  }

  const cycles: string[] = [];
  for (const comp of stronglyConnected(graph)) {
    if (comp.length < 2) continue;
    const inComp = new Set(comp);
    const edges: string[] = [];
    for (const a of comp) {
      for (const b of [...(graph.get(a) ?? [])].sort()) {
        if (!inComp.has(b)) continue;
        const w = witness.get(`${a}\0${b}`)!;
        edges.push(`${a} -> ${b} (${w.file}:${w.line})`);
      }
    }
    cycles.push(`cycle between folders ${comp.join(', ')}: ${edges.join('; ')}`);
  }
  return { violations, cycles, imports: imports.length, files: files.length };
}
