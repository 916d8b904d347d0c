/**
 * `palisade enforce --backend nfqueue` as a real process in the node namespace of the shared
 * topology: verdicts by NetworkPolicy, deny log lines, the stats file, a live policy change,
 * --strict cutting a now-denied flow, and the fail modes: kill -9 under a flood of denied traffic
 * (fail-closed: zero denied datagrams delivered, new flows dropped while no enforcer runs, a
 * restart restores enforcement) and fail-open (--queue-bypass lets traffic pass while it is gone).
 * Semantics: NetworkPolicy ingress isolation and allow rules (networkpolicy-v1-semantics.md;
 * upstream netpol e2e "should support a 'default-deny-ingress' policy" and "allow ingress access
 * on one named port").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import type { NfqueueStatsFile } from '../../backends/nfqueue/command.js';
import { ProbeFleet, type PortPlan } from '../harness/probe.js';
import { buildTopology, type Topology } from '../harness/topology.js';
import { run } from '../harness/exec.js';
import { ensureEnforcerBuilt, startEnforcer, startLateEcho, startSink, udpTool, type EnforcerProcess } from './enforcer-process.js';

const INVENTORY = `
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: app, labels: { app: client } }
status: { podIPs: [ { ip: 10.244.8.10 }, { ip: "fd00:10:244:8::10" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: server, namespace: app, labels: { app: server } }
status: { podIPs: [ { ip: 10.244.8.20 }, { ip: "fd00:10:244:8::20" } ] }
`;
const policy = (ports: string) => `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: server-in, namespace: app }
spec:
  podSelector: { matchLabels: { app: server } }
  policyTypes: [Ingress]
  ingress:
  - from: [ { podSelector: { matchLabels: { app: client } } } ]
    ports: [ ${ports} ]
`;
const BASE_PORTS = '{ protocol: TCP, port: 80 }, { protocol: UDP, port: 53 }';
const PORTS: PortPlan = { TCP: [80, 8080], UDP: [53, 54], SCTP: [] };
const isRoot = process.getuid?.() === 0;
const ip = (t: string) => parseIp(t)!;
const C4 = ip('10.244.8.10'), S4 = ip('10.244.8.20'), C6 = ip('fd00:10:244:8::10'), S6 = ip('fd00:10:244:8::20');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!isRoot)('palisade enforce --backend nfqueue (process, node topology)', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let dir = '';
  let enforcer: EnforcerProcess | undefined;
  const clientNs = () => topo!.hosts.find((h) => h.name === 'app/client')!.netns;
  const serverNs = () => topo!.hosts.find((h) => h.name === 'app/server')!.netns;
  const started: EnforcerProcess[] = [];
  const start = (extra: string[] = []) => {
    const e = startEnforcer(topo!.nodeNs, ['-f', dir, '--first-queue', '4300', '--stats-file', join(dir, '..', 'stats.json'), ...extra]);
    started.push(e);
    return e;
  };
  // a failed test must not leave an enforcer holding the queues for the next one
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });

  beforeAll(async () => {
    await ensureEnforcerBuilt();
    const r = safeParseCluster(INVENTORY, 'enforcer.test.yaml');
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    topo = await buildTopology(r.cluster, { tag: 'nfqenf' });
    fleet = await ProbeFleet.start(topo, PORTS);
    const base = mkdtempSync(join(tmpdir(), 'nfq-enforce-'));
    dir = join(base, 'manifests');
    await run('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    writeFileSync(join(dir, 'policy.yaml'), policy(BASE_PORTS));
  }, 180_000);
  afterAll(async () => {
    await enforcer?.stop();
    await fleet?.stop();
    await topo?.destroy();
    if (dir) rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('enforces the policy over IPv4 and IPv6, logs denied flows as JSON lines, writes stats, applies a change live', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy(BASE_PORTS));
    enforcer = start(['--log-denied']);
    await enforcer.ready;
    const specs = [C4, C6].flatMap((c) => {
      const s = c.family === 4 ? S4 : S6;
      return [
        { protocol: 'TCP' as const, src: c, dst: s, dstPort: 80 },
        { protocol: 'TCP' as const, src: c, dst: s, dstPort: 8080 },
        { protocol: 'UDP' as const, src: c, dst: s, dstPort: 53 },
        { protocol: 'UDP' as const, src: c, dst: s, dstPort: 54 },
        { protocol: 'TCP' as const, src: s, dst: c, dstPort: 80 }, // client is not isolated: allowed
      ];
    });
    const res = await fleet!.probe(specs);
    expect(res.map((r) => r.outcome)).toEqual(['open', 'dropped', 'open', 'dropped', 'open', 'open', 'dropped', 'open', 'dropped', 'open']);
    await sleep(300);
    const lines = enforcer.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line8080 = lines.find((l) => l.dstPort === 8080 && l.family === 4);
    expect(line8080).toMatchObject({ backend: 'nfqueue', protocol: 'TCP', src: '10.244.8.10', dst: '10.244.8.20', direction: 'ingress', tier: 'NetworkPolicy', policy: 'NetworkPolicy/app/server-in' });
    expect(Object.keys(line8080!).slice(0, 5)).toEqual(['time', 'backend', 'family', 'protocol', 'src']);
    expect(lines.some((l) => l.dstPort === 54 && l.family === 6 && l.protocol === 'UDP')).toBe(true);
    await sleep(1100);
    const stats = JSON.parse(readFileSync(join(dir, '..', 'stats.json'), 'utf8')) as NfqueueStatsFile;
    expect(stats.generation).toBe(1);
    expect(stats.steering).toBe('xt-nfqueue');
    expect(stats.loop.accepted).toBe(6);
    expect(stats.deniedByRule['isolation/ingress']).toBeGreaterThanOrEqual(4);

    writeFileSync(join(dir, 'policy.yaml'), policy(`${BASE_PORTS}, { protocol: TCP, port: 8080 }`));
    await enforcer.waitFor(/applied generation 2/, 5_000);
    const after = await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }, { protocol: 'UDP', src: C6, dst: S6, dstPort: 54 }]);
    expect(after.map((r) => r.outcome)).toEqual(['open', 'dropped']);
    await enforcer.stop();
    expect(enforcer.stderr()).toContain('stopped (SIGTERM)');
    // a graceful stop removes the steering: traffic flows unfiltered again
    const rules = await run('ip', ['netns', 'exec', topo!.nodeNs, 'iptables-nft', '-w', '-S']);
    expect(rules.stdout).not.toContain('PALISADE');
  });

  it('--strict: established UDP flows (IPv4 and IPv6) the new policy denies are cut within 2 s (and without --strict they are not)', async () => {
    for (const strict of [true, false]) {
      writeFileSync(join(dir, 'policy.yaml'), policy(BASE_PORTS));
      enforcer = start(strict ? ['--strict'] : []);
      await enforcer.ready;
      const streams = [udpTool(clientNs(), ['stream', C4.text, S4.text, '53', '4000', '20']), udpTool(clientNs(), ['stream', C6.text, S6.text, '53', '4000', '20'])];
      await sleep(1000);
      const changedAt = Date.now();
      const streamStart = changedAt - 1000;
      writeFileSync(join(dir, 'policy.yaml'), policy('{ protocol: TCP, port: 80 }'));
      const applied = await enforcer.waitFor(/applied generation 2/, 10_000);
      const changeMs = changedAt - streamStart;
      for (const [i, result] of ((await Promise.all(streams)) as { sent: number; echoes: number[] }[]).entries()) {
        const before = result.echoes.filter((t) => t < changeMs).length;
        const lateEchoes = result.echoes.filter((t) => t > changeMs + 2000).length;
        expect(before, `stream ${i} before the change`).toBeGreaterThan(10);
        console.log(`stream ${i} strict=${strict} before=${before} late=${lateEchoes} echoes=${JSON.stringify(result.echoes.filter((t) => t > changeMs - 100).slice(0, 60))} changeMs=${changeMs}`);
        if (strict) expect(lateEchoes, `stream ${i} (strict) 2 s after the change`).toBe(0);
        else expect(lateEchoes, `stream ${i} (not strict)`).toBeGreaterThan(10); // marked flows keep their conntrack entries
      }
      console.log(`strict=${strict}: ${applied}`);
      if (strict) expect(applied).toMatch(/--strict: ([2-9]|\d\d+) of \d+ tracked flows cut/);
      await enforcer.stop();
    }
  });

  it('--strict with replies still in flight at the cut (late echoes): reverse flows of the cut flow are refused, the cut holds', async () => {
    // A reply sent after the cut opens server:55 -> client:port, which the policy allows (the
    // client is not isolated); without the sweep the client's datagrams would pass as its replies.
    const echo = await startLateEcho(serverNs(), S4.text, 55, 150);
    try {
      writeFileSync(join(dir, 'policy.yaml'), policy(`${BASE_PORTS}, { protocol: UDP, port: 55 }`));
      enforcer = start(['--strict']);
      await enforcer.ready;
      const stream = udpTool(clientNs(), ['stream', C4.text, S4.text, '55', '4000', '20']);
      await sleep(1000);
      const changedAt = Date.now();
      writeFileSync(join(dir, 'policy.yaml'), policy(BASE_PORTS));
      await enforcer.waitFor(/applied generation 2/, 10_000);
      const result = (await stream) as { sent: number; echoes: number[] };
      const changeMs = changedAt - (changedAt - 1000);
      expect(result.echoes.filter((t) => t < changeMs).length).toBeGreaterThan(10);
      expect(result.echoes.filter((t) => t > changeMs + 2000)).toEqual([]);
      await sleep(1100);
      // the late echoes were refused as reverses of the cut flow (stats: denied by 'strict-cut')
      const stats = JSON.parse(readFileSync(join(dir, '..', 'stats.json'), 'utf8')) as NfqueueStatsFile;
      expect(stats.deniedByRule['strict-cut']).toBeGreaterThan(0);
    } finally {
      echo.stop();
    }
  });

  it('kill -9 under a flood of denied datagrams (fail-closed): none delivered; new flows dropped while down; restart restores enforcement', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy(BASE_PORTS));
    enforcer = start();
    await enforcer.ready;
    const sink = await startSink(serverNs(), S4.text, 5454);
    const flood = udpTool(clientNs(), ['flood', C4.text, S4.text, '5454', '5000', '4000'], 30_000);
    await sleep(800);
    await enforcer.kill9();
    const killedAt = Date.now();
    // nobody listens on the queue: without --queue-bypass the kernel drops, allowed flows too
    const down = await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 80 }, { protocol: 'UDP', src: C6, dst: S6, dstPort: 53 }]);
    expect(down.map((r) => r.outcome)).toEqual(['dropped', 'dropped']);
    enforcer = start();
    await enforcer.ready;
    const restoredMs = Date.now() - killedAt;
    const up = await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 80 }, { protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]);
    expect(up.map((r) => r.outcome)).toEqual(['open', 'dropped']);
    const { sent } = (await flood) as { sent: number };
    const received = await sink.finish();
    expect(sent).toBeGreaterThan(10_000);
    expect(received).toBe(0);
    console.log(`kill -9 test: ${sent} denied datagrams sent across the crash, ${received} delivered; enforcement back ${restoredMs} ms after the kill`);
    await enforcer.stop();
    // control: the same datagrams do arrive once no enforcer and no steering is in place
    const control = await startSink(serverNs(), S4.text, 5454);
    await udpTool(clientNs(), ['flood', C4.text, S4.text, '5454', '300', '1000']);
    expect(await control.finish()).toBeGreaterThan(100);
  });

  it('fail-open with --queues 2: with the enforcer killed, --queue-bypass lets new flows through; a restart enforces again', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy(BASE_PORTS));
    enforcer = start(['--fail-open', '--queues', '2']);
    await enforcer.ready;
    const bound = (await run('ip', ['netns', 'exec', topo!.nodeNs, 'cat', '/proc/net/netfilter/nfnetlink_queue'])).stdout;
    expect(bound.split('\n').filter((l) => /^\s*430[01]\s/.test(l))).toHaveLength(2);
    expect((await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]))[0]!.outcome).toBe('dropped');
    await enforcer.kill9();
    expect((await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]))[0]!.outcome).toBe('open');
    enforcer = start(['--fail-open', '--queues', '2']);
    await enforcer.ready;
    expect((await fleet!.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]))[0]!.outcome).toBe('dropped');
    await enforcer.stop();
  });
});
