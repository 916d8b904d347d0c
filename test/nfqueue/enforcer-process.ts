/**
 * The enforcer as a separate process (so a test can kill -9 it): the real CLI,
 * `ip netns exec NODE node bin/palisade enforce --backend nfqueue ARGS`, on the root dist/ build
 * (rebuilt first when stale, test/harness/cli.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/topology/exec.js';
import { ensureDist, PALISADE_BIN } from '../harness/cli.js';

export async function ensureEnforcerBuilt(): Promise<void> {
  await ensureDist();
}

export interface EnforcerProcess {
  readonly child: ChildProcess;
  readonly stdoutLines: string[];
  stderr(): string;
  /** resolves when the enforcer applied its first policy (queues bound, policy published, steering installed) */
  readonly ready: Promise<void>;
  /** resolves on the next stderr line matching `re` */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill9(): Promise<void>;
  /** resolves with the exit code when the process ends by itself or is stopped (null when killed) */
  readonly exit: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code (null when killed) */
  stop(): Promise<number | null>;
}

export function startEnforcer(netns: string, args: readonly string[]): EnforcerProcess {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, PALISADE_BIN, 'enforce', '--backend', 'nfqueue', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutLines: string[] = [];
  let out = '';
  let err = '';
  const waiters: { re: RegExp; from: number; resolve: (l: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      stdoutLines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of [...waiters]) {
      const line = err.slice(w.from).split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitFor = (re: RegExp, timeoutMs = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`enforcer: no line matching ${re} within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
      waiters.push({ re, from: err.length, resolve: (l) => (clearTimeout(t), resolve(l)) });
      void exited.then(() => reject(new Error(`enforcer exited (${child.exitCode ?? child.signalCode}) before ${re}; stderr:\n${err}`)));
    });
  const ready = waitFor(/palisade enforce \(nfqueue\): applied #1: /, 30_000).then(() => undefined);
  return {
    child,
    exit: exited.then(() => child.exitCode),
    stdoutLines,
    stderr: () => err,
    ready,
    waitFor,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      return child.exitCode;
    },
  };
}

/** Run a udp-tools.mjs mode inside a namespace; resolves with its JSON result. */
export async function udpTool(netns: string, args: readonly string[], timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const tool = fileURLToPath(new URL('./udp-tools.mjs', import.meta.url));
  const r = await run('ip', ['netns', 'exec', netns, process.execPath, tool, ...args], { timeoutMs });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** A TCP echo server in a namespace. */
export async function startTcpEcho(netns: string, addr: string, port: number): Promise<{ stop(): void }> {
  const tool = fileURLToPath(new URL('./udp-tools.mjs', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, tool, 'tcpecho', addr, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('tcp echo server not ready')), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { stop: () => void (child.stdin.end(), setTimeout(() => child.kill('SIGKILL'), 2000).unref()) };
}

/** A UDP echo server that also answers each datagram a second time `lateMs` later. */
export async function startLateEcho(netns: string, addr: string, port: number, lateMs: number): Promise<{ stop(): void }> {
  const tool = fileURLToPath(new URL('./udp-tools.mjs', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, tool, 'echo', addr, String(port), String(lateMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('echo server not ready')), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { stop: () => void (child.stdin.end(), setTimeout(() => child.kill('SIGKILL'), 2000).unref()) };
}

/** A sink counting datagrams in a namespace; `finish()` returns the count. */
export async function startSink(netns: string, addr: string, port: number): Promise<{ finish(): Promise<number> }> {
  const tool = fileURLToPath(new URL('./udp-tools.mjs', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, tool, 'sink', addr, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('sink not ready')), 10_000);
    child.stdout.on('data', () => {
      if (out.includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return {
    finish: async () => {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(t);
      const m = /\{"received":(\d+)\}/.exec(out);
      if (!m) throw new Error(`sink gave no count: ${out}`);
      return Number(m[1]);
    },
  };
}
