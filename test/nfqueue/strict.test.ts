/**
 * `palisade enforce --backend nfqueue --strict` as a real process: after a policy change, the
 * conntrack entries of established flows the new policy denies are deleted, so the flows stop
 * within 2 s: UDP over IPv4 and IPv6 (and not without --strict), a
 * server still replying at the moment of the cut (the reverse flow it opens is refused), and an
 * established TCP connection (picked up again by nf_conntrack_tcp_loose, then dropped).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StatsFile } from '../../src/cli/enforce.js';
import { startLateEcho, startTcpEcho, udpTool, type EnforcerProcess } from './enforcer-process.js';
import { BASE_PORTS, C4, C6, enforceFixture, S4, S6, sleep } from './enforce-fixture.js';
import { requires } from '../harness/prerequisites.js';


describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('palisade enforce --backend nfqueue --strict (process, node topology)', () => {
  const fx = enforceFixture('nfqstr', 4320);
  let enforcer: EnforcerProcess;

  it('--strict: established UDP flows (IPv4 and IPv6) the new policy denies are cut within 2 s (and without --strict they are not)', async () => {
    for (const strict of [true, false]) {
      fx.writePolicy(BASE_PORTS);
      enforcer = fx.start(strict ? ['--strict'] : []);
      await enforcer.ready;
      const streams = [udpTool(fx.clientNs(), ['stream', C4.text, S4.text, '53', '4000', '20']), udpTool(fx.clientNs(), ['stream', C6.text, S6.text, '53', '4000', '20'])];
      await sleep(1000);
      const changedAt = Date.now();
      const streamStart = changedAt - 1000;
      fx.writePolicy('{ protocol: TCP, port: 80 }');
      const applied = await enforcer.waitFor(/applied #2: /, 10_000);
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
    const echo = await startLateEcho(fx.serverNs(), S4.text, 55, 150);
    try {
      fx.writePolicy(`${BASE_PORTS}, { protocol: UDP, port: 55 }`);
      enforcer = fx.start(['--strict']);
      await enforcer.ready;
      const stream = udpTool(fx.clientNs(), ['stream', C4.text, S4.text, '55', '4000', '20']);
      await sleep(1000);
      const changedAt = Date.now();
      fx.writePolicy(BASE_PORTS);
      await enforcer.waitFor(/applied #2: /, 10_000);
      const result = (await stream) as { sent: number; echoes: number[] };
      const changeMs = changedAt - (changedAt - 1000);
      expect(result.echoes.filter((t) => t < changeMs).length).toBeGreaterThan(10);
      expect(result.echoes.filter((t) => t > changeMs + 2000)).toEqual([]);
      await sleep(1100);
      // the late echoes were refused as reverses of the cut flow (stats: denied by 'strict-cut')
      const stats = JSON.parse(readFileSync(fx.statsFile, 'utf8')) as StatsFile;
      expect((stats.details as { deniedByReason: Record<string, number> }).deniedByReason['strict-cut']).toBeGreaterThan(0);
      expect(stats.rules.find((r) => r.rule === 'palisade/strict-cut')?.packets).toBeGreaterThan(0);
    } finally {
      echo.stop();
    }
  });

  it('--strict cuts an established TCP connection (IPv6) the new policy denies within 2 s', async () => {
    // after the conntrack delete the client's next segment is picked up as NEW (nf_conntrack_tcp_loose)
    // and dropped; the server's retransmissions toward the client are refused as the cut flow's reverse
    const echo = await startTcpEcho(fx.serverNs(), S6.text, 81);
    try {
      fx.writePolicy(`${BASE_PORTS}, { protocol: TCP, port: 81 }`);
      enforcer = fx.start(['--strict']);
      await enforcer.ready;
      const stream = udpTool(fx.clientNs(), ['tcpstream', C6.text, S6.text, '81', '4000', '20']);
      await sleep(1000);
      fx.writePolicy(BASE_PORTS);
      const applied = await enforcer.waitFor(/applied #2: /, 10_000);
      expect(applied).toMatch(/--strict: [1-9]\d* of \d+ tracked flows cut/);
      const result = (await stream) as { sent: number; echoes: number[] };
      expect(result.echoes.filter((t) => t < 1000).length).toBeGreaterThan(10);
      expect(result.echoes.filter((t) => t > 3000)).toEqual([]);
    } finally {
      echo.stop();
    }
  });
});
