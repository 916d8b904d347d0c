#!/usr/bin/env node
/**
 * UDP helpers run inside a test namespace (`ip netns exec NS node udp-tools.mjs MODE ...`).
 *   sink ADDR PORT            count datagrams; print "ready", then on stdin close print {"received":N}
 *   flood SRC DST PORT MS PPS send datagrams for MS milliseconds at about PPS per second from 8
 *                             sockets; print {"sent":N}. Bounded in time and count (PPS*MS/1000).
 *   echo ADDR PORT LATE_MS     echo server that answers every datagram twice: at once and LATE_MS
 *                             later (a reply still in flight when its flow is cut); "ready"; exits
 *                             when stdin closes
 *   tcpecho ADDR PORT         TCP echo server; "ready"; exits when stdin closes
 *   tcpstream SRC DST PORT MS GAP  one TCP connection, a byte every GAP ms for MS ms, counting
 *                             echoed bytes; prints {"sent":N,"echoes":[t_ms,...],"error":...}
 *   stream SRC DST PORT MS GAP one socket (one flow), a datagram every GAP ms for MS ms, counting
 *                             echoes; prints {"sent":N,"echoes":[t_ms,...]} (t relative to start)
 */
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, ...a] = process.argv.slice(2);
const fam = (addr) => (addr.includes(':') ? 'udp6' : 'udp4');

if (mode === 'sink') {
  const [addr, port] = a;
  let received = 0;
  const s = dgram.createSocket(fam(addr));
  s.on('message', () => received++);
  s.bind({ address: addr, port: Number(port) }, () => process.stdout.write('ready\n'));
  const done = () => {
    process.stdout.write(JSON.stringify({ received }) + '\n');
    process.exit(0);
  };
  process.stdin.on('end', done);
  process.stdin.on('close', done);
  process.stdin.resume();
} else if (mode === 'flood') {
  const [src, dst, port, ms, pps] = a;
  const socks = Array.from({ length: 8 }, () => dgram.createSocket(fam(dst)));
  await Promise.all(socks.map((s) => new Promise((r) => s.bind({ address: src, port: 0 }, r))));
  const payload = Buffer.from('denied-flood');
  const end = Date.now() + Number(ms);
  const perTick = Math.max(1, Math.round(Number(pps) / 100));
  let sent = 0;
  const limit = Math.ceil((Number(pps) * Number(ms)) / 1000);
  await new Promise((resolve) => {
    const t = setInterval(() => {
      if (Date.now() >= end || sent >= limit) {
        clearInterval(t);
        resolve();
        return;
      }
      for (let i = 0; i < perTick; i++) socks[(sent + i) % socks.length].send(payload, Number(port), dst, () => undefined);
      sent += perTick;
    }, 10);
  });
  await new Promise((r) => setTimeout(r, 100));
  socks.forEach((s) => s.close());
  process.stdout.write(JSON.stringify({ sent }) + '\n');
} else if (mode === 'echo') {
  const [addr, port, lateMs] = a;
  const s = dgram.createSocket(fam(addr));
  s.on('message', (msg, r) => {
    s.send(msg, r.port, r.address, () => undefined);
    setTimeout(() => s.send(msg, r.port, r.address, () => undefined), Number(lateMs));
  });
  s.bind({ address: addr, port: Number(port) }, () => process.stdout.write('ready\n'));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
} else if (mode === 'tcpecho') {
  const [addr, port] = a;
  const srv = net.createServer((c) => {
    c.on('error', () => undefined);
    c.on('data', (d) => c.write(d));
  });
  srv.listen({ host: addr, port: Number(port) }, () => process.stdout.write('ready\n'));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
} else if (mode === 'tcpstream') {
  const [src, dst, port, ms, gap] = a;
  const t0 = Date.now();
  const echoes = [];
  let sent = 0;
  let error;
  const c = net.connect({ host: dst, port: Number(port), localAddress: src });
  c.on('error', (e) => (error = e.code ?? e.message));
  c.on('data', (d) => {
    for (let i = 0; i < d.length; i++) echoes.push(Date.now() - t0);
  });
  await new Promise((resolve) => {
    const t = setInterval(() => {
      if (Date.now() - t0 >= Number(ms)) {
        clearInterval(t);
        resolve();
        return;
      }
      if (c.writable) {
        c.write('x');
        sent++;
      }
    }, Number(gap));
  });
  await new Promise((r) => setTimeout(r, 200));
  c.destroy();
  process.stdout.write(JSON.stringify({ sent, echoes, ...(error ? { error } : {}) }) + '\n');
} else if (mode === 'stream') {
  const [src, dst, port, ms, gap] = a;
  const s = dgram.createSocket(fam(dst));
  const t0 = Date.now();
  const echoes = [];
  let sent = 0;
  s.on('message', () => echoes.push(Date.now() - t0));
  await new Promise((r) => s.bind({ address: src, port: 0 }, r));
  await new Promise((resolve) => {
    const t = setInterval(() => {
      if (Date.now() - t0 >= Number(ms)) {
        clearInterval(t);
        resolve();
        return;
      }
      s.send(Buffer.from('stream'), Number(port), dst, () => undefined);
      sent++;
    }, Number(gap));
  });
  await new Promise((r) => setTimeout(r, 200));
  s.close();
  process.stdout.write(JSON.stringify({ sent, echoes }) + '\n');
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
