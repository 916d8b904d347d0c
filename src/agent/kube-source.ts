/**
 * The agent's wiring to the API server: a WatchSource over one Informer per resource
 * (src/agent/kube/informer.ts), and the EventSink that posts an invalid object's problems as a
 * Kubernetes Event (POST /api/v1/namespaces/NS/events; `default` for cluster-scoped objects).
 * Names in request paths are percent-encoded; Event bodies are JSON (no string is interpolated
 * into anything but the path).
 * I/O: HTTP through KubeClient. Thread-safety: one owner.
 */
import { hostname } from 'node:os';
import type { EventSink } from './agent.js';
import { API_VERSIONS, type KnownKind } from '../model/kinds.js';
import { WATCHED_RESOURCES } from './objects.js';
import type { InvalidObject } from './state.js';
import type { KubeObject, ResourceName, WatchEvent, WatchSource, WatchStats } from './watch-source.js';

// src/agent/kube is written in parallel; until it is merged here these are its announced
// interfaces, and the modules are loaded by dynamic imports whose type errors are ignored (so this
// file compiles with or without them). Once merged: import KubeClient and Informer statically and
// delete these declarations and the ts-ignore comments.
export interface KubeClient {
  request(r: { method: string; path: string; query?: Record<string, string>; body?: unknown }): Promise<{ status: number; body: unknown }>;
}
interface InformerLike {
  start(): void;
  stop(): Promise<void>;
  stats(): WatchStats;
  healthy(): boolean;
}
type InformerClass = new (o: { client: KubeClient; resource: ResourceName; onEvents: (e: readonly WatchEvent[]) => void; transform?: (o: KubeObject) => KubeObject; pageLimit?: number; silenceMs?: number }) => InformerLike;
interface KubeClientClass {
  fromKubeconfig(path: string): KubeClient | Promise<KubeClient>;
  inCluster(): KubeClient | Promise<KubeClient>;
}

async function kubeModule<T>(file: 'client.js' | 'informer.js'): Promise<T> {
  try {
    // prettier-ignore
    // @ts-ignore: src/agent/kube/* may not be in this build yet (see above)
    return (file === 'client.js' ? await import('./kube/client.js') : await import('./kube/informer.js')) as T;
  } catch (e) {
    throw Object.assign(new Error(`the Kubernetes client (src/agent/kube/${file}) is not in this build: ${(e as Error).message}`), { code: 'ERR_PALISADE_AGENT_NO_CLIENT' });
  }
}

/** The API client from a kubeconfig, or the in-cluster service account. */
export async function kubeClient(kubeconfig?: string): Promise<KubeClient> {
  const { KubeClient } = await kubeModule<{ KubeClient: KubeClientClass }>('client.js');
  return kubeconfig !== undefined ? await KubeClient.fromKubeconfig(kubeconfig) : await KubeClient.inCluster();
}

export async function informerSource(client: KubeClient, opts: { readonly silenceMs?: number; readonly pageLimit?: number } = {}): Promise<WatchSource> {
  const { Informer } = await kubeModule<{ Informer: InformerClass }>('informer.js');
  return {
    resources: WATCHED_RESOURCES as readonly ResourceName[],
    watch(resource, onEvents, transform) {
      const inf = new Informer({
        client,
        resource,
        onEvents,
        transform,
        ...(opts.silenceMs !== undefined ? { silenceMs: opts.silenceMs } : {}),
        ...(opts.pageLimit !== undefined ? { pageLimit: opts.pageLimit } : {}),
      });
      inf.start();
      return { stop: () => inf.stop(), stats: () => inf.stats(), healthy: () => inf.healthy() };
    },
  };
}

/** Posts one Warning Event per invalid object version. */
export function kubeEventSink(client: KubeClient): EventSink {
  return {
    async invalidObject(report: InvalidObject, node: string): Promise<void> {
      const ns = report.ref.namespace ?? 'default';
      const now = new Date().toISOString();
      const errors = report.problems.filter((p) => p.severity === 'error');
      const message = errors
        .map((p) => `${p.code}${p.path ? ` ${p.path}` : ''}: ${p.message}`)
        .join('; ')
        .slice(0, 1000);
      const kind = report.ref.kind as KnownKind;
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${report.ref.name}.`.slice(0, 200), namespace: ns },
        involvedObject: {
          apiVersion: API_VERSIONS[kind],
          kind,
          name: report.ref.name,
          ...(report.ref.namespace !== undefined ? { namespace: report.ref.namespace } : {}),
          ...(report.uid !== undefined ? { uid: report.uid } : {}),
          ...(report.resourceVersion !== undefined ? { resourceVersion: report.resourceVersion } : {}),
        },
        reason: 'InvalidObjectIgnored',
        message: `palisade ignores this object (its last valid version, if any, stays enforced): ${message}`,
        type: 'Warning',
        source: { component: 'palisade-agent', host: node },
        reportingComponent: 'palisade.dev/agent',
        reportingInstance: node || hostname(),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      const r = await client.request({ method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, body });
      if (r.status < 200 || r.status >= 300) throw Object.assign(new Error(`POST events answered ${r.status}`), { code: 'ERR_PALISADE_EVENT_POST' });
    },
  };
}
