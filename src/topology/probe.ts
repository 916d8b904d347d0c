/**
 * Servers and probes over a Topology: real TCP and UDP servers in every host namespace, SCTP INIT
 * listeners on raw sockets, and probers run inside the source namespace.
 *
 * - TCP "open": the three-way handshake completed. UDP "open": the server's echo came back.
 *   SCTP "open": the INIT (identified by its Initiate Tag) arrived in the destination namespace.
 * - "dropped": nothing within the timeout, or EPERM when the node's output hook dropped a locally
 *   sent packet. A policy deny must look exactly like this (never a reject: a reject would tell the sender a policy exists).
 * - "refused"/"error": a harness or topology fault, never a policy outcome; callers report it.
 *
 * Invariants: source ports are allocated per source address from a counter that never repeats
 * within a fleet, so a conntrack entry of an earlier probe (e.g. allowed under the previous rule
 * set) cannot make a later probe look established. Every subprocess is bounded in time and killed
 * by `stop()` (call it from `finally`/`afterAll`, before `Topology.destroy()`).
 *
 * Cost: the servers double as probers (one long-lived Node process per namespace, one Python
 * process for SCTP); all namespaces probe in parallel, up to 256 probes in flight each, so a
 * batch takes about one timeout (~0.4 s) when something is dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { IpAddr } from '../model/ip.js';
import type { Protocol } from '../model/types.js';
import { topologyAsset } from './assets.js';
import { mapLimit } from './exec.js';
import type { Host, Topology } from './topology.js';

const PYTHON = '/usr/bin/python3';

export interface PortPlan {
  readonly TCP: readonly number[];
  readonly UDP: readonly number[];
  readonly SCTP: readonly number[];
}

export interface ProbeSpec {
  readonly protocol: Protocol;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly dstPort: number;
}

export type ProbeOutcome = 'open' | 'dropped' | 'refused' | 'error';

export interface ProbeResult {
  readonly spec: ProbeSpec;
  readonly srcPort: number;
  readonly outcome: ProbeOutcome;
  readonly detail?: string;
}

export interface ProbeOptions {
  /** how long a TCP/UDP probe waits, and how long SCTP arrivals are awaited; default 400 ms */
  readonly timeoutMs?: number;
}

export interface FloodResult {
  readonly sent: number;
  readonly errors: number;
  readonly startMs: number;
  readonly endMs: number;
}

interface Wire {
  id: number;
  proto: Protocol;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

const SRC_PORT_FIRST = 20_000;
const SRC_PORT_LAST = 60_999;

/**
 * A long-lived helper process in one namespace, spoken to with JSON lines: requests carry a
 * `req` number and are answered by a line with the same `req`; other lines go to `onLine`.
 */
class Channel {
  private buf = '';
  private nextReq = 1;
  private readonly waiting = new Map<number, (results: unknown) => void>();
  private ready: Promise<void>;
  private exitText = '';

  constructor(
    readonly child: ChildProcess,
    readonly what: string,
    private readonly onLine: (line: string) => void = () => undefined,
  ) {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: not ready after 10 s: ${stderr}`)), 10_000);
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        this.buf += d;
        let nl: number;
        while ((nl = this.buf.indexOf('\n')) >= 0) {
          const line = this.buf.slice(0, nl);
          this.buf = this.buf.slice(nl + 1);
          if (line === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (line.startsWith('{"req"')) {
            const msg = JSON.parse(line) as { req: number; results: unknown };
            this.waiting.get(msg.req)?.(msg.results);
            this.waiting.delete(msg.req);
          } else this.onLine(line);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.exitText = `${what}: exited with ${code}: ${stderr}`;
        reject(new Error(this.exitText));
        for (const w of this.waiting.values()) w(new Error(this.exitText));
        this.waiting.clear();
      });
    });
    this.ready.catch(() => undefined);
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  async request<T>(body: Record<string, unknown>, timeoutMs: number): Promise<T> {
    await this.ready;
    if (this.exitText) throw new Error(this.exitText);
    const req = this.nextReq++;
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(req);
        reject(new Error(`${this.what}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(req, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.child.stdin?.write(JSON.stringify({ ...body, req }) + '\n');
    const r = await answer;
    if (r instanceof Error) throw r;
    return r as T;
  }
}

export class ProbeFleet {
  private readonly children: ChildProcess[] = [];
  private readonly nsOf = new Map<string, string>();
  private readonly nextSrcPort = new Map<string, number>();
  private readonly probers = new Map<string, Channel>();
  private readonly senders = new Map<string, Channel>();
  /** SCTP INIT tags seen, per tag: the destination port they arrived on */
  private readonly sctpArrivals = new Map<number, number>();
  private nextTag = 1 + Math.floor(Math.random() * 0x3fffffff);
  private nextId = 1;

  private constructor(
    readonly topology: Topology,
    readonly ports: PortPlan,
  ) {
    for (const h of topology.hosts) for (const ip of h.ips) this.nsOf.set(ip.text, h.netns);
  }

  /** Start servers/probers (and SCTP listeners/senders when SCTP ports are planned) in every host namespace. */
  static async start(topology: Topology, ports: PortPlan): Promise<ProbeFleet> {
    const fleet = new ProbeFleet(topology, ports);
    try {
      const namespaces = [...new Set(topology.hosts.map((h: Host) => h.netns))];
      await mapLimit(namespaces, 8, (ns) =>
        fleet.startIn(ns, topology.hosts.filter((h) => h.netns === ns).flatMap((h) => h.ips.map((ip) => ip.text))),
      );
      await fleet.warmUp();
    } catch (e) {
      await fleet.stop();
      throw e;
    }
    return fleet;
  }

  private async startIn(ns: string, addrs: readonly string[]): Promise<void> {
    const cfg = JSON.stringify({ addrs, tcp: this.ports.TCP, udp: this.ports.UDP });
    const server = spawn('ip', ['netns', 'exec', ns, process.execPath, topologyAsset('agent.mjs'), 'serve', cfg], { stdio: 'pipe' });
    this.children.push(server);
    const prober = new Channel(server, `servers in ${ns}`);
    this.probers.set(ns, prober);
    await prober.whenReady();
    if (this.ports.SCTP.length === 0) return;
    const listener = spawn('ip', ['netns', 'exec', ns, PYTHON, topologyAsset('sctp_raw.py'), 'listen'], { stdio: 'pipe' });
    this.children.push(listener);
    const sender = new Channel(listener, `SCTP listener in ${ns}`, (line) => {
      if (!line.startsWith('{')) return;
      const a = JSON.parse(line) as { tag: number; dport: number };
      this.sctpArrivals.set(a.tag, a.dport);
    });
    this.senders.set(ns, sender);
    await sender.whenReady();
  }

  /**
   * One TCP probe per ordered address pair, results ignored: fills the neighbour (ARP/NDP) caches.
   * Without it the first batch sends hundreds of packets towards unresolved neighbours at once,
   * more than the kernel queues per neighbour (unres_qlen_bytes), and some are lost.
   */
  private async warmUp(): Promise<void> {
    const port = this.ports.TCP[0] ?? this.ports.UDP[0];
    if (port === undefined) return;
    const addrs = this.topology.hosts.flatMap((h) => h.ips);
    const specs: ProbeSpec[] = [];
    for (const src of addrs) for (const dst of addrs) if (src.family === dst.family) specs.push({ protocol: this.ports.TCP[0] !== undefined ? 'TCP' : 'UDP', src, dst, dstPort: port });
    await this.probe(specs, { timeoutMs: 1000 });
  }

  private srcPortFor(ip: string): number {
    const p = this.nextSrcPort.get(ip) ?? SRC_PORT_FIRST;
    if (p > SRC_PORT_LAST) throw new Error(`source ports exhausted for ${ip}`);
    this.nextSrcPort.set(ip, p + 1);
    return p;
  }

  /** Probe every spec (in parallel across source namespaces); results in input order. */
  async probe(specs: readonly ProbeSpec[], opts: ProbeOptions = {}): Promise<ProbeResult[]> {
    const timeoutMs = opts.timeoutMs ?? 400;
    const wires: Wire[] = specs.map((s) => {
      if (s.src.family !== s.dst.family) throw new Error(`probe mixes families: ${s.src.text} -> ${s.dst.text}`);
      if (!this.nsOf.has(s.src.text)) throw new Error(`no host owns source ${s.src.text}`);
      return {
        id: s.protocol === 'SCTP' ? this.nextTag++ : this.nextId++,
        proto: s.protocol,
        src: s.src.text,
        srcPort: this.srcPortFor(s.src.text),
        dst: s.dst.text,
        dstPort: s.dstPort,
      };
    });
    const byNs = new Map<string, { stream: Wire[]; sctp: Wire[] }>();
    for (const w of wires) {
      const ns = this.nsOf.get(w.src)!;
      const g = byNs.get(ns) ?? { stream: [], sctp: [] };
      (w.proto === 'SCTP' ? g.sctp : g.stream).push(w);
      byNs.set(ns, g);
    }
    const outcome = new Map<Wire, { outcome: ProbeOutcome; detail?: string }>();
    let sctpSentAt = 0;
    await Promise.all(
      [...byNs].map(async ([ns, g]) => {
        if (g.stream.length > 0) {
          const res = await this.probers.get(ns)!.request<{ id: number; outcome: ProbeOutcome; detail?: string }[]>(
            { timeoutMs, concurrency: 256, probes: g.stream },
            20_000 + timeoutMs * Math.ceil(g.stream.length / 256),
          );
          res.forEach((x, i) => outcome.set(g.stream[i]!, x.detail ? { outcome: x.outcome, detail: x.detail } : { outcome: x.outcome }));
        }
        if (g.sctp.length > 0) {
          const probes = g.sctp.map((w) => ({ tag: w.id, src: w.src, srcPort: w.srcPort, dst: w.dst, dstPort: w.dstPort }));
          const res = await this.senders.get(ns)!.request<{ tag: number; error?: string }[]>({ probes }, 20_000);
          sctpSentAt = Math.max(sctpSentAt, Date.now());
          res.forEach((x, i) => {
            if (x.error === 'EPERM') outcome.set(g.sctp[i]!, { outcome: 'dropped', detail: 'EPERM' });
            else if (x.error) outcome.set(g.sctp[i]!, { outcome: 'error', detail: x.error });
          });
        }
      }),
    );
    // SCTP INITs get no answer: wait one timeout after the last was sent, then read arrivals
    const wait = sctpSentAt + timeoutMs - Date.now();
    if (sctpSentAt > 0 && wait > 0) await new Promise((r) => setTimeout(r, wait));
    return wires.map((w, i) => {
      let o = outcome.get(w);
      if (w.proto === 'SCTP' && !o) {
        const port = this.sctpArrivals.get(w.id);
        o = port === undefined ? { outcome: 'dropped', detail: 'timeout' } : port === w.dstPort ? { outcome: 'open' } : { outcome: 'error', detail: `arrived on port ${port}` };
      }
      o ??= { outcome: 'error', detail: 'no result' };
      return { spec: specs[i]!, srcPort: w.srcPort, ...o };
    });
  }

  /**
   * A bounded UDP flood from `src` to dst:dstPort (sent by the prober in src's namespace); resolves
   * when it ends, with the wall-clock window it ran in.
   */
  async flood(src: IpAddr, dst: IpAddr, dstPort: number, durationMs: number, maxPackets: number): Promise<FloodResult> {
    const ns = this.nsOf.get(src.text);
    if (!ns) throw new Error(`no host owns source ${src.text}`);
    return this.probers.get(ns)!.request<FloodResult>({ op: 'flood', src: src.text, dst: dst.text, dstPort, durationMs, maxPackets }, durationMs + 20_000);
  }

  /** Ends a running flood from `src` early. */
  async stopFlood(src: IpAddr): Promise<void> {
    await this.probers.get(this.nsOf.get(src.text)!)!.request({ op: 'flood-stop' }, 10_000);
  }

  /** UDP datagrams the servers of `ip`'s namespace received, per "addr:port", since they started. */
  async udpReceived(ip: IpAddr): Promise<Record<string, number>> {
    const ns = this.nsOf.get(ip.text);
    if (!ns) throw new Error(`no host owns ${ip.text}`);
    return this.probers.get(ns)!.request<Record<string, number>>({ op: 'counts' }, 10_000);
  }

  /** Stop every server and listener this fleet started (SIGTERM, then SIGKILL after 2 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 2_000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.stdin?.end();
            c.kill('SIGTERM');
          }),
      ),
    );
    this.children.length = 0;
  }
}
