/**
 * The enforcing demo's comparison: what the reference evaluator expects (a Matrix) against what
 * real probes observed through the enforcing node, and both grids side by side.
 *
 * Invariants: every non-null cell of the expected matrix has exactly one observation, keyed by
 * `cellKey`; a probe outcome of "open" is allow, "dropped" is deny (a policy deny must look
 * exactly like a silent drop: src/topology/probe.ts), "refused"/"error" is a fault (a topology problem, never a
 * policy outcome) and always counts as a mismatch.
 * Pure; cost O(cells).
 */
import type { Matrix, MatrixCell } from '../matrix/index.js';
import { MARK_ALLOW, MARK_DENY, MARK_NONE } from '../matrix/index.js';
import type { ProbeOutcome } from '../topology/probe.js';

export type Observed = 'allow' | 'deny' | 'fault';

export const MARK_FAULT = '?';

export const cellKey = (c: Pick<MatrixCell, 'protocol' | 'port' | 'from' | 'to'>): string => `${c.protocol}/${c.port} ${c.from} -> ${c.to}`;

export function observedOf(outcome: ProbeOutcome): Observed {
  return outcome === 'open' ? 'allow' : outcome === 'dropped' ? 'deny' : 'fault';
}

export interface Mismatch {
  readonly cell: MatrixCell;
  /** undefined: no observation for this cell */
  readonly observed: Observed | undefined;
  readonly detail?: string;
}

/** Cells whose observation differs from the expected verdict (faults and missing ones included), in matrix order. */
export function mismatches(expected: Matrix, observed: ReadonlyMap<string, { observed: Observed; detail?: string }>): Mismatch[] {
  const out: Mismatch[] = [];
  for (const g of expected.grids) {
    for (const row of g.rows) {
      for (const cell of row) {
        if (cell === null) continue;
        const o = observed.get(cellKey(cell));
        if (o?.observed === cell.verdict) continue;
        out.push({ cell, observed: o?.observed, ...(o?.detail !== undefined ? { detail: o.detail } : {}) });
      }
    }
  }
  return out;
}

const markOf = (v: Observed | undefined): string => (v === 'allow' ? MARK_ALLOW : v === 'deny' ? MARK_DENY : MARK_FAULT);

/**
 * Per port and protocol, the expected grid and the observed grid beside it. Rows are numbered and
 * the columns (destinations) carry the same numbers, so both grids fit on one 80-column line; a
 * row where the two differ ends with "<- differs".
 *
 *   TCP/80                    expected   observed
 *   from \ to                 1 2 3 4    1 2 3 4
 *   1 backend/api             . X . .    . X . .
 */
export function formatSideBySide(expected: Matrix, observed: ReadonlyMap<string, { observed: Observed }>): string {
  const labels = expected.endpoints.map((e, i) => `${i + 1} ${e.label}`);
  const first = Math.max('from \\ to'.length, ...labels.map((l) => l.length));
  const numbers = expected.endpoints.map((_, i) => String(i + 1));
  const width = Math.max(...numbers.map((n) => n.length));
  const gridText = (cells: readonly string[]): string => cells.map((c) => c.padEnd(width)).join(' ');
  const gridWidth = Math.max('expected'.length, gridText(numbers).length);
  const blocks = expected.grids.map((g) => {
    const lines = [
      `${`${g.protocol}/${g.port}`.padEnd(first)}  ${'expected'.padEnd(gridWidth)}   observed`,
      `${'from \\ to'.padEnd(first)}  ${gridText(numbers).padEnd(gridWidth)}   ${gridText(numbers)}`,
    ];
    g.rows.forEach((row, i) => {
      const want = row.map((c) => (c === null ? MARK_NONE : c.verdict === 'allow' ? MARK_ALLOW : MARK_DENY));
      const got = row.map((c) => (c === null ? MARK_NONE : markOf(observed.get(cellKey(c))?.observed)));
      const differs = want.some((m, j) => m !== got[j]);
      lines.push(`${(labels[i] as string).padEnd(first)}  ${gridText(want).padEnd(gridWidth)}   ${gridText(got)}${differs ? '   <- differs' : ''}`);
    });
    return lines.join('\n') + '\n';
  });
  return blocks.join('\n');
}
