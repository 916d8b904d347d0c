/**
 * The agent side of the CNI shim's unix socket (cni/palisade_cni.cc): one request per connection
 * ({command, containerId, netns, ifname, args, path, config}), answered "<exit code>\n<stdout>".
 *
 *   ADD     the pod (CNI_ARGS K8S_POD_NAMESPACE/K8S_POD_NAME, IPs and host interface from
 *           prevResult) goes to `agent.podAdded`; the answer (prevResult echoed) is sent only once
 *           it resolves, i.e. once the pod's policy is in the kernel. The wait is bounded by
 *           min(addTimeoutMs, the shim's timeoutMs - 250 ms) so the agent, not the shim, decides;
 *           on timeout the signal aborts and the answer follows the config's `onTimeout`
 *           (fail: error 11; pass: echo prevResult).
 *   DEL     `agent.podDeleted`, every time (idempotent: a second DEL, or a DEL of a container this
 *           process never saw, is a success when the agent's is).
 *   CHECK   `agent.podCheck` with the attachment from prevResult.
 *   STATUS  success while `ready()` says so, else error 50.
 *   GC      every attachment this process added on that network (the configuration's `name`)
 *           that is not in `cni.dev/valid-attachments` is deleted through `agent.podDeleted`.
 * At start, before any request is served (requests wait), the DELs the shim queued while the
 * agent was down (one file per container and interface in queueDir) are replayed and their files
 * deleted; a replay the agent fails keeps its file for the next start.
 *
 * Invariants: the socket file is mode 0600 in a 0700 directory (only root talks to the agent); a
 * live socket at the path is never taken over (ERR_PALISADE_CNI_SOCKET_IN_USE); a request is at
 * most 1 MiB and must arrive within 30 s. Every failure answers a CNI error result
 * ({cniVersion, code, msg, details}), never a dropped connection.
 * Cost: one JSON parse per request; attachments are kept in memory (a restart forgets them, so a
 * GC after a restart deletes nothing it did not see added; the queued DELs cover the agent-down
 * window). Thread-safety: one event loop; concurrent requests for different containers run
 * concurrently, the agent serializes its own kernel work.
 */
import { chmod, mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { CniAgent, CniPodAttachment } from '../cni-types.js';
import { attachmentOf, CNI_ERR, CniError, echoResult, errorResult, parseCniRequest, podName, type CniRequest } from './request.js';

export interface CniServerOptions {
  readonly socketPath: string;
  /** where the shim queues DELs while the agent is down */
  readonly queueDir: string;
  readonly agent: CniAgent;
  /** one line per event (no trailing newline) */
  readonly log: (line: string) => void;
  /** the longest ADD waits for the pod's policy to be in force */
  readonly addTimeoutMs: number;
  /** STATUS: is the agent ready to police new pods? default: always */
  readonly ready?: () => boolean;
}

export interface CniServer {
  close(): Promise<void>;
  /** queued DELs replayed at start */
  readonly replayed: number;
}

const MAX_REQUEST_BYTES = 1 << 20;
const REQUEST_DEADLINE_MS = 30_000;
/** the agent answers this long before the shim gives up, so its answer is the one that counts */
const SHIM_MARGIN_MS = 250;

interface Answer {
  readonly exitCode: number;
  readonly stdout: string;
}

const fail = (cniVersion: string, e: CniError): Answer => ({ exitCode: 1, stdout: errorResult(cniVersion, e) });
const key = (containerId: string, ifname: string): string => `${containerId}\u0000${ifname}`;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startCniServer(options: CniServerOptions): Promise<CniServer> {
  const { agent, log } = options;
  /** container/ifname -> the attachment and the network (conflist name) it was added on */
  const attachments = new Map<string, { readonly att: CniPodAttachment; readonly network: string }>();
  const inflight = new Set<AbortController>();
  const sockets = new Set<Socket>();

  const handle = async (req: CniRequest): Promise<Answer> => {
    const v = req.config.cniVersion;
    switch (req.command) {
      case 'ADD': {
        const att = attachmentOf(req);
        const waitMs = Math.max(1, Math.min(options.addTimeoutMs, req.config.shimTimeoutMs - SHIM_MARGIN_MS));
        const ctrl = new AbortController();
        inflight.add(ctrl);
        attachments.set(key(att.containerId, att.ifname), { att, network: req.config.name });
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
        try {
          const added = agent.podAdded(att, ctrl.signal).then(() => 'added' as const);
          added.catch((e: unknown) => {
            if (ctrl.signal.aborted) log(`cni ADD ${att.namespace}/${att.name}: failed after its timeout: ${message(e)}`);
          });
          const outcome = await Promise.race([added, timedOut]);
          const ms = (performance.now() - started).toFixed(1);
          if (outcome === 'added') {
            log(`cni ADD ${att.namespace}/${att.name} (${att.containerId} ${att.ifname}) ${att.ips.join(',')}: in force after ${ms} ms`);
            return { exitCode: 0, stdout: echoResult(req) };
          }
          ctrl.abort(new Error(`ADD timed out after ${waitMs} ms`));
          const what = `${att.namespace}/${att.name}: the pod's policy was not in force within ${waitMs} ms`;
          if (req.config.passOnTimeout) {
            log(`cni ADD ${what}; passing (onTimeout: pass)`);
            return { exitCode: 0, stdout: echoResult(req) };
          }
          log(`cni ADD ${what}; failing`);
          return fail(v, new CniError(CNI_ERR.tryAgain, what, 'onTimeout: fail'));
        } catch (e) {
          attachments.delete(key(att.containerId, att.ifname));
          log(`cni ADD ${att.namespace}/${att.name}: the agent failed: ${message(e)}`);
          return fail(v, new CniError(CNI_ERR.agent, `${att.namespace}/${att.name}: the agent could not police the pod: ${message(e)}`));
        } finally {
          clearTimeout(timer);
          inflight.delete(ctrl);
        }
      }
      case 'DEL': {
        await del(req.containerId, req.ifname, podName(req));
        return { exitCode: 0, stdout: '' };
      }
      case 'CHECK': {
        const att = attachmentOf(req);
        try {
          await agent.podCheck(att);
        } catch (e) {
          return fail(v, new CniError(CNI_ERR.agent, `${att.namespace}/${att.name}: check failed: ${message(e)}`));
        }
        return { exitCode: 0, stdout: '' };
      }
      case 'STATUS':
        if (options.ready && !options.ready()) return fail(v, new CniError(CNI_ERR.notAvailable, 'the palisade agent is not ready'));
        return { exitCode: 0, stdout: '' };
      case 'GC': {
        const valid = new Set((req.config.validAttachments ?? []).map((a) => key(a.containerId, a.ifname)));
        // GC is per network: attachments another network added are not this call's to judge
        const stale = [...attachments.entries()].filter(([k, a]) => a.network === req.config.name && !valid.has(k));
        for (const [, { att: a }] of stale) await del(a.containerId, a.ifname, { namespace: a.namespace, name: a.name });
        if (stale.length > 0) log(`cni GC: forgot ${stale.length} attachment(s) not in cni.dev/valid-attachments`);
        return { exitCode: 0, stdout: '' };
      }
    }
  };

  const del = async (containerId: string, ifname: string, pod: { namespace: string; name: string } | undefined): Promise<void> => {
    const known = attachments.get(key(containerId, ifname))?.att;
    const who = pod ?? (known ? { namespace: known.namespace, name: known.name } : undefined);
    try {
      await agent.podDeleted({ containerId, ifname, ...(who ? { namespace: who.namespace, name: who.name } : {}) });
    } catch (e) {
      throw new CniError(CNI_ERR.agent, `DEL ${containerId} ${ifname}: the agent failed: ${message(e)}`);
    }
    attachments.delete(key(containerId, ifname));
  };

  const answer = async (text: string): Promise<Answer> => {
    let req: CniRequest | undefined;
    try {
      req = parseCniRequest(text);
      return await handle(req);
    } catch (e) {
      const err = e instanceof CniError ? e : new CniError(CNI_ERR.agent, `internal error: ${message(e)}`);
      return fail(req?.config.cniVersion ?? versionIn(text), err);
    }
  };

  // ---- the queue of DELs written while the agent was down, replayed before any request ----
  let replayed = 0;
  const replay = async (): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(options.queueDir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw Object.assign(new Error(`CNI queue ${options.queueDir}: ${message(e)}`), { code: 'ERR_PALISADE_CNI_QUEUE' });
    }
    for (const n of names.sort()) {
      const file = join(options.queueDir, n);
      let req: CniRequest;
      try {
        req = parseCniRequest(await readFile(file, 'utf8'));
        if (req.command !== 'DEL') throw new CniError(CNI_ERR.invalidConfig, `a queued ${req.command} (only DEL is queued)`);
      } catch (e) {
        log(`cni queue ${file}: dropped, unreadable: ${message(e)}`);
        await rm(file, { force: true });
        continue;
      }
      try {
        await del(req.containerId, req.ifname, podName(req));
      } catch (e) {
        log(`cni queue ${file}: replay failed, kept for the next start: ${message(e)}`);
        continue;
      }
      await rm(file, { force: true });
      replayed++;
      log(`cni queue: replayed DEL ${req.containerId} ${req.ifname}`);
    }
  };

  // ---- the socket ----
  await mkdir(dirname(options.socketPath), { recursive: true, mode: 0o700 });
  if (await socketInUse(options.socketPath)) {
    throw Object.assign(new Error(`${options.socketPath}: another process is serving this CNI socket`), { code: 'ERR_PALISADE_CNI_SOCKET_IN_USE' });
  }
  await unlink(options.socketPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  // requests wait for the replay of the queue: an ADD never races a stale queued DEL
  let openGate: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  // allowHalfOpen: the shim shuts its write side down to end the request and then reads the answer
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    sock.setTimeout(REQUEST_DEADLINE_MS, () => sock.destroy());
    sock.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REQUEST_BYTES) tooBig = true;
      else chunks.push(d);
    });
    sock.once('end', () => {
      sock.setTimeout(0);
      const text = Buffer.concat(chunks).toString('utf8');
      const work = tooBig
        ? Promise.resolve(fail(versionIn(text), new CniError(CNI_ERR.decode, `the request is larger than ${MAX_REQUEST_BYTES} bytes`)))
        : gate.then(() => answer(text));
      void work.then((a) => {
        if (!sock.destroyed) sock.end(`${a.exitCode}\n${a.stdout}`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(options.socketPath, 0o600);
  // listen first, then replay: a DEL the shim queued between a scan and the listen would be
  // missed until the next start
  try {
    await replay();
  } catch (e) {
    server.close();
    for (const s of sockets) s.destroy();
    throw e;
  } finally {
    openGate();
  }
  log(`cni: serving ${options.socketPath}${replayed > 0 ? ` (replayed ${replayed} queued DEL${replayed === 1 ? '' : 's'})` : ''}`);

  return {
    replayed,
    async close() {
      for (const c of inflight) c.abort(new Error('the CNI server is closing'));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await unlink(options.socketPath).catch(() => undefined);
    },
  };
}

/** The configuration's cniVersion, best effort, for an error about a request that did not parse. */
function versionIn(text: string): string {
  try {
    const wire = JSON.parse(text) as { config?: unknown };
    const v = typeof wire.config === 'string' ? (JSON.parse(wire.config) as { cniVersion?: unknown }).cniVersion : undefined;
    if (typeof v === 'string' && v !== '') return v;
  } catch {
    // not JSON: the default below
  }
  return '1.0.0';
}
