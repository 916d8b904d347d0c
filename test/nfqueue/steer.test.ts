/**
 * Steering rules (backends/nfqueue/steer.ts) in a namespace of the test's own: detection of nft's
 * native queue (absent on this kernel: toolchain.md pitfall 7), idempotent install into
 * PALISADE-NFQ, the fail-open switch (--queue-bypass), removal, and the root namespace untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/topology/exec.js';
import { createNetns, deleteNetns } from '../../src/topology/netns.js';
import { detectSteering, installSteering, removeSteering, renderChainRules, type SteeringPlan } from '../../backends/nfqueue/steer.js';
import { requires } from '../harness/prerequisites.js';

const NS = `pal-nfqsteer-${process.pid}`;
const PLAN: SteeringPlan = { firstQueue: 10, queueCount: 2, failOpen: false, acceptMark: 0x400000, hooks: ['FORWARD', 'INPUT', 'OUTPUT'], families: [4, 6] };

const save = async (bin: string) => (await run('ip', ['netns', 'exec', NS, bin, '-w', '-S'])).stdout;

describe('steering rules: rendering (pure)', () => {
  it('queues only conntrack NEW packets without the accepted bit, one queue or a fanout range', () => {
    const one = renderChainRules({ ...PLAN, queueCount: 1, failOpen: true });
    expect(one).toEqual([
      '-A PALISADE-NFQ -m mark --mark 0x400000/0x400000 -j CONNMARK --or-mark 0x400000',
      '-A PALISADE-NFQ -m mark --mark 0x400000/0x400000 -j MARK --and-mark 0xffbfffff',
      '-A PALISADE-NFQ -m connmark --mark 0x400000/0x400000 -j RETURN',
      '-A PALISADE-NFQ -m conntrack --ctstate NEW -j NFQUEUE --queue-num 10 --queue-bypass',
    ]);
    expect(renderChainRules(PLAN)[3]).toBe('-A PALISADE-NFQ -m conntrack --ctstate NEW -j NFQUEUE --queue-balance 10:11 --queue-cpu-fanout');
  });
  it('rejects a mark that is not one bit and bad queue ranges', () => {
    expect(() => renderChainRules({ ...PLAN, acceptMark: 3 })).toThrow(/single bit/);
    expect(() => renderChainRules({ ...PLAN, firstQueue: 65535, queueCount: 2 })).toThrow(/queue range/);
  });
});

describe.skipIf(requires('root', 'netns', 'nft', 'iptables-nft'))('steering rules in a test namespace (iptables-nft)', () => {
  let rootBefore = '';
  beforeAll(async () => {
    rootBefore = (await run('nft', ['list', 'ruleset'])).stdout;
    await createNetns(NS);
  });
  afterAll(async () => {
    await deleteNetns(NS);
    // the root namespace's firewall is never touched
    expect((await run('nft', ['list', 'ruleset'])).stdout).toBe(rootBefore);
  });

  it("detects that this kernel has no native nft queue and picks the xt target", async () => {
    expect(await detectSteering({ netns: NS })).toBe('xt-nfqueue');
    // the probe left nothing behind
    expect((await run('ip', ['netns', 'exec', NS, 'nft', 'list', 'tables'])).stdout).toBe('');
  });

  it('installs idempotently (one jump per hook), switches bypass, and removes everything', async () => {
    await installSteering(PLAN, { netns: NS });
    await installSteering(PLAN, { netns: NS });
    for (const bin of ['iptables-nft', 'ip6tables-nft']) {
      const s = await save(bin);
      for (const h of ['FORWARD', 'INPUT', 'OUTPUT']) expect(s.split('\n').filter((l) => l === `-A ${h} -j PALISADE-NFQ`)).toHaveLength(1);
      expect(s).toContain('--queue-balance 10:11 --queue-cpu-fanout');
      expect(s).not.toContain('--queue-bypass');
    }
    await installSteering({ ...PLAN, failOpen: true }, { netns: NS });
    const s4 = await save('iptables-nft');
    expect(s4.match(/-j NFQUEUE/g)).toHaveLength(1);
    expect(s4).toContain('--queue-bypass');
    await removeSteering({ netns: NS });
    await removeSteering({ netns: NS });
    for (const bin of ['iptables-nft', 'ip6tables-nft']) expect(await save(bin)).not.toContain('PALISADE');
  });

  it('keeps jumps of other software in place and in front of which it inserts itself', async () => {
    await run('ip', ['netns', 'exec', NS, 'iptables-nft', '-w', '-A', 'FORWARD', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
    await installSteering(PLAN, { netns: NS });
    const lines = (await save('iptables-nft')).split('\n').filter((l) => l.startsWith('-A FORWARD'));
    expect(lines).toEqual(['-A FORWARD -j PALISADE-NFQ', '-A FORWARD -p udp -m udp --dport 9 -j ACCEPT']);
    await removeSteering({ netns: NS });
    expect((await save('iptables-nft')).split('\n').filter((l) => l.startsWith('-A FORWARD'))).toEqual(['-A FORWARD -p udp -m udp --dport 9 -j ACCEPT']);
  });
});
