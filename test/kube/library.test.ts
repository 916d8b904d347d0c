/**
 * The test API server checked against an independent client: @kubernetes/client-node 1.4 (its
 * generated API clients, its Watch and its informer, the code most Node users of Kubernetes
 * run) lists, pages, watches and discovers it over TLS with the kubeconfig the server writes.
 * If the server's wire format drifted from the real one, these typed decoders would fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApisApi, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, VersionApi, Watch, makeInformer, type V1Namespace } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApiServer, type TestApiServer } from './apiserver.js';
import { waitFor } from './wait.js';

let api: TestApiServer;
let dir: string;
let kc: KubeConfig;
beforeAll(async () => {
  api = await startTestApiServer({ bookmarkMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'pal-kube-lib-'));
  kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(dir));
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('@kubernetes/client-node 1.4 against the test API server', () => {
  test('discovery: version, API groups', async () => {
    api.installResource('clusternetworkpolicies');
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toBe('v1.33.0-palisade-test');
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name).sort()).toEqual(['discovery.k8s.io', 'events.k8s.io', 'networking.k8s.io', 'policy.networking.k8s.io']);
    expect(groups.groups.find((g) => g.name === 'policy.networking.k8s.io')!.preferredVersion!.groupVersion).toBe('policy.networking.k8s.io/v1alpha2');
  });

  test('typed lists with limit/continue, create through the API, 404 for a CRD that is not installed', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    for (const n of ['l1', 'l2', 'l3']) await core.createNamespace({ body: { metadata: { name: n } } });
    const p1 = await core.listNamespace({ limit: 2 });
    expect(p1.items.map((n) => n.metadata!.name)).toEqual(['l1', 'l2']);
    expect(p1.metadata!._continue).toBeTruthy();
    const p2 = await core.listNamespace({ limit: 2, _continue: p1.metadata!._continue! });
    expect(p2.items.map((n) => n.metadata!.name)).toEqual(['l3']);
    expect(p2.metadata!._continue).toBeFalsy();
    expect(p2.metadata!.resourceVersion).toBe(p1.metadata!.resourceVersion);
    expect(p1.items[0]!.metadata!.creationTimestamp).toBeInstanceOf(Date);
    api.create('endpointslices', { metadata: { name: 's', namespace: 'l1' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.2'] }] });
    const slices = await kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces();
    expect(slices.items[0]!.endpoints[0]!.addresses).toEqual(['10.244.1.2']);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await expect(custom.listClusterCustomObject({ group: 'policy.networking.k8s.io', version: 'v1alpha1', plural: 'adminnetworkpolicies' })).rejects.toMatchObject({ code: 404 });
  });

  test('Watch: events, BOOKMARKs, and ERROR 410 for an expired resourceVersion', async () => {
    const seen: [string, unknown][] = [];
    let done: unknown = 'open';
    const rv = api.resourceVersion;
    const ctl = await new Watch(kc).watch('/api/v1/pods', { allowWatchBookmarks: true, resourceVersion: rv }, (type, obj) => seen.push([type, (obj as { metadata?: { name?: string; resourceVersion?: string } }).metadata?.name ?? 'bookmark']), (err) => (done = err));
    api.create('pods', { metadata: { name: 'w1', namespace: 'l1' } });
    await waitFor('the pod and a bookmark', () => seen.some(([t]) => t === 'ADDED') && seen.some(([t]) => t === 'BOOKMARK'));
    expect(seen.find(([t]) => t === 'ADDED')).toEqual(['ADDED', 'w1']);
    ctl.abort();
    api.faults.expireHistory();
    const errors: [string, unknown][] = [];
    await new Watch(kc).watch('/api/v1/pods', { resourceVersion: rv }, (type, obj) => errors.push([type, obj]), (err) => (done = err));
    await waitFor('ERROR', () => errors.length > 0);
    expect(errors[0]).toEqual(['ERROR', expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' })]);
    await waitFor('the stream ended', () => done !== 'open');
  });

  test('makeInformer lists and watches, and relists after the server forgets its history', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const inf = makeInformer<V1Namespace>(kc, '/api/v1/namespaces', () => core.listNamespace());
    const added: string[] = [];
    const deleted: string[] = [];
    inf.on('add', (o) => added.push(o.metadata!.name!));
    inf.on('delete', (o) => deleted.push(o.metadata!.name!));
    await inf.start();
    try {
      expect(added.sort()).toEqual(['l1', 'l2', 'l3']);
      api.create('namespaces', { metadata: { name: 'late' } });
      await waitFor('late', () => added.includes('late'));
      api.remove('namespaces', 'l3');
      await waitFor('l3 deleted', () => deleted.includes('l3'));
      const lists = api.requests.filter((r) => r.path === '/api/v1/namespaces' && r.query.watch === undefined).length;
      api.faults.expireHistory(); // the library's informer gets ERROR 410 and lists again
      await waitFor('a relist', () => api.requests.filter((r) => r.path === '/api/v1/namespaces' && r.query.watch === undefined).length > lists);
      await waitFor('the watch again', () => api.watchCount > 0);
      api.create('namespaces', { metadata: { name: 'after' } });
      await waitFor('after', () => added.includes('after'));
      expect(inf.list().map((n) => n.metadata!.name).sort()).toEqual(['after', 'l1', 'l2', 'late']);
    } finally {
      await inf.stop();
    }
  });
});
