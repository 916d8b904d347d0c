/**
 * `bin/palisade agent` as a separate process against the test API server (test/kube/apiserver.ts)
 * on loopback, for the end-to-end tests: the agent runs in the test's own namespace (where the
 * server listens) and enforces in the topology's node namespace through `--netns`.
 *
 * - AgentProcess: the child (no CNI socket unless the test names one: the default path is the
 *   node's), its JSON log lines (stderr), its deny lines (stdout), the health
 *   address it bound (`--health-address 127.0.0.1:0`, read from its "serving" log line), HTTP
 *   GETs of /readyz /healthz /metrics /status, `inForce(rvs)` (polls /status until every named
 *   resource's resourceVersion in the kernel has reached the given one), SIGTERM and kill -9.
 * - ApiObjects: writes manifests through the server (create or update by kind, delete), keeps
 *   the last resourceVersion written per resource, and builds the truth the reference evaluator
 *   judges (every stored object but the ones the test knows are invalid) as `palisade check`
 *   builds files.
 * Every wait is bounded; a timeout fails with the agent's stderr tail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { RESOURCE_KINDS, WATCHED_RESOURCES, type WatchedResource } from '../../src/agent/objects.js';
import { buildCluster } from '../../src/manifests/cluster.js';
import type { Cluster } from '../../src/model/types.js';
import { PALISADE_BIN } from '../harness/cli.js';
import type { Obj as ServerObj, TestApiServer } from '../kube/apiserver.js';

type Obj = Record<string, any>;
const KIND_RESOURCE = new Map<string, WatchedResource>(Object.entries(RESOURCE_KINDS).map(([r, k]) => [k, r as WatchedResource]));

export function resourceOf(o: Obj): WatchedResource {
  const r = KIND_RESOURCE.get(String(o.kind));
  if (!r) throw new Error(`no watched resource for kind ${String(o.kind)}`);
  return r;
}

export const keyOf = (o: Obj): string => `${String(o.kind)}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export function httpGet(port: number, path: string, timeoutMs = 5000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly logs: Obj[];
  readonly denyLines: string[];
  /** resolves with the health port once the agent serves it */
  readonly port: Promise<number>;
  stderr(): string;
  get(path: string): Promise<HttpAnswer>;
  /** polls /readyz until 200 */
  ready(timeoutMs?: number): Promise<void>;
  status(): Promise<Obj>;
  /** polls /status until every resource's resourceVersion in force is >= the given one */
  inForce(rvs: ReadonlyMap<string, number>, timeoutMs?: number): Promise<Obj>;
  /** a log line matching `pred`, waiting up to timeoutMs */
  logLine(pred: (l: Obj) => boolean, timeoutMs?: number): Promise<Obj>;
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the exit code (SIGKILL after 15 s: then null) */
  term(): Promise<number | null>;
  readonly exited: Promise<void>;
}

export interface AgentProcessOptions {
  readonly backend: 'nftables' | 'ebpf' | 'nfqueue';
  readonly kubeconfig?: string;
  readonly netnsPath: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export function startAgentProcess(o: AgentProcessOptions): AgentProcess {
  const args = [PALISADE_BIN, 'agent', '--backend', o.backend, '--node-name', 'node-a', '--netns', o.netnsPath, '--health-address', '127.0.0.1:0', '--log-level', 'debug', ...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []), ...(o.args?.includes('--cni-socket') ? [] : ['--cni-socket', 'none']), ...(o.args ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const logs: Obj[] = [];
  const denyLines: string[] = [];
  let err = '';
  let errTail = '';
  let out = '';
  const listeners = new Set<() => void>();
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    errTail = (errTail + d).slice(-8000);
    let nl: number;
    while ((nl = err.indexOf('\n')) >= 0) {
      const line = err.slice(0, nl);
      err = err.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Obj);
      } catch {
        logs.push({ level: 'raw', msg: line });
      }
    }
    for (const f of [...listeners]) f();
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      denyLines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const tail = (): string => errTail.split('\n').slice(-40).join('\n');
  const logLine = (pred: (l: Obj) => boolean, timeoutMs = 30_000): Promise<Obj> =>
    new Promise((resolve, reject) => {
      const found = logs.find(pred);
      if (found) return resolve(found);
      const check = (): void => {
        const l = logs.find(pred);
        if (l) done(() => resolve(l));
      };
      const t = setTimeout(() => done(() => reject(new Error(`agent: no such log line within ${timeoutMs} ms; stderr tail:\n${tail()}`))), timeoutMs);
      const done = (f: () => void): void => {
        clearTimeout(t);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      void exited.then(() => done(() => reject(new Error(`agent exited (${child.exitCode ?? child.signalCode}); stderr tail:\n${tail()}`))));
    });
  const port = logLine((l) => typeof l.msg === 'string' && l.msg.startsWith('serving /readyz'), 60_000).then((l) => Number(String(l.address).split(':').pop()));
  port.catch(() => undefined);
  const get = async (path: string): Promise<HttpAnswer> => httpGet(await port, path);
  const poll = async <T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`agent exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}; stderr tail:\n${tail()}`);
      const v = await f().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`agent: ${what} not reached within ${timeoutMs} ms; stderr tail:\n${tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const status = async (): Promise<Obj> => JSON.parse((await get('/status')).body) as Obj;
  return {
    child,
    logs,
    denyLines,
    port,
    exited,
    stderr: () => errTail,
    get,
    status,
    logLine,
    ready: async (timeoutMs = 60_000) => {
      await poll('/readyz 200', timeoutMs, async () => ((await get('/readyz')).status === 200 ? true : undefined));
    },
    inForce: (rvs, timeoutMs = 30_000) =>
      poll(`resourceVersions ${JSON.stringify(Object.fromEntries(rvs))} in force`, timeoutMs, async () => {
        const s = await status();
        if (!s.ready) return undefined;
        for (const [r, rv] of rvs) if (!(Number(s.resourceVersions?.[r] ?? 0) >= rv)) return undefined;
        return s;
      }),
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    term: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      return child.exitCode;
    },
  };
}

/** The objects the test writes through the API server, and the truth they make. */
export class ApiObjects {
  /** resource -> resourceVersion of the last write the test made to it */
  readonly written = new Map<string, number>();
  /** keys of objects the server holds that the agent must ignore (invalid) */
  readonly invalid = new Set<string>();

  constructor(readonly server: TestApiServer) {}

  /** Create or replace each object (as `kubectl apply` would). */
  apply(objs: readonly Obj[]): void {
    for (const o of objs) {
      const r = resourceOf(o);
      const exists = this.server.get(r, o.metadata.name, o.metadata.namespace) !== undefined;
      const copy = structuredClone(o) as ServerObj;
      delete copy.metadata.resourceVersion;
      const stored = exists ? this.server.update(r, copy) : this.server.create(r, copy);
      this.written.set(r, Number(stored.metadata.resourceVersion));
    }
  }

  delete(objs: readonly Obj[]): void {
    for (const o of objs) {
      const r = resourceOf(o);
      if (this.server.get(r, o.metadata.name, o.metadata.namespace) === undefined) continue;
      const gone = this.server.remove(r, o.metadata.name, o.metadata.namespace);
      this.written.set(r, Number(gone.metadata.resourceVersion));
    }
  }

  /** Every stored object of the watched resources, but the invalid ones. */
  objects(): Obj[] {
    const out: Obj[] = [];
    for (const r of WATCHED_RESOURCES) {
      let items: ServerObj[];
      try {
        items = this.server.list(r);
      } catch {
        continue; // a CRD that is not installed
      }
      for (const o of items) {
        const full = { ...o, kind: RESOURCE_KINDS[r] } as Obj;
        if (!this.invalid.has(keyOf(full))) out.push(full);
      }
    }
    return out;
  }

  truth(): Cluster {
    const r = buildCluster(this.objects().map((obj) => ({ obj, file: 'api' })));
    if (!r.cluster) throw new Error(r.problems.map((p) => p.message).join('\n'));
    return r.cluster;
  }
}
