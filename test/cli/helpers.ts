/** Shared by the CLI tests: run a command in-process and capture both streams. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(ROOT, 'test/cli/fixtures');
export const example = (name: string): string => join(ROOT, 'examples', name);

export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function captureIo(): Io & { stdout: string; stderr: string } {
  const c = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (c.stdout += t),
    err: (t: string) => void (c.stderr += t),
  };
  return c;
}

export async function palisade(...argv: string[]): Promise<Captured> {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
