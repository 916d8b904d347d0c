/**
 * The enforcing demo's comparison (src/cli/demo-compare.ts): a probe that was dropped where the
 * reference allows (or the reverse), a probe fault and a missing observation are all mismatches;
 * the side-by-side grid marks the rows that differ. Pure.
 */
import { describe, expect, it } from 'vitest';
import { cellKey, formatSideBySide, mismatches, observedOf, type Observed } from '../../src/cli/demo-compare.js';
import { computeMatrix, matrixCells, matrixEndpoints } from '../../src/matrix/index.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { example } from './helpers.js';

function expectedMatrix() {
  const r = safeLoadCluster([example('s11-deny-with-priorities')]);
  if (!r.cluster) throw new Error(JSON.stringify(r.problems));
  return computeMatrix(new ReferenceEvaluator(r.cluster), matrixEndpoints(r.cluster), { ports: [80, 5432], protocols: ['TCP'] });
}

describe('demo comparison of observed and expected', () => {
  it('probe outcomes: open = allow, dropped = deny, refused/error = fault', () => {
    expect(['open', 'dropped', 'refused', 'error'].map((o) => observedOf(o as never))).toEqual(['allow', 'deny', 'fault', 'fault']);
  });

  it('no mismatch when every observation equals the expected verdict', () => {
    const m = expectedMatrix();
    const obs = new Map(matrixCells(m).map((c) => [cellKey(c), { observed: c.verdict as Observed }]));
    expect(mismatches(m, obs)).toEqual([]);
    expect(formatSideBySide(m, obs)).not.toContain('differs');
  });

  it('a flipped verdict, a fault and a missing cell are each reported, and their rows marked', () => {
    const m = expectedMatrix();
    const cells = matrixCells(m);
    const obs = new Map(cells.map((c) => [cellKey(c), { observed: c.verdict as Observed }]));
    const denied = cells.find((c) => c.verdict === 'deny' && c.port === 80)!; // backend/api -> db/postgres:80
    const allowed = cells.find((c) => c.verdict === 'allow' && c.port === 5432)!;
    const gone = cells.find((c) => c.port === 5432 && c !== allowed)!;
    obs.set(cellKey(denied), { observed: 'allow' });
    obs.set(cellKey(allowed), { observed: 'fault', detail: 'ECONNREFUSED' } as never);
    obs.delete(cellKey(gone));
    const wrong = mismatches(m, obs);
    const got = wrong.map((w) => [cellKey(w.cell), w.observed]);
    expect(got).toHaveLength(3);
    expect(got[0]).toEqual([cellKey(denied), 'allow']); // port 80 comes first in matrix order
    expect(got).toContainEqual([cellKey(allowed), 'fault']);
    expect(got).toContainEqual([cellKey(gone), undefined]);
    expect(wrong.find((w) => w.observed === 'fault')?.detail).toBe('ECONNREFUSED');
    const text = formatSideBySide(m, obs);
    expect(text.split('\n').filter((l) => l.endsWith('<- differs')).length).toBeGreaterThanOrEqual(2);
    const row = text.split('\n').find((l) => l.startsWith(`1 ${denied.from}`) && l.endsWith('differs'))!;
    expect(row).toMatch(/\. X \. \.\s+\. \. \. \./);
  });
});
