/**
 * What every enforcing backend (nftables, eBPF, nfqueue) offers the enforce loop.
 *
 * Contract: `apply` is atomic — it either puts the whole new state in force or throws and leaves
 * the previous state fully in force. `apply` is never called concurrently with itself.
 */
import type { Cluster } from '../model/types.js';

export interface ApplyReport {
  /** what changed, in the backend's own words (e.g. "12 set elements", "full rule set") */
  readonly summary: string;
  readonly ms: number;
}

export interface Enforcer {
  readonly name: string;
  apply(cluster: Cluster): Promise<ApplyReport>;
  /** Stop enforcing: remove everything this enforcer installed (apply --delete). */
  remove(): Promise<void>;
  /** Release resources but leave the installed state in force (used on exit of `apply`). */
  close(): Promise<void>;
}
