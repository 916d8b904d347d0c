/**
 * Where the ClassBench files live (../shared/classbench relative to the repo root; never copied
 * into the repo). Tests skip with a clear message when they are absent.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLASSBENCH_DIR = join(REPO, '..', 'shared', 'classbench', 'cutsplit-ruleSet');
export const classbenchPresent = existsSync(CLASSBENCH_DIR);
export const SKIP_MESSAGE = `ClassBench files not found at ${CLASSBENCH_DIR} (see ../shared/classbench/README.md); skipping`;

/** The first existing path among `name` and `name.gz`, or null. */
export function findData(name: string): string | null {
  for (const p of [join(CLASSBENCH_DIR, name), join(CLASSBENCH_DIR, `${name}.gz`)]) if (existsSync(p)) return p;
  return null;
}

export const SETS = ['acl1_1k', 'fw1_1k', 'ipc1_1k', 'acl1_10k', 'fw1_10k', 'ipc1_10k'] as const;
