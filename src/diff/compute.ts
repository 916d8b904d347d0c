/**
 * The difference of two truth tables (`palisade diff`; the admin's approval screen, examples/s21-staged-approval):
 * every (source, destination, port, protocol) whose verdict changes, each with the step it is
 * owed to per changed direction (reference/cause.ts), and the changes grouped by that step.
 *
 * Invariants:
 * - A change is a cell present in both matrices (same endpoint labels, port and protocol) whose
 *   verdict differs; cells are compared in the before matrix's grid, row, column order, and the
 *   changes keep that order. A pair with an address of a common family on one side only is
 *   counted in `incomparable`, not reported as a change.
 * - `causes` has one entry per direction whose verdict differs (at least one, since a flow is
 *   allowed iff both directions are), egress first. A change owed to both directions appears in
 *   both groups.
 * - Groups are in the order of their first change.
 * Pure; cost linear in the cells of the two matrices.
 */
import { policyKey } from '../model/staged.js';
import type { ClusterPolicy, Direction, NetworkPolicy, ObjectRef, PolicySet, Protocol } from '../model/types.js';
import type { Matrix, MatrixCell } from '../matrix/compute.js';
import { causeKey, causeOf, type Cause, type Differs, type DiffersArg } from '../reference/cause.js';

export interface VerdictChange {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly before: MatrixCell;
  readonly after: MatrixCell;
  /** per direction whose verdict differs, egress first */
  readonly causes: readonly Cause[];
}

export interface ChangeGroup {
  readonly key: string;
  readonly cause: Cause;
  /** changes from deny to allow */
  readonly opened: number;
  /** changes from allow to deny */
  readonly closed: number;
  readonly changes: readonly VerdictChange[];
}

export interface MatrixDiff {
  /** cells compared (present on both sides) */
  readonly compared: number;
  /** pairs with a common address family on one side only */
  readonly incomparable: number;
  readonly changes: readonly VerdictChange[];
  readonly groups: readonly ChangeGroup[];
  /** endpoint labels present on one side only (their flows are not compared) */
  readonly onlyBefore: readonly string[];
  readonly onlyAfter: readonly string[];
}

const cellKey = (from: string, to: string, port: number, protocol: string): string => `${from}\u0000${to}\u0000${port}\u0000${protocol}`;

/**
 * @param differs what differs between the two sides (`differingPolicies`, or the staged
 *   predicate of model/staged.ts); it steers attribution, never the set of changes.
 */
export function diffMatrices(before: Matrix, after: Matrix, differs: DiffersArg): MatrixDiff {
  const afterCells = new Map<string, MatrixCell | null>();
  for (const g of after.grids) {
    g.rows.forEach((row, i) =>
      row.forEach((c, j) => afterCells.set(cellKey(after.endpoints[i]!.label, after.endpoints[j]!.label, g.port, g.protocol), c)),
    );
  }
  const changes: VerdictChange[] = [];
  let compared = 0;
  let incomparable = 0;
  for (const g of before.grids) {
    g.rows.forEach((row, i) =>
      row.forEach((b, j) => {
        const key = cellKey(before.endpoints[i]!.label, before.endpoints[j]!.label, g.port, g.protocol);
        if (!afterCells.has(key)) return;
        const a = afterCells.get(key) ?? null;
        if (a === null || b === null) {
          if (a !== b) incomparable++;
          return;
        }
        compared++;
        if (a.verdict === b.verdict) return;
        const causes: Cause[] = [];
        for (const d of ['egress', 'ingress'] as const) if (a[d].verdict !== b[d].verdict) causes.push(causeOf(b[d], a[d], differs));
        changes.push({ from: b.from, to: b.to, port: b.port, protocol: b.protocol, before: b, after: a, causes });
      }),
    );
  }
  const beforeLabels = new Set(before.endpoints.map((e) => e.label));
  const afterLabels = new Set(after.endpoints.map((e) => e.label));
  return {
    compared,
    incomparable,
    changes,
    groups: groupChanges(changes),
    onlyBefore: [...beforeLabels].filter((l) => !afterLabels.has(l)),
    onlyAfter: [...afterLabels].filter((l) => !beforeLabels.has(l)),
  };
}

export function groupChanges(changes: readonly VerdictChange[]): ChangeGroup[] {
  const groups = new Map<string, { cause: Cause; changes: VerdictChange[] }>();
  for (const ch of changes) {
    for (const cause of ch.causes) {
      const key = causeKey(cause);
      const g = groups.get(key);
      if (g) g.changes.push(ch);
      else groups.set(key, { cause, changes: [ch] });
    }
  }
  return [...groups].map(([key, g]) => ({
    key,
    cause: g.cause,
    opened: g.changes.filter((c) => c.after.verdict === 'allow').length,
    closed: g.changes.filter((c) => c.after.verdict === 'deny').length,
    changes: g.changes,
  }));
}

/**
 * What was added, removed or edited between two policy sets (sources ignored): whole policies,
 * and single rules. A rule differs when its policy is new or gone, when the rule itself differs,
 * or when what every rule of the policy depends on differs (a cluster policy's tier, priority
 * and subject; a NetworkPolicy's podSelector and policyTypes).
 */
export function differingPolicies(before: PolicySet, after: PolicySet): Differs {
  const b = canonicalPolicies(before);
  const a = canonicalPolicies(after);
  const differ = new Set<string>();
  for (const [k, v] of b.policies) if (a.policies.get(k) !== v) differ.add(k);
  for (const [k, v] of a.policies) if (b.policies.get(k) !== v) differ.add(k);
  return {
    policy: (p) => differ.has(policyKey(p)),
    rule: (r, direction) => {
      const k = ruleKey(r.policy, direction, r.ruleIndex);
      return b.rules.get(k) !== a.rules.get(k);
    },
  };
}

const ruleKey = (p: ObjectRef, d: Direction, index: number): string => `${policyKey(p)}/${d}/${index}`;
const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

function canonicalPolicies(ps: PolicySet): { policies: Map<string, string>; rules: Map<string, string> } {
  const policies = new Map<string, string>();
  const rules = new Map<string, string>();
  const put = (ref: ObjectRef, p: NetworkPolicy | ClusterPolicy, shared: unknown): void => {
    const { source: _source, ...content } = p;
    policies.set(policyKey(ref), canon(content));
    for (const d of ['ingress', 'egress'] as const) {
      const list: readonly unknown[] = p[d];
      list.forEach((rule, i) => rules.set(ruleKey(ref, d, i), canon({ shared, rule })));
    }
  };
  for (const np of ps.networkPolicies) put({ kind: np.kind, namespace: np.namespace, name: np.name }, np, { podSelector: np.podSelector, policyTypes: np.policyTypes });
  for (const cp of ps.clusterPolicies) put({ kind: cp.kind, name: cp.name }, cp, { tier: cp.tier, priority: cp.priority, subject: cp.subject });
  return { policies, rules };
}
