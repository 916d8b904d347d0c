/**
 * The lowering (backends/ebpf/tables.ts) against an oracle, without a kernel (runs unprivileged):
 * the tables are read back the way the BPF program reads them (address class by exact or
 * longest prefix, port class from the flat table, chunk masks, chunk references, lowest common
 * bit, Pass continuing at its target), and every answer is compared with a linear first-match
 * walk over the RuleSet itself. Seeded random rule sets (IPv4 and IPv6 prefixes of every length,
 * nested sets, port ranges, protocols, all three tiers, Pass, Deny, allow; with and without
 * source-port ranges, S25) x random packets.
 * Habit 9: every fast path has an oracle.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { Resolution } from '../../src/resolve/resolver.js';
import { lower } from '../../src/rules/lower.js';
import { makeCidr, type Cidr, type Family } from '../../src/model/ip.js';
import type { Protocol } from '../../src/model/types.js';
import type { PolicyTier } from '../../src/model/verdict.js';
import type { Rule, RuleAction, RuleSet } from '../../src/rules/types.js';
import {
  ACT_ALLOW,
  ACT_DENY,
  ACT_PASS,
  ACT_REDIRECT,
  buildTables,
  CHUNK_U32,
  DIM_PEER,
  DIM_PORT,
  DIM_SUBJECT,
  PORTS,
  PROTO_CLASSES,
  SPORT_ANY,
  type BpfTables,
  type TablesInput,
} from '../../backends/ebpf/tables.js';

class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

const BITS = (f: Family): number => (f === 4 ? 32 : 128);
const BASE: Record<Family, bigint> = { 4: 0x0af40000n, 6: 0xfd000010024400000000000000000000n };

function randomAddr(r: Rng, f: Family): bigint {
  // inside a /16 (v4) or /48 (v6) so that prefixes overlap often
  const hostBits = f === 4 ? 16 : 80;
  let v = 0n;
  for (let i = 0; i < hostBits; i += 8) v = (v << 8n) | BigInt(r.int(f === 4 ? 4 : 256) & 0xff);
  return BASE[f] | (v & ((1n << BigInt(hostBits)) - 1n));
}

function randomPrefix(r: Rng, f: Family): Cidr {
  const len = r.next() < 0.5 ? BITS(f) : (f === 4 ? 16 : 48) + r.int(BITS(f) - (f === 4 ? 16 : 48));
  return makeCidr(f, randomAddr(r, f), len);
}

function randomInput(seed: number, sourcePorts = false): TablesInput {
  const r = new Rng(seed);
  const sets: Cidr[][] = [];
  for (let s = 0; s < 12; s++) {
    const n = 1 + r.int(5);
    sets.push(Array.from({ length: n }, () => randomPrefix(r, r.next() < 0.5 ? 4 : 6)));
  }
  const all: Rule[] = [];
  const table = (direction: 'ingress' | 'egress') => {
    const tiers: PolicyTier[] = ['Admin', 'NetworkPolicy', 'Baseline'];
    const specs = Array.from({ length: 20 + r.int(60) }, () => r.pick(tiers)).sort((a, b) => tiers.indexOf(a) - tiers.indexOf(b));
    const rules: Rule[] = specs.map((tier, priority) => {
      const protocol: Protocol | null = r.next() < 0.25 ? null : r.pick(['TCP', 'UDP', 'SCTP'] as const);
      const lo = r.pick([0, 1, 53, 80, 443, 1000, 8080, 30000]);
      const hi = protocol === null ? 65535 : Math.min(65535, lo + r.pick([0, 0, 1, 100, 5000]));
      const action: RuleAction =
        tier === 'NetworkPolicy' ? r.pick(['allow', 'allow', 'node-local', 'isolation-deny'] as const) : r.pick(['accept', 'deny', 'pass'] as const);
      const rule: Rule = {
        id: all.length,
        direction,
        tier,
        priority,
        subject: r.int(sets.length),
        peer: r.next() < 0.2 ? null : r.int(sets.length),
        protocol,
        dstPorts: protocol === null ? { lo: 0, hi: 65535 } : { lo, hi },
        srcPorts: sourcePorts && protocol !== null && r.next() < 0.4 ? sourceRange(r) : { lo: 0, hi: 65535 },
        action,
        origin: { stableId: `${direction}/${priority}` },
      };
      all.push(rule);
      return rule;
    });
    const start = (t: PolicyTier): number => {
      const i = rules.findIndex((x) => tiers.indexOf(x.tier) >= tiers.indexOf(t));
      return i < 0 ? rules.length : i;
    };
    return { rules, tierStart: { Admin: 0, NetworkPolicy: start('NetworkPolicy'), Baseline: start('Baseline'), end: rules.length } };
  };
  const ruleSet: RuleSet = { rules: all, egress: table('egress'), ingress: table('ingress'), namedPortGroups: new Map(), nodeLocalNodes: new Set() };
  // ids must index `rules`: the two tables were built one after the other
  return { ruleSet, prefixesOf: (s) => sets[s] ?? [] };
}

const covers = (c: Cidr, f: Family, v: bigint): boolean =>
  c.family === f && (c.prefixLen === 0 || v >> BigInt(BITS(f) - c.prefixLen) === c.base >> BigInt(BITS(f) - c.prefixLen));

type Verdict = { action: 'allow' | 'deny'; rule: number };

const SOURCE_EDGES = [0, 1, 1023, 1024, 20000, 20500, 32768, 40000, 65535];
function sourceRange(r: Rng): { lo: number; hi: number } {
  const lo = r.pick(SOURCE_EDGES);
  return { lo, hi: Math.min(65535, lo + r.pick([0, 1, 499, 8000, 65535])) };
}

/** The oracle: walk the direction's rules in order. */
function linear(
  input: TablesInput,
  dir: 'ingress' | 'egress',
  f: Family,
  subject: bigint,
  peer: bigint,
  proto: Protocol | 'OTHER',
  port: number,
  sport = 0,
): Verdict {
  const t = input.ruleSet[dir];
  const inSet = (s: number, v: bigint): boolean => input.prefixesOf(s).some((c) => covers(c, f, v));
  let i = 0;
  while (i < t.rules.length) {
    const r = t.rules[i]!;
    const protoOk =
      r.protocol === null ||
      (proto !== 'OTHER' && r.protocol === proto && r.dstPorts.lo <= port && port <= r.dstPorts.hi && r.srcPorts.lo <= sport && sport <= r.srcPorts.hi);
    if (inSet(r.subject, subject) && (r.peer === null || inSet(r.peer, peer)) && protoOk) {
      if (r.action === 'pass') {
        i = r.tier === 'Admin' ? t.tierStart.NetworkPolicy : t.tierStart.end;
        continue;
      }
      return { action: r.action === 'deny' || r.action === 'isolation-deny' ? 'deny' : 'allow', rule: r.priority };
    }
    i++;
  }
  return { action: 'allow', rule: -1 };
}

/** The tables read as the BPF program reads them. */
function viaTables(
  tb: BpfTables,
  dir: 'ingress' | 'egress',
  f: Family,
  subject: bigint,
  peer: bigint,
  proto: Protocol | 'OTHER',
  port: number,
  sport = 0,
): Verdict {
  const classOf = (v: bigint): number => {
    let best = -1;
    let cls = 0;
    const a = tb.addresses;
    for (let i = 0; i < a.families.length; i++) {
      if (a.families[i] !== f) continue;
      let base = 0n;
      for (let b = 0; b < (f === 4 ? 4 : 16); b++) base = (base << 8n) | BigInt(a.addrs[i * 16 + b]!);
      const len = a.prefixLens[i]!;
      if (len > best && covers({ family: f, base, prefixLen: len, text: '' }, f, v)) {
        best = len;
        cls = a.classIds[i]!;
      }
    }
    return cls;
  };
  const d = dir === 'ingress' ? 0 : 1;
  const pc = proto === 'TCP' ? 0 : proto === 'UDP' ? 1 : proto === 'SCTP' ? 2 : 3;
  const sourceClass = tb.portClasses[(PROTO_CLASSES + pc) * PORTS + (pc === 3 ? 0 : sport)]!;
  const classes = [classOf(subject), classOf(peer), tb.portClasses[pc * PORTS + (pc === 3 ? 0 : port)]!];
  // SPORT_ANY: no source-port row, as the datapath reads it (the destination row twice)
  classes.push(sourceClass === SPORT_ANY ? classes[2]! : sourceClass);
  const heads = [DIM_SUBJECT, DIM_PEER, DIM_PORT, DIM_PORT].map((dim, k) => {
    const h = tb.heads[d]![dim]!;
    return { mask: h.masks[classes[k]!]!, first: h.firstIndexes[classes[k]!]! };
  });
  const v = tb.verdicts[d]!;
  const bitAt = (h: { mask: bigint; first: number }, chunk: number, word: number): number => {
    if (!((h.mask >> BigInt(chunk)) & 1n)) return 0;
    let below = 0;
    for (let c = 0; c < chunk; c++) if ((h.mask >> BigInt(c)) & 1n) below++;
    const row = tb.index[h.first + below]!;
    return tb.rows[row * CHUNK_U32 + word]!;
  };
  let start = 0;
  for (let pass = 0; pass < 3; pass++) {
    let found = -1;
    for (let c = start >> 9; c < 64 && found < 0; c++) {
      for (let w = 0; w < CHUNK_U32 && found < 0; w++) {
        let x = bitAt(heads[0]!, c, w) & bitAt(heads[1]!, c, w) & bitAt(heads[2]!, c, w) & bitAt(heads[3]!, c, w);
        for (let b = 0; b < 32 && found < 0; b++) {
          const r = c * 512 + w * 32 + b;
          if (r >= start && (x >>> b) & 1) found = r;
        }
        x = 0;
      }
    }
    if (found < 0) return { action: 'allow', rule: -1 };
    if (v.actions[found] === ACT_PASS) {
      start = v.passTargets[found]!;
      continue;
    }
    expect([ACT_ALLOW, ACT_DENY]).toContain(v.actions[found]);
    return { action: v.actions[found] === ACT_DENY ? 'deny' : 'allow', rule: found };
  }
  return { action: 'allow', rule: -1 };
}

describe('eBPF tables = linear first-match walk over the RuleSet', () => {
  const cases = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => ({ seed, sourcePorts: false })).concat([11, 12, 13, 14, 15, 16].map((seed) => ({ seed, sourcePorts: true })));
  for (const { seed, sourcePorts } of cases) {
    it(`seed ${seed}${sourcePorts ? ' with source ports' : ''}: 1500 random packets, both directions, IPv4 and IPv6`, () => {
      const input = randomInput(seed, sourcePorts);
      const { tables, problems } = buildTables(input);
      expect(problems).toEqual([]);
      const r = new Rng(seed * 7919);
      let decidedByRule = 0;
      for (let i = 0; i < 1500; i++) {
        const f: Family = r.next() < 0.5 ? 4 : 6;
        // draw addresses from set members half of the time, so that rules match often
        const member = (): bigint => {
          const s = input.prefixesOf(r.int(12)).filter((c) => c.family === f);
          const c = s.length ? r.pick(s) : undefined;
          if (!c || r.next() < 0.3) return randomAddr(r, f);
          const hostBits = BITS(f) - c.prefixLen;
          return c.base | (hostBits ? randomAddr(r, f) & ((1n << BigInt(hostBits)) - 1n) : 0n);
        };
        const subject = member();
        const peer = member();
        const proto = r.pick(['TCP', 'UDP', 'SCTP', 'OTHER'] as const);
        const port = r.pick([0, 1, 53, 79, 80, 81, 443, 1000, 1100, 6000, 8080, 30000, 65535]);
        const dir = r.next() < 0.5 ? 'ingress' : 'egress';
        const sport = sourcePorts ? r.pick([...SOURCE_EDGES, 2, 1022, 1025, 19999, 20001, 20499, 20501, 33000, 48000]) : r.pick([0, 20000, 65535]);
        const want = linear(input, dir, f, subject, peer, proto, port, sport);
        const got = viaTables(tables!, dir, f, subject, peer, proto, port, sport);
        expect(got, `${dir} ${f} ${subject.toString(16)} -> ${peer.toString(16)} ${proto}/${port} sport ${sport}`).toEqual(want);
        if (sourcePorts) expect(tables!.portClasses[PROTO_CLASSES * PORTS]).not.toBe(SPORT_ANY);
        if (want.rule >= 0) decidedByRule++;
      }
      // the case must exercise rules, not only the default
      expect(decidedByRule).toBeGreaterThan(300);
    });
  }
});

describe('Redirect (S14): verdict and target of examples/s14-redirect', () => {
  it('the Redirect rule is PAL_ACT_REDIRECT with the endpoint 10.244.1.50:8080 per Service port; no other rule is', () => {
    const loaded = safeLoadCluster([fileURLToPath(new URL('../../examples/s14-redirect', import.meta.url))]);
    const cluster = loaded.cluster!;
    const resolution = new Resolution(cluster, cluster.networkPolicies);
    const ruleSet = lower(cluster, resolution);
    const { tables } = buildTables({ ruleSet, prefixesOf: (id) => resolution.prefixes(id) });
    const egress = ruleSet.egress.rules;
    const redirecting = egress.filter((r) => r.redirect).map((r) => r.priority);
    expect(redirecting.length).toBe(2); // TCP/80 and UDP/80
    const actions = tables!.verdicts[1]!.actions;
    egress.forEach((r) => expect(actions[r.priority] === ACT_REDIRECT).toBe(redirecting.includes(r.priority)));
    expect(tables!.verdicts[0]!.actions.includes(ACT_REDIRECT)).toBe(false);
    const t = tables!.redirects;
    expect([...t.rules]).toEqual(redirecting);
    for (let i = 0; i < t.rules.length; i++) {
      expect([...t.addrs.subarray(i * 32, i * 32 + 4)]).toEqual([10, 244, 1, 50]);
      expect([t.ports[i * 2], t.present[i * 2], t.present[i * 2 + 1]]).toEqual([8080, 1, 0]);
    }
  });
});
