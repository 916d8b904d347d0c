import { generateCluster } from './generate-cluster.mjs';
const dist = new URL('../dist/src/', import.meta.url);
const { compile } = await import(new URL('index.js', dist).href);
const { buildCluster } = await import(new URL('manifests/cluster.js', dist).href);
const gen = generateCluster({ namespaces: 500, podsPerNamespace: 10, nodes: 50, policies: 1000, seed: 42 });
const cluster = buildCluster(gen.objects.map((obj) => ({ obj, file: '<generated>' }))).cluster;
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  const e = compile(cluster, { classifier: 'native' });
  console.log(k, (performance.now() - t0).toFixed(0), 'ms', e.ruleSet.rules.length, 'rules');
}
