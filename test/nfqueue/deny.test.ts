/**
 * Deny records -> deny log lines: the packed record layout of native/loop.h (records.ts), the
 * record -> RawDenyEvent step with the deciding Rule of the snapshot that decided (by version),
 * then the one deny-record builder (src/enforce/deny-record.ts) and line format
 * (src/enforce/deny-log.ts) with tier, policy and rule, and one line per denied flow however many
 * of its packets were dropped. No privileges needed.
 */
import { describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { PolicyCompiler } from '../../src/enforce/compiled.js';
import { formatDenyLine } from '../../src/enforce/deny-log.js';
import { denyRecord, FlowDedup } from '../../src/enforce/deny-record.js';
import { nativeNfqueue } from '../../src/native/binding.js';
import { decodeDenyRecords, DENY_RECORD_BYTES, denyEvent, type RawDeny } from '../../backends/nfqueue/records.js';
import { clientServer } from '../harness/fixtures.js';

const MANIFESTS = `${clientServer({ subnet: 8, appLabels: true })}---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: no-dns }
spec:
  tier: Admin
  priority: 5
  subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: client } } } }
  egress:
  - name: block-udp-53
    action: Deny
    to: [ { pods: { namespaceSelector: {}, podSelector: {} } } ]
    protocols: [ { udp: { destinationPort: { number: 53 } } } ]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: server-in, namespace: app }
spec:
  podSelector: { matchLabels: { app: server } }
  policyTypes: [Ingress]
  ingress:
  - from: [ { podSelector: { matchLabels: { app: client } } } ]
    ports: [ { protocol: TCP, port: 80 } ]
`;

function record(fields: { family: 4 | 6; proto: number; src: number[]; dst: number[]; srcPort: number; dstPort: number; direction: number; ruleId: number; timeNs: bigint; reason?: number; parseStatus?: number; version?: bigint }): Uint8Array {
  const b = new Uint8Array(DENY_RECORD_BYTES);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, fields.timeNs, true);
  b[8] = fields.family;
  b[9] = fields.proto;
  b[10] = fields.direction;
  b[11] = fields.reason ?? 0;
  v.setUint16(12, fields.srcPort, true);
  v.setUint16(14, fields.dstPort, true);
  v.setUint32(16, fields.ruleId, true);
  v.setUint16(20, 7, true);
  b[23] = fields.parseStatus ?? 0;
  b.set(fields.src, 24);
  b.set(fields.dst, 40);
  v.setBigUint64(56, fields.version ?? 3n, true);
  return b;
}

describe('nfqueue deny log', () => {
  const r = safeParseCluster(MANIFESTS, 'deny.test.yaml');
  if (!r.cluster) throw new Error(JSON.stringify(r.problems));
  const compiler = new PolicyCompiler();
  compiler.stage(r.cluster).commit();
  const policy = compiler.current()!;
  const parseStatus = nativeNfqueue().nfqConstants.parseStatus;
  // the loop published this rule set as snapshot 3; records of other versions name no rule
  const ruleSetOf = (v: number) => (v === 3 ? policy.ruleSet : undefined);
  const named = (d: RawDeny) => denyRecord('nfqueue', denyEvent(d, ruleSetOf, parseStatus), policy);
  const cnpRule = policy.ruleSet.rules.find((x) => x.origin.ref?.ruleName === 'block-udp-53')!;
  const isolation = policy.ruleSet.rules.find((x) => x.action === 'isolation-deny' && x.direction === 'ingress')!;

  it('decodes the packed record layout (IPv6 addresses in RFC 5952 text)', () => {
    const v6 = [0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x10];
    const [d] = decodeDenyRecords(record({ family: 6, proto: 17, src: v6, dst: [...v6.slice(0, 15), 0x20], srcPort: 40000, dstPort: 53, direction: 0, ruleId: cnpRule.id, timeNs: 1_700_000_000_123_000_000n }));
    expect(d).toMatchObject({ family: 6, proto: 17, src: 'fd00:10:244:8::10', dst: 'fd00:10:244:8::20', srcPort: 40000, dstPort: 53, direction: 'egress', reason: 'policy', ruleId: cnpRule.id, queue: 7, snapshotVersion: 3, timeMs: 1_700_000_000_123 });
  });

  it('names the Admin rule that denied (tier, Kind/name, rule name and index)', () => {
    const [d] = decodeDenyRecords(record({ family: 4, proto: 17, src: [10, 244, 8, 10], dst: [10, 244, 8, 20], srcPort: 40000, dstPort: 53, direction: 0, ruleId: cnpRule.id, timeNs: 1_700_000_000_000_000_000n }));
    expect(JSON.parse(formatDenyLine(named(d!)))).toEqual({
      time: '2023-11-14T22:13:20.000Z', backend: 'nfqueue', family: 4, protocol: 'UDP', src: '10.244.8.10', srcPort: 40000, dst: '10.244.8.20', dstPort: 53,
      direction: 'egress', tier: 'Admin', policy: 'ClusterNetworkPolicy/no-dns', rule: 'block-udp-53', ruleIndex: 0,
    });
  });

  it('names the isolating NetworkPolicy for an isolation deny (NetworkPolicy tier), from the compiled policy', () => {
    const [d] = decodeDenyRecords(record({ family: 4, proto: 6, src: [10, 244, 8, 10], dst: [10, 244, 8, 20], srcPort: 40001, dstPort: 8080, direction: 1, ruleId: isolation.id, timeNs: 1n }));
    expect(named(d!)).toMatchObject({ protocol: 'TCP', direction: 'ingress', tier: 'NetworkPolicy', policy: 'NetworkPolicy/app/server-in', isolatedBy: ['NetworkPolicy/app/server-in'] });
  });

  it('a record of a snapshot whose rule set is gone, and drops no rule decided, are named by reason', () => {
    const base = { family: 4 as const, proto: 6, src: [10, 244, 8, 10], dst: [10, 244, 8, 20], srcPort: 40001, dstPort: 8080, direction: 1, ruleId: isolation.id, timeNs: 1n };
    const old = decodeDenyRecords(record({ ...base, version: 2n }))[0]!;
    expect(denyEvent(old, ruleSetOf, parseStatus).rule).toBeUndefined();
    expect(named(old).policy).toBe('palisade/unknown');
    const frag = decodeDenyRecords(record({ ...base, reason: 1, ruleId: 0xffffffff, parseStatus: parseStatus.indexOf('non-first-fragment') }))[0]!;
    expect(named(frag).policy).toBe('palisade/unknown-fragment');
    const bad = decodeDenyRecords(record({ ...base, reason: 1, ruleId: 0xffffffff, parseStatus: parseStatus.indexOf('malformed') }))[0]!;
    expect(named(bad).policy).toBe('palisade/malformed-packet');
    const cut = decodeDenyRecords(record({ ...base, reason: 3, ruleId: 0xffffffff }))[0]!;
    expect(named(cut).policy).toBe('palisade/strict-cut');
  });

  it('one line per denied flow per window, however many packets were dropped', () => {
    const dedup = new FlowDedup(10_000);
    const mk = (srcPort: number, tMs: number) => decodeDenyRecords(record({ family: 4, proto: 17, src: [10, 244, 8, 10], dst: [10, 244, 8, 20], srcPort, dstPort: 53, direction: 0, ruleId: cnpRule.id, timeNs: BigInt(tMs) * 1_000_000n }))[0]!;
    expect([mk(1000, 0), mk(1000, 5), mk(1000, 9_999), mk(1001, 9_999), mk(1000, 10_000)].map((d) => dedup.first(d))).toEqual([true, false, false, true, true]);
  });
});
