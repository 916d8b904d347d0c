/**
 * Pair rules (backends/nftables/pairs.ts) without a kernel: the per-pod domainNames rules of one
 * origin rule render as ONE rule per (protocol, ports) group and family over a concatenated set of
 * (pod address . learned address) pairs, in the place of the per-pod rules; their per-pod subject
 * and learned sets are not rendered; the port groups of one origin rule share one pair set;
 * learned deltas and a subject pod's address change become pair-element destroys and adds.
 * Documents go through a recording stand-in for the native glue (JSON path, no netlink program).
 */
import { describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import type { NftCommand, NftDocument } from '../../backends/nftables/nft-json.js';
import { pairDeltas, pairIndex, planPairs, type PairPlan } from '../../backends/nftables/pairs.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { makeCidr, parseIp, type Cidr } from '../../src/model/ip.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import type { NftNative } from '../../src/native/binding.js';
import type { SetDelta } from '../../src/resolve/index.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';

const pod = (name: string, ips: string[]): string => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: app, labels: { app: ${name} } }
spec: { nodeName: node-a }
status: { podIPs: [ ${ips.map((i) => `{ ip: "${i}" }`).join(', ')} ] }
`;

const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status: { addresses: [ { type: InternalIP, address: 10.244.100.1 } ] }
${pod('a', ['10.244.1.10', 'fd00:10:244:1::10'])}${pod('b', ['10.244.1.11'])}${pod('c', ['10.244.1.12'])}---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - { name: dns, action: Accept, to: [ { networks: [ 10.244.250.10/32 ] } ] }
  - name: names
    action: Accept
    to: [ { domainNames: [ db.example.test ] } ]
    protocols: [ { tcp: { destinationPort: { number: 80 } } }, { tcp: { destinationPort: { number: 443 } } } ]
  - { name: rest, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ] }
`;

function cluster(): Cluster {
  const r = safeParseCluster(YAML, 'pairs.test.yaml');
  if (!r.cluster) throw new Error(JSON.stringify(r.problems));
  return r.cluster;
}

interface Recorded {
  readonly op: number;
  readonly set: string;
  readonly key: string;
  readonly timeoutMs: number;
}

/** Records JSON documents and netlink set-element batches (pairs decoded as `a . b`). */
class Recording implements NftNative {
  docs: NftDocument[] = [];
  batches: Recorded[][] = [];
  nftRun(json: string): string {
    const doc = JSON.parse(json) as NftDocument;
    if (doc.nftables.some((c) => 'list' in c)) throw Object.assign(new Error('No such file or directory'), { code: 'ERR_PALISADE_NFT' });
    this.docs.push(doc);
    return '';
  }
  nftSetElements(sets: readonly string[], ops: Uint8Array, setIndex: Uint32Array, family: Uint8Array, addrs: Uint8Array, timeoutMs: Uint32Array): void {
    const stride = ops.length > 0 ? addrs.length / ops.length : 16;
    const text = (f: 4 | 6, at: number): string => {
      let v = 0n;
      for (const byte of addrs.subarray(at, at + (f === 4 ? 4 : 16))) v = (v << 8n) | BigInt(byte);
      const t = makeCidr(f, v, f === 4 ? 32 : 128).text;
      return t.slice(0, t.indexOf('/'));
    };
    this.batches.push(
      [...ops].map((op, i) => {
        const code = family[i]!;
        const f = (code > 6 ? code / 11 : code) as 4 | 6;
        const key = code > 6 ? `${text(f, stride * i)} . ${text(f, stride * i + (f === 4 ? 4 : 16))}` : text(f, stride * i);
        return { op, set: sets[setIndex[i]!]!, key, timeoutMs: timeoutMs[i]! };
      }),
    );
  }
  nftWithNetns<T>(_p: string, fn: () => T): T {
    return fn();
  }
  nflogOpen(): number {
    throw new Error('no NFLOG here');
  }
  nflogDrain(): [] {
    return [];
  }
  nflogClose(): void {}
}

const rulesOf = (doc: NftDocument, chain: string): Record<string, unknown>[] =>
  doc.nftables.flatMap((c: NftCommand) => {
    const r = (c.add as { rule?: Record<string, unknown> } | undefined)?.rule;
    return r && r.chain === chain ? [r] : [];
  });
const setsOf = (doc: NftDocument): Record<string, unknown>[] =>
  doc.nftables.flatMap((c: NftCommand) => {
    const s = (c.add as { set?: Record<string, unknown> } | undefined)?.set;
    return s ? [s] : [];
  });
const isPairRule = (r: Record<string, unknown>): boolean => JSON.stringify(r.expr).includes('"concat"');
const dport = (r: Record<string, unknown>): unknown => (r.expr as { match?: { left?: { payload?: { field?: string } }; right?: unknown } }[]).find((e) => e.match?.left?.payload?.field === 'dport')?.match?.right;

describe('nftables pair rules (recording stand-in)', () => {
  const setup = (pairRules?: boolean) => {
    const native = new Recording();
    const backend = new NftablesBackend({ native, ...(pairRules === false ? { pairRules } : {}) });
    return { native, backend, enf: new Enforcement(backend) };
  };

  it('one rule per group and family, in the per-pod rules place, over one shared pair set', async () => {
    const { native, enf } = setup();
    await enf.apply(cluster());
    const doc = native.docs.at(-1)!;
    const chain = rulesOf(doc, 'egress_admin').filter((r) => typeof r.comment === 'string');
    // dns, then the pair rules: port 80 v4, v6; port 443 v4, v6; then rest. dns and rest have IPv4
    // prefix peers only: no IPv6 twin (render.ts RenderInput.absentIn)
    expect(chain.map((r) => [r.comment, isPairRule(r), dport(r) ?? null])).toEqual([
      ['Admin/ClusterNetworkPolicy/fqdn/egress/0', false, null],
      ['Admin/ClusterNetworkPolicy/fqdn/egress/1', true, 80],
      ['Admin/ClusterNetworkPolicy/fqdn/egress/1', true, 80],
      ['Admin/ClusterNetworkPolicy/fqdn/egress/1', true, 443],
      ['Admin/ClusterNetworkPolicy/fqdn/egress/1', true, 443],
      ['Admin/ClusterNetworkPolicy/fqdn/egress/2', false, null],
    ]);
    expect(JSON.stringify(chain[0]!.expr)).toContain('"protocol":"ip","field":"saddr"');
    const pairMatch = chain.filter(isPairRule).map((r) => (r.expr as { match: { left: unknown; right: unknown } }[])[0]!.match);
    expect(pairMatch[0]).toEqual({ op: '==', left: { concat: [{ payload: { protocol: 'ip', field: 'saddr' } }, { payload: { protocol: 'ip', field: 'daddr' } }] }, right: '@c0v4' });
    expect(pairMatch[1]!.right).toBe('@c0v6');
    expect(pairMatch[3]!.right).toBe('@c0v6'); // the port groups share one pair set
    // sets: the pair sets (concatenated, timeout) and no per-pod subject or learned set
    const sets = setsOf(doc);
    expect(sets.filter((s) => /^c\d+v[46]$/.test(String(s.name))).map((s) => [s.name, s.type, s.flags])).toEqual([
      ['c0v4', ['ipv4_addr', 'ipv4_addr'], ['timeout']],
      ['c0v6', ['ipv6_addr', 'ipv6_addr'], ['timeout']],
    ]);
    expect(sets.filter((s) => String(s.name).startsWith('t'))).toEqual([]);
    // per family: the app pods (S0), isolation and node sets (S9-S12), the pair set, observed;
    // the dns and rest peers (S1, S8) in IPv4 only; none of the per-pod subject and learned sets S2-S7
    const twins = (n: string): string[] => [`${n}v4`, `${n}v6`];
    expect(sets.map((s) => s.name)).toEqual([...twins('h0'), 'p1v4', 'p8v4', ...['h9', 'h10', 'h11', 'h12', 'c0', 'observed'].flatMap(twins)]);
  });

  it('renders as before with pairRules false (one rule per pod, port and family; per-pod sets)', async () => {
    const { native, enf } = setup(false);
    await enf.apply(cluster());
    const doc = native.docs.at(-1)!;
    const chain = rulesOf(doc, 'egress_admin').filter((r) => r.comment === 'Admin/ClusterNetworkPolicy/fqdn/egress/1');
    expect(chain.length).toBe(3 * 2 * 2);
    expect(chain.some(isPairRule)).toBe(false);
    expect(setsOf(doc).filter((s) => String(s.name).startsWith('t')).length).toBe(3 * 2);
  });

  it('a learned address becomes pairs with the subject pod addresses of its family, with its timeout', async () => {
    const { native, enf } = setup();
    await enf.apply(cluster());
    const now = Date.now();
    const key = (address: string) => ({ pod: 'app/a', name: 'db.example.test', address: parseIp(address)!, expiresAtMs: now + 60_000 });
    const r = await enf.learn([key('203.0.113.5'), key('2001:db8::5')]);
    expect(r.kind).toBe('deltas');
    const batch = native.batches.at(-1)!;
    expect(batch.map((e) => [e.op, e.set, e.key])).toEqual([
      [1, 'c0v4', '10.244.1.10 . 203.0.113.5'],
      [1, 'c0v6', 'fd00:10:244:1::10 . 2001:db8::5'],
    ]);
    for (const e of batch) expect(e.timeoutMs).toBeGreaterThan(55_000);
    // the same name learned by b: its own pair (scope: a's pairs name a's address only)
    await enf.learn([{ ...key('203.0.113.5'), pod: 'app/b' }]);
    expect(native.batches.at(-1)!.map((e) => [e.op, e.set, e.key])).toEqual([[1, 'c0v4', '10.244.1.11 . 203.0.113.5']]);
    // a retime (a later answer) is destroy + add with the new timeout
    await enf.learn([{ ...key('203.0.113.5'), expiresAtMs: now + 120_000 }]);
    const retime = native.batches.at(-1)!;
    expect(retime.map((e) => [e.op, e.set, e.key])).toEqual([
      [2, 'c0v4', '10.244.1.10 . 203.0.113.5'],
      [1, 'c0v4', '10.244.1.10 . 203.0.113.5'],
    ]);
    expect(retime[1]!.timeoutMs).toBeGreaterThan(115_000);
    // a removal is a destroy
    await enf.learn([], [key('2001:db8::5')]);
    expect(native.batches.at(-1)!.map((e) => [e.op, e.set, e.key])).toEqual([[2, 'c0v6', 'fd00:10:244:1::10 . 2001:db8::5']]);
  });

  it("a subject pod's address change re-pairs its learned addresses (and only its own)", async () => {
    const { native, enf } = setup();
    const c = cluster();
    await enf.apply(c);
    await enf.learn([{ pod: 'app/a', name: 'db.example.test', address: parseIp('203.0.113.5')!, expiresAtMs: Date.now() + 60_000 }]);
    const a = c.pods.find((p) => p.name === 'a')!;
    const moved: Pod = { ...a, ips: [parseIp('10.244.1.20')!, a.ips[1]!] };
    const r = await enf.applyChanges([{ kind: 'pod', pod: moved }]);
    expect([r.update, r.kind]).toEqual(['deltas', 'deltas']);
    const batch = native.batches.at(-1)!;
    expect(batch.filter((e) => e.set.startsWith('c')).map((e) => [e.op, e.set, e.key])).toEqual([
      [2, 'c0v4', '10.244.1.10 . 203.0.113.5'],
      [1, 'c0v4', '10.244.1.20 . 203.0.113.5'],
    ]);
    expect(batch.find((e) => e.op === 1 && e.set === 'c0v4')!.timeoutMs).toBeGreaterThan(55_000);
    // the JSON delta path (deltasByJson) rewrites the touched pair set whole: same end state
    const json = { native: new Recording() };
    const viaJson = new Enforcement(new NftablesBackend({ native: json.native, deltasByJson: true }));
    await viaJson.apply(c);
    await viaJson.learn([{ pod: 'app/a', name: 'db.example.test', address: parseIp('203.0.113.5')!, expiresAtMs: Date.now() + 60_000 }]);
    await viaJson.applyChanges([{ kind: 'pod', pod: moved }]);
    const last = JSON.stringify(json.native.docs.at(-1));
    expect(last).toContain('"flush":{"set":{"family":"inet","table":"palisade","name":"c0v4"}}');
    expect(last).toContain('{"concat":["10.244.1.20","203.0.113.5"]}');
    expect(last).not.toContain('{"concat":["10.244.1.10"');
  });
});

describe('nftables pair rules: no IPv6 pair set while no subject has an IPv6 address', () => {
  it('leaves out the v6 pair set and rules; the first v6 pair reinstalls the table with them', async () => {
    const native = new Recording();
    const enf = new Enforcement(new NftablesBackend({ native }));
    const c = cluster();
    const v4only: Cluster = { ...c, pods: c.pods.map((p) => ({ ...p, ips: p.ips.filter((i) => i.family === 4) })) };
    await enf.apply(v4only);
    const doc = native.docs.at(-1)!;
    expect(setsOf(doc).map((x) => x.name).filter((n) => String(n).startsWith('c'))).toEqual(['c0v4']);
    expect(rulesOf(doc, 'egress_admin').filter(isPairRule).length).toBe(2); // ports 80 and 443, IPv4 only
    // a v6 address learned while the pod has none: no pair, no kernel change
    const key = { pod: 'app/a', name: 'db.example.test', address: parseIp('2001:db8::5')!, expiresAtMs: Date.now() + 60_000 };
    expect((await enf.learn([key])).kind).toBe('none');
    // the pod gets its v6 address: the pair needs c0v6, which is not in the table: a full install
    const a = v4only.pods.find((p) => p.name === 'a')!;
    const r = await enf.applyChanges([{ kind: 'pod', pod: { ...a, ips: [...a.ips, parseIp('fd00:10:244:1::10')!] } }]);
    expect([r.update, r.kind]).toEqual(['deltas', 'full']);
    const again = native.docs.at(-1)!;
    expect(setsOf(again).map((x) => x.name).filter((n) => String(n).startsWith('c'))).toEqual(['c0v4', 'c0v6']);
    expect(rulesOf(again, 'egress_admin').filter(isPairRule).length).toBe(4);
    expect(JSON.stringify(again)).toContain('{"concat":["fd00:10:244:1::10","2001:db8::5"]}');
  });
});

describe('pairDeltas (pure)', () => {
  const cidr = (t: string): Cidr => {
    const ip = parseIp(t)!;
    return makeCidr(ip.family, ip.value, ip.family === 4 ? 32 : 128);
  };
  // two one-pod rules of one origin: sources (subject 1, learned 2) and (subject 3, learned 4)
  const rule = (id: number, subject: number, peer: number): Rule =>
    ({ id, direction: 'egress', tier: 'Admin', priority: id, subject, peer, protocol: null, dstPorts: { lo: 0, hi: 65535 }, srcPorts: { lo: 0, hi: 65535 }, action: 'accept', origin: { stableId: 'x' } }) as Rule;
  const rs = { rules: [rule(0, 1, 2), rule(1, 3, 4)], egress: { rules: [rule(0, 1, 2), rule(1, 3, 4)] }, ingress: { rules: [] } } as unknown as RuleSet;
  const plan: PairPlan = planPairs(rs, () => true);

  it('folds a run into one pair set with both sources', () => {
    expect(plan.sets).toEqual([[{ subject: 1, learned: 2 }, { subject: 3, learned: 4 }]]);
    expect([...plan.folded]).toEqual([[0, { set: 0, head: true }], [1, { set: 0, head: false }]]);
  });

  it('a pair two pods hold in passing (an address reused) stays while one of them still holds it', () => {
    const members = new Map<number, Cidr[]>([
      [1, [cidr('10.244.1.1')]],
      [2, [cidr('203.0.113.9')]],
      [3, [cidr('10.244.1.1')]],
      [4, [cidr('203.0.113.9')]],
    ]);
    const index = pairIndex(plan, (id) => members.get(id) ?? []);
    // pod 1 leaves the address: (10.244.1.1 . 203.0.113.9) still comes from source 2 -> re-added, not lost
    members.set(1, []);
    const d: SetDelta[] = [{ set: 1, added: [], removed: [cidr('10.244.1.1')] }];
    const changes = pairDeltas(index, d, (id) => members.get(id) ?? [], () => Infinity);
    expect(changes.map((c) => [c.op, c.element.subject.text, c.element.peer.text])).toEqual([
      ['destroy', '10.244.1.1/32', '203.0.113.9/32'],
      ['add', '10.244.1.1/32', '203.0.113.9/32'],
    ]);
    // and when the second pod leaves it too, the pair goes
    members.set(3, []);
    const gone = pairDeltas(index, [...d, { set: 3, added: [], removed: [cidr('10.244.1.1')] }], (id) => members.get(id) ?? [], () => Infinity);
    expect(gone.map((c) => c.op)).toEqual(['destroy']);
  });
});
