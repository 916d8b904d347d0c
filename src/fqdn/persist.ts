/**
 * The learned-address snapshot on disk (docs/fqdn.md §6 "Restart"): what a learner knew, so the
 * next process starts with it and a pod's connections right after a restart are not denied.
 *
 * Format: the `LearnedSnapshot` JSON of docs/fqdn.md §8 (`src/model/fqdn.ts` parseSnapshot).
 * Invariants: a write is atomic (a temporary file in the same directory, then rename(2)): a reader
 * sees the old snapshot or the new one, never half of one; a read keeps only entries live at
 * `nowMs` (their expiry unchanged: the remaining TTL is what is left of it); a missing file is an
 * empty snapshot; an unreadable or malformed one is an error naming the file.
 * Cost: O(entries) per read or write (~120 bytes of JSON per entry).
 * Thread-safety: one writer per path (the node's learner); writes are serialized by the caller.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseSnapshot, type LearnedAddress, type LearnedSnapshot } from '../model/fqdn.js';

/** The live entries of the snapshot at `path` (none when the file does not exist). */
export async function readLearnedSnapshot(path: string, nowMs: number): Promise<LearnedAddress[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${path}: cannot read the learned-address snapshot: ${(e as Error).message}`);
  }
  let snapshot: LearnedSnapshot;
  try {
    snapshot = parseSnapshot(JSON.parse(text));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return snapshot.entries.filter((e) => e.expiresAtMs > nowMs);
}

/** Write `snapshot` to `path` atomically (temporary file + rename). */
export async function writeLearnedSnapshot(path: string, snapshot: LearnedSnapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const json = JSON.stringify({
    atMs: snapshot.atMs,
    entries: snapshot.entries.map((e) => ({ pod: e.pod, name: e.name, address: e.address.text, expiresAtMs: e.expiresAtMs, query: e.query })),
  });
  await writeFile(tmp, json, { mode: 0o600 });
  await rename(tmp, path);
}
