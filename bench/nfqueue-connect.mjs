#!/usr/bin/env node
/**
 * New TCP connections per second (bench/nfqueue.bench.mjs), run inside a namespace:
 *   serve ADDR PORT SECONDS           accept and close; exits after SECONDS; prints "ready"
 *   connect DST PORT SECONDS CONC     CONC connections in flight, each connect -> close; prints
 *                                     {"completed":N,"failed":N,"seconds":S}
 * Bounded in time.
 */
import net from 'node:net';

const [mode, addr, port, seconds, conc] = process.argv.slice(2);
if (mode === 'serve') {
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    s.destroy();
  });
  srv.listen({ host: addr, port: Number(port), backlog: 4096 }, () => process.stdout.write('ready\n'));
  setTimeout(() => process.exit(0), Number(seconds) * 1000);
} else if (mode === 'connect') {
  const end = Date.now() + Number(seconds) * 1000;
  const t0 = Date.now();
  let completed = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const s = net.connect({ host: addr, port: Number(port) });
      const t = setTimeout(() => s.destroy(new Error('timeout')), 2000);
      s.once('connect', () => {
        completed++;
        clearTimeout(t);
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        failed++;
        clearTimeout(t);
        resolve();
      });
    });
  const worker = async () => {
    while (Date.now() < end) await one();
  };
  await Promise.all(Array.from({ length: Number(conc) }, worker));
  process.stdout.write(JSON.stringify({ completed, failed, seconds: (Date.now() - t0) / 1000 }) + '\n');
} else {
  process.exit(2);
}
