/**
 * `palisade demo` (what `npm start` runs): a built-in example, its truth table and one flow
 * explained. Today it only computes; the enforcing demo (nftables in network namespaces) will
 * replace the body of runDemo and keep this command name.
 */
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { runCheck } from './check.js';
import { runMatrix } from './matrix.js';
import { EXIT_OK, type Io } from './io.js';

/** Story S11 (deny rules with priorities): Admin-tier Accept, Deny and Pass, then a NetworkPolicy. */
export const DEMO_EXAMPLE = 's11-deny-with-priorities';

export function exampleDir(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
}

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out('Usage: palisade demo\n\nPrints the truth table of a built-in example and one flow explained.\n');
    return EXIT_OK;
  }
  const dir = exampleDir(DEMO_EXAMPLE);
  const shown = relative(process.cwd(), dir) || dir;
  io.out(`Palisade demo: examples/${DEMO_EXAMPLE} (story S11: deny rules with priorities)\n\n`);
  const matrixArgs = ['-f', shown, '--port', '80,5432,9187'];
  io.out(`$ palisade matrix ${matrixArgs.join(' ')}\n`);
  const m = await runMatrix(matrixArgs, io);
  if (m !== EXIT_OK) return m;
  io.out('(rows: from, columns: to; "." allowed, "X" denied)\n');
  const checkArgs = ['-f', shown, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187'];
  io.out(`\n$ palisade check ${checkArgs.join(' ')}\n`);
  return runCheck(checkArgs, io);
}
