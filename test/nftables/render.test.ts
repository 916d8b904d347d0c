/**
 * The renderer and the apply logic without a kernel: the JSON document's shape (one table, silent
 * drops, conntrack first, tier chains in order), and that pod churn becomes set-element deltas
 * with no chain rewrite, through a recording stand-in for the native glue.
 */
import { describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { PolicyCompiler } from '../../src/enforce/compiled.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { NflogPacket, NftNative } from '../../src/native/binding.js';
import type { NftCommand, NftDocument } from '../../backends/nftables/nft-json.js';
import { OBSERVED_SETS, parseObserveLogPrefix, renderDelete, renderFull, setName } from '../../backends/nftables/render.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { makeCidr } from '../../src/model/ip.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import { Resolution } from '../../src/resolve/index.js';
import { lower } from '../../src/rules/lower.js';

const YAML = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status: { addresses: [ { type: InternalIP, address: 10.244.200.1 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.1.10 }, { ip: "fd00:10:244:1::10" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.1.11 } ] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress:
  - from: [ { podSelector: { matchLabels: { app: web } } }, { ipBlock: { cidr: 10.244.0.0/16, except: [10.244.9.0/24] } } ]
    ports: [ { port: 5432 }, { protocol: UDP, port: 53, endPort: 60 } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: admin }
spec:
  tier: Admin
  priority: 5
  subject: { namespaces: {} }
  egress:
  - { name: pass-all, action: Pass, to: [ { networks: [ 10.244.0.0/16, 10.244.1.0/24 ] } ] }
  - { name: deny-sctp, action: Deny, to: [ { namespaces: {} } ], protocols: [ { sctp: { destinationPort: { number: 9 } } } ] }
`;

function cluster(yaml = YAML): Cluster {
  const r = safeParseCluster(yaml, 'render.test.yaml');
  if (!r.cluster) throw new Error(JSON.stringify(r.problems));
  return r.cluster;
}

class RecordingNative implements NftNative {
  docs: NftDocument[] = [];
  failNext = false;
  nftRun(json: string): string {
    const doc = JSON.parse(json) as NftDocument;
    // a fresh namespace: listing the table fails as libnftables does (ENOENT)
    if (doc.nftables.some((c) => 'list' in c)) throw Object.assign(new Error('No such file or directory'), { code: 'ERR_PALISADE_NFT' });
    if (this.failNext) {
      this.failNext = false;
      throw Object.assign(new Error('rejected'), { code: 'ERR_PALISADE_NFT' });
    }
    this.docs.push(doc);
    return '';
  }
  /** A netlink set-element batch, recorded as the equivalent element commands (one per element). */
  nftSetElements(sets: readonly string[], ops: Uint8Array, setIndex: Uint32Array, family: Uint8Array, addrs: Uint8Array): void {
    if (this.failNext) {
      this.failNext = false;
      throw Object.assign(new Error('rejected'), { code: 'ERR_PALISADE_NFT' });
    }
    const nftables = [...ops].map((op, i) => {
      const f = family[i] as 4 | 6;
      let v = 0n;
      for (const byte of addrs.subarray(16 * i, 16 * i + (f === 4 ? 4 : 16))) v = (v << 8n) | BigInt(byte);
      const text = makeCidr(f, v, f === 4 ? 32 : 128).text;
      const element = { family: 'inet', table: 'palisade', name: sets[setIndex[i]!]!, elem: [text.slice(0, text.indexOf('/'))] };
      return op === 1 ? { add: { element } } : { delete: { element } };
    });
    this.docs.push({ nftables } as NftDocument);
  }
  nftWithNetns<T>(_p: string, fn: () => T): T {
    return fn();
  }
  nflogOpen(): number {
    throw new Error('no NFLOG in the recording stand-in');
  }
  nflogDrain(): [] {
    return [];
  }
  nflogClose(): void {}
}

const verbOf = (c: NftCommand): string => Object.keys(c)[0]!;
const objectOf = (c: NftCommand): [string, Record<string, unknown>] => {
  const inner = c[verbOf(c)] as Record<string, Record<string, unknown>>;
  const kind = Object.keys(inner)[0]!;
  return [kind, inner[kind]!];
};

describe('nftables renderer', () => {
  const c = cluster();
  const res = new Resolution(c, c.networkPolicies);
  const rs = lower(c, res);
  const doc = renderFull({ ruleSet: rs, members: (id) => res.prefixes(id), interval: (id) => res.definition(id).kind === 'prefixes' });

  it('replaces table inet palisade in place in one document and touches nothing else', () => {
    expect(`${verbOf(doc.nftables[0]!)} ${objectOf(doc.nftables[0]!)[0]}`).toBe('add table');
    // never delete + re-create the table or a base chain: that is not atomic under load (render.ts)
    expect(doc.nftables.some((x) => verbOf(x) === 'delete' && ['table', 'chain'].includes(objectOf(x)[0]))).toBe(false);
    const flushed = doc.nftables.filter((x) => verbOf(x) === 'flush' && objectOf(x)[0] === 'chain').map((x) => objectOf(x)[1].name);
    expect(flushed).toEqual(['forward', 'input', 'output', 'egress_admin', 'egress_np', 'egress_baseline', 'ingress_admin', 'ingress_np', 'ingress_baseline']);
    for (const cmd of doc.nftables) {
      const [kind, o] = objectOf(cmd);
      expect(o.family).toBe('inet');
      expect(kind === 'table' ? o.name : o.table).toBe('palisade');
    }
    expect(renderDelete().nftables).toEqual([
      { add: { table: { family: 'inet', name: 'palisade' } } },
      { delete: { table: { family: 'inet', name: 'palisade' } } },
    ]);
  });

  it('over an earlier table: flushes and deletes what is no longer used, after the rules that used it are gone', () => {
    const set0 = setName(0, 4, res.definition(0).kind === 'prefixes');
    const again = renderFull({ ruleSet: rs, members: (id) => res.prefixes(id), interval: (id) => res.definition(id).kind === 'prefixes' }, { chains: ['forward', 'old_chain'], sets: [set0, 'p999v4'] });
    const text = again.nftables.map((x) => `${verbOf(x)} ${objectOf(x)[0]} ${String(objectOf(x)[1].name ?? objectOf(x)[1].chain ?? '')}`);
    const at = (line: string): number => text.indexOf(line);
    expect(at('delete set p999v4')).toBeGreaterThan(at('flush chain ingress_baseline'));
    expect(at('delete chain old_chain')).toBeGreaterThan(at('flush chain old_chain'));
    expect(at(`delete set ${set0}`)).toBe(-1);
    expect(at(`flush set ${set0}`)).toBeGreaterThan(0);
  });

  it('on a table known absent: every set is added and filled but not flushed; otherwise every set is flushed', () => {
    const input = { ruleSet: rs, members: (id: number) => res.prefixes(id), interval: (id: number) => res.definition(id).kind === 'prefixes' };
    const fresh = renderFull(input, undefined, { tableAbsent: true });
    const kinds = (d: typeof doc, verb: string): string[] => d.nftables.filter((x) => verbOf(x) === verb && objectOf(x)[0] === 'set').map((x) => String(objectOf(x)[1].name));
    expect(kinds(fresh, 'flush')).toEqual([]);
    expect(kinds(fresh, 'add')).toEqual(kinds(doc, 'add'));
    expect(kinds(doc, 'flush')).toEqual(kinds(doc, 'add'));
    // the same commands otherwise, in the same order
    expect(fresh.nftables).toEqual(doc.nftables.filter((x) => !(verbOf(x) === 'flush' && objectOf(x)[0] === 'set')));
  });

  it('drops denied flows silently (no reject anywhere) and accepts established/related first', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('reject');
    expect(text).toContain('"drop":null');
    const rules = doc.nftables.filter((x) => objectOf(x)[0] === 'rule').map((x) => objectOf(x)[1]);
    for (const hook of ['forward', 'input', 'output']) {
      const first = rules.find((r) => r.chain === hook)!;
      expect(JSON.stringify(first.expr)).toBe(JSON.stringify([{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }]));
    }
  });

  it('emits each tier chain in priority order, once per family, ending in the next tier', () => {
    const rules = doc.nftables.filter((x) => objectOf(x)[0] === 'rule').map((x) => objectOf(x)[1]);
    const egressAdmin = rules.filter((r) => r.chain === 'egress_admin');
    // 2 lowered rules x 2 families, then the fall-through
    expect(egressAdmin.map((r) => r.comment ?? '-')).toEqual([
      ...Array(2).fill(rs.egress.rules[0]!.origin.stableId),
      ...Array(2).fill(rs.egress.rules[1]!.origin.stableId),
      '-',
    ]);
    expect(egressAdmin.at(-1)!.expr).toEqual([{ goto: { target: 'egress_np' } }]);
    expect(rules.filter((r) => r.chain === 'ingress_baseline').at(-1)!.expr).toEqual([{ accept: null }]);
    // Admin Pass -> the NetworkPolicy tier of the same direction
    expect(JSON.stringify(egressAdmin[0]!.expr)).toContain('{"goto":{"target":"egress_np"}}');
  });

  it('makes interval sets only for prefixes; pod and node sets are plain hash sets', () => {
    const sets = doc.nftables.filter((x) => verbOf(x) === 'add' && objectOf(x)[0] === 'set').map((x) => objectOf(x)[1]);
    const observed = Object.values(OBSERVED_SETS) as string[];
    // the observed-subject sets are always declared, as plain hash sets of host addresses
    expect(sets.filter((x) => observed.includes(String(x.name))).map((x) => [x.name, x.flags])).toEqual(observed.map((n) => [n, undefined]));
    for (const set of sets.filter((x) => !observed.includes(String(x.name)))) {
      const id = Number(/^[hp](\d+)v[46]$/.exec(String(set.name))![1]);
      const prefixes = res.definition(id).kind === 'prefixes';
      expect(set.flags).toEqual(prefixes ? ['interval'] : undefined);
      expect(String(set.name).startsWith(prefixes ? 'p' : 'h')).toBe(true);
    }
    expect(sets.some((x) => x.flags === undefined)).toBe(true);
    expect(sets.some((x) => x.flags !== undefined)).toBe(true);
  });

  it('writes overlapping prefixes of one set as disjoint elements', () => {
    const elems = doc.nftables.filter((x) => verbOf(x) === 'add' && objectOf(x)[0] === 'element').map((x) => objectOf(x)[1]);
    const wide = elems.find((e) => JSON.stringify(e.elem).includes('"len":16'));
    expect(wide).toBeDefined();
    expect(JSON.stringify(wide!.elem)).not.toContain('"len":24');
  });
});

describe('NftablesBackend through Enforcement (recording stand-in for the kernel)', () => {
  const setup = (): { native: RecordingNative; backend: NftablesBackend; enf: Enforcement } => {
    const native = new RecordingNative();
    const backend = new NftablesBackend({ native });
    return { native, backend, enf: new Enforcement(backend) };
  };

  it('turns pod churn into set-element deltas without a chain rewrite', async () => {
    const { native, enf } = setup();
    const c = cluster();
    expect((await enf.apply(c)).kind).toBe('full');
    const web = c.pods.find((p) => p.name === 'web')!;
    const relabelled: Pod = { ...web, labels: { app: 'other' } };
    const report = await enf.applyChanges([{ kind: 'pod', pod: relabelled }]);
    expect([report.update, report.kind]).toEqual(['deltas', 'deltas']);
    const last = native.docs.at(-1)!;
    expect(last.nftables.every((x) => objectOf(x)[0] === 'element')).toBe(true);
    expect(JSON.stringify(last)).toContain('"delete":{"element"');
    expect(JSON.stringify(last)).toContain('10.244.1.10');
    // and back again: the element comes back
    const back = await enf.applyChanges([{ kind: 'pod', pod: web }]);
    expect(back.kind).toBe('deltas');
    expect(JSON.stringify(native.docs.at(-1))).toContain('"add":{"element"');
  });

  it('after a rejected transaction keeps its state: the same change then yields the same deltas', async () => {
    const { native, enf } = setup();
    const c = cluster();
    await enf.apply(c);
    const generation = enf.current()!.generation;
    const web = c.pods.find((p) => p.name === 'web')!;
    const change = { kind: 'pod' as const, pod: { ...web, labels: { app: 'other' } } };
    native.failNext = true;
    await expect(enf.applyChanges([change])).rejects.toMatchObject({ code: 'ERR_PALISADE_NFT' });
    expect(enf.current()!.generation).toBe(generation);
    const n = native.docs.length;
    await enf.applyChanges([change]);
    expect(native.docs.length).toBe(n + 1);
    expect(JSON.stringify(native.docs.at(-1))).toContain('"delete":{"element"');
  });

  it('after a rejected install, the next install replaces the same table contents (memory unchanged)', async () => {
    const { native, backend, enf } = setup();
    const c = cluster();
    await enf.apply(c);
    const rules = backend.ruleSet;
    native.failNext = true;
    const other: Cluster = { ...c, networkPolicies: [] };
    await expect(enf.apply(other)).rejects.toMatchObject({ code: 'ERR_PALISADE_NFT' });
    expect(backend.ruleSet).toBe(rules);
    await enf.apply(other);
    // no policy left uses the db-from-web sets: the replacement deletes them, as from the first table
    const del = native.docs.at(-1)!.nftables.filter((x) => verbOf(x) === 'delete' && objectOf(x)[0] === 'set');
    expect(del.length).toBeGreaterThan(0);
  });

  it('re-lowers only when a change outgrows the rules (a named-port group they have not seen)', async () => {
    const { enf } = setup();
    const base = safeParseCluster(
      `${YAML}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: to-sql, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [ { ports: [ { port: sql } ] } ]
`,
      'named.yaml',
    ).cluster!;
    const db = base.pods.find((p) => p.name === 'db')!;
    const withSql = (name: string, ip: string, port: number): Pod => ({
      ...db,
      name,
      ips: [{ ...db.ips[0]!, text: ip, value: BigInt(ip.split('.').reduce((a, o) => a * 256 + Number(o), 0)) }],
      containerPorts: [{ name: 'sql', containerPort: port, protocol: 'TCP' }],
    });
    await enf.apply({ ...base, pods: [...base.pods, withSql('db1', '10.244.1.21', 5432)] });
    // same group (sql TCP/5432): a membership change
    expect((await enf.applyChanges([{ kind: 'pod', pod: withSql('db2', '10.244.1.22', 5432) }])).kind).toBe('deltas');
    // a new group (sql TCP/6432): the rules must be split again
    expect((await enf.applyChanges([{ kind: 'pod', pod: withSql('db3', '10.244.1.23', 6432) }])).kind).toBe('full');
  });

  it('refuses deltas against a rule set that is not in force', async () => {
    const { backend } = setup();
    const compiler = new PolicyCompiler();
    const staged = compiler.stage(cluster());
    await expect(backend.applyDeltas(staged.update.policy, [])).rejects.toMatchObject({ code: 'ERR_PALISADE_NOT_APPLIED' });
    await backend.install(staged.update.policy);
    staged.commit();
    const other = compiler.stage({ ...cluster(), networkPolicies: [] });
    await expect(backend.applyDeltas(other.update.policy, [])).rejects.toMatchObject({ code: 'ERR_PALISADE_RULES_CHANGED' });
    other.rollback();
  });

  it('remove deletes only the table; after Enforcement.remove the same cluster is installed again', async () => {
    const { native, backend, enf } = setup();
    const c = cluster();
    await enf.apply(c);
    const generation = enf.current()!.generation;
    await enf.remove();
    expect(native.docs.at(-1)).toEqual(renderDelete());
    expect(backend.ruleSet).toBeUndefined();
    expect(enf.current()).toBeUndefined();
    const again = await enf.apply(c);
    expect([again.update, again.kind]).toEqual(['install', 'full']);
    expect(again.generation).toBe(generation + 1);
  });
});

describe('NftablesBackend deny log: the deciding rule from the NFLOG prefix', () => {
  class LoggingNative extends RecordingNative {
    queued: NflogPacket[] = [];
    override nflogOpen(): number {
      return 7;
    }
    override nflogDrain(): [] {
      const out = this.queued;
      this.queued = [];
      return out as unknown as [];
    }
  }
  const prefixesOf = (doc: NftDocument): string[] =>
    doc.nftables.flatMap((x) => (objectOf(x)[0] === 'rule' ? ((objectOf(x)[1].expr as Record<string, { prefix?: string }>[]).map((e) => e.log?.prefix).filter((p): p is string => p !== undefined && parseObserveLogPrefix(p) === undefined)) : []));

  it('names the rule of the install that logged the packet, across a replacement', async () => {
    const native = new LoggingNative();
    const backend = new NftablesBackend({ native, denyLog: { group: 3 } });
    const enf = new Enforcement(backend);
    const c = cluster();
    await enf.apply(c);
    const first = prefixesOf(native.docs.at(-1)!);
    expect(first.length).toBeGreaterThan(0);
    const firstRules = backend.ruleSet!;
    // a replacement with other rules (no NetworkPolicy): new prefixes, other rule ids
    await enf.apply({ ...c, networkPolicies: [] });
    const second = prefixesOf(native.docs.at(-1)!);
    expect(second.some((p) => first.includes(p))).toBe(false);
    const packet = (prefix: string): NflogPacket => ({ prefix, family: 4, protocol: 6, src: '10.244.1.10', dst: '10.244.1.11', srcPort: 40000, dstPort: 80 });
    native.queued = [packet(first[0]!), packet(second[0]!), packet('someone else 1:2'), packet('palisade 99:0')];
    const events = backend.drainDenied();
    const idOf = (p: string): number => Number(p.split(':')[1]);
    expect(events.map((e) => e.rule?.origin.stableId)).toEqual([firstRules.rules[idOf(first[0]!)]!.origin.stableId, backend.ruleSet!.rules[idOf(second[0]!)]!.origin.stableId, undefined]);
    expect(events[0]).toMatchObject({ family: 4, proto: 6, srcPort: 40000, dstPort: 80, reason: 'policy' });
  });

  it('refuses drainDenied when deny logging is off', () => {
    expect(() => new NftablesBackend({ native: new RecordingNative() }).drainDenied()).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_NO_DENY_LOG' }));
  });
});

describe('nftables renderer: Redirect (S14) nat chains', () => {
  const REDIRECT = `
---
apiVersion: v1
kind: Namespace
metadata: { name: iam }
---
apiVersion: v1
kind: Service
metadata: { name: proxy, namespace: iam }
spec: { clusterIP: 10.244.240.30, clusterIPs: [10.244.240.30], ports: [ { name: http, protocol: TCP, port: 80, targetPort: 8080 } ] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: proxy-1, namespace: iam, labels: { kubernetes.io/service-name: proxy } }
addressType: IPv4
endpoints: [ { addresses: [ 10.244.1.60, 10.244.1.50 ] } ]
ports: [ { name: http, protocol: TCP, port: 8080 } ]
---
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: via-proxy }
spec:
  tier: Admin
  priority: 1
  subject: { namespaces: {} }
  egress:
  - { name: meta, action: Redirect, redirect: { service: { namespace: iam, name: proxy } }, to: [ { networks: [ 169.254.169.254/32 ] } ] }
`;
  const render = (yaml: string) => {
    const c = cluster(yaml);
    const res = new Resolution(c, c.networkPolicies);
    const rs = lower(c, res);
    return renderFull({ ruleSet: rs, members: (id) => res.prefixes(id), interval: (id) => res.definition(id).kind === 'prefixes' }).nftables;
  };
  const chainsAdded = (cmds: readonly NftCommand[]) => cmds.filter((x) => verbOf(x) === 'add' && objectOf(x)[0] === 'chain').map((x) => objectOf(x)[1]);
  const rulesOf = (cmds: readonly NftCommand[], chain: string) => cmds.filter((x) => verbOf(x) === 'add' && objectOf(x)[0] === 'rule' && objectOf(x)[1].chain === chain).map((x) => JSON.stringify(objectOf(x)[1].expr));

  it('without a Redirect rule: no nat chain and no mark rule (the table is as before)', () => {
    const cmds = render(YAML);
    expect(chainsAdded(cmds).some((c) => String(c.name).startsWith('redirect'))).toBe(false);
    expect(JSON.stringify(cmds)).not.toContain('"mark"');
  });

  it('with one: a nat base chain at prerouting before kube-proxy, DNAT to the lowest endpoint on the target port, IPv4 only', () => {
    const cmds = render(YAML + REDIRECT);
    expect(chainsAdded(cmds).find((c) => c.name === 'redirect')).toMatchObject({ type: 'nat', hook: 'prerouting', prio: -110 });
    const dnats = rulesOf(cmds, 'redirect_admin').filter((e) => e.includes('"dnat"'));
    expect(dnats).toHaveLength(1); // the Service has no IPv6 ClusterIP: no IPv6 DNAT
    expect(dnats[0]).toContain('{"dnat":{"family":"ip","addr":"10.244.1.50","port":8080}}');
    expect(dnats[0]).toContain('"mangle"');
    // the filter's egress decision for a redirected flow comes first
    expect(rulesOf(cmds, 'egress_admin')[0]).toContain('"mark"');
  });
});
