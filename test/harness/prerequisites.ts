/**
 * The one place a test suite states what the machine must have: `requires(...needs)` returns the
 * skip condition for `describe.skipIf` / `it.skipIf`:
 *
 *   describe.skipIf(requires('root', 'netns', 'addon'))('nftables backend ...', () => { ... });
 *
 * Outside CI a missing prerequisite skips the suite and says so once on stderr (what is missing and
 * how to install it). Under CI=true it never skips: `requires` throws while the file is collected,
 * so vitest reports the file as FAILED with the same message. A test net that cannot run is a
 * defect there, not a pass.
 * Everything listed is installed by scripts/setup.sh on Debian 12 (run as root), except `root`
 * itself. PALISADE_PRETEND_MISSING=need,need makes those needs count as missing, to see the rule
 * work on a machine that has everything (test/harness/prerequisites.test.ts).
 * Cost: each check runs once per test file (a stat or one short subprocess, < 50 ms); results are
 * cached per process. Thread-safety: vitest runs one file per worker; nothing is shared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeAvailable } from '../../src/native/binding.js';
import { CNI_PATH } from '../../src/topology/cni.js';

export type Need = 'root' | 'addon' | 'netns' | 'nft' | 'bpffs' | 'bpf' | 'bpftool' | 'nfqueue' | 'iptables-nft' | 'cni-plugins' | 'cni-shim' | 'classbench' | 'clang-rt' | 'chromium' | 'dnsmasq';

const SETUP = 'run `bash scripts/setup.sh` as root';
const REPO = join(import.meta.dirname, '..', '..');

const ok = (cmd: string, args: readonly string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;

const isRoot = (): boolean => process.getuid?.() === 0;

/** The runtime directory clang++ links sanitizers and libFuzzer from, with the fuzzer archive in it. */
function clangFuzzerRuntime(): boolean {
  const r = spawnSync('clang++', ['--print-runtime-dir'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return false;
  const dir = r.stdout.trim();
  return ['libclang_rt.fuzzer-x86_64.a', 'libclang_rt.fuzzer.a'].some((f) => existsSync(join(dir, f)));
}

function bpffsMounted(): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf');
  } catch {
    return false;
  }
}

/** nfnetlink_queue is loaded, or root can load it (modprobe; setup.sh loads it). */
const nfqueueModule = (): boolean => existsSync('/proc/net/netfilter/nfnetlink_queue') || (isRoot() && ok('modprobe', ['nfnetlink_queue']));

const CHECKS: Readonly<Record<Need, { readonly present: () => boolean; readonly install: string }>> = {
  root: { present: isRoot, install: 'run the tests as root (they create network namespaces and kernel tables)' },
  addon: { present: nativeAvailable, install: `build the native addon: \`npm run build:native\` (or ${SETUP})` },
  netns: { present: () => isRoot() && ok('ip', ['netns', 'list']), install: `${SETUP}: installs iproute2 (\`ip netns\`, as root)` },
  nft: { present: () => ok('nft', ['--version']), install: `${SETUP}: installs nftables and libnftables-dev` },
  bpffs: { present: bpffsMounted, install: `${SETUP}: mounts the BPF filesystem (\`mount -t bpf bpf /sys/fs/bpf\`)` },
  bpf: { present: () => existsSync(join(REPO, 'build', 'palisade.bpf.o')), install: `${SETUP}: installs clang, llvm, libbpf-dev and builds build/palisade.bpf.o` },
  bpftool: { present: () => ok('bpftool', ['version']), install: `${SETUP}: installs bpftool` },
  nfqueue: { present: nfqueueModule, install: `${SETUP}: loads the nfnetlink_queue kernel module (\`modprobe nfnetlink_queue\`)` },
  'iptables-nft': { present: () => ok('iptables-nft-restore', ['--version']) && ok('ip6tables-nft-restore', ['--version']), install: `${SETUP}: installs iptables (iptables-nft-restore)` },
  'cni-plugins': { present: () => existsSync(join(CNI_PATH, 'ptp')) && existsSync(join(CNI_PATH, 'host-local')), install: `${SETUP}: installs containernetworking-plugins (${CNI_PATH}/ptp, host-local)` },
  'cni-shim': { present: () => existsSync(join(REPO, 'build', 'palisade-cni')), install: `build the CNI plugin build/palisade-cni: \`npm run build:native\` (or ${SETUP})` },
  classbench: {
    present: () => existsSync(process.env.PALISADE_CLASSBENCH_DIR ?? join(REPO, '..', 'shared', 'classbench', 'cutsplit-ruleSet')),
    install: 'the ClassBench filter sets and traces beside the repository (../shared/classbench/cutsplit-ruleSet), or PALISADE_CLASSBENCH_DIR=DIR',
  },
  'clang-rt': {
    present: clangFuzzerRuntime,
    install: `${SETUP}: installs clang and the libclang-rt-N-dev package matching clang++'s major version (libFuzzer and the sanitizer runtimes)`,
  },
  chromium: { present: () => existsSync('/usr/bin/chromium'), install: `${SETUP}: installs the Debian package chromium` },
  dnsmasq: { present: () => ok('dnsmasq', ['--version']) && ok('dig', ['-v']), install: `${SETUP}: installs dnsmasq-base (the FQDN tests' DNS server) and bind9-dnsutils (dig)` },
};

const cache = new Map<Need, boolean>();
const announced = new Set<string>();

/** The needs of `needs` this machine lacks, each with how to install it. */
export function missing(...needs: readonly Need[]): { need: Need; install: string }[] {
  const out: { need: Need; install: string }[] = [];
  const pretend = new Set((process.env.PALISADE_PRETEND_MISSING ?? '').split(',').map((s) => s.trim()));
  for (const need of new Set(needs)) {
    let present = pretend.has(need) ? false : cache.get(need);
    if (present === undefined) {
      present = CHECKS[need].present();
      cache.set(need, present);
    }
    if (!present) out.push({ need, install: CHECKS[need].install });
  }
  return out;
}

/** The message naming what is missing and how to get it. */
export function missingMessage(gaps: readonly { need: Need; install: string }[]): string {
  return `missing prerequisite${gaps.length > 1 ? 's' : ''}: ${gaps.map((g) => `${g.need} (${g.install})`).join('; ')}`;
}

/**
 * True when the suite must skip (outside CI, something is missing); throws under CI=true instead,
 * which fails the file with the message.
 */
export function requires(...needs: readonly Need[]): boolean {
  const gaps = missing(...needs);
  if (gaps.length === 0) return false;
  const message = missingMessage(gaps);
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true: ${message}`);
  if (!announced.has(message)) {
    announced.add(message);
    process.stderr.write(`skipping (${message})\n`);
  }
  return true;
}
