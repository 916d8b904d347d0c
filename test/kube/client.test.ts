/**
 * KubeClient against the test API server over real TLS on loopback: kubeconfig (inline and file
 * CA, token, token file, client certificate), in-cluster files, a wrong CA, token rotation (the
 * file's mtime, and the one retry after a 401), and watch chunks.
 */
import { mkdtempSync, rmSync, utimesSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KubeApiError, KubeClient } from '../../src/agent/kube/client.js';
import { startTestApiServer, type TestApiServer } from './apiserver.js';

let api: TestApiServer;
let other: TestApiServer;
let dir: string;
beforeAll(async () => {
  api = await startTestApiServer({ clientCert: true });
  other = await startTestApiServer();
  dir = mkdtempSync(join(tmpdir(), 'pal-kube-client-'));
});
afterAll(async () => {
  await api?.close();
  await other?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sub = (name: string): string => {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('KubeClient.fromKubeconfig', () => {
  test('a kubeconfig with an inline CA and a token reaches the server over TLS with that token', async () => {
    const c = KubeClient.fromKubeconfig(api.writeKubeconfig(sub('inline')));
    const before = api.requests.length;
    const r = await c.request({ method: 'GET', path: '/version' });
    expect(r.status).toBe(200);
    expect((r.body as { gitVersion: string }).gitVersion).toBe('v1.33.0-palisade-test');
    expect(api.requests.slice(before).map((q) => [q.path, q.auth, q.status])).toEqual([['/version', 'token', 200]]);
    c.close();
  });

  test('a CA file named relative to the kubeconfig is found next to it', async () => {
    const c = KubeClient.fromKubeconfig(api.writeKubeconfig(sub('cafile'), { caFile: true }));
    expect((await c.request({ method: 'GET', path: '/api' })).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    c.close();
  });

  test('a client certificate from the kubeconfig authenticates without a token', async () => {
    const c = KubeClient.fromKubeconfig(api.writeKubeconfig(sub('cert'), { clientCert: true }));
    const before = api.requests.length;
    expect((await c.request({ method: 'GET', path: '/api/v1/namespaces' })).status).toBe(200);
    expect(api.requests.slice(before).map((q) => q.auth)).toEqual(['cert']);
    c.close();
  });

  test('a CA that did not sign the server certificate fails the TLS handshake', async () => {
    const c = KubeClient.fromKubeconfig(api.writeKubeconfig(sub('wrongca'), { caPem: other.caPem }));
    const before = api.requests.length;
    const e = await c.request({ method: 'GET', path: '/version' }).then(
      () => undefined,
      (x: unknown) => x as { code?: string; transportCode?: string; message: string },
    );
    expect(e?.code).toBe('ERR_PALISADE_KUBE_TRANSPORT');
    expect(e?.transportCode).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);
    expect(api.requests.length).toBe(before); // no request got through
    c.close();
  });

  test('a wrong token is answered 401 with a Status', async () => {
    const c = new KubeClient({ server: api.url, ca: api.caPem, token: 'wrong' });
    const r = await c.request({ method: 'GET', path: '/api/v1/pods' });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    c.close();
  });

  test('a kubeconfig that is not one is an error naming the file', () => {
    const p = join(sub('bad'), 'kubeconfig');
    writeFileSync(p, 'clusters: [');
    expect(() => KubeClient.fromKubeconfig(p)).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_KUBE_CONFIG', message: expect.stringContaining(p) }));
    writeFileSync(p, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }));
    expect(() => KubeClient.fromKubeconfig(p)).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_KUBE_CONFIG' }));
  });
});

describe('token rotation', () => {
  test('the token file is re-read when it changes, before the next request', async () => {
    const d = sub('rotate');
    const c = KubeClient.fromKubeconfig(api.writeKubeconfig(d, { tokenFile: true }));
    expect((await c.request({ method: 'GET', path: '/version' })).status).toBe(200);
    const old = api.token;
    api.faults.rotateToken('rotated-1');
    writeFileSync(join(d, 'token'), 'rotated-1\n');
    const t = new Date(Date.now() + 5000);
    utimesSync(join(d, 'token'), t, t); // a distinct mtime even on a coarse clock
    const before = api.requests.length;
    expect((await c.request({ method: 'GET', path: '/version' })).status).toBe(200);
    // the new token was sent at once: no 401 first
    expect(api.requests.slice(before).map((q) => q.status)).toEqual([200]);
    api.faults.rotateToken(old);
    c.close();
  });

  test('a 401 makes the client re-read the token file once and retry (a change the mtime did not show)', async () => {
    const d = sub('rotate401');
    const kubeconfig = api.writeKubeconfig(d, { tokenFile: true });
    const file = join(d, 'token');
    const T = 1_700_000_000; // whole seconds: restored exactly below
    utimesSync(file, T, T);
    const c = KubeClient.fromKubeconfig(kubeconfig);
    expect((await c.request({ method: 'GET', path: '/version' })).status).toBe(200);
    const old = api.token;
    const fresh = old.slice(0, -4) + 'zzzz'; // same size
    api.faults.rotateToken(fresh);
    writeFileSync(file, fresh);
    utimesSync(file, T, T); // the same mtime and size: only the 401 can tell
    expect(statSync(file).mtimeMs).toBe(T * 1000);
    const before = api.requests.length;
    expect((await c.request({ method: 'GET', path: '/version' })).status).toBe(200);
    expect(api.requests.slice(before).map((q) => [q.auth, q.status])).toEqual([
      ['none', 401],
      ['token', 200],
    ]);
    // a token the server does not take: one retry, then the 401 is the answer
    api.faults.rotateToken('nobody-has-this');
    const before2 = api.requests.length;
    expect((await c.request({ method: 'GET', path: '/version' })).status).toBe(401);
    expect(api.requests.length - before2).toBe(2);
    api.faults.rotateToken(old);
    c.close();
  });
});

describe('KubeClient.inCluster', () => {
  test('reads the service-account token and CA from the directory and the server from the environment', async () => {
    const d = sub('sa');
    writeFileSync(join(d, 'ca.crt'), api.caPem);
    writeFileSync(join(d, 'token'), api.token);
    const port = new URL(api.url).port;
    const c = KubeClient.inCluster({ dir: d, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port } });
    expect(c.server.href).toBe(`https://127.0.0.1:${port}/`);
    expect((await c.request({ method: 'GET', path: '/api/v1/nodes' })).status).toBe(200);
    c.close();
  });

  test('without KUBERNETES_SERVICE_HOST it says to give a kubeconfig', () => {
    expect(() => KubeClient.inCluster({ dir: dir, env: {} })).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_KUBE_CONFIG', message: expect.stringContaining('--kubeconfig') }));
  });
});

describe('watch chunks', () => {
  test('a watch yields the decoded events and ends when the server closes it; a refused watch throws the Status', async () => {
    const c = new KubeClient({ server: api.url, ca: api.caPem, token: api.token });
    const rv = api.resourceVersion;
    const ctl = new AbortController();
    const seen: unknown[] = [];
    const done = (async () => {
      for await (const ev of c.watchStream('/api/v1/namespaces', { watch: 'true', resourceVersion: rv }, ctl.signal)) {
        seen.push(ev);
        if (seen.length === 2) api.faults.closeWatches();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    api.create('namespaces', { metadata: { name: 'w1' } });
    api.create('namespaces', { metadata: { name: 'w2' } });
    await done;
    expect(seen.map((e) => [(e as { type: string }).type, (e as { object: { metadata: { name: string } } }).object.metadata.name])).toEqual([
      ['ADDED', 'w1'],
      ['ADDED', 'w2'],
    ]);
    const refused = c.watchChunks('/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies', { watch: 'true' }, ctl.signal)[Symbol.asyncIterator]().next();
    await expect(refused).rejects.toBeInstanceOf(KubeApiError);
    await expect(refused).rejects.toMatchObject({ status: 404, code: 'ERR_PALISADE_KUBE_HTTP' });
    c.close();
  });
});
