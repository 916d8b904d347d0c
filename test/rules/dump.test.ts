/**
 * The canonical rule dump (`palisade compile -f PATH --rules`): golden files over examples, and
 * the properties that make it usable as a golden format (stable, sorted, one line per rule).
 * Regenerate after an intended change: PALISADE_UPDATE_GOLDEN=1 npx vitest run test/rules
 * (then read the diff: every line is a claim about the compiled semantics).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCompile } from '../../src/cli/compile.js';
import { loadCluster } from '../../src/manifests/cluster.js';
import { Engine } from '../../src/engine/engine.js';
import { linearClassifier } from '../../src/engine/linear-classifier.js';
import { dumpRules } from '../../src/rules/dump.js';

const EXAMPLES = ['s11-deny-with-priorities', 's03-port-ranges', 's01-egress-to-nodes', 's12-namespace-isolation', 's17-internet-allowlist'];

async function compileText(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCompile(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('palisade compile --rules', () => {
  for (const ex of EXAMPLES) {
    test(`golden: examples/${ex}`, async () => {
      const r = await compileText(['-f', `examples/${ex}`, '--rules', '--classifier', 'ts']);
      expect(r.code, r.err).toBe(0);
      const golden = `test/rules/golden/${ex}.rules.txt`;
      if (process.env.PALISADE_UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, r.out);
      expect(r.out).toBe(readFileSync(golden, 'utf8'));
    });
  }

  test('stable: the same input in another order gives the same bytes', () => {
    const { cluster } = loadCluster(['examples/s11-deny-with-priorities']);
    const first = new Engine(cluster, { classifier: linearClassifier });
    const a = dumpRules(first.ruleSet, first.resolution);
    const shuffled = {
      ...cluster,
      pods: [...cluster.pods].reverse(),
      namespaces: [...cluster.namespaces].reverse(),
      networkPolicies: [...cluster.networkPolicies].reverse(),
      clusterPolicies: [...cluster.clusterPolicies].reverse(),
    };
    const e = new Engine(shuffled, { classifier: linearClassifier });
    expect(dumpRules(e.ruleSet, e.resolution)).toBe(a);
  });

  test('one line per set and per rule, rules in first-match order', async () => {
    const r = await compileText(['-f', 'examples/s11-deny-with-priorities', '--rules', '--classifier', 'ts']);
    const lines = r.out.trimEnd().split('\n');
    const head = /^# palisade rules: (\d+) sets, (\d+) egress rules, (\d+) ingress rules$/.exec(lines[0] as string);
    expect(head).not.toBeNull();
    const [sets, egress, ingress] = head!.slice(1).map(Number) as [number, number, number];
    expect(lines.length).toBe(1 + sets + egress + ingress);
    const egressLines = lines.filter((l) => l.startsWith('egress '));
    expect(egressLines.map((l) => Number(l.split(/\s+/)[1]))).toEqual([...Array(egress).keys()]);
  });

  test('invalid input exits 2 with the problems on stderr; no dump', async () => {
    const r = await compileText(['-f', 'test/rules/no-such-dir', '--rules']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).not.toBe('');
  });

  test('usage errors exit 2', async () => {
    expect((await compileText(['--rules'])).code).toBe(2);
    expect((await compileText(['-f', 'examples/s03-port-ranges', '--classifier', 'gpu'])).code).toBe(2);
  });

  test('without --rules: one summary line', async () => {
    const r = await compileText(['-f', 'examples/s03-port-ranges', '--classifier', 'ts']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^compiled \d+ egress and \d+ ingress rules over \d+ address sets in [\d.]+ ms \(classifier: ts\)\n$/);
  });
});
