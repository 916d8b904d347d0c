/**
 * The native verdict loop against real traffic: the shared node topology (test/harness, CNI ptp),
 * steering by PALISADE-NFQ in the node namespace, a LinearRuleTable policy, TCP and UDP probes over
 * IPv4 and IPv6 between two pods. Checks verdicts, that accepted flows are queued exactly once
 * (the accepted mark moves to conntrack), deny records, a live policy swap, and two queues.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { nativeNfqueue, type NfqLoop } from '../../src/native/binding.js';
import { decodeDenyRecords, type RawDeny } from '../../backends/nfqueue/records.js';
import { packRules, type LinearRule } from '../../backends/nfqueue/rules.js';
import { DEFAULT_ACCEPT_MARK, installSteering, kernelQueueStats, removeSteering } from '../../backends/nfqueue/steer.js';
import { run } from '../../src/topology/exec.js';
import { ProbeFleet, type PortPlan, type ProbeSpec } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';
import { clientServer } from '../harness/fixtures.js';

const MANIFESTS = clientServer({ subnet: 7 });
const PORTS: PortPlan = { TCP: [80, 8080], UDP: [53, 54], SCTP: [] };
const ip = (t: string) => parseIp(t)!;
const C4 = ip('10.244.7.10'), S4 = ip('10.244.7.20'), C6 = ip('fd00:10:244:7::10'), S6 = ip('fd00:10:244:7::20');

const POLICY: LinearRule[] = [
  { family: 4, proto: 6, dst: '10.244.7.20', dstPortLo: 80, action: 'allow', direction: 'ingress', ruleId: 1 },
  { family: 4, proto: 17, dst: '10.244.7.20', dstPortLo: 53, action: 'allow', direction: 'ingress', ruleId: 2 },
  { family: 6, proto: 6, dst: 'fd00:10:244:7::20', dstPortLo: 80, action: 'allow', direction: 'ingress', ruleId: 3 },
  { family: 6, proto: 17, dst: 'fd00:10:244:7::20', dstPortLo: 53, action: 'allow', direction: 'ingress', ruleId: 4 },
  { proto: 6, dstPortLo: 8080, action: 'deny', direction: 'ingress', ruleId: 5 },
];

function specs(): { spec: ProbeSpec; expect: 'open' | 'dropped' }[] {
  const out: { spec: ProbeSpec; expect: 'open' | 'dropped' }[] = [];
  for (const [c, s] of [[C4, S4], [C6, S6]] as const) {
    out.push({ spec: { protocol: 'TCP', src: c, dst: s, dstPort: 80 }, expect: 'open' });
    out.push({ spec: { protocol: 'TCP', src: c, dst: s, dstPort: 8080 }, expect: 'dropped' });
    out.push({ spec: { protocol: 'UDP', src: c, dst: s, dstPort: 53 }, expect: 'open' });
    out.push({ spec: { protocol: 'UDP', src: c, dst: s, dstPort: 54 }, expect: 'dropped' });
    out.push({ spec: { protocol: 'TCP', src: s, dst: c, dstPort: 80 }, expect: 'dropped' });
  }
  return out;
}

describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('nfqueue verdict loop in the node topology', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let loop: NfqLoop | undefined;
  const denies: RawDeny[] = [];
  const ctx = () => ({ netns: topo!.nodeNs });

  beforeAll(async () => {
    const r = safeParseCluster(MANIFESTS, 'loop.test.yaml');
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    topo = await buildTopology(r.cluster, { tag: 'nfqloop' });
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    loop?.stop();
    await fleet?.stop();
    if (topo) await removeSteering(ctx()).catch(() => undefined);
    await topo?.destroy();
  });

  it('allows and denies TCP/UDP flows over IPv4 and IPv6 through the real queue; each accepted flow is queued once', async () => {
    const { NfqLoop } = nativeNfqueue();
    loop = new NfqLoop(
      { queues: [20], acceptMark: DEFAULT_ACCEPT_MARK, logDenied: true, eventFlushMs: 20, netnsPath: topo!.nodeNetnsPath },
      (buf) => denies.push(...decodeDenyRecords(buf)),
    );
    loop.start();
    expect(loop.publishRules(packRules(POLICY), false)).toBe(1);
    await installSteering({ firstQueue: 20, queueCount: 1, failOpen: false, acceptMark: DEFAULT_ACCEPT_MARK, hooks: ['FORWARD'], families: [4, 6] }, ctx());

    const plan = specs();
    const res = await fleet!.probe(plan.map((p) => p.spec));
    expect(res.map((r) => `${r.spec.protocol} ${r.spec.src.text}->${r.spec.dst.text}:${r.spec.dstPort} ${r.outcome}`)).toEqual(
      plan.map((p) => `${p.spec.protocol} ${p.spec.src.text}->${p.spec.dst.text}:${p.spec.dstPort} ${p.expect}`),
    );
    const st = loop.stats();
    const allowed = plan.filter((p) => p.expect === 'open').length;
    expect(st.accepted).toBe(allowed); // one SYN / one datagram per allowed flow; the rest skipped the queue
    expect(st.denied).toBeGreaterThanOrEqual(plan.length - allowed); // dropped SYNs may be retransmitted
    expect(st.verdictErrors).toBe(0);
    const k = (await kernelQueueStats(ctx())).find((q) => q.queue === 20)!;
    expect(k.queueDropped + k.userDropped).toBe(0);
    // the conntrack mark carries accepted flows: RETURN hits cover the repeats and the later packets
    const chain = (await run('ip', ['netns', 'exec', topo!.nodeNs, 'iptables-nft', '-w', '-v', '-x', '-n', '-L', 'PALISADE-NFQ'])).stdout;
    const counts = chain.split('\n').filter((l) => /^\s*\d+/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(counts[0]).toBe(2); // IPv4 share of repeats: 1 TCP + 1 UDP accepted flow
    expect(counts[2]!).toBeGreaterThan(counts[0]!); // later packets (handshake ACK, data) matched the ct mark

    await new Promise((r) => setTimeout(r, 100));
    const d8080 = denies.find((d) => d.dstPort === 8080 && d.family === 4)!;
    expect(d8080).toMatchObject({ src: '10.244.7.10', dst: '10.244.7.20', proto: 6, ruleId: 5, direction: 'ingress', reason: 'policy', queue: 20, snapshotVersion: 1 });
    const d54 = denies.find((d) => d.dstPort === 54 && d.family === 6)!;
    expect(d54).toMatchObject({ src: 'fd00:10:244:7::10', dst: 'fd00:10:244:7::20', proto: 17, ruleId: undefined, reason: 'policy' });
  });

  it('a published snapshot applies to the next new flow, without restarting the loop', async () => {
    const swapped = POLICY.map((r) => (r.ruleId === 5 ? { ...r, action: 'allow' as const } : r));
    expect(loop!.publishRules(packRules(swapped), false)).toBe(2);
    const res = await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }, { protocol: 'UDP', src: C4, dst: S4, dstPort: 54 }]);
    expect(res.map((r) => r.outcome)).toEqual(['open', 'dropped']);
    expect(loop!.stats().snapshotVersion).toBe(2);
  });

  it('two queues with CPU fanout (--queue-balance) verdict every flow', async () => {
    loop!.stop();
    const { NfqLoop } = nativeNfqueue();
    loop = new NfqLoop({ queues: [30, 31], acceptMark: DEFAULT_ACCEPT_MARK, netnsPath: topo!.nodeNetnsPath });
    loop.start();
    loop.publishRules(packRules(POLICY), false);
    await installSteering({ firstQueue: 30, queueCount: 2, failOpen: false, acceptMark: DEFAULT_ACCEPT_MARK, hooks: ['FORWARD'], families: [4, 6] }, ctx());
    const plan = specs();
    const res = await fleet!.probe(plan.map((p) => p.spec));
    expect(res.map((r) => r.outcome)).toEqual(plan.map((p) => p.expect));
    expect(loop.stats().accepted).toBe(plan.filter((p) => p.expect === 'open').length);
    const k = (await kernelQueueStats(ctx())).filter((q) => q.queue === 30 || q.queue === 31);
    expect(k).toHaveLength(2); // both bound by this loop
    expect(k.reduce((n, q) => n + q.lastId, 0)).toBe(loop.stats().packets);
  });
});
