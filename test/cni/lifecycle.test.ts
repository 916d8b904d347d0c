/**
 * The palisade CNI plugin through the CNI protocol, with the real ptp + host-local before it and
 * the agent's server over Enforcement(nftables) in a test node namespace (test/cni/fixture.ts):
 * DEL twice, DEL while the agent is down (queued, replayed at the next server start: the pod's
 * address leaves the kernel's sets), ADD while the agent is down (fail and pass), ADD timing out
 * (agent and shim), CHECK, VERSION, STATUS, GC, and bad input (CNI error JSON, clear msg).
 */
import { createServer, type Server } from 'node:net';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import type { CniAgent } from '../../src/agent/cni-types.js';
import { startCniNode, type CniNode } from './fixture.js';
import { chainAdd, chainCheck, chainDel, CniFailure, execPlugin, pluginConfig, type Conflist, type Invocation } from './runtime.js';


const podIp = (result: Record<string, unknown>): string => String((result.ips as { address: string }[])[0]!.address).split('/')[0]!;
/** the address as an element of an nftables set (a word of the ruleset text) */
const inSets = (ruleset: string, ip: string): boolean => new RegExp(`(^|[^0-9.])${ip.replaceAll('.', '\\.')}([^0-9.]|$)`, 'm').test(ruleset);

async function failure(p: Promise<unknown>): Promise<CniFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CniFailure) return e;
    throw e;
  }
  throw new Error('expected the chain to fail');
}

/** The palisade plugin alone with an exact stdin (STATUS, GC, VERSION and bad input). */
async function palisade(inv: Invocation, command: string, stdin: string, env: Record<string, string> = {}) {
  const r = await execPlugin('palisade', command, inv, stdin, env);
  return { ...r, json: r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
}

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'cni-plugins', 'cni-shim'))('the palisade CNI plugin over the CNI protocol', () => {
  let node: CniNode;
  let list: Conflist;
  beforeAll(async () => {
    node = await startCniNode('cl');
    list = await node.conflist();
    await node.startServer();
  }, 60_000);
  afterAll(async () => node?.destroy(), 60_000);


  it('DEL twice: both succeed, the address leaves the sets', async () => {
    const { inv } = await node.newPod();
    const added = await chainAdd(list, inv);
    const ip = podIp(added.result);
    expect(inSets(await node.ruleset(), ip)).toBe(true);
    await chainDel(list, inv, added.result);
    expect(inSets(await node.ruleset(), ip)).toBe(false);
    await chainDel(list, inv, added.result);
    await chainDel(list, inv); // and without prevResult, as after a runtime lost its cache
  }, 60_000);

  it('DEL while the agent is down is queued, then replayed when the server starts', async () => {
    const { inv } = await node.newPod();
    const added = await chainAdd(list, inv);
    const ip = podIp(added.result);
    await node.stopServer();
    await chainDel(list, inv, added.result); // succeeds: queued
    const queued = await readdir(node.queueDir);
    expect(queued.filter((f) => f.endsWith('.json'))).toEqual([`${inv.containerId}+eth0.json`]);
    expect(inSets(await node.ruleset(), ip)).toBe(true); // nobody removed it yet
    const server = await node.startServer();
    expect(server.replayed).toBe(1);
    expect(await readdir(node.queueDir)).toEqual([]);
    expect(inSets(await node.ruleset(), ip)).toBe(false);
  }, 60_000);

  it('ADD while the agent is down: fail (error 11) and pass (prevResult echoed)', async () => {
    await node.stopServer();
    try {
      const { inv } = await node.newPod();
      const f = await failure(chainAdd(list, inv));
      expect(f.plugin).toBe('palisade');
      expect(f.error).toMatchObject({ code: 11, msg: 'the palisade agent is not available' });
      expect(f.error.details).toContain('connect');
      await chainDel(list, inv); // the runtime cleans up after a failed ADD (queued)

      const passing = await node.conflist({ onAgentDown: 'pass' });
      const second = await node.newPod();
      const added = await chainAdd(passing, second.inv);
      expect(added.result.ips).toEqual((JSON.parse(added.runs[0]!.stdout) as { ips: unknown }).ips);
      expect(inSets(await node.ruleset(), podIp(added.result))).toBe(false); // unpoliced: the agent never heard of it
      await chainDel(passing, second.inv, added.result);
    } finally {
      await node.startServer(); // replays the queued DELs
    }
    expect(await readdir(node.queueDir)).toEqual([]);
  }, 60_000);

  it("ADD timing out: the agent's bound, fail and pass", async () => {
    // an agent whose kernel is stuck: podAdded ends only when the server gives up (signal)
    const aborted: string[] = [];
    const stuck: CniAgent = {
      podAdded: (p, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted.push(p.containerId);
            reject(signal.reason as Error);
          }),
        ),
      podDeleted: (p) => node.agent.podDeleted(p),
      podCheck: (p) => node.agent.podCheck(p),
    };
    await node.startServer({ agent: stuck, addTimeoutMs: 300 });
    try {
      const { inv } = await node.newPod();
      const f = await failure(chainAdd(list, inv));
      expect(f.error.code).toBe(11);
      expect(f.error.msg).toBe("team-b/worker: the pod's policy was not in force within 300 ms");
      expect(f.result.ms).toBeLessThan(5_000);
      expect(aborted).toEqual([inv.containerId]);
      await chainDel(list, inv);

      const passing = await node.conflist({ onTimeout: 'pass' });
      const second = await node.newPod();
      const added = await chainAdd(passing, second.inv);
      expect(added.result.ips).toBeDefined();
      await chainDel(passing, second.inv, added.result);
    } finally {
      await node.startServer();
    }
  }, 60_000);

  it('a stalled agent: the shim gives up after timeoutMs (fail: error 11; DEL: queued)', async () => {
    await node.stopServer();
    // accepts and never answers
    const held: import('node:net').Socket[] = [];
    const stalled: Server = createServer({ allowHalfOpen: true }, (s) => void held.push(s));
    await new Promise<void>((r) => stalled.listen(node.socketPath, r));
    try {
      const short = await node.conflist({ timeoutMs: 400 });
      const { inv } = await node.newPod();
      const f = await failure(chainAdd(short, inv));
      expect(f.error).toMatchObject({ code: 11, msg: 'the palisade agent did not answer in time', details: 'no answer from the agent within 400 ms' });
      await chainDel(short, inv);
      expect((await readdir(node.queueDir)).filter((n) => n.endsWith('.json'))).toEqual([`${inv.containerId}+eth0.json`]);
      const passing = await node.conflist({ timeoutMs: 400, onTimeout: 'pass' });
      const second = await node.newPod();
      const added = await chainAdd(passing, second.inv);
      await chainDel(passing, second.inv, added.result);
    } finally {
      held.forEach((s) => s.destroy());
      await new Promise<void>((r) => stalled.close(() => r()));
      await node.startServer();
    }
    expect(await readdir(node.queueDir)).toEqual([]);
  }, 60_000);

  it('CHECK: success while the policy in force matches, error when it does not', async () => {
    const { inv } = await node.newPod();
    const added = await chainAdd(list, inv);
    await chainCheck(list, inv, added.result);
    const wrong = { ...added.result, ips: [{ address: '10.244.1.99/16', gateway: '10.244.255.254', interface: 1 }] };
    const r = await palisade(inv, 'CHECK', pluginConfig(list, list.plugins[1]!, wrong));
    expect(r.exitCode).not.toBe(0);
    expect(r.json).toMatchObject({ code: 101 });
    expect(String(r.json!.msg)).toContain('the runtime says 10.244.1.99');
    await chainDel(list, inv, added.result);
    const gone = await palisade(inv, 'CHECK', pluginConfig(list, list.plugins[1]!, added.result));
    expect(gone.json).toMatchObject({ code: 101, msg: 'team-b/worker: check failed: pod team-b/worker is not in the policy in force' });
  }, 60_000);

  it('VERSION: answered by the shim, with the version asked for', async () => {
    await node.stopServer();
    try {
      const { inv } = await node.newPod();
      const r = await palisade(inv, 'VERSION', '{"cniVersion":"1.0.0"}');
      expect(r.exitCode).toBe(0);
      expect(r.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    } finally {
      await node.startServer();
    }
  }, 60_000);

  it('STATUS: ready while the agent is; 50 when not ready or down (fail), success when down (pass)', async () => {
    const { inv } = await node.newPod();
    const conf = (extra: object = {}) => JSON.stringify({ cniVersion: '1.1.0', name: list.name, ...list.plugins[1], ...extra });
    expect((await palisade(inv, 'STATUS', conf())).exitCode).toBe(0);
    let ready = false;
    await node.startServer({ ready: () => ready });
    const notReady = await palisade(inv, 'STATUS', conf());
    expect(notReady.exitCode).not.toBe(0);
    expect(notReady.json).toEqual({ cniVersion: '1.1.0', code: 50, msg: 'the palisade agent is not ready', details: '' });
    ready = true;
    expect((await palisade(inv, 'STATUS', conf())).exitCode).toBe(0);
    await node.stopServer();
    try {
      expect((await palisade(inv, 'STATUS', conf())).json).toMatchObject({ code: 50, msg: 'the palisade agent is not available' });
      expect((await palisade(inv, 'STATUS', conf({ onAgentDown: 'pass' }))).exitCode).toBe(0);
    } finally {
      await node.startServer();
    }
  }, 60_000);

  it('GC: attachments not in cni.dev/valid-attachments leave the sets, valid ones stay', async () => {
    const a = await node.newPod();
    const b = await node.newPod();
    const addedA = await chainAdd(list, a.inv);
    const ipA = podIp(addedA.result);
    const gc = (valid: Invocation[]) =>
      JSON.stringify({ cniVersion: '1.1.0', name: list.name, ...list.plugins[1], 'cni.dev/valid-attachments': valid.map((v) => ({ containerID: v.containerId, ifname: v.ifname })) });
    // only a is attached; b is listed but unknown: nothing changes
    expect((await palisade(a.inv, 'GC', gc([a.inv, b.inv]))).exitCode).toBe(0);
    expect(inSets(await node.ruleset(), ipA)).toBe(true);
    // a GC of another network judges only that network's attachments
    const otherNet = JSON.stringify({ cniVersion: '1.1.0', name: 'other-net', ...list.plugins[1], 'cni.dev/valid-attachments': [] });
    expect((await palisade(a.inv, 'GC', otherNet)).exitCode).toBe(0);
    expect(inSets(await node.ruleset(), ipA)).toBe(true);
    expect((await palisade(a.inv, 'GC', gc([b.inv]))).exitCode).toBe(0);
    expect(inSets(await node.ruleset(), ipA)).toBe(false);
    // GC without the list is refused (it would forget everything)
    const noList = await palisade(a.inv, 'GC', JSON.stringify({ cniVersion: '1.1.0', name: list.name, ...list.plugins[1] }));
    expect(noList.json).toMatchObject({ code: 7, msg: 'config["cni.dev/valid-attachments"]: required for GC' });
    await chainDel(list, a.inv, addedA.result);
  }, 60_000);

  it('bad input: a CNI error result with a clear msg, non-zero exit', async () => {
    const { inv } = await node.newPod();
    const conf = pluginConfig(list, list.plugins[1]!);
    const cases: [string, string, Record<string, string>, Record<string, unknown>][] = [
      ['ADD', '{"cniVersion":"1.0.0","name":"x",', {}, { code: 6, msg: 'the network configuration on stdin is not valid JSON: unexpected end of input at byte 33' }],
      ['ADD', '{"cniVersion":"1.0.0","name":"x"} trailing', {}, { code: 6, msg: 'the network configuration on stdin is not valid JSON: unexpected text after the object at byte 34' }],
      ['ADD', '', {}, { code: 6, msg: 'the network configuration on stdin is not valid JSON: expected a JSON object at byte 0' }],
      ['ADD', JSON.stringify({ ...JSON.parse(conf), cniVersion: '9.9.9' }), {}, { code: 1, msg: 'incompatible CNI version: the network configuration\'s cniVersion is "9.9.9"' }],
      ['ADD', conf, {}, { code: 7, msg: 'config.prevResult: missing; palisade is a chained plugin (put it after ptp or bridge in the conflist)' }],
      ['ADD', JSON.stringify({ ...JSON.parse(conf), prevResult: { ips: [{ address: 'nope' }] } }), {}, { code: 7, msg: 'config.prevResult.ips[0].address: "nope" is not an address with a prefix length' }],
      ['ADD', JSON.stringify({ ...JSON.parse(conf), onTimeout: 'maybe' }), {}, { code: 7, msg: 'config.onTimeout: "maybe" is not "pass" or "fail"' }],
      ['ADD', JSON.stringify({ ...JSON.parse(conf), prevResult: { ips: [{ address: '10.244.1.50/16' }] } }), { CNI_ARGS: 'IgnoreUnknown=1' }, { code: 4, msg: 'CNI_ARGS: K8S_POD_NAMESPACE and K8S_POD_NAME are required (palisade polices Kubernetes pods)' }],
      ['ADD', conf, { CNI_NETNS: '' }, { code: 4, msg: 'CNI_NETNS is not set' }],
      ['DEL', conf, { CNI_CONTAINERID: '' }, { code: 4, msg: 'CNI_CONTAINERID is not set' }],
      ['FROB', conf, {}, { code: 4, msg: 'unknown CNI_COMMAND "FROB"' }],
      ['', conf, {}, { code: 4, msg: 'CNI_COMMAND is not set' }],
    ];
    for (const [command, stdin, env, want] of cases) {
      const r = await palisade(inv, command, stdin, env);
      expect({ command, stdin: stdin.slice(0, 40), exit: r.exitCode === 0 ? 0 : 'non-zero', ...r.json }).toMatchObject({ exit: 'non-zero', ...want });
      expect(r.json).toHaveProperty('cniVersion');
      expect(r.json).toHaveProperty('details');
    }
  }, 60_000);
});
