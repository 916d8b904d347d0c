import { test } from 'vitest';
import { compile } from '../../src/index.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { addressPools, randomChange, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { canonical } from './compare.js';
test('debug', async () => {
  const seed = 11;
  const r = new Rng(seed);
  const engine = compile(randomCluster(r, { namespaces: r.int(2, 5), pods: r.int(10, 30), nodes: r.int(1, 3), networkPolicies: r.int(1, 6), clusterPolicies: r.int(1, 7) }));
  for (let step = 1; step <= 40; step++) {
    const change = randomChange(r, engine.cluster());
    const u = engine.update(change);
    console.log(step, change.kind, u.rebuilt, u.deltas.length);
    if (step % 5 !== 0) continue;
    const cluster = engine.cluster();
    const fresh = compile(cluster);
    const reference = new ReferenceEvaluator(cluster);
    const pools = addressPools(cluster);
    const flows = Array.from({ length: 1000 }, () => randomFlow(r, pools));
    for (const f of flows.slice(0, 100)) {
      const a = engine.explain(f), b = reference.evaluate(f), c = fresh.explain(f);
      if (canonical(a) !== canonical(b)) {
        console.log('FLOW', canonical(f));
        console.log('ENGINE', canonical(a.egress), canonical(a.ingress));
        console.log('FRESH ', canonical(c.egress), canonical(c.ingress));
        console.log('REF   ', canonical(b.egress), canonical(b.ingress));
        console.log('NODES', JSON.stringify(cluster.nodes.map((n) => [n.name, n.addresses.map((x) => x.text)])));
        console.log('POD', JSON.stringify(cluster.pods.filter((p) => p.ips.some((x) => x.text === f.dst.text || x.text === f.src.text)).map((p) => [p.namespace, p.name, p.nodeName, p.hostNetwork, p.ips.map((x) => x.text)])));
        const { dumpRules } = await import('../../src/rules/dump.js');
        console.log(dumpRules(fresh.ruleSet, fresh.resolution).split('\n').filter((l) => l.includes('node')).join('\n'));
        console.log('lookup', JSON.stringify(engine.lookup(f)), JSON.stringify(fresh.lookup(f)));
        return;
      }
    }
  }
});
