/**
 * What one pod gives to the sets it is in: per set id the prefixes it contributed (so that taking
 * the pod out removes exactly those). Two parallel arrays instead of a Map: a pod is in ~100 sets
 * at 5,000 pods / 1,000 policies, added once each while a cluster is resolved (577k additions:
 * the Map's growth and hashing were a fifth of a compile), and looked up by id only when one set
 * is re-checked (a namespace flip), where a scan of its ids is as cheap.
 * Invariants: an id appears at most once; `ids[i]` gave `cidrs[i]`. Not thread-safe (one owner).
 */
import type { Cidr } from '../model/ip.js';
import type { SetId } from './set-def.js';

export class Gives {
  readonly ids: SetId[] = [];
  readonly cidrs: Cidr[][] = [];

  /** Record `id` (the caller guarantees it is not recorded yet). */
  add(id: SetId, cidrs: Cidr[]): void {
    this.ids.push(id);
    this.cidrs.push(cidrs);
  }

  /** Forget `id`; what it had given, or undefined. */
  take(id: SetId): Cidr[] | undefined {
    const i = this.ids.indexOf(id);
    if (i < 0) return undefined;
    const cidrs = this.cidrs[i]!;
    const last = this.ids.length - 1;
    this.ids[i] = this.ids[last]!;
    this.cidrs[i] = this.cidrs[last]!;
    this.ids.pop();
    this.cidrs.pop();
    return cidrs;
  }
}
