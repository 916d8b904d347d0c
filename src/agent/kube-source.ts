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
import { KubeClient } from './kube/client.js';
import { Informer } from './kube/informer.js';
import { isResourceName } from './kube/resources.js';
import type { ResourceName, WatchSource } from './watch-source.js';

/** The API client from a kubeconfig, or the in-cluster service account (`serviceAccountDir`, default SERVICE_ACCOUNT_DIR). */
export function kubeClient(kubeconfig?: string, opts: { readonly serviceAccountDir?: string } = {}): KubeClient {
  return kubeconfig !== undefined ? KubeClient.fromKubeconfig(kubeconfig) : KubeClient.inCluster(opts.serviceAccountDir !== undefined ? { dir: opts.serviceAccountDir } : {});
}

export interface InformerSourceOptions {
  readonly silenceMs?: number;
  readonly pageLimit?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly crdPollMs?: number;
  /** the informers' own records (restarts, relists, failures) */
  readonly log?: (rec: Record<string, unknown>) => void;
}

/** One Informer per resource the agent watches (WATCHED_RESOURCES, the kube resource table's names). */
export function informerSource(client: KubeClient, opts: InformerSourceOptions = {}): WatchSource {
  return {
    resources: WATCHED_RESOURCES as readonly ResourceName[],
    watch(resource, onEvents, transform) {
      if (!isResourceName(resource)) throw Object.assign(new Error(`src/agent/kube/resources.ts has no resource ${JSON.stringify(resource)}`), { code: 'ERR_PALISADE_AGENT_RESOURCE' });
      const inf = new Informer({
        client,
        resource,
        onEvents,
        transform,
        ...(opts.silenceMs !== undefined ? { silenceMs: opts.silenceMs } : {}),
        ...(opts.pageLimit !== undefined ? { pageLimit: opts.pageLimit } : {}),
        ...(opts.backoff !== undefined ? { backoff: { ...opts.backoff } } : {}),
        ...(opts.crdPollMs !== undefined ? { crdPollMs: opts.crdPollMs } : {}),
        ...(opts.log !== undefined ? { log: opts.log } : {}),
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
        // named as client-go's event recorder names them (object name, a dot, the time in hex): not
        // every server fills in generateName for Events
        metadata: { name: `${report.ref.name.slice(0, 200)}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`, namespace: ns },
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
