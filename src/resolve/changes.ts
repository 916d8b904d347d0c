/**
 * Inventory changes the resolver applies incrementally, and the set membership deltas it
 * reports for them (what an incremental classifier or kernel map update needs).
 *
 * A `pod` change adds the pod or replaces the pod of the same namespace/name (relabel, new IPs,
 * new container ports, moved node). A namespace or node change likewise adds or replaces by name,
 * a Service or EndpointSlice change by namespace/name (Service addresses are in the `cluster`
 * set; Services and slices feed the `service` / `service-endpoints` sets, recomputed for the
 * Services they name: O(their tuples)). Removing a namespace removes its pods.
 */
import type { Cidr } from '../model/ip.js';
import type { EndpointSlice, Namespace, Node, Pod, Service } from '../model/types.js';
import type { SetId } from './set-def.js';

export type InventoryChange =
  | { readonly kind: 'pod'; readonly pod: Pod }
  | { readonly kind: 'pod-removed'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'namespace'; readonly namespace: Namespace }
  | { readonly kind: 'namespace-removed'; readonly name: string }
  | { readonly kind: 'node'; readonly node: Node }
  | { readonly kind: 'node-removed'; readonly name: string }
  | { readonly kind: 'service'; readonly service: Service }
  | { readonly kind: 'service-removed'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'endpointslice'; readonly slice: EndpointSlice }
  | { readonly kind: 'endpointslice-removed'; readonly namespace: string; readonly name: string };

/**
 * Prefixes that entered and left one set. A prefix never appears in both lists.
 * `learned` sets (docs/fqdn.md §6) also carry expiries, so a kernel can time elements out
 * itself: `addedExpiresAtMs[i]` is the expiry of `added[i]` (ms since the epoch; the latest of
 * the entries that hold it), and `retimed` lists members already present whose expiry changed
 * (a later answer, a second name, or the longest-lived holder gone). Other sets carry neither.
 */
export interface SetDelta {
  readonly set: SetId;
  readonly added: readonly Cidr[];
  readonly removed: readonly Cidr[];
  readonly addedExpiresAtMs?: readonly number[];
  readonly retimed?: readonly RetimedMember[];
}

/** A member of a `learned` set whose kernel expiry must change to `expiresAtMs`. */
export interface RetimedMember {
  readonly cidr: Cidr;
  readonly expiresAtMs: number;
}

/** True when a delta changes nothing in a kernel (no member in or out, none retimed). */
export const isEmptyDelta = (d: SetDelta): boolean => d.added.length + d.removed.length + (d.retimed?.length ?? 0) === 0;
