/**
 * The truth table as text, in the spirit of the upstream e2e truth tables
 * (kubernetes test/e2e/network/netpol truthtable.go PrettyPrint): a header per port and protocol,
 * then a grid with rows = from, columns = to, `.` allowed, `X` denied; `-` marks a pair with no
 * address of a common family. Columns are aligned with spaces (not tabs) so the grid reads the
 * same everywhere; lines carry no trailing spaces. Pure.
 */
import type { Matrix, MatrixGrid } from './compute.js';

export const MARK_ALLOW = '.';
export const MARK_DENY = 'X';
export const MARK_NONE = '-';

export function formatMatrixText(m: Matrix): string {
  return m.grids.map((g) => formatGrid(m, g)).join('\n');
}

function formatGrid(m: Matrix, g: MatrixGrid): string {
  const labels = m.endpoints.map((e) => e.label);
  const first = Math.max(1, ...labels.map((l) => l.length));
  const header = `${g.protocol}/${g.port}${m.family !== undefined ? ` IPv${m.family}` : ''}${m.srcPort !== undefined ? ` from source port ${m.srcPort}` : ''}`;
  const line = (head: string, cells: readonly string[]): string =>
    [head.padEnd(first), ...cells.map((c, i) => c.padEnd((labels[i] as string).length))].join('  ').trimEnd();
  const lines = [header, line('-', labels)];
  g.rows.forEach((row, i) => {
    lines.push(line(labels[i] as string, row.map((c) => (c === null ? MARK_NONE : c.verdict === 'allow' ? MARK_ALLOW : MARK_DENY))));
  });
  return lines.join('\n') + '\n';
}
