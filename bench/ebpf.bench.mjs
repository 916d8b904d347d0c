#!/usr/bin/env node
/**
 * eBPF backend benchmark (issue 5): ns per packet through BPF_PROG_TEST_RUN (the kernel's own
 * per-repetition average, `repeat` runs of one frame) for the Palisade tc program at 100, 1k and
 * 10k rules per direction, beside the pass-all program (bpf/pass_all.bpf.c) in the same run:
 *   - established: an ACK segment of a flow already in the LRU flow map (the common case; IPv4:
 *     answered by the per-CPU flow hint after the first repetition), and the same over IPv6 (no
 *     hint: the flow-map lookup);
 *   - new flow, worst case: a TCP SYN of a subject pod whose flow no rule allows, classified down to the
 *     isolation default deny (a denied flow is never recorded, so every repetition classifies;
 *     deny events are off, as they are by default);
 * Plus: table build and install (one generation flip) times, and map updates per second for pod
 * churn (host address entries in place): batched (one bpf() call per batch) and one per call.
 *
 * Rule sets are Kubernetes-shaped: policies of 10 rules sharing a subject set (5 pods each), peers
 * drawn from other policies' pods, CIDRs or any, TCP/UDP ports and ranges; 10% Admin (some Deny,
 * some Pass), NetworkPolicy allows, the isolation default deny, 10% Baseline.
 *
 *   node bench/ebpf.bench.mjs [--repeat N] [--write-results]
 * Last stdout line: one JSON object of the headline figures (keys in bench/RESULTS.md).
 * Root only. Pins under /sys/fs/bpf/palisade-bench/<pid> (removed at the end); no interface is
 * touched (BPF_PROG_TEST_RUN runs the programs on crafted frames).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const REPEAT = Number(args[args.indexOf('--repeat') + 1] ?? 0) || 200_000;
const WRITE = args.includes('--write-results');
const SIZES = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1].split(',').map(Number) : [100, 1000, 10000];
const CASES = [...SIZES.map((n) => ({ n, ports: 'k8s' })), { n: SIZES[SIZES.length - 1], ports: 'diverse' }];

if (process.getuid?.() !== 0) {
  console.log('ebpf bench: skipped (needs root: loading tc programs needs CAP_BPF and CAP_NET_ADMIN)');
  console.log(JSON.stringify({ skipped: 'needs root' }));
  process.exit(0);
}

// ---- the root dist/ build (scripts/setup.sh, run by `npm run bench`'s prebench) ---------------
const JS = join(ROOT, 'dist');
if (!existsSync(join(JS, 'src/native/binding.js'))) {
  console.error('ebpf bench: dist/ is missing; run `npm run setup` (or `npm run bench`, which does)');
  process.exit(1);
}
const { EbpfInstance } = await import(join(JS, 'backends/ebpf/instance.js'));
const { buildTables } = await import(join(JS, 'backends/ebpf/tables.js'));
const { nativeEbpf, bpfObjectPath } = await import(join(JS, 'src/native/binding.js'));
const { makeCidr } = await import(join(JS, 'src/model/ip.js'));

// ---- deterministic rule sets --------------------------------------------------------------------
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const v4 = (n) => makeCidr(4, BigInt(n >>> 0), 32);
const podIp = (i) => (10 << 24) | (244 << 16) | (((i >> 8) & 0xff) << 8) | (i & 0xff); // 10.244.x.y

// Kubernetes-shaped ports: a pool of common service ports, a few ranges. 'diverse' draws ports and
// ranges uniformly (ClassBench-like), the worst case for the port dimension.
const COMMON_PORTS = [22, 25, 53, 80, 81, 88, 110, 123, 143, 389, 443, 445, 465, 587, 636, 993, 995, 1433, 1521, 2049, 2379, 2380, 3000, 3306, 3389, 4222, 5000, 5044, 5432, 5601, 5672, 6379, 6443, 7000, 7001, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9042, 9090, 9092, 9093, 9100, 9200, 9300, 9411, 9443, 10250, 10255, 11211, 15672, 15692, 27017, 50051];
const COMMON_RANGES = [[30000, 32767], [8000, 8999], [9000, 9100], [5000, 5010], [6000, 6063], [2379, 2380], [10250, 10259], [7000, 7100]];

function ruleSetOf(nRules, seed = 1, ports = 'k8s') {
  const r = rng(seed);
  const perPolicy = 10;
  const policies = Math.max(1, Math.ceil(nRules / perPolicy));
  const sets = []; // SetId -> Cidr[]
  const subjectOf = [];
  for (let p = 0; p < policies; p++) {
    const pods = [];
    for (let k = 0; k < 5; k++) pods.push(v4(podIp(1 + p * 5 + k)));
    subjectOf.push(sets.length);
    sets.push(pods);
  }
  const cidrSets = [];
  for (let c = 0; c < Math.max(4, policies / 4); c++) {
    const len = 16 + Math.floor(r() * 9);
    cidrSets.push(sets.length);
    sets.push([makeCidr(4, BigInt(((10 << 24) | (Math.floor(r() * 256) << 16) | (Math.floor(r() * 256) << 8)) >>> 0), len)]);
  }
  const isolatedSet = sets.length;
  sets.push(subjectOf.flatMap((s) => sets[s]));
  const mk = (direction, tier, subject, peer, protocol, lo, hi, action, stableId) => ({
    direction, tier, subject, peer, protocol, dstPorts: { lo, hi }, srcPorts: { lo: 0, hi: 65535 }, action, origin: { stableId },
  });
  const table = (direction) => {
    const admin = [];
    const np = [];
    const baseline = [];
    for (let i = 0; i < nRules; i++) {
      const p = Math.floor(i / perPolicy);
      const x = r();
      const peer = x < 0.5 ? subjectOf[Math.floor(r() * policies)] : x < 0.85 ? cidrSets[Math.floor(r() * cidrSets.length)] : null;
      const protocol = r() < 0.8 ? 'TCP' : 'UDP';
      let lo, hi;
      if (ports === 'diverse') {
        lo = 1 + Math.floor(r() * 30000);
        hi = r() < 0.7 ? lo : lo + Math.floor(r() * 1000);
      } else if (r() < 0.05) {
        [lo, hi] = COMMON_RANGES[Math.floor(r() * COMMON_RANGES.length)];
      } else {
        lo = hi = COMMON_PORTS[Math.floor(r() * COMMON_PORTS.length)];
      }
      const id = `${direction}/${i}`;
      if (i < nRules * 0.1) admin.push(mk(direction, 'Admin', subjectOf[p], peer, protocol, lo, hi, r() < 0.5 ? 'deny' : 'pass', id));
      else if (i < nRules * 0.9) np.push(mk(direction, 'NetworkPolicy', subjectOf[p], peer, protocol, lo, hi, 'allow', id));
      else baseline.push(mk(direction, 'Baseline', subjectOf[p], peer, protocol, lo, hi, 'deny', id));
    }
    np.push(mk(direction, 'NetworkPolicy', isolatedSet, null, null, 0, 65535, 'isolation-deny', `${direction}/isolation`));
    const rules = [...admin, ...np, ...baseline].map((x, i) => ({ ...x, priority: i }));
    return { rules, tierStart: { Admin: 0, NetworkPolicy: admin.length, Baseline: admin.length + np.length, end: rules.length } };
  };
  const egress = table('egress');
  const ingress = table('ingress');
  let id = 0;
  const all = [];
  for (const t of [egress, ingress]) for (const x of t.rules) all.push(Object.assign(x, { id: id++ }));
  return {
    input: { ruleSet: { rules: all, egress, ingress, namedPortGroups: new Map(), nodeLocalNodes: new Set() }, prefixesOf: (s) => sets[s] ?? [] },
    lastPolicyPod: podIp(1 + (policies - 1) * 5),
    firstPolicyPod: podIp(1),
    rules: egress.rules.length,
  };
}

// ---- frames -------------------------------------------------------------------------------------
function tcpSyn(src, dst, sport, dport, flags = 0x02) {
  const f = new Uint8Array(14 + 20 + 20);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0], 14);
  for (let i = 0; i < 4; i++) {
    f[26 + i] = (src >>> (24 - 8 * i)) & 0xff;
    f[30 + i] = (dst >>> (24 - 8 * i)) & 0xff;
  }
  f.set([sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff], 34);
  return f;
}

// the same TCP segment over IPv6 (fd00:10:244::ea60 -> 2001:db8::7): IPv6 established packets
// take the flow-map path (no per-CPU hint), so this is the hash-lookup cost of an established packet
function tcp6Syn(sport, dport, flags = 0x02) {
  const f = new Uint8Array(14 + 40 + 20);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd], 0);
  f.set([0x60, 0, 0, 0, 0, 20, 6, 64], 14);
  f.set([0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xea, 0x60], 22);
  f.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7], 38);
  f.set([sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff], 54);
  return f;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- run ------------------------------------------------------------------------------------------
const native = nativeEbpf();
const passFd = native.ebpfLoadStandalone(bpfObjectPath('pass_all'), 'pal_pass_all');
const floorFd = native.ebpfLoadStandalone(bpfObjectPath('pass_all'), 'pal_lookup_floor');
const stateRoot = mkdtempSync(join(tmpdir(), 'pal-ebpf-bench-'));
const inst = EbpfInstance.open({ pinRoot: '/sys/fs/bpf/palisade-bench', tag: `b${process.pid}`, stateRoot });
const EXTERNAL = (192 << 24) | (0 << 16) | (2 << 8) | 7; // 192.0.2.7: in no set

/**
 * Every program on its frame, interleaved, `rounds` times; the minimum per program (the
 * uncontended cost on a shared machine: a preempted round only ever inflates the kernel's
 * average) and the median, for the log.
 */
function measure(frames, rounds = 15) {
  const acc = Object.fromEntries(Object.keys(frames).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [k, { prog, frame, expect }] of Object.entries(frames)) {
      const res =
        prog === 'pass' ? native.ebpfTestRunFd(passFd, frame, REPEAT) : prog === 'floor' ? native.ebpfTestRunFd(floorFd, frame, REPEAT) : inst.native.testRun(prog, frame, REPEAT);
      if (res.retval !== expect) throw new Error(`${k}: verdict ${res.retval}, expected ${expect}`);
      acc[k].push(res.durationNs);
    }
  }
  if (rounds > 2) for (const [k, v] of Object.entries(acc)) console.log(`  ${k}: min ${Math.min(...v)} ns, median ${median(v)} ns`);
  return Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, Math.min(...v)]));
}

const rows = [];
let report = '';
let headline = null;
try {
  for (const { n, ports } of CASES) {
    const rs = ruleSetOf(n, 1, ports);
    const t0 = performance.now();
    const { tables, problems } = buildTables(rs.input);
    const buildMs = performance.now() - t0;
    if (!tables) throw new Error(problems.map((p) => p.message).join('; '));
    const t1 = performance.now();
    inst.install(tables);
    const installMs = performance.now() - t1;
    inst.native.clearFlows();
    // established: the SYN of an allowed flow (a pod no policy selects, to anyone) records it;
    // then its ACK segments are what is measured
    if (inst.native.testRun('pal_egress', tcpSyn(podIp(60000), EXTERNAL, 40000, 80), 1).retval !== 0) throw new Error('SYN not allowed');
    const est = tcpSyn(podIp(60000), EXTERNAL, 40000, 80, 0x10);
    if (inst.native.testRun('pal_egress', tcp6Syn(40000, 80), 1).retval !== 0) throw new Error('IPv6 SYN not allowed');
    const est6 = tcp6Syn(40000, 80, 0x10);
    const frames = {
      passAll: { prog: 'pass', frame: est, expect: 0 },
      lookupFloor: { prog: 'floor', frame: est, expect: 0 },
      established: { prog: 'pal_egress', frame: est, expect: 0 },
      establishedV6: { prog: 'pal_egress', frame: est6, expect: 0 },
      newFlowDenied: { prog: 'pal_egress', frame: tcpSyn(rs.lastPolicyPod, EXTERNAL, 40001, 65000), expect: 2 },
      newFlowFirstPolicyDenied: { prog: 'pal_egress', frame: tcpSyn(rs.firstPolicyPod, EXTERNAL, 40002, 65000), expect: 2 },
      newFlowPodPeerDenied: { prog: 'pal_egress', frame: tcpSyn(rs.lastPolicyPod, rs.firstPolicyPod, 40004, 65000), expect: 2 },
    };
    measure(frames, 2); // warm-up (caches, CPU frequency), not recorded
    const m = measure(frames);
    const stats = inst.native.readStats();
    rows.push({ n, ports, rules: rs.rules, classes: tables.addrClassCount, portClasses: tables.portClassCount, chunks: tables.rowCount, refs: tables.indexCount, buildMs, installMs, ...m, malformed: Number(stats[4]) });
    console.log(`rules/dir=${rs.rules} (${ports} ports): pass-all ${m.passAll} ns, LRU lookup floor ${m.lookupFloor} ns, established ${m.established} ns (IPv6, flow-map path: ${m.establishedV6} ns), new flow (deny, last policy) ${m.newFlowDenied} ns, new flow (deny, first policy) ${m.newFlowFirstPolicyDenied} ns, new flow (deny, pod peer) ${m.newFlowPodPeerDenied} ns; build ${buildMs.toFixed(1)} ms, install ${installMs.toFixed(1)} ms`);
  }

  // ---- map updates per second (pod churn in place, 10k-rule tables in force) --------------------
  const cls = inst.installedTables().classSignatures.length > 1 ? 1 : 0;
  const N = 20000;
  const entries = Array.from({ length: N }, (_, i) => {
    const a = new Uint8Array(16);
    const ip = (10 << 24) | (250 << 16) | i;
    a.set([(ip >>> 24) & 255, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255]);
    return { family: 4, addr: a, classId: cls };
  });
  let t = performance.now();
  inst.setHostClasses(entries);
  const batchPerSec = N / ((performance.now() - t) / 1000);
  const M = 5000;
  t = performance.now();
  for (let i = 0; i < M; i++) inst.setHostClasses([entries[i]]);
  const singlePerSec = M / ((performance.now() - t) / 1000);
  t = performance.now();
  inst.removeHosts(entries);
  const removePerSec = N / ((performance.now() - t) / 1000);
  console.log(`map updates: batched ${Math.round(batchPerSec)}/s, one per call ${Math.round(singlePerSec)}/s, removals ${Math.round(removePerSec)}/s`);

  const egress = inst.native.progInfo('pal_egress');
  const lines = [];
  lines.push('<!-- ebpf:begin -->');
  lines.push('## eBPF backend (issue 5): tc program through BPF_PROG_TEST_RUN');
  lines.push('');
  lines.push(`Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} vCPUs, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}; ${new Date().toISOString()}; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (a shared machine: other suites ran meanwhile).`);
  lines.push(`Command: \`node bench/ebpf.bench.mjs --repeat ${REPEAT}\` (part of \`npm run bench\`). ns/packet = the kernel's average over ${REPEAT} repetitions of one frame; the minimum of 15 interleaved rounds (medians are in the command's log); the pass-all and LRU-floor programs run in the same rounds.`);
  lines.push(`Program: verified_insns ${egress.verifiedInsns} (limit 1,000,000; independent of policy size), ${egress.jitedBytes} B JITed.`);
  lines.push('');
  lines.push('| rules/direction | ports | addr classes | port classes | chunks (refs) | build ms | install ms | pass-all ns | LRU floor ns | established ns | x pass-all | established IPv6 (flow map) ns | new flow, worst ns | above pass-all | new flow, pod peer ns | new flow, first policy ns |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    lines.push(`| ${r.rules} | ${r.ports} | ${r.classes} | ${r.portClasses} | ${r.chunks} (${r.refs}) | ${r.buildMs.toFixed(0)} | ${r.installMs.toFixed(0)} | ${r.passAll} | ${r.lookupFloor} | ${r.established} | ${(r.established / r.passAll).toFixed(2)} | ${r.establishedV6} | ${r.newFlowDenied} | +${r.newFlowDenied - r.passAll} | ${r.newFlowPodPeerDenied} | ${r.newFlowFirstPolicyDenied} |`);
  }
  lines.push('');
  lines.push(`Map updates (pod churn, host entries of the active generation): batched ${Math.round(batchPerSec).toLocaleString('en')}/s (${N} entries, one bpf() batch call), one entry per call ${Math.round(singlePerSec).toLocaleString('en')}/s, removals ${Math.round(removePerSec).toLocaleString('en')}/s (one syscall each).`);
  lines.push('');
  lines.push('Targets (issue 5): established <= 1.5x pass-all; new flow at 10k rules <= pass-all + 150 ns; >= 500,000 map updates/s.');
  const big = rows.filter((r) => r.n === Math.max(...rows.map((x) => x.n)));
  const worstAbove = Math.max(...big.map((r) => r.newFlowDenied - r.passAll));
  const worstEst = Math.max(...rows.map((r) => r.established / r.passAll));
  const worstFloor = Math.max(...rows.map((r) => r.established / r.lookupFloor));
  const worstEst6 = Math.max(...rows.map((r) => r.establishedV6 / r.passAll));
  lines.push(
    `Against them: new flow at 10k rules +${worstAbove} ns above pass-all (${worstAbove <= 150 ? 'met' : 'MISSED'}); map updates ${Math.round(batchPerSec).toLocaleString('en')}/s batched (${batchPerSec >= 500000 ? 'met' : 'MISSED'}), ${Math.round(singlePerSec).toLocaleString('en')}/s one per call; established (IPv4) up to ${worstEst.toFixed(2)}x pass-all (${worstEst <= 1.5 ? 'met' : 'MISSED'}; ${worstFloor.toFixed(2)}x the LRU floor: the per-CPU flow hint answers without a hash lookup); IPv6 established (flow-map path) up to ${worstEst6.toFixed(2)}x pass-all.`,
  );
  lines.push('"LRU floor": a program doing nothing but one lookup of a present key in an LRU hash shaped like the flow map (bpf/pass_all.bpf.c `pal_lookup_floor`): what one hash lookup costs. pass-all is the test-run loop itself. "established" is an IPv4 ACK of a recorded flow: after the first repetition it is answered by the per-CPU flow hint (an array slot the flow map confirmed less than 1 s ago, DESIGN.md "State"); "established IPv6" has no hint and pays the flow-map lookup, as an IPv4 packet does on a hint miss.');
  lines.push('"new flow (worst)": a pod of the last policy to an address in no set on a port no rule has: every candidate chunk is scanned and the isolation default deny decides; a denied flow is never recorded, so each repetition classifies. Deny events off (the default).');
  lines.push('<!-- ebpf:end -->');
  report = lines.join('\n');
  console.log(`\n${report}`);
  // headline: the established and pass-all figures of the case with the worst ratio (the one the
  // 1.5x target is judged on), the worst new flow at 10k rules (null when 10k was not run)
  const worstRow = rows.reduce((a, r) => (r.established / r.passAll > a.established / a.passAll ? r : a));
  const at10k = rows.filter((r) => r.n === 10000);
  headline = {
    establishedNs: worstRow.established,
    passAllNs: worstRow.passAll,
    lruFloorNs: worstRow.lookupFloor,
    establishedV6Ns: worstRow.establishedV6,
    newFlow10kNs: at10k.length ? Math.max(...at10k.map((r) => r.newFlowDenied)) : null,
  };
} finally {
  inst.destroy();
  native.ebpfCloseFd(passFd);
  native.ebpfCloseFd(floorFd);
  rmSync(stateRoot, { recursive: true, force: true });
}

if (WRITE && report) {
  const file = join(ROOT, 'bench/RESULTS.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const re = /<!-- ebpf:begin -->[\s\S]*<!-- ebpf:end -->/;
  writeFileSync(file, re.test(old) ? old.replace(re, report) : old.replace(/\n*$/, '\n\n') + report + '\n');
  console.log(`written to ${file}`);
}
// the headline figures, machine-readable, as the last line (bench/run.mjs collects it)
if (headline) console.log(JSON.stringify(headline));
