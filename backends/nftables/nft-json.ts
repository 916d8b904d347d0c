/**
 * The slice of libnftables' JSON schema (libnftables-json(5)) the renderer emits, as typed
 * builders. Every value a user controls (addresses, set names we derive, comments) goes into a
 * JSON string field, never into nft text. The readable nft form is written beside each builder.
 * Pure.
 */
export type NftExpr = Record<string, unknown>;
export type NftCommand = Record<string, unknown>;
export interface NftDocument {
  readonly nftables: readonly NftCommand[];
}

export const FAMILY = 'inet';
export const TABLE = 'palisade';

const tbl = { family: FAMILY, table: TABLE } as const;

/** `add table inet palisade` */
export const addTable = (): NftCommand => ({ add: { table: { family: FAMILY, name: TABLE } } });
/** `delete table inet palisade` */
export const deleteTable = (): NftCommand => ({ delete: { table: { family: FAMILY, name: TABLE } } });

/** `add set inet palisade NAME { type ipv4_addr|ipv6_addr; [flags interval;] [flags timeout;] }` */
export const addSet = (name: string, type: 'ipv4_addr' | 'ipv6_addr', interval: boolean, timeout = false): NftCommand => ({
  add: { set: { ...tbl, name, type, ...(interval ? { flags: ['interval'] } : timeout ? { flags: ['timeout'] } : {}) } },
});

/**
 * `add set inet palisade NAME { type ipv4_addr . ipv4_addr; flags timeout; }` (ipv6 likewise): a
 * concatenated set of address pairs (render.ts pair sets; elements `{ concat: [a, b] }`).
 */
export const addPairSet = (name: string, type: 'ipv4_addr' | 'ipv6_addr'): NftCommand => ({
  add: { set: { ...tbl, name, type: [type, type], flags: ['timeout'] } },
});

/** `add element inet palisade NAME { e1, e2 }` / `delete element ...` */
export const elements = (op: 'add' | 'delete', name: string, elem: readonly unknown[]): NftCommand => ({
  [op]: { element: { ...tbl, name, elem } },
});

/** `add chain inet palisade NAME { type filter hook HOOK priority 0; policy accept; }` */
export const addBaseChain = (name: string, hook: 'forward' | 'input' | 'output'): NftCommand => ({
  add: { chain: { ...tbl, name, type: 'filter', hook, prio: 0, policy: 'accept' } },
});

/** `flush chain inet palisade NAME` (its rules go; the chain and its hook stay) */
export const flushChain = (name: string): NftCommand => ({ flush: { chain: { ...tbl, name } } });
/** `delete chain inet palisade NAME` */
export const deleteChain = (name: string): NftCommand => ({ delete: { chain: { ...tbl, name } } });
/** `flush set inet palisade NAME` */
export const flushSet = (name: string): NftCommand => ({ flush: { set: { ...tbl, name } } });
/** `delete set inet palisade NAME` */
export const deleteSet = (name: string): NftCommand => ({ delete: { set: { ...tbl, name } } });

/** `add chain inet palisade NAME` */
export const addChain = (name: string): NftCommand => ({ add: { chain: { ...tbl, name } } });

/** `add rule inet palisade CHAIN EXPR... comment "..."` */
export function addRule(chain: string, expr: readonly NftExpr[], comment?: string): NftCommand {
  const rule: Record<string, unknown> = { ...tbl, chain, expr };
  // NFT_USERDATA_MAXLEN is 256 bytes; keep comments well inside it
  if (comment !== undefined) rule.comment = Buffer.from(comment).subarray(0, 120).toString('utf8');
  return { add: { rule } };
}

export type AddrField = 'saddr' | 'daddr';

/** `ip saddr @NAME` / `ip6 daddr @NAME` */
export const inSet = (family: 4 | 6, field: AddrField, name: string): NftExpr => ({
  match: { op: '==', left: { payload: { protocol: family === 4 ? 'ip' : 'ip6', field } }, right: `@${name}` },
});

/** `ip saddr . ip daddr @NAME` (the fields in the order given; ip6 likewise) */
export const pairInSet = (family: 4 | 6, first: AddrField, second: AddrField, name: string): NftExpr => {
  const protocol = family === 4 ? 'ip' : 'ip6';
  return { match: { op: '==', left: { concat: [{ payload: { protocol, field: first } }, { payload: { protocol, field: second } }] }, right: `@${name}` } };
};

/** `meta l4proto tcp` or `meta l4proto { tcp, udp, sctp }` */
export const l4proto = (protos: readonly string[]): NftExpr => ({
  match: { op: '==', left: { meta: { key: 'l4proto' } }, right: protos.length === 1 ? protos[0] : { set: [...protos] } },
});

/** `th dport 80` / `th dport 1000-2000` (also `sport`) */
export const thPort = (field: 'dport' | 'sport', lo: number, hi: number): NftExpr => ({
  match: { op: '==', left: { payload: { protocol: 'th', field } }, right: lo === hi ? lo : { range: [lo, hi] } },
});

/** `ct state established,related` */
export const ctStateIn = (states: readonly string[]): NftExpr => ({
  match: { op: 'in', left: { ct: { key: 'state' } }, right: [...states] },
});

/** `icmpv6 type { nd-router-solicit, ... }` */
export const icmpv6TypeIn = (types: readonly string[]): NftExpr => ({
  match: { op: '==', left: { payload: { protocol: 'icmpv6', field: 'type' } }, right: { set: [...types] } },
});

export const counter = (): NftExpr => ({ counter: null });
export const accept = (): NftExpr => ({ accept: null });
export const drop = (): NftExpr => ({ drop: null });
export const goTo = (target: string): NftExpr => ({ goto: { target } });
export const jump = (target: string): NftExpr => ({ jump: { target } });

/** `limit rate N/second burst B packets` (a match: over the rate, the rule does not match) */
export const limitPerSecond = (rate: number, burst: number): NftExpr => ({ limit: { rate, per: 'second', burst } });
/** `log prefix "..." group N` (NFLOG) */
export const nflog = (prefix: string, group: number): NftExpr => ({ log: { prefix, group } });

/** `add chain inet palisade NAME { type nat hook prerouting priority PRIO; policy accept; }` */
export const addNatChain = (name: string, prio: number): NftCommand => ({
  add: { chain: { ...tbl, name, type: 'nat', hook: 'prerouting', prio, policy: 'accept' } },
});

/** `ct mark set ct mark | BIT` */
export const ctMarkOr = (bit: number): NftExpr => ({
  mangle: { key: { ct: { key: 'mark' } }, value: { '|': [{ ct: { key: 'mark' } }, bit] } },
});

/** `ct mark & BIT == BIT` */
export const ctMarkHas = (bit: number): NftExpr => ({
  match: { op: '==', left: { '&': [{ ct: { key: 'mark' } }, bit] }, right: bit },
});

/** `dnat ip to ADDR:PORT` / `dnat ip6 to [ADDR]:PORT` (the address is a JSON string, never nft text) */
export const dnatTo = (family: 4 | 6, addr: string, port: number): NftExpr => ({
  dnat: { family: family === 4 ? 'ip' : 'ip6', addr, port },
});
