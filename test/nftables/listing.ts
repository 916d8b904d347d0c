/**
 * `nft -j list table inet palisade` in a test namespace, normalized for comparing two tables:
 * handles and counter values stripped, elements sorted, interval sets as the address ranges they
 * cover (nft lists merged and unmerged prefixes differently); and the native module with its
 * kernel changes counted per path. Used by the netlink tests.
 */
import { nativeNftables, type NftNative } from '../../src/native/binding.js';
import { run } from '../../src/topology/exec.js';

/** Interval-set elements as the sorted, merged address ranges they cover (nft lists merged and unmerged prefixes differently). */
function coverage(elems: unknown[]): string[] {
  const rs: [bigint, bigint][] = [];
  for (const e of elems) {
    const toRange = (addr: string, len: number): [bigint, bigint] => {
      const v6 = addr.includes(':');
      const bits = v6 ? 128 : 32;
      let v = 0n;
      if (v6) {
        const [h, t] = addr.split('::') as [string, string | undefined];
        const hs = h ? h.split(':') : [];
        const ts = t !== undefined && t !== '' ? t.split(':') : [];
        const groups = [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
        for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
      } else for (const o of addr.split('.')) v = (v << 8n) | BigInt(Number(o));
      const host = (1n << BigInt(bits - len)) - 1n;
      return [v & ~host, v | host];
    };
    if (typeof e === 'string') rs.push(toRange(e, e.includes(':') ? 128 : 32));
    else if ((e as { prefix?: unknown }).prefix) {
      const p = (e as { prefix: { addr: string; len: number } }).prefix;
      rs.push(toRange(p.addr, p.len));
    } else if ((e as { range?: unknown }).range) {
      const [a, b] = (e as { range: [string, string] }).range;
      rs.push([toRange(a, a.includes(':') ? 128 : 32)[0], toRange(b, b.includes(':') ? 128 : 32)[0]]);
    } else throw new Error(`unexpected element ${JSON.stringify(e)}`);
  }
  rs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const r of rs) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1n) last[1] = r[1] > last[1] ? r[1] : last[1];
    else merged.push([...r]);
  }
  return merged.map(([a, b]) => `${a}-${b}`);
}

/** `nft -j list table inet palisade`, without handles and counter values, elements normalized. */
export async function listing(ns: string): Promise<unknown> {
  const out = (await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'palisade'])).stdout;
  const strip = (v: unknown, interval: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => strip(x, interval));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      const isInterval = interval || (Array.isArray((v as { flags?: unknown }).flags) && ((v as { flags: string[] }).flags.includes('interval')));
      for (const [k, x] of Object.entries(v)) {
        if (k === 'handle' || k === 'metainfo') continue;
        o[k] = k === 'counter' ? {} : k === 'elem' && Array.isArray(x) ? (isInterval ? coverage(x) : x.map((e) => JSON.stringify(e)).sort()) : strip(x, isInterval);
      }
      return o;
    }
    return v;
  };
  return strip((JSON.parse(out) as { nftables: unknown[] }).nftables.filter((x) => !('metainfo' in (x as object))), false);
}


/** The native module with its transactions counted. */
export function counted(): { native: NftNative; calls: { json: number; program: number; elements: number } } {
  const real = nativeNftables();
  const calls = { json: 0, program: 0, elements: 0 };
  const native: NftNative = {
    ...real,
    nftRun: (json, ns, echo) => {
      if (!json.includes('"list"')) calls.json++;
      return real.nftRun(json, ns, echo);
    },
    nftApplyProgram: (...a) => {
      calls.program++;
      real.nftApplyProgram!(...a);
    },
    nftSetElements: (...a) => {
      calls.elements++;
      real.nftSetElements(...a);
    },
  };
  return { native, calls };
}

