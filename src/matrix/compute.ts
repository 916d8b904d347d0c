/**
 * The truth table (like the upstream e2e truth tables of kubernetes
 * test/e2e/network/netpol): for each (port, protocol), for every ordered pair of endpoints,
 * the verdict of the flow from -> to and the explanation of each direction.
 *
 * Invariants: grids come in the order ports x protocols (port outer); rows and columns are the
 * endpoints in `matrixEndpoints` order; a cell is null when the two endpoints have no address of
 * a common family (or of the requested family). Every verdict comes from the Evaluator given,
 * so the table is exactly as right as that engine.
 * Pure; cost endpoints^2 x ports x protocols evaluations.
 */
import type { Family } from '../model/ip.js';
import type { Protocol } from '../model/types.js';
import type { DirectionVerdict, Evaluator } from '../model/verdict.js';
import { pickPair, type MatrixEndpoint } from './endpoints.js';

export interface MatrixQuery {
  readonly ports: readonly number[];
  readonly protocols: readonly Protocol[];
  /** absent: per pair, the first family both ends have (IPv4 first) */
  readonly family?: Family;
  /** the flows' source port (PalisadeClusterNetworkPolicy `sourcePort`); absent: unknown, no source-port rule matches */
  readonly srcPort?: number;
}

export interface MatrixCell {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly verdict: 'allow' | 'deny';
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
  readonly family: Family;
  readonly srcIp: string;
  readonly dstIp: string;
}

export interface MatrixGrid {
  readonly port: number;
  readonly protocol: Protocol;
  /** rows = from, columns = to, in `endpoints` order; null: no address of a common family */
  readonly rows: readonly (readonly (MatrixCell | null)[])[];
}

export interface Matrix {
  readonly endpoints: readonly MatrixEndpoint[];
  readonly family?: Family;
  readonly srcPort?: number;
  readonly grids: readonly MatrixGrid[];
}

export function computeMatrix(evaluator: Evaluator, endpoints: readonly MatrixEndpoint[], q: MatrixQuery): Matrix {
  const grids: MatrixGrid[] = [];
  for (const port of q.ports) {
    for (const protocol of q.protocols) {
      const rows = endpoints.map((from) =>
        endpoints.map((to): MatrixCell | null => {
          const pair = pickPair(from, to, q.family);
          if (!pair) return null;
          const v = evaluator.evaluate({ src: pair.src, dst: pair.dst, protocol, dstPort: port, ...(q.srcPort !== undefined ? { srcPort: q.srcPort } : {}) });
          return {
            from: from.label,
            to: to.label,
            port,
            protocol,
            verdict: v.verdict,
            egress: v.egress,
            ingress: v.ingress,
            family: pair.src.family,
            srcIp: pair.src.text,
            dstIp: pair.dst.text,
          };
        }),
      );
      grids.push({ port, protocol, rows });
    }
  }
  return { endpoints, ...(q.family !== undefined ? { family: q.family } : {}), ...(q.srcPort !== undefined ? { srcPort: q.srcPort } : {}), grids };
}

/** Every cell of every grid, in grid, row, column order (the JSON output). */
export const matrixCells = (m: Matrix): MatrixCell[] =>
  m.grids.flatMap((g) => g.rows.flatMap((r) => r.filter((c): c is MatrixCell => c !== null)));
