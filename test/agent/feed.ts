/**
 * A WatchSource the test drives (src/agent/watch-source.ts): the test hands the agent batches of
 * watch events as an informer would (upserts, deletes, then `synced` after a full list), so the
 * agent's event handling runs against real backends and real packets. The wire layer (lists,
 * watches, faults) is src/agent/kube's, tested against the test API server.
 */
import { parseAllDocuments } from 'yaml';
import { RESOURCE_KINDS, WATCHED_RESOURCES, type WatchedResource } from '../../src/agent/objects.js';
import type { KubeObject, WatchEvent, WatchHandle, WatchSource } from '../../src/agent/watch-source.js';

type Obj = Record<string, unknown>;
const KIND_RESOURCE = new Map<string, WatchedResource>(Object.entries(RESOURCE_KINDS).map(([r, k]) => [k, r as WatchedResource]));

export class FeedSource implements WatchSource {
  readonly resources = WATCHED_RESOURCES;
  private readonly sinks = new Map<string, { onEvents: (e: readonly WatchEvent[]) => void; transform: (o: KubeObject) => KubeObject }>();
  private rv = 1;
  private alive = true;
  readonly objects = new Map<string, Obj>();

  watch(resource: string, onEvents: (e: readonly WatchEvent[]) => void, transform: (o: KubeObject) => KubeObject): WatchHandle {
    this.sinks.set(resource, { onEvents, transform });
    return {
      stop: async () => void this.sinks.delete(resource),
      stats: () => ({ restarts: 0, relists: 0, events: 0, installed: true, synced: true, lastEventMs: 0 }),
      healthy: () => this.alive,
    };
  }

  /** Upsert objects (as the API server would store them: resourceVersion bumped). */
  upsert(objs: readonly Obj[]): void {
    this.emit(objs.map((o) => ['upsert', o] as const));
  }

  remove(objs: readonly Obj[]): void {
    this.emit(objs.map((o) => ['delete', o] as const));
  }

  /** Every resource: the listed objects, then synced (a first list). */
  listAll(): void {
    for (const r of this.resources) {
      const s = this.sinks.get(r);
      if (!s) continue;
      const kind = RESOURCE_KINDS[r];
      const events: WatchEvent[] = [...this.objects.values()].filter((o) => o.kind === kind).map((o) => ({ type: 'upsert', resource: r, object: s.transform(o as KubeObject) }));
      s.onEvents([...events, { type: 'synced', resource: r }]);
    }
  }

  private emit(items: readonly (readonly ['upsert' | 'delete', Obj])[]): void {
    const byResource = new Map<string, WatchEvent[]>();
    for (const [type, o0] of items) {
      const o = structuredClone(o0);
      const meta = o.metadata as Obj;
      meta.resourceVersion = String(++this.rv);
      const key = keyOf(o);
      if (type === 'upsert') this.objects.set(key, o);
      else this.objects.delete(key);
      const r = KIND_RESOURCE.get(String(o.kind));
      if (!r) throw new Error(`no resource for kind ${String(o.kind)}`);
      const s = this.sinks.get(r);
      if (!s) continue;
      let list = byResource.get(r);
      if (!list) byResource.set(r, (list = []));
      list.push({ type, resource: r, object: s.transform(o as KubeObject) });
    }
    for (const [r, events] of byResource) this.sinks.get(r)!.onEvents(events);
  }
}

export const keyOf = (o: Obj): string => {
  const m = o.metadata as { namespace?: string; name: string };
  return `${String(o.kind)}/${m.namespace ?? ''}/${m.name}`;
};

/** Objects of a YAML text (the examples, the scenarios). */
export function objectsOf(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && typeof o === 'object');
}
