/**
 * Stand-alone entry: `node <compiled>/backends/nfqueue/main.js ARGS` runs
 * `palisade enforce --backend nfqueue ARGS` (used by the crash tests and the benchmark until the
 * CLI dispatches to runEnforceNfqueue; see tsconfig.build.json).
 */
import { runEnforceNfqueue } from './command.js';

process.exitCode = await runEnforceNfqueue(process.argv.slice(2));
