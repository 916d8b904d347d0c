/**
 * Queue overflow under each fail mode (backends/nfqueue/steer.ts "Fail modes"; the kernel's
 * nfnetlink_queue: a full queue drops unless NFQA_CFG_F_FAIL_OPEN is set on it). The loop is paused
 * (it stops reading), the queue holds 4 packets, and 40 new UDP datagrams arrive: fail-closed
 * delivers none of them while the loop is stalled (the kernel counts the overflow as
 * queue_dropped); fail-open delivers the overflow unjudged. An allow-all test policy makes every
 * judged datagram pass, so only the overflow behaviour decides what arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { nativeNfqueue } from '../../src/native/binding.js';
import { DEFAULT_ACCEPT_MARK, installSteering, kernelQueueStats, removeSteering } from '../../backends/nfqueue/steer.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { startSink, udpTool } from './enforcer-process.js';
import { requires } from '../harness/prerequisites.js';
import { clientServer } from '../harness/fixtures.js';

const INVENTORY = clientServer({ subnet: 6, dualStack: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('nfqueue queue overflow: fail-closed drops, fail-open passes', () => {
  let topo: Topology | undefined;
  beforeAll(async () => {
    const r = safeParseCluster(INVENTORY, 'overflow.test.yaml');
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    topo = await buildTopology(r.cluster, { tag: 'nfqovf' });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  for (const failOpen of [false, true]) {
    it(failOpen ? 'fail-open: overflow is accepted unjudged' : 'fail-closed: overflow is dropped', async () => {
      const queue = failOpen ? 4501 : 4500;
      const { NfqLoop } = nativeNfqueue();
      const loop = new NfqLoop({ queues: [queue], acceptMark: DEFAULT_ACCEPT_MARK, failOpen, queueMaxLen: 4, netnsPath: topo!.nodeNetnsPath });
      const ctx = { netns: topo!.nodeNs };
      const client = topo!.hosts.find((h) => h.name === 'app/client')!.netns;
      const server = topo!.hosts.find((h) => h.name === 'app/server')!.netns;
      try {
        loop.start();
        loop.publishRules(new Uint8Array(0), true); // allow everything that is judged
        await installSteering({ firstQueue: queue, queueCount: 1, failOpen, acceptMark: DEFAULT_ACCEPT_MARK, hooks: ['FORWARD'], families: [4] }, ctx);
        loop.setPaused(true);
        await sleep(50);
        const before = (await kernelQueueStats(ctx)).find((k) => k.queue === queue)!;
        const sink = await startSink(server, '10.244.6.20', 5454);
        const { sent } = (await udpTool(client, ['flood', '10.244.6.10', '10.244.6.20', '5454', '400', '100'])) as { sent: number };
        await sleep(200);
        const whileStalled = await sink.finish();
        const after = (await kernelQueueStats(ctx)).find((k) => k.queue === queue)!;
        expect(sent).toBeGreaterThanOrEqual(30);
        expect(after.waiting).toBe(4); // the queue is full
        if (failOpen) {
          expect(whileStalled).toBe(sent - 4); // everything but the 4 queued went through unjudged
        } else {
          expect(whileStalled).toBe(0);
          expect(after.queueDropped - before.queueDropped).toBe(sent - 4);
        }
        loop.setPaused(false);
        await sleep(200);
        expect(loop.stats().accepted).toBe(4); // the queued ones are judged once the loop reads again
      } finally {
        await removeSteering(ctx, [4]).catch(() => undefined);
        loop.stop();
      }
    });
  }
});
