/**
 * nfqueue writes learned DNS addresses (docs/fqdn.md) as set EDITS to the loop's classifiers
 * (NfqLoop.editMembership, EngineSource::withEdits), not by republishing the whole membership:
 * with 500 learned members, one more answer publishes one edit; a refresh of a member the
 * snapshot holds publishes nothing; the backend's own expiry removes exactly the member that
 * expired, and a new connection to it is then denied (docs/fqdn.md §6) while the rest stay
 * allowed; a refresh after that puts it back. Verdicts come from the loop's classifier (decide:
 * the packet bytes the queue would hand over). Detached loop: no privileges needed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import type { LearnedKey } from '../../src/resolve/index.js';
import { nativeAvailable } from '../../src/index.js';
import { flowPacket } from './flow-packet.js';

const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: app, labels: { app: client } }
status: { podIPs: [ { ip: 10.244.1.10 } ] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn-egress }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - { name: names, action: Accept, to: [ { domainNames: [ "*.example.test" ] } ] }
  - { name: rest, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ] }
`;

const CLIENT = parseIp('10.244.1.10')!;
const LEARNED = 500;
const ip = (text: string): IpAddr => parseIp(text)!;
/** the i-th learned address, all in the denied 10.244.0.0/16 */
const addr = (i: number): IpAddr => ip(`10.244.${100 + (i >> 8)}.${i & 255}`);
const entry = (i: number, expiresAtMs: number): LearnedKey => ({ pod: 'app/client', name: `h${i}.example.test`, address: addr(i), expiresAtMs });
/** the backend's stats().details fields this test reads */
interface EditCounts {
  readonly membershipPublishes: number;
  readonly membershipEdits: number;
  readonly lastMembershipEdits: number;
  readonly lastMembershipChanged: number;
  readonly expiryPublishes: number;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!nativeAvailable())('nfqueue: learned addresses are set edits, not a republished membership', () => {
  let backend: NfqueueBackend | undefined;
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
  });

  it(`${LEARNED} learned members: one answer edits one member; expiry removes one and denies it`, async () => {
    const cluster = safeParseCluster(YAML, 'learned-edits.yaml').cluster!;
    backend = new NfqueueBackend({ attach: false });
    const b = backend;
    const enforcement = new Enforcement(b);
    await enforcement.apply(cluster);
    const allows = (a: IpAddr): boolean => b.decide(flowPacket({ src: CLIENT, dst: a, protocol: 'TCP', dstPort: 443 })).allow;
    const counts = async () => (await b.stats()).details as unknown as EditCounts;
    const far = Date.now() + 600_000;

    expect(allows(addr(0))).toBe(false); // before any answer
    const first = await enforcement.learn(Array.from({ length: LEARNED }, (_, i) => entry(i, far)));
    expect(first.kind).toBe('deltas');
    expect((await counts()).lastMembershipChanged).toBe(LEARNED);
    for (let i = 0; i < LEARNED; i += 37) expect(allows(addr(i))).toBe(true);

    // one more answer: one edit, whatever the membership
    const before = await counts();
    const one = await enforcement.learn([entry(LEARNED, far)]);
    expect(one.kind).toBe('deltas');
    const after = await counts();
    expect(after.membershipPublishes - before.membershipPublishes).toBe(1);
    expect(after.lastMembershipEdits).toBe(1);
    expect(after.lastMembershipChanged).toBe(1);
    expect(after.membershipEdits - before.membershipEdits).toBe(1);
    expect(allows(addr(LEARNED))).toBe(true);
    expect(allows(addr(LEARNED + 1))).toBe(false);
    for (let i = 0; i < LEARNED; i += 37) expect(allows(addr(i))).toBe(true);

    // a refresh of a member the snapshot holds: its expiry moves, nothing is published
    const refresh = await enforcement.learn([entry(7, far + 1000)]);
    expect(refresh.kind).toBe('none');
    expect((await counts()).membershipPublishes).toBe(after.membershipPublishes);

    // expiry by the backend alone: the learner never retracts it (it still holds the entry)
    const shortIdx = LEARNED + 2;
    await enforcement.learn([entry(shortIdx, Date.now() + 300)]);
    expect(allows(addr(shortIdx))).toBe(true);
    const beforeExpiry = await counts();
    for (let waited = 0; waited < 3000 && (await counts()).expiryPublishes === beforeExpiry.expiryPublishes; waited += 50) await sleep(50);
    const expired = await counts();
    expect(expired.expiryPublishes).toBe(beforeExpiry.expiryPublishes + 1);
    expect(expired.lastMembershipEdits).toBe(1);
    expect(expired.lastMembershipChanged).toBe(1);
    expect(allows(addr(shortIdx))).toBe(false);
    expect(allows(addr(LEARNED))).toBe(true);
    for (let i = 0; i < LEARNED; i += 37) expect(allows(addr(i))).toBe(true);

    // a refresh after the expiry: the member the snapshot left out is edited back in
    const back = await enforcement.learn([entry(shortIdx, far)]);
    expect(back.kind).toBe('deltas');
    expect((await counts()).lastMembershipEdits).toBe(1);
    expect(allows(addr(shortIdx))).toBe(true);

    // the learner retracts one: one remove edit, denied
    const gone = await enforcement.learn([], [entry(3, far)]);
    expect(gone.kind).toBe('deltas');
    expect((await counts()).lastMembershipEdits).toBe(1);
    expect(allows(addr(3))).toBe(false);
    expect(allows(addr(4))).toBe(true);
  });
});
