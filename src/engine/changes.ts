/**
 * Changes an Engine accepts: inventory changes (applied incrementally to the classifier) and
 * policy changes (which rebuild the rule set).
 */
import type { ClusterPolicy, NetworkPolicy } from '../model/types.js';
import type { InventoryChange, SetDelta } from '../resolve/changes.js';

export type PolicyChange =
  /** add or replace a NetworkPolicy (by namespace/name) or a cluster policy (by kind/name) */
  | { readonly kind: 'policy'; readonly policy: NetworkPolicy | ClusterPolicy }
  | { readonly kind: 'policy-removed'; readonly policy: { readonly kind: string; readonly namespace?: string; readonly name: string } };

export type EngineChange = InventoryChange | PolicyChange;

export interface UpdateResult {
  /** true when the rule set was rebuilt (policy change, new named-port group, new node) */
  readonly rebuilt: boolean;
  /** set membership deltas applied to the classifier (empty after a rebuild) */
  readonly deltas: readonly SetDelta[];
  /** classifier rule-set version after the change (increases by one per applied change) */
  readonly version: number;
}

export type { InventoryChange, SetDelta };
