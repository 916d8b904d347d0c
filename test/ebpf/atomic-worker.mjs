// Child process of atomic.test.ts: adopts the pinned instance (argv: pinRoot tag seconds frameHex
// expectedRetval) and runs the pal_egress program on one frame through BPF_PROG_TEST_RUN in a
// tight loop, counting verdicts other than the expected one. Prints one JSON line at the end.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [pinRoot, tag, seconds, frameHex, expected] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
// the one native door, from the root dist/ build (atomic.test.ts runs ensureDist first)
const { nativeEbpf, bpfObjectPath } = await import(join(root, 'dist/src/native/binding.js'));
const n = nativeEbpf();
const dp = new n.EbpfDatapath(bpfObjectPath('palisade'), join(pinRoot, tag), false);
const frame = Uint8Array.from(Buffer.from(frameHex, 'hex'));
const until = Date.now() + Number(seconds) * 1000;
let runs = 0;
let wrong = 0;
const seen = {};
while (Date.now() < until) {
  const r = dp.testRun('pal_egress', frame, 50);
  runs += 50;
  seen[r.retval] = (seen[r.retval] ?? 0) + 1;
  if (r.retval !== Number(expected)) wrong++;
}
dp.close();
console.log(JSON.stringify({ runs, wrong, adopted: dp !== undefined, seen }));
