/**
 * The Informer against the test API server (real TLS, real wire format on loopback): every
 * semantic its header promises, with the exact events delivered.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { KubeClient } from '../../src/agent/kube/client.js';
import { Informer, type InformerOptions, type KubeObject, type WatchEvent } from '../../src/agent/kube/informer.js';
import type { ResourceName } from '../../src/agent/kube/resources.js';
import { startTestApiServer, type TestApiServer, type TestApiServerOptions } from './apiserver.js';
import { sleep, waitFor } from './wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(o: TestApiServerOptions = {}): Promise<TestApiServer> {
  const api = await startTestApiServer(o);
  cleanups.push(() => api.close());
  return api;
}

function client(api: TestApiServer): KubeClient {
  const c = new KubeClient({ server: api.url, ca: api.caPem, token: api.token });
  cleanups.push(() => c.close());
  return c;
}

/** one line per event: `upsert NAME RV`, `delete NAME`, `synced` */
const line = (e: WatchEvent): string => (e.type === 'synced' ? 'synced' : `${e.type} ${e.object.metadata.namespace ? e.object.metadata.namespace + '/' : ''}${e.object.metadata.name}${e.type === 'upsert' ? ' ' + e.object.metadata.resourceVersion : ''}`);

function informer(api: TestApiServer, resource: ResourceName, o: Partial<InformerOptions> = {}, c = client(api)) {
  const batches: WatchEvent[][] = [];
  const logs: Record<string, unknown>[] = [];
  const inf = new Informer({ client: c, resource, onEvents: (b) => batches.push([...b]), backoff: { initialMs: 20, maxMs: 200 }, log: (r) => logs.push(r), ...o });
  inf.start();
  cleanups.push(() => inf.stop());
  const lines = (): string[] => batches.flat().map(line);
  const synceds = (): number => batches.flat().filter((e) => e.type === 'synced').length;
  return { inf, batches, logs, lines, synceds };
}

const ns = (name: string, labels?: Record<string, string>): KubeObject => ({ metadata: { name, ...(labels ? { labels } : {}) } });
const lists = (api: TestApiServer, path: string) => api.requests.filter((r) => r.path === path && r.query.watch === undefined);
const watches = (api: TestApiServer, path: string) => api.requests.filter((r) => r.path === path && r.query.watch === 'true');

describe('list', () => {
  test('pages with limit/continue, one batch per page, synced last; items get apiVersion/kind; managedFields stripped', async () => {
    const api = await server();
    const rvs = ['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => api.create('namespaces', ns(n)).metadata.resourceVersion);
    expect(api.get('namespaces', 'n1')!.metadata.managedFields).toBeDefined(); // the server does send them
    const t = informer(api, 'namespaces', { pageLimit: 2 });
    await waitFor('synced', () => t.synceds() === 1);
    expect(t.batches.map((b) => b.map(line))).toEqual([
      [`upsert n1 ${rvs[0]}`, `upsert n2 ${rvs[1]}`],
      [`upsert n3 ${rvs[2]}`, `upsert n4 ${rvs[3]}`],
      [`upsert n5 ${rvs[4]}`, 'synced'],
    ]);
    const first = t.batches[0]![0] as { object: KubeObject };
    expect(first.object.apiVersion).toBe('v1');
    expect(first.object.kind).toBe('Namespace');
    expect('managedFields' in first.object.metadata).toBe(false);
    expect(first.object.metadata.uid).toBeTruthy();
    const l = lists(api, '/api/v1/namespaces');
    expect(l.map((r) => [r.query.limit, r.query.continue !== undefined])).toEqual([
      ['2', false],
      ['2', true],
      ['2', true],
    ]);
    await waitFor('the watch', () => watches(api, '/api/v1/namespaces').length === 1);
    expect(watches(api, '/api/v1/namespaces')[0]!.query).toMatchObject({ resourceVersion: api.resourceVersion, allowWatchBookmarks: 'true' });
    expect(Number(watches(api, '/api/v1/namespaces')[0]!.query.timeoutSeconds)).toBeGreaterThan(0);
    expect(t.inf.stats()).toMatchObject({ synced: true, installed: true, events: 5, relists: 0, restarts: 0 });
    expect(t.inf.healthy()).toBe(true);
  });

  test('a 410 on an expired continue token restarts the list; nothing is delivered twice', async () => {
    const api = await server();
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) api.create('namespaces', ns(n));
    api.faults.slow(400); // page 1's answer is late enough for the expiry below to land before page 2 is asked for
    const t = informer(api, 'namespaces', { pageLimit: 2 });
    await waitFor('the first page requested', () => lists(api, '/api/v1/namespaces').length === 1);
    api.faults.expireHistory(); // the snapshot page 1 points into is gone before page 2 is asked for
    await waitFor('synced', () => t.synceds() === 1);
    api.faults.slow(0);
    expect(t.lines().map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual(['upsert n1', 'upsert n2', 'upsert n3', 'upsert n4', 'upsert n5', 'synced']);
    expect(lists(api, '/api/v1/namespaces').map((r) => [r.query.continue !== undefined, r.status])).toEqual([
      [false, 200],
      [true, 410],
      [false, 200],
      [true, 200],
      [true, 200],
    ]);
    expect(t.logs.some((r) => String(r.msg).includes('continue token expired'))).toBe(true);
  });
});

describe('watch', () => {
  test('added, modified, deleted become upsert, upsert, delete; transform applies to upserts', async () => {
    const api = await server();
    const t = informer(api, 'pods', { transform: (o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, slim: true }) });
    await waitFor('synced', () => t.synceds() === 1);
    await waitFor('the watch', () => api.watchCount === 1);
    const a = api.create('pods', { metadata: { name: 'a', namespace: 'x' }, spec: { nodeName: 'n' } });
    const b = api.update('pods', { metadata: { name: 'a', namespace: 'x', labels: { k: 'v' } }, spec: { nodeName: 'n' } });
    api.remove('pods', 'a', 'x');
    await waitFor('three events', () => t.lines().length === 4);
    expect(t.lines()).toEqual(['synced', `upsert x/a ${a.metadata.resourceVersion}`, `upsert x/a ${b.metadata.resourceVersion}`, 'delete x/a']);
    const up = t.batches.flat()[1] as { object: KubeObject };
    expect(up.object).toMatchObject({ slim: true, apiVersion: 'v1', kind: 'Pod' });
    expect(up.object.spec).toBeUndefined();
    expect('managedFields' in up.object.metadata).toBe(false);
    const del = t.batches.flat()[3] as { object: KubeObject };
    expect('managedFields' in del.object.metadata).toBe(false);
  });

  test('a watch the server closes is resumed from the last resourceVersion, without a list', async () => {
    const api = await server();
    api.create('namespaces', ns('a'));
    const t = informer(api, 'namespaces');
    await waitFor('the watch', () => api.watchCount === 1);
    const b = api.create('namespaces', ns('b'));
    await waitFor('b', () => t.lines().length === 3);
    api.faults.stall(60_000); // the resumed watch waits, so the next write happens between watches
    api.faults.closeWatches();
    await waitFor('the resumed watch', () => watches(api, '/api/v1/namespaces').length === 2);
    const c = api.create('namespaces', ns('c'));
    api.faults.stall(0);
    await waitFor('c', () => t.lines().length === 4);
    expect(t.lines()).toEqual(['upsert a ' + api.get('namespaces', 'a')!.metadata.resourceVersion, 'synced', `upsert b ${b.metadata.resourceVersion}`, `upsert c ${c.metadata.resourceVersion}`]);
    expect(watches(api, '/api/v1/namespaces').map((r) => r.query.resourceVersion)[1]).toBe(b.metadata.resourceVersion);
    expect(lists(api, '/api/v1/namespaces')).toHaveLength(1);
    expect(t.inf.stats()).toMatchObject({ restarts: 1, relists: 0 });
  });

  test('a BOOKMARK advances the resourceVersion the next watch starts from, and delivers nothing', async () => {
    const api = await server({ bookmarkMs: 50 });
    const t = informer(api, 'namespaces');
    await waitFor('the watch', () => api.watchCount === 1);
    const listRv = watches(api, '/api/v1/namespaces')[0]!.query.resourceVersion;
    // writes to another resource move the one resourceVersion; bookmarks carry it
    for (let i = 0; i < 3; i++) api.create('pods', { metadata: { name: `p${i}`, namespace: 'x' } });
    const rv = api.resourceVersion;
    expect(rv).not.toBe(listRv);
    const sent = api.bookmarksSent;
    await waitFor('two bookmarks after the writes', () => api.bookmarksSent >= sent + 2);
    api.faults.closeWatches();
    await waitFor('the resumed watch', () => watches(api, '/api/v1/namespaces').length === 2);
    expect(watches(api, '/api/v1/namespaces')[1]!.query.resourceVersion).toBe(rv);
    expect(t.lines()).toEqual(['synced']);
  });

  test('a watch silent past silenceMs is aborted and restarted (with backoff), and catches up when the server speaks again', async () => {
    const api = await server({ bookmarkMs: 60_000 });
    const t = informer(api, 'namespaces', { silenceMs: 300 });
    await waitFor('the watch', () => api.watchCount === 1);
    const opened = watches(api, '/api/v1/namespaces').length;
    api.faults.stall(1200);
    const x = api.create('namespaces', ns('x')); // held by the stalled server
    await waitFor('a restarted watch', () => watches(api, '/api/v1/namespaces').length > opened, 2000);
    expect(t.inf.stats().restarts).toBeGreaterThanOrEqual(1);
    expect(t.logs.some((r) => r.code === 'ERR_PALISADE_KUBE_SILENT')).toBe(true);
    await waitFor('x after the stall', () => t.lines().includes(`upsert x ${x.metadata.resourceVersion}`), 5000);
    expect(t.lines()).toEqual(['synced', `upsert x ${x.metadata.resourceVersion}`]);
    expect(t.inf.stats().relists).toBe(0);
  });
});

describe('410: relist delivered as deltas', () => {
  async function fourObjects(api: TestApiServer) {
    for (const n of ['a', 'b', 'c', 'd']) api.create('namespaces', ns(n));
    const t = informer(api, 'namespaces');
    await waitFor('the watch', () => api.watchCount === 1);
    return t;
  }
  function changeWhileUnseen(api: TestApiServer) {
    const b = api.update('namespaces', ns('b', { changed: 'yes' }));
    api.remove('namespaces', 'c');
    const e = api.create('namespaces', ns('e'));
    return { b: b.metadata.resourceVersion, e: e.metadata.resourceVersion };
  }

  test('an ERROR 410 event on an open watch: only the changes since, then synced', async () => {
    const api = await server();
    const t = await fourObjects(api);
    const before = t.lines().length;
    api.faults.stall(60_000); // the watch sees none of the changes below
    const rv = changeWhileUnseen(api);
    api.faults.expireHistory(); // the open watch gets ERROR 410
    await waitFor('the relist', () => t.synceds() === 2);
    api.faults.stall(0);
    expect(t.lines().slice(before)).toEqual([`upsert b ${rv.b}`, `upsert e ${rv.e}`, 'delete c', 'synced']);
    expect(t.inf.stats()).toMatchObject({ relists: 1 });
    const del = t.batches.flat().find((e) => e.type === 'delete') as { object: KubeObject };
    expect(del.object).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } });
  });

  test('a watch resumed from a resourceVersion older than the history gets ERROR 410: relist as deltas', async () => {
    const api = await server();
    const t = await fourObjects(api);
    const before = t.lines().length;
    api.faults.stall(60_000);
    api.faults.closeWatches(); // the informer resumes; the stalled server holds the new watch
    await waitFor('the resumed watch', () => watches(api, '/api/v1/namespaces').length === 2);
    const rv = changeWhileUnseen(api);
    api.faults.expireHistory({ keepWatches: true });
    api.faults.stall(0);
    await waitFor('the relist', () => t.synceds() === 2);
    expect(t.lines().slice(before)).toEqual([`upsert b ${rv.b}`, `upsert e ${rv.e}`, 'delete c', 'synced']);
    expect(lists(api, '/api/v1/namespaces')).toHaveLength(2);
    // after the relist, the watch continues from the relist's resourceVersion
    await waitFor('the next watch', () => watches(api, '/api/v1/namespaces').length === 3);
    expect(watches(api, '/api/v1/namespaces')[2]!.query.resourceVersion).toBe(api.resourceVersion);
  });
});

describe('HTTP 410 and selectors', () => {
  test('a watch refused with HTTP 410 is answered by a relist delivered as deltas', async () => {
    const api = await server({ expiredWatch: 'http' });
    api.create('namespaces', ns('a'));
    api.create('namespaces', ns('b'));
    const t = informer(api, 'namespaces');
    await waitFor('the watch', () => api.watchCount === 1);
    api.faults.stall(60_000);
    api.faults.closeWatches();
    await waitFor('the resumed watch', () => watches(api, '/api/v1/namespaces').length === 2);
    api.remove('namespaces', 'a');
    api.faults.expireHistory({ keepWatches: true });
    api.faults.stall(0);
    await waitFor('the relist', () => t.synceds() === 2);
    expect(watches(api, '/api/v1/namespaces')[1]!.status).toBe(410);
    expect(t.lines().slice(3)).toEqual(['delete a', 'synced']);
  });

  test('a field selector narrows the list and the watch', async () => {
    const api = await server();
    api.create('pods', { metadata: { name: 'mine', namespace: 'x' }, spec: { nodeName: 'n1' } });
    api.create('pods', { metadata: { name: 'theirs', namespace: 'x' }, spec: { nodeName: 'n2' } });
    const t = informer(api, 'pods', { fieldSelector: 'spec.nodeName=n1' });
    await waitFor('the watch', () => api.watchCount === 1);
    api.create('pods', { metadata: { name: 'theirs2', namespace: 'x' }, spec: { nodeName: 'n2' } });
    const m2 = api.create('pods', { metadata: { name: 'mine2', namespace: 'x' }, spec: { nodeName: 'n1' } });
    await waitFor('mine2', () => t.lines().length === 3);
    expect(t.lines()).toEqual([`upsert x/mine ${api.get('pods', 'mine', 'x')!.metadata.resourceVersion}`, 'synced', `upsert x/mine2 ${m2.metadata.resourceVersion}`]);
    expect(api.requests.filter((r) => r.path === '/api/v1/pods').every((r) => r.query.fieldSelector === 'spec.nodeName=n1')).toBe(true);
  });
});

describe('optional resources (CRDs)', () => {
  test('404 is "not installed": synced at once, polled, picked up when installed; removed again = its objects deleted', async () => {
    const api = await server();
    const t = informer(api, 'adminnetworkpolicies', { crdPollMs: 50 });
    await waitFor('synced while absent', () => t.synceds() === 1);
    expect(t.lines()).toEqual(['synced']);
    expect(t.inf.stats()).toMatchObject({ installed: false, synced: true });
    expect(t.inf.healthy()).toBe(true);
    await sleep(200);
    expect(lists(api, '/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies').length).toBeGreaterThan(2); // polled
    expect(t.lines()).toEqual(['synced']); // and said once

    api.installResource('adminnetworkpolicies');
    const x = api.create('adminnetworkpolicies', { metadata: { name: 'x' }, spec: { priority: 1, subject: { namespaces: {} } } });
    await waitFor('x', () => t.synceds() === 2);
    expect(t.lines()).toEqual(['synced', `upsert x ${x.metadata.resourceVersion}`, 'synced']);
    expect(t.inf.stats().installed).toBe(true);
    await waitFor('the watch', () => api.watchCount === 1);

    // gone without a word (only the 404 of the next request tells)
    api.uninstallResource('adminnetworkpolicies', { abrupt: true });
    await waitFor('deleted', () => t.synceds() === 3);
    expect(t.lines().slice(3)).toEqual(['delete x', 'synced']);
    expect(t.inf.stats().installed).toBe(false);

    // back, then removed as the real server does (DELETED events first)
    api.installResource('adminnetworkpolicies');
    const y = api.create('adminnetworkpolicies', { metadata: { name: 'y' }, spec: {} });
    await waitFor('y', () => t.synceds() === 4);
    await waitFor('the watch', () => api.watchCount === 1);
    api.uninstallResource('adminnetworkpolicies');
    await waitFor('deleted', () => t.synceds() === 5);
    expect(t.lines().slice(5)).toEqual([`upsert y ${y.metadata.resourceVersion}`, 'synced', 'delete y', 'synced']);
  });
});

describe('credentials', () => {
  test('a rotated token file is picked up by the next watch', async () => {
    const api = await server();
    const dir = mkdtempSync(join(tmpdir(), 'pal-kube-inf-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const c = KubeClient.fromKubeconfig(api.writeKubeconfig(dir, { tokenFile: true }));
    cleanups.push(() => c.close());
    const t = informer(api, 'nodes', {}, c);
    await waitFor('the watch', () => api.watchCount === 1);
    api.faults.rotateToken('second-token');
    writeFileSync(join(dir, 'token'), 'second-token');
    const future = new Date(Date.now() + 10_000);
    utimesSync(join(dir, 'token'), future, future);
    const from = api.requests.length;
    api.faults.closeWatches();
    const n = api.create('nodes', { metadata: { name: 'n1' } });
    await waitFor('n1', () => t.lines().includes(`upsert n1 ${n.metadata.resourceVersion}`));
    expect(api.requests.slice(from).map((r) => [r.auth, r.status])).toEqual([['token', 200]]);
  });

  test('a wrong CA: nothing synced, the failure logged with its code, unhealthy once past the deadline', async () => {
    const api = await server();
    const other = await server();
    const c = new KubeClient({ server: api.url, ca: other.caPem, token: api.token });
    cleanups.push(() => c.close());
    const t = informer(api, 'namespaces', { silenceMs: 100, backoff: { initialMs: 20, maxMs: 50 } }, c);
    await waitFor('a failure', () => t.logs.some((r) => r.code === 'ERR_PALISADE_KUBE_TRANSPORT'));
    await sleep(250);
    expect(t.inf.stats().synced).toBe(false);
    expect(t.inf.healthy()).toBe(false);
    expect(api.requests).toHaveLength(0);
    await t.inf.stop();
    expect(t.inf.healthy()).toBe(false);
  });
});
