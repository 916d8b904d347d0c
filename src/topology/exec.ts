/**
 * Subprocess calls for the topology (tests and `palisade demo`): argument arrays only (never a shell string built from
 * input), bounded in time, with stdout/stderr captured. A non-zero exit becomes a thrown
 * `ExecError` carrying the command, the exit code and stderr.
 *
 * Cost: one fork+exec per call (`ip` ~2 ms, a CNI plugin ~20-60 ms).
 */
import { PalisadeError } from '../model/errors.js';
import { spawn } from 'node:child_process';

export class ExecError extends PalisadeError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super('ERR_PALISADE_COMMAND_FAILED', `${argv.join(' ')} exited with ${exitCode ?? 'a signal'}: ${(stderr || stdout).trim().slice(0, 2000)}`, {
      details: { argv, exitCode },
    });
  }
}

export interface RunOptions {
  readonly input?: string;
  /** the full environment of the child (default: this process's environment) */
  readonly env?: NodeJS.ProcessEnv;
  /** killed (SIGKILL) after this long; default 20 s */
  readonly timeoutMs?: number;
  /** resolve with the result instead of throwing on a non-zero exit */
  readonly allowFailure?: boolean;
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 && !opts.allowFailure) reject(new ExecError([cmd, ...args], code, stderr, stdout));
      else resolve({ exitCode: code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Run `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
