/**
 * What the agent needs from the watch layer (src/agent/kube/informer.ts): per resource, a stream
 * of event batches, and whether that stream is alive. The agent codes against this shape, not
 * against the informer class, so that its event handling is tested by feeding batches directly
 * (test/agent/state.test.ts) and so that one place (kube-source.ts) wires real informers.
 *
 * The event types are the informer's (a full list, first or relist, ends with `synced`).
 * Types only; no code.
 */
export type ResourceName = string;
export type KubeObject = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };
export type WatchEvent =
  | { readonly type: 'upsert'; readonly resource: ResourceName; readonly object: KubeObject }
  | { readonly type: 'delete'; readonly resource: ResourceName; readonly object: KubeObject }
  | { readonly type: 'synced'; readonly resource: ResourceName };

export interface WatchStats {
  readonly restarts: number;
  readonly relists: number;
  readonly events: number;
  /** a CRD resource whose definition is not installed (404) is watched for but not installed */
  readonly installed: boolean;
  readonly synced: boolean;
}

export interface WatchHandle {
  stop(): Promise<void>;
  stats(): WatchStats;
  healthy(): boolean;
}

export interface WatchSource {
  /** the resources to watch, in the order their informers start */
  readonly resources: readonly ResourceName[];
  /** start one resource's stream; `transform` slims each object before anything caches it */
  watch(resource: ResourceName, onEvents: (events: readonly WatchEvent[]) => void, transform: (o: KubeObject) => KubeObject): WatchHandle;
}
