/**
 * Where the ClassBench files live: PALISADE_CLASSBENCH_DIR, else ../shared/classbench/cutsplit-ruleSet
 * beside the repository (the filter sets are never copied into the repo). The suites state the need
 * through test/harness/prerequisites.ts (`classbench`): skipped outside CI, a failure under CI=true.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLASSBENCH_DIR = process.env.PALISADE_CLASSBENCH_DIR ?? join(REPO, '..', 'shared', 'classbench', 'cutsplit-ruleSet');

/** The first existing path among `name` and `name.gz`, or null. */
export function findData(name: string): string | null {
  for (const p of [join(CLASSBENCH_DIR, name), join(CLASSBENCH_DIR, `${name}.gz`)]) if (existsSync(p)) return p;
  return null;
}

export const SETS = ['acl1_1k', 'fw1_1k', 'ipc1_1k', 'acl1_10k', 'fw1_10k', 'ipc1_10k'] as const;
