/**
 * Every example under examples/ enforced by the nfqueue backend on real packets, driven as every
 * backend is: Enforcement(new NfqueueBackend(...)) through the shared differential harness
 * (enforceAndCompare: queue sockets and steering in the node namespace): every ordered address pair on the example's
 * ports (TCP, UDP, raw SCTP; IPv4 and IPv6 where the pods have both) against the reference
 * evaluator: zero mismatches. An example nfqueue cannot enforce (Redirect, S14: a queue verdict
 * accepts or drops, it never rewrites) must be refused at apply time with the clear error.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { portPlan } from '../../src/topology/ports.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const dirs = readdirSync(EXAMPLES)
  .filter((d) => statSync(join(EXAMPLES, d)).isDirectory())
  .sort();

/** Examples nfqueue refuses, always (src/enforce/capabilities.ts), with the error it must give. */
const REFUSED: Readonly<Record<string, RegExp>> = {
  's14-redirect': /metadata-via-proxy: rule egress\[0\] \("to-kube2iam"\) has action Redirect, which the nfqueue backend cannot enforce \(a queued packet can only be accepted or dropped, not rewritten\)/,
};

describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('nfqueue backend = reference on every example', () => {
  it('has examples to check', () => expect(dirs.length).toBeGreaterThan(0));
  for (const [i, dir] of dirs.entries()) {
    it(dir, async () => {
      const r = safeLoadCluster([join(EXAMPLES, dir)]);
      if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
      const cluster = r.cluster;
      const refused = REFUSED[dir];
      if (refused) {
        const topo = await buildTopology(cluster, { tag: `nq${i}` });
        const backend = new NfqueueBackend({ netnsPath: topo.nodeNetnsPath, firstQueue: 4400 });
        try {
          await expect(new Enforcement(backend).apply(cluster)).rejects.toThrow(refused);
        } finally {
          await backend.remove().catch(() => undefined);
          await topo.destroy();
        }
        return;
      }
      const ports = portPlan(cluster, 4);
      const topo = await buildTopology(cluster, { tag: `nq${i}` });
      const backend = new NfqueueBackend({ netnsPath: topo.nodeNetnsPath, firstQueue: 4400 });
      let fleet: ProbeFleet | undefined;
      try {
        fleet = await ProbeFleet.start(topo, ports);
        const report = await enforceAndCompare(new Enforcement(backend), cluster, topo, fleet, ports);
        expect(report.mismatches.map(formatMismatch)).toEqual([]);
        expect(report.probes).toBeGreaterThan(0);
        const st = backend.loopStats()!;
        expect(st.packets).toBeGreaterThan(0); // the queue really judged the flows
        console.log(`${dir}: ${report.probes} probes, ${report.allowed} allowed, ${report.denied} denied, loop ${st.accepted} accepted / ${st.denied} denied`);
      } finally {
        await backend.remove().catch(() => undefined);
        await fleet?.stop();
        await topo.destroy();
      }
    });
  }
});
