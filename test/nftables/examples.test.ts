/**
 * Every example under examples/: build its topology with the real CNI plugins, put it in force
 * through Enforcement(NftablesBackend), probe every ordered address
 * pair on the example's ports (TCP, UDP, raw SCTP; IPv4 and IPv6 where the pods have both) and
 * compare with the reference evaluator: zero mismatches.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { portPlan } from '../../src/topology/ports.js';
import { externalCandidates } from '../harness/externals.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology } from '../../src/topology/topology.js';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { requires } from '../harness/prerequisites.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const dirs = readdirSync(EXAMPLES)
  .filter((d) => statSync(join(EXAMPLES, d)).isDirectory())
  .sort();

describe.skipIf(requires('root', 'netns', 'addon', 'cni-plugins'))('nftables backend = reference on every example', () => {
  it('has examples to check', () => expect(dirs.length).toBeGreaterThan(0));
  for (const [i, dir] of dirs.entries()) {
    it(dir, async () => {
      const r = safeLoadCluster([join(EXAMPLES, dir)]);
      if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
      const cluster = r.cluster;
      const ports = portPlan(cluster, 4);
      const topo = await buildTopology(cluster, { tag: `ex${i}`, externals: externalCandidates([cluster]) });
      const enforcement = new Enforcement(new NftablesBackend({ netnsPath: topo.nodeNetnsPath }));
      let fleet: ProbeFleet | undefined;
      try {
        fleet = await ProbeFleet.start(topo, ports);
        const report = await enforceAndCompare(enforcement, cluster, topo, fleet, ports);
        expect(report.mismatches.map(formatMismatch)).toEqual([]);
        expect(report.probes).toBeGreaterThan(0);
        console.log(`${dir}: ${report.probes} probes, ${report.allowed} allowed, ${report.denied} denied, ${report.retried} retried, ${report.durationMs} ms`);
      } finally {
        await enforcement.remove().catch(() => undefined);
        await fleet?.stop();
        await topo.destroy();
      }
    });
  }
});
