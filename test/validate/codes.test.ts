/** docs/problem-codes.md lists exactly the codes src/validate/ emits, each with a severity that matches. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const srcDir = join(root, 'src', 'validate');

function emitted(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(srcDir, f), 'utf8');
    for (const m of text.matchAll(/\.(error|warn)\(\s*'([A-Z][A-Z0-9_]+)'/g)) {
      const sev = m[1] === 'warn' ? 'warning' : 'error';
      const code = m[2] as string;
      if (!out.has(code)) out.set(code, new Set());
      out.get(code)?.add(sev);
    }
  }
  return out;
}

function documented(): Map<string, string> {
  const doc = readFileSync(join(root, 'docs', 'problem-codes.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Validation codes'), doc.indexOf('## Loading codes'));
  const out = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (error|warning) \|/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

describe('docs/problem-codes.md', () => {
  it('documents every emitted validation code, and no other', () => {
    expect([...documented().keys()].sort()).toEqual([...emitted().keys()].sort());
  });
  it('gives each code the severity it is emitted with', () => {
    const docs = documented();
    for (const [code, sevs] of emitted()) expect([...sevs], code).toEqual([docs.get(code)]);
  });
});
