/**
 * The learned-address snapshot on disk (src/fqdn/persist.ts; docs/fqdn.md §6): written whole and
 * atomically, read back with only the live entries and their expiry as it was; a missing file is
 * empty, a malformed one an error naming the file; a restored cache keeps its bounds.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LearnedCache } from '../../src/fqdn/cache.js';
import { readLearnedSnapshot, writeLearnedSnapshot } from '../../src/fqdn/persist.js';
import type { LearnedAddress } from '../../src/model/fqdn.js';
import { parseIp } from '../../src/model/ip.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'palisade-fqdn-persist-'));
  dirs.push(d);
  return d;
};
const entry = (address: string, expiresAtMs: number, name = 'db.example.test'): LearnedAddress => ({ pod: 'app/client', name, address: parseIp(address)!, expiresAtMs, query: name });

describe('learned snapshot file', () => {
  it('round-trips; a read keeps the live entries with their expiry unchanged', async () => {
    const path = join(await tmp(), 'state', 'learned.json');
    await writeLearnedSnapshot(path, { atMs: 1_000, entries: [entry('192.0.2.7', 5_000), entry('192.0.2.8', 2_000), entry('fd00:10:244:200::1', 9_000)] });
    const back = await readLearnedSnapshot(path, 3_000);
    expect(back.map((e) => [e.address.text, e.expiresAtMs])).toEqual([['192.0.2.7', 5_000], ['fd00:10:244:200::1', 9_000]]);
    expect(await readdir(join(path, '..'))).toEqual(['learned.json']); // no temporary file left
  });

  it('a missing file is empty; a malformed one names the file and the entry', async () => {
    const d = await tmp();
    expect(await readLearnedSnapshot(join(d, 'absent.json'), 0)).toEqual([]);
    const bad = join(d, 'bad.json');
    await writeFile(bad, JSON.stringify({ atMs: 0, entries: [{ pod: 'app/client', name: 'x.test', address: 'nope', expiresAtMs: 1 }] }));
    await expect(readLearnedSnapshot(bad, 0)).rejects.toThrow(`${bad}: learned snapshot: entries[0].address`);
    await writeFile(bad, '{');
    await expect(readLearnedSnapshot(bad, 0)).rejects.toThrow(bad);
  });

  it('a write replaces the file whole', async () => {
    const path = join(await tmp(), 'learned.json');
    await writeLearnedSnapshot(path, { atMs: 0, entries: [entry('192.0.2.7', 5_000), entry('192.0.2.9', 5_000)] });
    await writeLearnedSnapshot(path, { atMs: 0, entries: [entry('192.0.2.8', 5_000)] });
    expect(JSON.parse(await readFile(path, 'utf8')).entries.map((e: { address: string }) => e.address)).toEqual(['192.0.2.8']);
  });

  it('LearnedCache.restore: live entries only, expiry as persisted, bounds and eviction as for learn', () => {
    const c = new LearnedCache({ maxPerName: 2 });
    const ch = c.restore([entry('192.0.2.1', 500), entry('192.0.2.2', 3_000), entry('192.0.2.3', 2_000), entry('192.0.2.4', 4_000)], 1_000);
    expect(ch.added.map((e) => e.address.text)).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.4']);
    expect(ch.removed.map((e) => e.address.text)).toEqual(['192.0.2.3']); // the earliest expiry of the full name
    expect(c.entries().map((e) => [e.address.text, e.expiresAtMs])).toEqual([['192.0.2.2', 3_000], ['192.0.2.4', 4_000]]);
  });
});
