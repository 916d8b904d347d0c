/**
 * Every example (examples/<story>, hand-written after the user stories and the upstream tests):
 * the engine's explain equals the reference evaluator for every ordered pair of endpoints (pods,
 * host-network pods, node addresses, an external address) on the ports the example's policies
 * name, for TCP, UDP and SCTP; lookupBatch agrees with explain. This is what `palisade check`
 * and `palisade matrix` print, so their output cannot change when they switch engines.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compile } from '../../src/index.js';
import { encodeFlows } from '../../src/engine/flow-batch.js';
import { loadCluster } from '../../src/manifests/cluster.js';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import { interestingPorts } from './random-cluster.js';
import { canonical } from './compare.js';

const examples = readdirSync('examples', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

describe('examples: engine explain = reference', () => {
  test('there are examples', () => expect(examples.length).toBeGreaterThan(5));
  for (const ex of examples) {
    test(ex, () => {
      const { cluster } = loadCluster([`examples/${ex}`]);
      const engine = compile(cluster);
      const reference = new ReferenceEvaluator(cluster);
      const addrs: IpAddr[] = [
        ...cluster.pods.flatMap((p) => p.ips),
        ...cluster.nodes.flatMap((n) => n.addresses),
        parseIp('8.8.8.8')!,
        parseIp('169.254.169.254')!,
        parseIp('2001:db8::1')!,
      ];
      const ports = interestingPorts(cluster);
      let n = 0;
      for (const family of [4, 6] as const) {
        const fam = addrs.filter((a) => a.family === family);
        const flows: Flow[] = [];
        for (const src of fam) for (const dst of fam) for (const protocol of ['TCP', 'UDP', 'SCTP'] as const) for (const dstPort of ports) flows.push({ src, dst, protocol, dstPort });
        const res = engine.lookupBatch(encodeFlows(family, flows));
        flows.forEach((f, k) => {
          const want = reference.evaluate(f);
          const got = engine.explain(f);
          if (canonical(got) !== canonical(want)) expect(got, `${ex}: ${f.protocol} ${f.src.text} -> ${f.dst.text}:${f.dstPort}`).toEqual(want);
          if (res.verdict[k] !== (want.verdict === 'allow' ? 1 : 0)) expect(res.verdict[k], `${ex} batch verdict ${k}`).toBe(want.verdict === 'allow' ? 1 : 0);
          n++;
        });
      }
      expect(n).toBeGreaterThan(0);
    });
  }
});
