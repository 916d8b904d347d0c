/**
 * The part of the inventory the lowered rules depend on, kept current under inventory changes so
 * that pod churn can skip re-lowering. From src/rules/lower.ts: lowering reads the inventory only
 * for (1) node names (one node-local ingress rule per node, `networkPolicyDefaults`) and (2) the
 * named ports of non-host-network pods (named-port groups, `groups` via `namedPortIndex`).
 * Everything else a change touches is set membership, i.e. element deltas.
 *
 * Invariant: `key()` equals the key a fresh RuleInputs over the current inventory would give.
 * If lowering ever reads more of the inventory, this must follow (the element-delta tests in
 * test/nftables compare the incremental path with the reference on real packets).
 * Cost: O(container ports of the changed pod); a namespace removal is O(pods). Not thread-safe.
 */
import type { Inventory, Pod } from '../../src/model/types.js';
import { podKey, type InventoryChange, type Resolution } from '../../src/resolve/index.js';

const portsOf = (p: Pod): string[] =>
  p.hostNetwork ? [] : p.containerPorts.flatMap((cp) => (cp.name === undefined ? [] : [`${cp.name}/${cp.protocol}/${cp.containerPort}`]));

export class RuleInputs {
  private readonly ports = new Map<string, number>();
  private readonly nodes = new Set<string>();

  constructor(inventory: Pick<Inventory, 'pods' | 'nodes'>) {
    for (const p of inventory.pods) this.count(p, +1);
    for (const n of inventory.nodes) this.nodes.add(n.name);
  }

  clone(): RuleInputs {
    const c = new RuleInputs({ pods: [], nodes: [] });
    for (const [k, v] of this.ports) c.ports.set(k, v);
    for (const n of this.nodes) c.nodes.add(n);
    return c;
  }

  /**
   * Account for `change` (call BEFORE `resolution.apply(change)`: the replaced pod is read from it).
   * Returns true when the rules may change: a named port or a node name appeared or vanished.
   */
  update(resolution: Resolution, change: InventoryChange): boolean {
    const before = this.key();
    switch (change.kind) {
      case 'pod': {
        const old = resolution.pod(podKey(change.pod));
        if (old) this.count(old, -1);
        this.count(change.pod, +1);
        break;
      }
      case 'pod-removed': {
        const old = resolution.pod(podKey(change));
        if (old) this.count(old, -1);
        break;
      }
      case 'namespace-removed':
        for (const p of resolution.inventory().pods) if (p.namespace === change.name) this.count(p, -1);
        break;
      case 'namespace':
        break;
      case 'node':
        this.nodes.add(change.node.name);
        break;
      case 'node-removed':
        this.nodes.delete(change.name);
        break;
    }
    return this.key() !== before;
  }

  key(): string {
    return JSON.stringify([[...this.ports.keys()].sort(), [...this.nodes].sort()]);
  }

  private count(p: Pod, sign: 1 | -1): void {
    for (const k of portsOf(p)) {
      const n = (this.ports.get(k) ?? 0) + sign;
      if (n === 0) this.ports.delete(k);
      else this.ports.set(k, n);
    }
  }
}
