#!/usr/bin/env node
/**
 * The palisade CNI plugin (cni/palisade_cni.cc, build/palisade-cni), run by `npm run bench`:
 *
 *   1. one plugin start: wall time and max RSS of `palisade-cni` (CNI_COMMAND=VERSION, answered by
 *      the shim itself) against a bare `node -e ''`, the reason the plugin is C++. Time: a small
 *      Python loop (posix_spawn + wait4, no Node in between). Max RSS: GNU time's %M (fork + exec
 *      from a ~1 MB process; wait4's ru_maxrss after posix_spawn would report the spawner's own
 *      pages, since the kernel keeps the pre-exec high-water mark).
 *   2. CNI ADD through the shim with a live agent server (src/agent/cni/server.ts), one at a time,
 *      spawn to exit as a runtime sees it:
 *        - overhead: an agent whose podAdded resolves at once (the cost beyond programming);
 *        - as root, nftables: Enforcement(nftables) in a fresh network namespace holding
 *          examples/s12-namespace-isolation; each ADD puts the pod with its address in force
 *          (one set-element delta) before the answer. `cniAddP50Ms` / `cniAddP99Ms` are these.
 *      prevResult is a ptp-shaped result written here: ptp's own ~50-150 ms is not ours.
 * Checks before timing: every ADD answers exit 0 with prevResult echoed; after the nftables run
 * the kernel holds the last pod's address. Last stdout line: one JSON object.
 * Needs dist/ (npx tsc) and build/palisade-cni (npm run build:native).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shim = join(root, 'build/palisade-cni');
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
if (!existsSync(shim)) {
  console.error(`${shim} is not built: npm run build:native`);
  process.exit(1);
}
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ADDS = arg('--adds', 400);
const STARTS = arg('--starts', 300);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r2 = (x) => Math.round(x * 100) / 100;

// ---- 1. plugin start: time and max RSS -------------------------------------------------------
const startLoop = `
import os, sys, time, json
argv = json.loads(sys.argv[1]); n = int(sys.argv[2]); env = dict(os.environ, CNI_COMMAND='VERSION')
devnull = os.open('/dev/null', os.O_RDWR)
times, rss = [], []
for _ in range(n):
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status, ru = os.wait4(pid, 0)
    times.append((time.perf_counter() - t0) * 1000)
    if status != 0: sys.exit('exit status %d' % status)
print(json.dumps({'times': times}))
`;
function starts(argv, n) {
  const r = spawnSync('python3', ['-c', startLoop, JSON.stringify(argv), String(n)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`start loop for ${argv[0]}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
/** max RSS (KB) over n runs, from GNU time */
function maxRssKb(argv, n) {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`/usr/bin/time ${argv[0]}: ${r.stderr}`);
    max = Math.max(max, Number(r.stderr.trim().split('\n').at(-1)));
  }
  return max;
}
const shimStarts = { ...starts([shim], STARTS), rssKb: [maxRssKb([shim], 50)] };
const nodeStarts = { ...starts([process.execPath, '-e', ''], Math.max(10, Math.floor(STARTS / 10))), rssKb: [maxRssKb([process.execPath, '-e', ''], 5)] };
const start = {
  shimStartP50Ms: r2(pct(shimStarts.times, 50)),
  shimStartP99Ms: r2(pct(shimStarts.times, 99)),
  shimMaxRssMb: r2(Math.max(...shimStarts.rssKb) / 1024),
  nodeStartP50Ms: r2(pct(nodeStarts.times, 50)),
  nodeMaxRssMb: r2(Math.max(...nodeStarts.rssKb) / 1024),
};
console.log(`plugin start (VERSION), ${STARTS} runs: p50 ${start.shimStartP50Ms} ms, p99 ${start.shimStartP99Ms} ms, max RSS ${start.shimMaxRssMb} MB`);
console.log(`bare node -e '', ${nodeStarts.times.length} runs: p50 ${start.nodeStartP50Ms} ms, max RSS ${start.nodeMaxRssMb} MB`);

// ---- 2. ADD through the shim with a live server ----------------------------------------------
const { startCniServer } = await import(dist('src/agent/cni/server.js'));
const dir = await mkdtemp(join(tmpdir(), 'pal-cni-bench-'));
const socketPath = join(dir, 'cni.sock');

function addOnce(i, ip) {
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'bench',
    type: 'palisade',
    socket: socketPath,
    queueDir: join(dir, 'queue'),
    prevResult: {
      cniVersion: '1.0.0',
      interfaces: [{ name: `veth${i}`, mac: '0a:58:0a:f4:01:14' }, { name: 'eth0', mac: '0a:58:0a:f4:01:15', sandbox: `/run/netns/bench-${i}` }],
      ips: [{ address: `${ip}/16`, gateway: '10.244.255.254', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0' }],
    },
  });
  const env = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: `bench-${i}`,
    CNI_NETNS: `/run/netns/bench-${i}`,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=team-b;K8S_POD_NAME=worker',
    CNI_PATH: '/opt/cni/bin',
  };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = execFile(shim, [], { env, timeout: 20_000 }, (err, stdout) => {
      const ms = performance.now() - t0;
      if (err) return reject(new Error(`ADD ${i}: ${err.message} ${stdout}`));
      const out = JSON.parse(stdout);
      if (out.ips?.[0]?.address !== `${ip}/16`) return reject(new Error(`ADD ${i}: prevResult not echoed: ${stdout}`));
      resolve(ms);
    });
    child.stdin.end(conf);
  });
}

async function addRun(agent, n) {
  const server = await startCniServer({ socketPath, queueDir: join(dir, 'queue'), agent, log: () => undefined, addTimeoutMs: 10_000 });
  try {
    for (let i = 0; i < 20; i++) await addOnce(i, `10.244.1.${20 + (i % 2)}`); // warm-up
    const ms = [];
    for (let i = 0; i < n; i++) ms.push(await addOnce(i, `10.244.1.${20 + (i % 2)}`));
    return ms;
  } finally {
    await server.close();
  }
}

const immediate = { podAdded: async () => undefined, podDeleted: async () => undefined, podCheck: async () => undefined };
const overhead = await addRun(immediate, ADDS);
const result = {
  ...start,
  cniAddOverheadP50Ms: r2(pct(overhead, 50)),
  cniAddOverheadP99Ms: r2(pct(overhead, 99)),
};
console.log(`ADD through the shim, agent answers at once, ${ADDS} ADDs: p50 ${result.cniAddOverheadP50Ms} ms, p99 ${result.cniAddOverheadP99Ms} ms`);

if (process.getuid?.() === 0) {
  const { createNetns, deleteNetns, netnsPath } = await import(dist('src/topology/netns.js'));
  const { createBackend } = await import(dist('backends/registry.js'));
  const { Enforcement } = await import(dist('src/enforce/enforcement.js'));
  const { safeLoadCluster } = await import(dist('src/manifests/cluster.js'));
  const { parseIp } = await import(dist('src/model/ip.js'));
  const loaded = safeLoadCluster([join(root, 'examples/s12-namespace-isolation')]);
  const worker = loaded.cluster.pods.find((p) => p.name === 'worker');
  const base = { ...loaded.cluster, pods: loaded.cluster.pods.filter((p) => p !== worker) };
  const ns = `pal-cnibench-${process.pid}`;
  await createNetns(ns);
  const backend = await createBackend('nftables', { netnsPath: netnsPath(ns) });
  const enforcement = new Enforcement(backend);
  try {
    await enforcement.apply(base);
    const applyMs = [];
    const agent = {
      async podAdded(p) {
        const report = await enforcement.applyChanges([{ kind: 'pod', pod: { ...worker, ips: p.ips.map((t) => parseIp(t)) } }]);
        applyMs.push(report.ms);
      },
      podDeleted: async () => undefined,
      podCheck: async () => undefined,
    };
    const total = await addRun(agent, ADDS);
    const kept = applyMs.slice(-total.length);
    const beyond = total.map((t, i) => t - kept[i]);
    const ruleset = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }).stdout;
    const lastIp = `10.244.1.${20 + ((ADDS - 1) % 2)}`;
    if (!ruleset.includes(lastIp)) throw new Error(`the kernel does not hold ${lastIp} after the last ADD`);
    Object.assign(result, {
      cniAddP50Ms: r2(pct(total, 50)),
      cniAddP99Ms: r2(pct(total, 99)),
      policyApplyP50Ms: r2(pct(kept, 50)),
      policyApplyP99Ms: r2(pct(kept, 99)),
      cniAddBeyondApplyP99Ms: r2(pct(beyond, 99)),
    });
    console.log(
      `ADD through the shim, nftables agent, ${ADDS} ADDs: p50 ${result.cniAddP50Ms} ms, p99 ${result.cniAddP99Ms} ms; ` +
        `of which the apply p50 ${result.policyApplyP50Ms} ms, p99 ${result.policyApplyP99Ms} ms; beyond the apply p99 ${result.cniAddBeyondApplyP99Ms} ms`,
    );
  } finally {
    await enforcement.remove().catch(() => undefined);
    await backend.close().catch(() => undefined);
    await deleteNetns(ns);
  }
} else {
  console.log('not root: the nftables ADD run (cniAddP50Ms, cniAddP99Ms) needs a network namespace; skipped');
}
await rm(dir, { recursive: true, force: true });
console.log(`targets: ADD p99 <= 50 ms beyond programming; a plugin start <= 5 ms and <= 5 MB`);
console.log(JSON.stringify(result));
