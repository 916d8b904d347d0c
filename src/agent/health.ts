/**
 * The agent's operations endpoint on --health-address (default 127.0.0.1:9090):
 *   GET /readyz   200 once the first full state is in the kernel, 503 before
 *   GET /healthz  200 while every watch and the backend are alive, 503 (with the reason) when not
 *   GET /metrics  Prometheus text (metrics.ts)
 *   GET /status   JSON: what is in force (agent.ts AgentStatus: generation, per-resource
 *                 resourceVersion in the kernel, invalid objects), when `status` is given
 * Anything else is 404; a method other than GET/HEAD is 405. No request body is read.
 * I/O: one HTTP server. Thread-safety: one owner.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export const DEFAULT_HEALTH_ADDRESS = '127.0.0.1:9090';

export interface HealthProbes {
  ready(): boolean;
  healthy(): { ok: boolean; why?: string };
  readonly registry: Registry;
  status?(): unknown;
}

/** `HOST:PORT`, `[V6]:PORT` -> host and port; throws with code ERR_PALISADE_HEALTH_ADDRESS. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw Object.assign(new Error(`--health-address takes HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`), { code: 'ERR_PALISADE_HEALTH_ADDRESS' });
  return { host: (m[1] ?? m[2]) as string, port };
}

export interface HealthServer {
  /** the bound address (port 0 picks one) */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export async function startHealthServer(address: string, probes: HealthProbes): Promise<HealthServer> {
  const { host, port } = parseHostPort(address);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/readyz') return text(probes.ready() ? 200 : 503, probes.ready() ? 'ok\n' : 'the first full state is not in the kernel yet\n');
    if (path === '/healthz') {
      const h = probes.healthy();
      return text(h.ok ? 200 : 503, h.ok ? 'ok\n' : `${h.why ?? 'unhealthy'}\n`);
    }
    if (path === '/metrics') {
      probes.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': probes.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
        },
        (e: unknown) => text(500, `${String(e)}\n`),
      );
      return;
    }
    if (path === '/status' && probes.status) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : `${JSON.stringify(probes.status())}\n`);
      return;
    }
    text(404, 'not found: /readyz, /healthz, /metrics, /status\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: { host: a.address, port: a.port },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
