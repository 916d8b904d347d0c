#!/usr/bin/env node
/**
 * The in-namespace half of the probe harness, run as `ip netns exec NS node agent.mjs MODE ...`
 * (Node sockets cannot be created inside a namespace from the test process; see toolchain.md §4).
 *
 *   serve '{"addrs":[..],"tcp":[80],"udp":[53]}'
 *       TCP servers (accept, write "ok", close) and UDP echo servers on every address of `addrs`
 *       for every port (bound to the address, so an echo leaves from the address the probe was
 *       sent to, not from the node's ptp gateway address); prints "ready" once all listen.
 *       Then it is also this namespace's prober: each stdin line
 *         {"req":N,"timeoutMs","concurrency","probes":[{id,proto,src,srcPort,dst,dstPort}]}
 *       is answered by one stdout line {"req":N,"results":[{id,outcome,detail?}]}, where outcome is
 *       "open" (TCP handshake done / UDP echo received), "dropped" (nothing within timeoutMs, or
 *       EPERM from a local output-hook drop), "refused" (RST / ICMP unreachable) or "error".
 *       Exits when stdin closes or on SIGTERM. (A long-lived prober saves a Node start-up per
 *       batch and namespace.)
 *   probe  one batch {"timeoutMs","concurrency","probes":[...]} on stdin, one JSON array out.
 *
 * Bounded: at most `concurrency` probes in flight, each ends after timeoutMs; the process exits
 * after the last one. Source ports are given by the caller (unique per run), so a conntrack entry
 * of an earlier probe can never make a later one look established.
 */
import net from 'node:net';
import dgram from 'node:dgram';

const mode = process.argv[2];

/** UDP datagrams received per "addr:port" since start (for the flood tests). */
const received = new Map();

/**
 * {op:"flood",src,dst,dstPort,durationMs,maxPackets}: UDP datagrams from one socket bound to src,
 * as fast as the loop allows, until durationMs or maxPackets (both required: always bounded) or
 * an {op:"flood-stop"}. Answers {sent, errors, startMs, endMs} (wall clock, for overlap checks).
 */
let floodStop = false;
function flood(req) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(req.dst.includes(':') ? 'udp6' : 'udp4');
    const payload = Buffer.from('palisade-flood');
    floodStop = false;
    const startMs = Date.now();
    const deadline = startMs + Math.min(req.durationMs, 60_000);
    const max = Math.min(req.maxPackets, 5_000_000);
    let sent = 0;
    let errors = 0;
    let inFlight = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      sock.close();
      resolve({ sent, errors, startMs, endMs: Date.now() });
    };
    const pump = () => {
      if (floodStop || Date.now() >= deadline || sent >= max) {
        if (inFlight === 0) finish();
        return;
      }
      while (inFlight < 64 && sent < max) {
        inFlight++;
        sent++;
        sock.send(payload, req.dstPort, req.dst, (e) => {
          inFlight--;
          if (e) errors++;
          if (inFlight === 0) setImmediate(pump);
        });
      }
    };
    sock.on('error', () => errors++);
    sock.bind({ address: req.src, port: 0 }, pump);
  });
}

function serve(cfg) {
  const closers = [];
  const pending = [];
  for (const host of cfg.addrs ?? []) {
    for (const port of cfg.tcp ?? []) {
      const srv = net.createServer((s) => {
        s.on('error', () => undefined);
        s.end('ok');
      });
      pending.push(new Promise((res, rej) => {
        srv.once('error', rej);
        srv.listen({ host, port, backlog: 1024 }, res);
      }));
      closers.push(() => srv.close());
    }
    for (const port of cfg.udp ?? []) {
      const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      const key = `${host}:${port}`;
      sock.on('message', (msg, rinfo) => {
        received.set(key, (received.get(key) ?? 0) + 1);
        sock.send(msg, rinfo.port, rinfo.address);
      });
      sock.on('error', () => undefined);
      pending.push(new Promise((res, rej) => {
        sock.once('error', rej);
        sock.bind({ address: host, port }, res);
      }));
      closers.push(() => sock.close());
    }
  }
  Promise.all(pending).then(
    () => process.stdout.write('ready\n'),
    (e) => {
      process.stderr.write(`serve: ${e.message}\n`);
      process.exit(2);
    },
  );
  const stop = () => {
    closers.forEach((c) => c());
    process.exit(0);
  };
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const req = JSON.parse(line);
      const work =
        req.op === 'flood'
          ? flood(req)
          : req.op === 'flood-stop'
            ? Promise.resolve((floodStop = true))
            : req.op === 'counts'
              ? Promise.resolve(Object.fromEntries(received))
              : runBatch(req);
      work.then((results) => process.stdout.write(JSON.stringify({ req: req.req, results }) + '\n'));
    }
  });
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.on('SIGTERM', stop);
}

/** EPERM: the node's own output hook dropped the packet (a local sender sees EPERM, not a timeout). */
function classify(e) {
  const code = e.code ?? e.message;
  if (code === 'EPERM') return ['dropped', 'EPERM'];
  return [code === 'ECONNREFUSED' ? 'refused' : 'error', code];
}

function probeTcp(p, timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    const sock = net.connect({ host: p.dst, port: p.dstPort, localAddress: p.src, localPort: p.srcPort });
    const finish = (outcome, detail) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(detail ? { id: p.id, outcome, detail } : { id: p.id, outcome });
    };
    const timer = setTimeout(() => finish('dropped', 'timeout'), timeoutMs);
    sock.on('connect', () => finish('open'));
    sock.on('error', (e) => finish(...classify(e)));
  });
}

function probeUdp(p, timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    const payload = Buffer.from(`palisade-probe-${p.id}`);
    const sock = dgram.createSocket(p.dst.includes(':') ? 'udp6' : 'udp4');
    const finish = (outcome, detail) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      resolve(detail ? { id: p.id, outcome, detail } : { id: p.id, outcome });
    };
    const timer = setTimeout(() => finish('dropped', 'timeout'), timeoutMs);
    sock.on('error', (e) => finish(...classify(e)));
    sock.on('message', (msg) => {
      if (msg.equals(payload)) finish('open');
    });
    sock.bind({ address: p.src, port: p.srcPort }, () => {
      sock.connect(p.dstPort, p.dst, (err) => {
        if (err) return finish(...classify(err));
        sock.send(payload, (e) => e && finish(...classify(e)));
      });
    });
  });
}

async function runBatch(req) {
  const { probes, timeoutMs = 400, concurrency = 256 } = req;
  const out = new Array(probes.length);
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const i = next++;
      const p = probes[i];
      out[i] = p.proto === 'TCP' ? await probeTcp(p, timeoutMs) : await probeUdp(p, timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, probes.length) }, worker));
  return out;
}

if (mode === 'serve') {
  serve(JSON.parse(process.argv[3] ?? '{}'));
} else if (mode === 'probe') {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => (input += d));
  process.stdin.on('end', () =>
    runBatch(JSON.parse(input)).then((out) => {
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    }),
  );
} else {
  process.stderr.write('usage: agent.mjs serve JSON | probe < JSON\n');
  process.exit(2);
}
