/**
 * Manifest loading: files and directories (recursive; `.yaml`, `.yml`, `.json`), multi-document
 * YAML, and `kind: List` as `kubectl get -o yaml` prints it. Produces raw objects with their file
 * and line; YAML syntax errors become problems naming the file and line.
 *
 * This is the only place (with the file watcher) that reads the file system for manifests.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import type { RawObject } from '../model/kinds.js';
import type { Problem } from '../model/problems.js';


export interface LoadResult {
  readonly objects: RawObject[];
  readonly problems: Problem[];
  readonly files: string[];
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/** Every manifest file under the given paths, sorted, so loading order is deterministic. */
export function listManifestFiles(paths: readonly string[]): { files: string[]; problems: Problem[] } {
  const files: string[] = [];
  const problems: Problem[] = [];
  const walk = (p: string, top: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      problems.push({ code: 'FILE_NOT_FOUND', severity: 'error', file: p, message: 'no such file or directory' });
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        if (e.startsWith('.')) continue;
        walk(join(p, e), false);
      }
    } else if (top || MANIFEST_EXT.test(p)) {
      files.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return { files, problems };
}

export function loadPaths(paths: readonly string[]): LoadResult {
  const { files, problems } = listManifestFiles(paths);
  const objects: RawObject[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      problems.push({ code: 'FILE_UNREADABLE', severity: 'error', file: f, message: (e as Error).message });
      continue;
    }
    const r = parseManifestText(text, displayPath(f));
    objects.push(...r.objects);
    problems.push(...r.problems);
  }
  return { objects, problems, files };
}

function displayPath(f: string): string {
  if (!isAbsolute(f)) return f;
  const rel = relative(process.cwd(), f);
  return rel.startsWith('..') ? f : rel;
}

/** Parse one file's text (YAML, which includes JSON). */
export function parseManifestText(text: string, file: string): { objects: RawObject[]; problems: Problem[] } {
  const objects: RawObject[] = [];
  const problems: Problem[] = [];
  const lc = new LineCounter();
  // YAML 1.2 core schema, deliberately: under YAML 1.1 (go-yaml v2) `y`, `n`, `yes`, `no`, `on` and
  // `off` are booleans, which would turn the upstream e2e namespaces `y` and `n`-style names into
  // type errors; Palisade reads them as the strings their authors meant.
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const docList = Array.isArray(docs) ? docs : [docs];
  for (const doc of docList) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = err.pos?.[0];
        const line = pos === undefined ? undefined : lc.linePos(pos).line;
        problems.push({
          code: 'YAML_SYNTAX',
          severity: 'error',
          file,
          ...(line !== undefined ? { line } : {}),
          message: err.message.split('\n')[0] ?? 'YAML syntax error',
        });
      }
      continue;
    }
    const startOffset = doc.contents?.range?.[0];
    const line = startOffset === undefined ? undefined : lc.linePos(startOffset).line;
    let value: unknown;
    try {
      // maxAliasCount bounds alias expansion ("billion laughs").
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      problems.push({
        code: 'YAML_SYNTAX',
        severity: 'error',
        file,
        ...(line !== undefined ? { line } : {}),
        message: (e as Error).message.split('\n')[0] ?? 'YAML document cannot be read',
      });
      continue;
    }
    if (value === null || value === undefined) continue; // empty document
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({
        code: 'NOT_AN_OBJECT',
        severity: 'error',
        file,
        ...(line !== undefined ? { line } : {}),
        message: 'a manifest document must be a mapping with apiVersion and kind',
      });
      continue;
    }
    const obj = value as Record<string, unknown>;
    if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))) {
      const items = Array.isArray(obj.items) ? obj.items : [];
      const itemNodes = itemLines(doc, lc);
      items.forEach((item, i) => {
        const itemLine = itemNodes[i] ?? line;
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          problems.push({
            code: 'NOT_AN_OBJECT',
            severity: 'error',
            file,
            ...(itemLine !== undefined ? { line: itemLine } : {}),
            path: `items[${i}]`,
            message: 'a List item must be an object with apiVersion and kind',
          });
          return;
        }
        const it = item as Record<string, unknown>;
        // `kubectl get pods -o yaml` prints items with their own kind; a typed list (PodList)
        // may omit it.
        if (it.kind === undefined && typeof obj.kind === 'string' && obj.kind !== 'List') {
          it.kind = obj.kind.slice(0, -'List'.length);
        }
        objects.push({ obj: it, file, ...(itemLine !== undefined ? { line: itemLine } : {}) });
      });
      continue;
    }
    objects.push({ obj, file, ...(line !== undefined ? { line } : {}) });
  }
  return { objects, problems };
}

function itemLines(doc: Document.Parsed, lc: LineCounter): (number | undefined)[] {
  // The document is a mapping; find its `items` sequence and report each item's start line.
  if (!isMap(doc.contents)) return [];
  const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'items');
  if (!pair || !isSeq(pair.value)) return [];
  return pair.value.items.map((n) => {
    const start = (n as { range?: [number, number, number] } | null)?.range?.[0];
    return start === undefined ? undefined : lc.linePos(start).line;
  });
}
