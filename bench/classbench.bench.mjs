#!/usr/bin/env node
/**
 * ClassBench benchmark (issue 6 build point 7): acl1, fw1, ipc1 at 1k and 10k, read from
 * ../shared/classbench (never copied into the repo).
 *
 * For every rule set, FIRST every answer is checked (100% or the run fails):
 *   native batch, native-scalar and the TS linear reference against *_trace.firstmatch
 *   (acl1_10k has no trace in ../shared: a seeded corner trace is generated and the reference is
 *   its oracle); the dst-only comparison checks native against cidr-matcher on every header;
 *   dpdk-test-acl's answers are checked against the oracle too.
 * THEN, with tinybench (median of samples; ns per lookup = median sample time / headers per sample):
 *   native batch     lookupBatch4 over the whole trace (32 headers interleaved, prefetch)
 *   native scalar    the same call, one header at a time through the same structures
 *   native single    one N-API call per header (lookup4Raw): the per-call cost a JS caller pays
 *   reference        the TS linear first-match scan (on a prefix of the trace: it is slow)
 *   cidr-matcher     npm cidr-matcher 2.1.1 `contains(dst)` over the rule set's distinct dst
 *                    prefixes, against native batch on the same single-field rule set
 *   build            compileSync (C++ compile, wall, median) and bytes per rule
 * plus incremental set updates per second (address-set rules, Kubernetes shape), incremental rule
 * edits per second of the IPv4 split forest (build/split_tree_core, 1,000 edits per version) and
 * dpdk-test-acl (`--no-huge --no-shconf -m 1024 --no-pci -l 0 -- --rulesf --tracef --iter=20`).
 * Prints markdown tables, then as its last line one JSON object per set: palisadeNs, dpdkNs,
 * buildMs, bytesPerRule, updatesPerSec (bench/RESULTS.md). Usage: node bench/classbench.bench.mjs [--time MS] [--sets a,b]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';

const dist = new URL('../dist/src/', import.meta.url);
const { readRules, readTrace, readFirstMatch, readMaybeGz } = await import(new URL('classbench/files.js', dist).href);
const { packClassBenchRules } = await import(new URL('classbench/native.js', dist).href);
const { classifyLinear } = await import(new URL('classbench/reference.js', dist).href);
const B = await import(new URL('native/binding.js', dist).href);
const { default: CidrMatcher } = await import('cidr-matcher');

const argOf = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const TIME_MS = Number(argOf('time', 600));
const DIR = new URL('../../shared/classbench/cutsplit-ruleSet/', import.meta.url).pathname;
const SETS = argOf('sets', 'acl1_1k,fw1_1k,ipc1_1k,acl1_10k,fw1_10k,ipc1_10k').split(',');
const DPDK = '/usr/bin/dpdk-test-acl';

if (!existsSync(DIR)) {
  console.log(`ClassBench files not found at ${DIR} (see ../shared/classbench/README.md); skipping`);
  console.log(JSON.stringify({ skipped: `no ClassBench files at ${DIR}` }));
  process.exit(0);
}
if (!B.nativeAvailable()) {
  console.error('build/Release/palisade.node is missing: run npm run build:native');
  process.exit(1);
}

const find = (name) => [join(DIR, name), join(DIR, `${name}.gz`)].find(existsSync) ?? null;
const tmp = mkdtempSync(join(os.tmpdir(), 'palisade-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let failures = 0;
const fail = (msg) => {
  failures++;
  console.log(`**ANSWER CHECK FAILED**: ${msg}`);
};
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const ipText = (a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** Headers at random corners of random rules (seeded), written like a ClassBench trace. */
function cornerTrace(r, count, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  const h = new Uint32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const k = rnd() % r.count;
    const host = (len) => (len === 32 ? 0 : rnd() & (0xffffffff >>> len));
    const pick = (lo, hi) => [lo, hi, lo + (rnd() % (hi - lo + 1))][rnd() % 3];
    h[i * 4] = (r.src[k] | host(r.srcLen[k])) >>> 0;
    h[i * 4 + 1] = (r.dst[k] | host(r.dstLen[k])) >>> 0;
    h[i * 4 + 2] = ((pick(r.sportLo[k], r.sportHi[k]) << 16) | pick(r.dportLo[k], r.dportHi[k])) >>> 0;
    h[i * 4 + 3] = r.protoMask[k] === 0 ? [6, 17, 1][rnd() % 3] : r.proto[k];
  }
  return { count, headers: h };
}

function diff(got, want, what) {
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return fail(`${what}: header ${i} got ${got[i]} want ${want[i]}`), false;
  return true;
}

const p50ms = (bench, name) => bench.tasks.find((t) => t.name === name).result.latency.p50;

/**
 * CPU time (process user+system, ns) per call of fn, over enough calls to last ~targetMs of CPU.
 * The machine is shared: wall-clock medians include time spent descheduled, CPU time does not.
 */
function cpuNsPerCall(fn, targetMs = 300) {
  fn();
  let calls = 1;
  for (;;) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) fn();
    const d = process.cpuUsage(c0);
    const us = d.user + d.system;
    if (us >= targetMs * 1000 || calls >= 1 << 20) return (us * 1000) / calls;
    calls *= us > 0 ? Math.min(16, Math.ceil((targetMs * 1000) / us)) : 16;
  }
}

// dpdk reads plain files; 10k traces are gzip in ../shared, so a plain copy goes to a temp dir.
function writeTraceFile(trace) {
  const tracePath = join(tmp, 'trace');
  const lines = [];
  for (let i = 0; i < trace.count; i++) {
    const o = i * 4;
    lines.push(`${trace.headers[o]}\t${trace.headers[o + 1]}\t${trace.headers[o + 2] >>> 16}\t${trace.headers[o + 2] & 0xffff}\t${trace.headers[o + 3]}\t0\t0`);
  }
  writeFileSync(tracePath, lines.join('\n') + '\n');
  return tracePath;
}

// ---- the split forest alone (build/split_tree_core): incremental edits per second -----------
// Random remove + re-insert of rules of the set, 1,000 edits per published (frozen) version, thread
// CPU time; it checks every answer of the trace first, and again after the edits.
const CORE = new URL('../build/split_tree_core', import.meta.url).pathname;
function runCore(rulesPath, trace, want) {
  if (!existsSync(CORE)) return { note: `${CORE} missing: npm run build:native` };
  const tracePath = writeTraceFile(trace);
  const oraclePath = join(tmp, 'firstmatch');
  writeFileSync(oraclePath, Array.from(want).join('\n') + '\n');
  const r = spawnSync(CORE, [rulesPath, tracePath, oraclePath], { encoding: 'utf8', timeout: 300_000 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(last);
    if (r.status !== 0) fail(`split_tree_core: ${j.mismatches} mismatches, ${j.mismatchesAfterEdits} after edits`);
    return j;
  } catch {
    return { note: `split_tree_core did not run (exit ${r.status ?? r.signal})` };
  }
}

// ---- dpdk-test-acl --------------------------------------------------------------------------
function runDpdk(rulesPath, trace, want) {
  if (!existsSync(DPDK)) return { note: `${DPDK} not installed (Debian package dpdk-dev)` };
  const tracePath = writeTraceFile(trace);
  const base = ['--no-huge', '--no-shconf', '-m', '1024', '--no-pci', '-l', '0', '--', `--rulesf=${rulesPath}`, `--tracef=${tracePath}`, `--tracenum=${trace.count}`];
  const check = spawnSync(DPDK, [...base, '--iter=1'], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: 120_000 });
  if (check.status !== 0) {
    const why = check.signal ? `killed by ${check.signal}` : `exit ${check.status}`;
    const last = `${check.stderr}${check.stdout}`.trim().split('\n').filter((l) => !l.startsWith('ipv4_5tuple:')).pop() ?? '';
    return { note: `did not run: ${why} (${last.slice(0, 100)})` };
  }
  const results = [...check.stdout.matchAll(/ipv4_5tuple: (\d+), category: 0, result: (\d+)/g)];
  let bad = 0;
  for (const m of results) {
    const i = Number(m[1]) - 1;
    const got = Number(m[2]); // dpdk-test-acl prints the 0-based rule index (lines of RULES)
    if (got !== want[i]) bad++;
  }
  if (results.length !== trace.count) return { note: `printed ${results.length} of ${trace.count} answers` };
  const timed = spawnSync(DPDK, [...base, '--iter=20', '--verbose=0'], { encoding: 'utf8', timeout: 120_000 });
  const m = /([\d.]+) cycles\/pkt, ([\d.]+) pkt\/sec/.exec(timed.stdout);
  if (timed.status !== 0 || !m) return { note: `timed run failed (exit ${timed.status ?? timed.signal})` };
  return { ns: 1e9 / Number(m[2]), cycles: Number(m[1]), mismatches: bad };
}

// ---- one ClassBench set ---------------------------------------------------------------------
const rows = [];
const dstRows = [];
for (const set of SETS) {
  const rulesPath = find(set);
  if (!rulesPath) {
    console.log(`${set}: not found, skipped`);
    continue;
  }
  const rules = readRules(rulesPath);
  const tracePath = find(`${set}_trace`);
  const oraclePath = find(`${set}_trace.firstmatch`);
  const trace = tracePath ? readTrace(tracePath) : cornerTrace(rules, 100_000, 0xc1a55);
  const n = trace.count;
  let want;
  if (oraclePath) want = readFirstMatch(oraclePath);
  else {
    want = new Int32Array(n);
    classifyLinear(rules, trace.headers, want);
  }
  const traceNote = tracePath ? `${n} headers` : `${n} generated corner headers (no trace in ../shared)`;

  // answers first
  const cls = new B.NativeClassifier();
  const packed = packClassBenchRules(rules);
  cls.compileSync(packed);
  const out = { ruleId: new Uint32Array(n), action: new Uint8Array(n) };
  const asIndex = () => Int32Array.from(out.ruleId, (v) => (v === B.NO_RULE_ID ? -1 : v));
  cls.lookupBatch4(trace.headers, out);
  diff(asIndex(), want, `${set} native batch`);
  cls.lookupBatch4(trace.headers, out, { scalar: true });
  diff(asIndex(), want, `${set} native-scalar`);
  const single = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const raw = cls.lookup4Raw(trace.headers[o], trace.headers[o + 1], trace.headers[o + 2] >>> 16, trace.headers[o + 2] & 0xffff, trace.headers[o + 3]);
    single[i] = raw < 0 ? -1 : raw % 4294967296;
  }
  diff(single, want, `${set} native single`);
  const refN = Math.min(n, rules.count > 2000 ? 500 : 2000);
  const refHeaders = trace.headers.subarray(0, refN * 4);
  const refOut = new Int32Array(refN);
  if (oraclePath) {
    const all = new Int32Array(n);
    classifyLinear(rules, trace.headers, all);
    diff(all, want, `${set} reference`);
  }

  // single-field subset: the distinct dst prefixes, native vs cidr-matcher
  const dstSeen = new Map();
  for (let i = 0; i < rules.count; i++) {
    const key = `${rules.dst[i]}/${rules.dstLen[i]}`;
    if (!dstSeen.has(key)) dstSeen.set(key, { addr: rules.dst[i], len: rules.dstLen[i] });
  }
  const dstPrefixes = [...dstSeen.values()].filter((p) => p.len > 0); // /0 would make every answer "yes"
  const dstCls = new B.NativeClassifier();
  dstCls.compileSync(B.packRules(dstPrefixes.map((p, i) => ({ ruleId: i, priority: i, action: 1, src: { kind: 'prefix4', addr: 0, prefixLen: 0 }, dst: { kind: 'prefix4', addr: p.addr, prefixLen: p.len } }))));
  const matcher = new CidrMatcher(dstPrefixes.map((p) => `${ipText(p.addr)}/${p.len}`));
  const dstN = Math.min(n, 20_000);
  const dstText = Array.from({ length: dstN }, (_, i) => ipText(trace.headers[i * 4 + 1]));
  const dstHeaders = trace.headers.subarray(0, dstN * 4);
  const dstOut = { ruleId: new Uint32Array(dstN), action: new Uint8Array(dstN) };
  dstCls.lookupBatch4(dstHeaders, dstOut);
  for (let i = 0; i < dstN; i++) {
    if ((dstOut.ruleId[i] !== B.NO_RULE_ID) !== matcher.contains(dstText[i])) {
      fail(`${set} dst-only: header ${i} native ${dstOut.ruleId[i]} vs cidr-matcher ${matcher.contains(dstText[i])}`);
      break;
    }
  }

  // timing
  const bench = new Bench({ time: TIME_MS, warmupTime: 100 });
  let sink = 0;
  bench
    .add('native batch', () => cls.lookupBatch4(trace.headers, out))
    .add('native scalar', () => cls.lookupBatch4(trace.headers, out, { scalar: true }))
    .add('native single', () => {
      const h = trace.headers;
      for (let i = 0; i < n; i++) {
        const o = i * 4;
        sink += cls.lookup4Raw(h[o], h[o + 1], h[o + 2] >>> 16, h[o + 2] & 0xffff, h[o + 3]);
      }
    })
    .add('reference', () => classifyLinear(rules, refHeaders, refOut))
    .add('build', () => cls.compileSync(packed))
    .add('dst native', () => dstCls.lookupBatch4(dstHeaders, dstOut))
    .add('dst cidr-matcher', () => {
      for (let i = 0; i < dstN; i++) sink += matcher.contains(dstText[i]) ? 1 : 0;
    });
  await bench.run();
  const cpu = {
    batch: cpuNsPerCall(() => cls.lookupBatch4(trace.headers, out)) / n,
    scalar: cpuNsPerCall(() => cls.lookupBatch4(trace.headers, out, { scalar: true })) / n,
  };
  const buildNs = [];
  for (let k = 0; k < 15; k++) buildNs.push(cls.compileSync(packed).buildNs);
  buildNs.sort((a, b) => a - b);
  const st = cls.stats();
  const row = {
    set,
    rules: rules.count,
    traceNote,
    cpu,
    batch: (p50ms(bench, 'native batch') * 1e6) / n,
    scalar: (p50ms(bench, 'native scalar') * 1e6) / n,
    single: (p50ms(bench, 'native single') * 1e6) / n,
    reference: (p50ms(bench, 'reference') * 1e6) / refN,
    buildMs: p50ms(bench, 'build'),
    buildCoreMs: buildNs[buildNs.length >> 1] / 1e6,
    bytesPerRule: st.ruleBytes / rules.count,
    tables: st.tables4,
    core: runCore(rulesPath, trace, want),
    dpdk: runDpdk(rulesPath, trace, want),
  };
  rows.push(row);
  dstRows.push({
    set,
    prefixes: dstPrefixes.length,
    native: (p50ms(bench, 'dst native') * 1e6) / dstN,
    cidr: (p50ms(bench, 'dst cidr-matcher') * 1e6) / dstN,
  });
  if (sink === 0.5) console.log(sink); // keep `sink` alive
  console.error(`${set}: done`);
}

// ---- incremental set updates (Kubernetes shape) ---------------------------------------------
// 1,000 set rules over 500 address sets; 5,000 pod IPs (/32) spread over the sets (10 sets each).
function setUpdateBench() {
  const cls = new B.NativeClassifier();
  const rulesK = [];
  for (let i = 0; i < 1000; i++)
    rulesK.push({ ruleId: i, priority: i, action: 1, src: { kind: 'set', setId: i % 500 }, dst: { kind: 'set', setId: (i * 7) % 500 }, dstPort: { lo: 80 + (i % 50), hi: 80 + (i % 50) }, proto: { value: 6, mask: 255 } });
  cls.compileSync(B.packRules(rulesK));
  const pod = (k) => (0x0af40000 + k) >>> 0;
  const initial = [];
  for (let k = 0; k < 5000; k++) for (let j = 0; j < 10; j++) initial.push({ op: 'add', setId: (k * 13 + j * 31) % 500, family: 4, addr: pod(k), prefixLen: 32 });
  cls.updateSets(B.packSetEdits(initial));
  // a batch of 1,000 edits: 500 pods leave one set and join another
  const churn = (phase) =>
    B.packSetEdits(
      Array.from({ length: 1000 }, (_, i) => ({ op: (i & 1) === phase ? 'add' : 'remove', setId: 499 - (i % 500), family: 4, addr: pod(10_000 + (i >> 1)), prefixLen: 32 })),
    );
  const batches = [churn(0), churn(1)];
  // one pod add: a new /32 joins its 10 sets (one call = one published version)
  const podAdd = (k, op) => B.packSetEdits(Array.from({ length: 10 }, (_, j) => ({ op, setId: (k * 13 + j * 31) % 500, family: 4, addr: pod(20_000 + k), prefixLen: 32 })));
  const podEdits = [podAdd(1, 'add'), podAdd(1, 'remove')];
  const oneEdit = [B.packSetEdits([{ op: 'add', setId: 3, family: 4, addr: pod(30_000), prefixLen: 32 }]), B.packSetEdits([{ op: 'remove', setId: 3, family: 4, addr: pod(30_000), prefixLen: 32 }])];
  // the edits are visible (answer check before timing)
  // rule 13: src set 13 (the new pod's first set), dst set 91, dport 93; any pod of set 91 as dst
  let peer = -1;
  for (let k = 0; k < 5000 && peer < 0; k++) for (let j = 0; j < 10; j++) if ((k * 13 + j * 31) % 500 === 91) peer = k;
  cls.updateSets(podEdits[0]);
  const before = cls.lookup4(pod(20_001), pod(peer), 1, 93, 6);
  cls.updateSets(podEdits[1]);
  const after = cls.lookup4(pod(20_001), pod(peer), 1, 93, 6);
  return { cls, batches, podEdits, oneEdit, visible: { before, after } };
}
const up = setUpdateBench();
let flip = 0;
const ub = new Bench({ time: TIME_MS, warmupTime: 100 });
ub.add('1,000-edit batch', () => up.cls.updateSets(up.batches[(flip ^= 1)]))
  .add('pod add (10 edits, one version)', () => up.cls.updateSets(up.podEdits[(flip ^= 1)]))
  .add('single edit per call', () => up.cls.updateSets(up.oneEdit[(flip ^= 1)]));
await ub.run();
const upd = {
  batchPerSec: 1000 / (p50ms(ub, '1,000-edit batch') / 1e3),
  podAddMs: p50ms(ub, 'pod add (10 edits, one version)'),
  singlePerSec: 1 / (p50ms(ub, 'single edit per call') / 1e3),
  members: up.cls.stats().members,
};

// ---- report ---------------------------------------------------------------------------------
console.log(`ClassBench (cutsplit-ruleSet), tinybench medians, ${TIME_MS} ms per task; load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
console.log('ns per lookup: "wall" = tinybench median (wall clock), "cpu" = process CPU time per lookup over ~0.3 s of calls.\n');
console.log('| set | rules | native batch ns wall / cpu | native scalar ns wall / cpu | native single ns (N-API call each) | reference ns | ref / batch (wall) | dpdk-test-acl ns | native / dpdk (wall) | build ms (wall / C++) | bytes/rule | IPv4 structure (trees / tables) | split-forest edits/s (1,000 per version) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const d = r.dpdk.ns !== undefined ? `${fmt(r.dpdk.ns)} (${fmt(r.dpdk.cycles)} cyc, ${r.dpdk.mismatches} wrong)` : r.dpdk.note;
  const ratio = r.dpdk.ns !== undefined ? `${fmt(r.batch / r.dpdk.ns, 2)}` : 'n/a';
  const ups = r.core.updatesPerSecBatched !== undefined ? `${fmt(r.core.updatesPerSecBatched / 1e6, 2)} M` : r.core.note;
  console.log(`| ${r.set} | ${r.rules} | ${fmt(r.batch)} / ${fmt(r.cpu.batch)} | ${fmt(r.scalar)} / ${fmt(r.cpu.scalar)} | ${fmt(r.single)} | ${fmt(r.reference)} | ${fmt(r.reference / r.batch)}x | ${d} | ${ratio} | ${fmt(r.buildMs, 2)} / ${fmt(r.buildCoreMs, 2)} | ${fmt(r.bytesPerRule)} | ${r.core.chosen === 'tuples' ? 'TupleMerge' : r.core.chosen === 'forest' ? 'forest' : '?'} ${r.tables} | ${ups} |`);
}
console.log('\nTraces: ' + rows.map((r) => `${r.set}: ${r.traceNote}`).join('; '));
console.log('\nSingle field (distinct dst prefixes of each set, /0 left out), first 20,000 trace headers:\n');
console.log('| set | dst prefixes | native batch ns | cidr-matcher ns | cidr-matcher / native |');
console.log('|---|---|---|---|---|');
for (const r of dstRows) console.log(`| ${r.set} | ${r.prefixes} | ${fmt(r.native)} | ${fmt(r.cidr)} | ${fmt(r.cidr / r.native)}x |`);
console.log('\nIncremental set membership (1,000 set rules, 500 sets, 5,000 pods x 10 sets; each call publishes one version):\n');
console.log('| measure | value |');
console.log('|---|---|');
console.log(`| edits/s, 1,000-edit batches | ${fmt(upd.batchPerSec / 1e6, 2)} M |`);
console.log(`| one pod add (10 edits, one version), median | ${fmt(upd.podAddMs * 1e3, 1)} µs |`);
console.log(`| edits/s, one edit per call | ${fmt(upd.singlePerSec / 1e6, 3)} M |`);
console.log(`| members after the run | ${upd.members} |`);
console.log(`| pod add visible / removed (answer check) | ${JSON.stringify(up.visible.before)} / ${JSON.stringify(up.visible.after)} |`);
if (!up.visible.before || up.visible.after) fail('a pod add was not visible to the next lookup, or its removal was not');
if (failures) {
  console.log(`\n${failures} answer check(s) failed: the figures above are not valid`);
  process.exitCode = 1;
} else {
  // the headline figures, machine-readable, as the last line (bench/run.mjs collects it): ns per
  // lookup per set, Palisade's native batch (wall median) and dpdk-test-acl (null where it did not run)
  // plus the C++ build time, bytes per rule and incremental edits per second of the split forest
  console.log(
    JSON.stringify(
      Object.fromEntries(
        rows.map((r) => [r.set, { palisadeNs: r.batch, dpdkNs: r.dpdk.ns ?? null, buildMs: r.buildCoreMs, bytesPerRule: r.bytesPerRule, updatesPerSec: r.core.updatesPerSecBatched ?? null }]),
      ),
    ),
  );
}
