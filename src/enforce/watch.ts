/**
 * The enforce loop: watch manifest paths, and on every change load, validate and apply.
 *
 * - An invalid change is reported and NOT applied: the last good state stays in force.
 * - Changes are coalesced (debounce) and applies never overlap; a change that arrives during an
 *   apply triggers one more round after it.
 * - Convergence target: <= 1 s after a file changes. fs.watch (recursive) gives the event; a
 *   slow poll of the files' size and mtime backs it up for editors and file systems that do not
 *   deliver events.
 * This module and the file loader are the only ones here that touch the file system.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { safeLoadCluster } from '../manifests/cluster.js';
import { listManifestFiles } from '../manifests/load.js';
import type { Problem } from '../model/problems.js';
import type { Cluster } from '../model/types.js';
/** What the loop applies each valid load to (an Enforcement, or a test double of it). */
export interface ApplyTarget {
  apply(cluster: Cluster): Promise<LoopReport>;
}
export interface LoopReport {
  readonly summary: string;
  readonly ms: number;
}

export type EnforceEvent =
  | { readonly type: 'applied'; readonly generation: number; readonly report: LoopReport; readonly warnings: readonly Problem[] }
  | { readonly type: 'rejected'; readonly problems: readonly Problem[] }
  | { readonly type: 'apply-failed'; readonly error: Error };

export interface EnforceLoopOptions {
  readonly paths: readonly string[];
  readonly enforcer: ApplyTarget;
  readonly onEvent: (e: EnforceEvent) => void;
  /** coalescing delay after a change, ms (default 100) */
  readonly debounceMs?: number;
  /** backup poll interval, ms (default 500) */
  readonly pollMs?: number;
}

export interface EnforceLoop {
  /** Resolves after the first load (applied or rejected). */
  readonly ready: Promise<void>;
  /** The cluster currently in force, if any. */
  current(): Cluster | undefined;
  /** Force a reload now; resolves when that round is done. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

export function startEnforceLoop(opts: EnforceLoopOptions): EnforceLoop {
  const debounceMs = opts.debounceMs ?? 100;
  const pollMs = opts.pollMs ?? 500;
  let inForce: Cluster | undefined;
  let generation = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let fingerprint = snapshot(opts.paths);

  async function round(): Promise<void> {
    const r = safeLoadCluster(opts.paths);
    if (!r.cluster) {
      opts.onEvent({ type: 'rejected', problems: r.problems });
      return;
    }
    try {
      const report = await opts.enforcer.apply(r.cluster);
      inForce = r.cluster;
      generation++;
      opts.onEvent({ type: 'applied', generation, report, warnings: r.problems });
    } catch (e) {
      opts.onEvent({ type: 'apply-failed', error: e as Error });
    }
  }

  function kick(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        fingerprint = snapshot(opts.paths);
        await round();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void kick(), debounceMs);
  };

  const watchers: FSWatcher[] = [];
  for (const p of opts.paths) {
    try {
      watchers.push(watch(p, { recursive: true }, schedule));
    } catch {
      // the poll below still notices changes
    }
  }
  const poll = setInterval(() => {
    const now = snapshot(opts.paths);
    if (now !== fingerprint) schedule();
  }, pollMs);

  const ready = kick();
  return {
    ready,
    current: () => inForce,
    reload: kick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
      await running;
    },
  };
}

/** Names, sizes and mtimes of every manifest file: a change to any of them changes this. */
function snapshot(paths: readonly string[]): string {
  const { files } = listManifestFiles(paths);
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${f}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${f}:gone`;
      }
    })
    .join('|');
}
