/**
 * One informer per watched resource: list (paginated), then watch from the list's
 * resourceVersion, for ever. (Interface first; the body follows.)
 */
import type { KubeClient } from './client.js';
import type { ResourceName } from './resources.js';

export type KubeObject = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };
export type WatchEvent =
  | { readonly type: 'upsert'; readonly resource: ResourceName; readonly object: KubeObject } // added or modified, after transform
  | { readonly type: 'delete'; readonly resource: ResourceName; readonly object: KubeObject }
  | { readonly type: 'synced'; readonly resource: ResourceName }; // a full list (first list or a relist) has been delivered
export interface InformerOptions {
  readonly client: KubeClient;
  readonly resource: ResourceName;
  readonly onEvents: (events: readonly WatchEvent[]) => void;
  readonly transform?: (o: KubeObject) => KubeObject;
  readonly pageLimit?: number /*500*/;
  readonly silenceMs?: number /*watch silent past this => restart; default 5 min*/;
  readonly watchTimeoutSeconds?: number;
  readonly backoff?: { initialMs: number; maxMs: number };
  readonly crdPollMs?: number;
  readonly log?: (rec: Record<string, unknown>) => void;
  readonly fieldSelector?: string;
}
export interface InformerStats {
  readonly restarts: number;
  readonly relists: number;
  readonly events: number;
  readonly lastEventMs: number | undefined;
  readonly installed: boolean /*false while an optional CRD is absent*/;
  readonly synced: boolean;
}
export class Informer {
  constructor(private readonly o: InformerOptions) {}
  start(): void {
    throw Object.assign(new Error(`informer for ${this.o.resource}: not built yet`), { code: 'ERR_PALISADE_KUBE_UNBUILT' });
  }
  async stop(): Promise<void> {}
  stats(): InformerStats {
    return { restarts: 0, relists: 0, events: 0, lastEventMs: undefined, installed: false, synced: false };
  }
  healthy(): boolean {
    return false;
  }
}
