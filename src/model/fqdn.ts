/**
 * Learned addresses: what DNS answers taught about `domainNames` peers (docs/fqdn.md).
 *
 * A `LearnedSnapshot` is the set of live (pod, name, address) entries at one instant `atMs`.
 * Every evaluator (the reference, the compiled rule set through `learned` sets) reads the same
 * snapshot, so a differential test can hand both one snapshot and compare.
 *
 * Invariants: `name` and `query` are canonical (lower case, no trailing dot; `canonicalName`);
 * `pod` is `namespace/name`; an entry is live at `atMs` iff `expiresAtMs > atMs`.
 * Pure data and pure functions. Cost: `domainNameMatches` is O(length of the name).
 */
import { parseIp, type IpAddr } from './ip.js';

export interface LearnedAddress {
  /** the pod that asked, `namespace/name` */
  readonly pod: string;
  /** a name of the CNAME chain that led to the address (canonical) */
  readonly name: string;
  readonly address: IpAddr;
  /** the entry stops matching new connections at this instant (ms since the epoch) */
  readonly expiresAtMs: number;
  /** the name the pod asked for (canonical); equal to `name` without a CNAME on the way */
  readonly query: string;
}

export interface LearnedSnapshot {
  readonly atMs: number;
  readonly entries: readonly LearnedAddress[];
}

export const EMPTY_SNAPSHOT: LearnedSnapshot = { atMs: 0, entries: [] };

/** Lower case (ASCII only, RFC 4343), without a trailing dot. */
export function canonicalName(name: string): string {
  const lower = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Does a `domainNames` pattern match a name? Exact, or `*.suffix`: one or more whole labels in
 * place of `*` (CRD DomainName docs: `*.kubernetes.io` matches `latest.blog.kubernetes.io`, not
 * `kubernetes.io`). Both sides compared canonically.
 */
export function domainNameMatches(pattern: string, name: string): boolean {
  const p = canonicalName(pattern);
  const n = canonicalName(name);
  if (!p.startsWith('*.')) return p === n;
  const suffix = p.slice(1); // ".kubernetes.io"
  return n.length > suffix.length && n.endsWith(suffix) && n[n.length - suffix.length - 1] !== '.';
}

/** The live entries of a snapshot for one pod whose name matches one of the patterns. */
export function learnedMatches(snapshot: LearnedSnapshot, pod: string, patterns: readonly string[]): LearnedAddress[] {
  return snapshot.entries.filter(
    (e) => e.pod === pod && e.expiresAtMs > snapshot.atMs && patterns.some((p) => domainNameMatches(p, e.name)),
  );
}

/** A snapshot from its JSON form (docs/fqdn.md); throws a TypeError naming the bad entry. */
export function parseSnapshot(json: unknown): LearnedSnapshot {
  if (typeof json !== 'object' || json === null) throw new TypeError('learned snapshot: not an object');
  const o = json as Record<string, unknown>;
  const atMs = o.atMs === undefined ? Date.now() : Number(o.atMs);
  if (!Number.isFinite(atMs)) throw new TypeError('learned snapshot: atMs is not a number');
  if (!Array.isArray(o.entries)) throw new TypeError('learned snapshot: entries is not an array');
  const entries = o.entries.map((raw: unknown, i: number): LearnedAddress => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const at = `learned snapshot: entries[${i}]`;
    if (typeof e.pod !== 'string' || !/^[^/]+\/[^/]+$/.test(e.pod)) throw new TypeError(`${at}.pod: must be "namespace/name"`);
    if (typeof e.name !== 'string' || e.name === '') throw new TypeError(`${at}.name: must be a domain name`);
    const address = typeof e.address === 'string' ? parseIp(e.address) : null;
    if (!address) throw new TypeError(`${at}.address: not an IP address`);
    const expiresAtMs = Number(e.expiresAtMs);
    if (!Number.isFinite(expiresAtMs)) throw new TypeError(`${at}.expiresAtMs: not a number`);
    const name = canonicalName(e.name);
    const query = typeof e.query === 'string' ? canonicalName(e.query) : name;
    return { pod: e.pod, name, address, expiresAtMs, query };
  });
  return { atMs, entries };
}
