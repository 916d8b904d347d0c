// Child of test/nftables/signals.test.ts, run with `node --cpu-prof --cpu-prof-interval 50`: the
// profiler's SIGPROF arrives many times during each libnftables call. Installs the benchmarks' 5,000-pod /
// 1,000-policy table (bench/generate-cluster.mjs) in NETNS, then removes and re-adds 40 pods one change at a time; prints one JSON line.
import { join } from 'node:path';
const [dist, netnsPath] = process.argv.slice(2);
const { NftablesBackend } = await import(join(dist, 'backends/nftables/backend.js'));
const { Enforcement } = await import(join(dist, 'src/enforce/enforcement.js'));
const { buildCluster } = await import(join(dist, 'src/manifests/cluster.js'));
const { generateCluster } = await import(join(dist, '..', 'bench/generate-cluster.mjs'));
const e = new Enforcement(new NftablesBackend({ netnsPath }));
const c = buildCluster(generateCluster().objects.map((obj) => ({ obj, file: '<generated>' }))).cluster;
await e.apply(c);
const failures = [];
for (let i = 0; i < 40; i++) {
  const p = c.pods[i * 97];
  for (const change of [{ kind: 'pod-removed', namespace: p.namespace, name: p.name }, { kind: 'pod', pod: p }]) {
    try {
      await e.applyChanges([change]);
    } catch (err) {
      failures.push(String(err.message).slice(0, 160));
    }
  }
}
console.log(JSON.stringify({ changes: 80, failures }));
