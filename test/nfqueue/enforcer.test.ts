/**
 * `palisade enforce --backend nfqueue` as a real process in the node namespace of the shared
 * topology: verdicts by NetworkPolicy, deny log lines, the stats file, a live policy change, and
 * the fail modes: kill -9 under a flood of denied traffic (fail-closed: zero denied datagrams
 * delivered, new flows dropped while no enforcer runs, a restart restores enforcement) and
 * fail-open (--queue-bypass lets traffic pass while it is gone); an invalid first load installs
 * nothing and leaves the steering of a crashed enforcer holding (fail-closed); `palisade stats`
 * reads the running enforcer's stats file. --strict: strict.test.ts.
 * Semantics: NetworkPolicy ingress isolation and allow rules (networkpolicy-v1-semantics.md;
 * upstream netpol e2e "should support a 'default-deny-ingress' policy").
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StatsFile } from '../../src/cli/enforce.js';
import { installSteering, removeSteering } from '../../backends/nfqueue/steer.js';
import { PALISADE_BIN } from '../harness/cli.js';
import { run } from '../../src/topology/exec.js';
import { startSink, udpTool, type EnforcerProcess } from './enforcer-process.js';
import { BASE_PORTS, C4, C6, enforceFixture, S4, S6, sleep } from './enforce-fixture.js';
import { requires } from '../harness/prerequisites.js';


describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('palisade enforce --backend nfqueue (process, node topology)', () => {
  const fx = enforceFixture('nfqenf', 4300);
  let enforcer: EnforcerProcess;

  it('enforces the policy over IPv4 and IPv6, logs denied flows as JSON lines, writes stats, applies a change live', async () => {
    fx.writePolicy(BASE_PORTS);
    enforcer = fx.start(['--log-denied']);
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
    const res = await fx.fleet.probe(specs);
    expect(res.map((r) => r.outcome)).toEqual(['open', 'dropped', 'open', 'dropped', 'open', 'open', 'dropped', 'open', 'dropped', 'open']);
    await sleep(300);
    const lines = enforcer.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line8080 = lines.find((l) => l.dstPort === 8080 && l.family === 4);
    expect(line8080).toMatchObject({ backend: 'nfqueue', protocol: 'TCP', src: '10.244.8.10', dst: '10.244.8.20', direction: 'ingress', tier: 'NetworkPolicy', policy: 'NetworkPolicy/app/server-in' });
    expect(Object.keys(line8080!).slice(0, 5)).toEqual(['time', 'backend', 'family', 'protocol', 'src']);
    expect(lines.some((l) => l.dstPort === 54 && l.family === 6 && l.protocol === 'UDP')).toBe(true);
    await sleep(1100);
    const stats = JSON.parse(readFileSync(fx.statsFile, 'utf8')) as StatsFile;
    expect(stats.generation).toBe(1);
    const details = stats.details as { steering: string; loop: { accepted: number } };
    expect(stats.backend).toBe('nfqueue');
    expect(details.steering).toBe('xt-nfqueue');
    expect(details.loop.accepted).toBe(6);
    expect(stats.rules.find((r) => r.rule === 'NetworkPolicy/isolation/ingress')?.packets).toBeGreaterThanOrEqual(4);
    // `palisade stats --backend nfqueue` reads the running enforcer's file (text and -o json)
    const text = (await run(process.execPath, [PALISADE_BIN, 'stats', '--backend', 'nfqueue', '--stats-file', fx.statsFile])).stdout;
    expect(text).toMatch(/^nfqueue enforcer pid \d+, generation 1, at /);
    expect(text).toMatch(/^\s+\d+\s+0\s+NetworkPolicy\/isolation\/ingress$/m);
    expect(text).toMatch(/^  steering xt-nfqueue$/m);
    const json = JSON.parse((await run(process.execPath, [PALISADE_BIN, 'stats', '--backend', 'nfqueue', '--stats-file', fx.statsFile, '-o', 'json'])).stdout) as StatsFile;
    expect(json).toMatchObject({ backend: 'nfqueue', generation: 1 });

    fx.writePolicy(`${BASE_PORTS}, { protocol: TCP, port: 8080 }`);
    await enforcer.waitFor(/applied #2: /, 5_000);
    const after = await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }, { protocol: 'UDP', src: C6, dst: S6, dstPort: 54 }]);
    expect(after.map((r) => r.outcome)).toEqual(['open', 'dropped']);
    expect(await enforcer.stop()).toBe(0);
    // a graceful stop removes the steering: traffic flows unfiltered again
    const rules = await run('ip', ['netns', 'exec', fx.topo.nodeNs, 'iptables-nft', '-w', '-S']);
    expect(rules.stdout).not.toContain('PALISADE');
  });

  it('kill -9 under a flood of denied datagrams (fail-closed): none delivered; new flows dropped while down; restart restores enforcement', async () => {
    fx.writePolicy(BASE_PORTS);
    enforcer = fx.start();
    await enforcer.ready;
    const sink = await startSink(fx.serverNs(), S4.text, 5454);
    const flood = udpTool(fx.clientNs(), ['flood', C4.text, S4.text, '5454', '5000', '4000'], 30_000);
    await sleep(800);
    await enforcer.kill9();
    const killedAt = Date.now();
    // nobody listens on the queue: without --queue-bypass the kernel drops, allowed flows too
    const down = await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 80 }, { protocol: 'UDP', src: C6, dst: S6, dstPort: 53 }]);
    expect(down.map((r) => r.outcome)).toEqual(['dropped', 'dropped']);
    enforcer = fx.start();
    await enforcer.ready;
    const restoredMs = Date.now() - killedAt;
    const up = await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 80 }, { protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]);
    expect(up.map((r) => r.outcome)).toEqual(['open', 'dropped']);
    const { sent } = (await flood) as { sent: number };
    const received = await sink.finish();
    expect(sent).toBeGreaterThan(10_000);
    expect(received).toBe(0);
    console.log(`kill -9 test: ${sent} denied datagrams sent across the crash, ${received} delivered; enforcement back ${restoredMs} ms after the kill`);
    await enforcer.stop();
    // control: the same datagrams do arrive once no enforcer and no steering is in place
    const control = await startSink(fx.serverNs(), S4.text, 5454);
    await udpTool(fx.clientNs(), ['flood', C4.text, S4.text, '5454', '300', '1000']);
    expect(await control.finish()).toBeGreaterThan(100);
  });

  it('an invalid first load exits 2 and installs nothing; over the steering a killed enforcer left, that steering stays (fail-closed)', async () => {
    const nodeRules = async () => (await run('ip', ['netns', 'exec', fx.topo.nodeNs, 'iptables-nft', '-w', '-S'])).stdout;
    try {
      fx.writePolicy('{ protocol: TCP, port: 99999 }');
      enforcer = fx.start();
      void enforcer.ready.catch(() => undefined);
      expect(await enforcer.exit).toBe(2);
      expect(await nodeRules()).not.toContain('PALISADE');
      await installSteering({ firstQueue: 4300, queueCount: 1, failOpen: false, acceptMark: 0x00400000, hooks: ['FORWARD', 'INPUT', 'OUTPUT'], families: [4, 6] }, { netns: fx.topo.nodeNs });
      const held = await nodeRules();
      enforcer = fx.start();
      void enforcer.ready.catch(() => undefined);
      expect(await enforcer.exit).toBe(2);
      expect(await nodeRules()).toBe(held);
      // nobody listens: the left steering still drops new flows, allowed ones too
      expect((await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 80 }]))[0]!.outcome).toBe('dropped');
    } finally {
      await removeSteering({ netns: fx.topo.nodeNs });
      fx.writePolicy(BASE_PORTS);
    }
  });

  it('fail-open with --queues 2: with the enforcer killed, --queue-bypass lets new flows through; a restart enforces again', async () => {
    fx.writePolicy(BASE_PORTS);
    enforcer = fx.start(['--fail-open', '--queues', '2']);
    await enforcer.ready;
    const bound = (await run('ip', ['netns', 'exec', fx.topo.nodeNs, 'cat', '/proc/net/netfilter/nfnetlink_queue'])).stdout;
    expect(bound.split('\n').filter((l) => /^\s*430[01]\s/.test(l))).toHaveLength(2);
    expect((await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]))[0]!.outcome).toBe('dropped');
    await enforcer.kill9();
    expect((await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]))[0]!.outcome).toBe('open');
    enforcer = fx.start(['--fail-open', '--queues', '2']);
    await enforcer.ready;
    expect((await fx.fleet.probe([{ protocol: 'TCP', src: C4, dst: S4, dstPort: 8080 }]))[0]!.outcome).toBe('dropped');
    await enforcer.stop();
  });
});
