/**
 * The `palisade` command line. `bin/palisade` calls `run(argv)` and exits with its result:
 * 0 success, 2 invalid input or usage, 1 internal error. Results go to stdout; problems,
 * warnings and notices to stderr. Each subcommand lives in its own file; this one dispatches,
 * prints help, and turns exceptions into exit codes (the only catch-all in the CLI).
 */
import { PalisadeError } from '../model/errors.js';
import { UsageError } from './args.js';
import { runBackendVerb } from './backend.js';
import { runCheck } from './check.js';
import { runClassbench } from './classbench.js';
import { runCompile } from './compile.js';
import { runDemo } from './demo.js';
import { runDiff } from './diff.js';
import { runExplain } from './explain.js';
import { EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, processIo, type Io } from './io.js';
import { runLint, runValidate } from './lint.js';
import { runMatrix } from './matrix.js';
import { runServe } from './serve.js';

type Command = (argv: readonly string[], io: Io) => Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  check: { run: runCheck, summary: 'is one flow allowed, and which tier, policy and rule decided' },
  matrix: { run: runMatrix, summary: 'the truth table of every pair of pods, per port and protocol (-o html: a page)' },
  diff: { run: runDiff, summary: 'every flow whose verdict changes between two manifest sets, or with staged policies (--staged)' },
  explain: { run: runExplain, summary: 'a pod: every policy that selects it; a flow: a walkthrough of every tier, rule by rule' },
  serve: { run: runServe, summary: 'serve the HTML matrix and staged diff of a manifest directory, live (loopback only)' },
  validate: { run: runValidate, summary: 'every problem in the manifests (exit 2 if any error), plus lint warnings' },
  lint: { run: runLint, summary: 'surprising defaults and likely mistakes' },
  demo: { run: runDemo, summary: 'a built-in example: its matrix and one explained flow (npm start)' },
  compile: { run: (argv, io) => runCompile(argv, io), summary: 'compile policies into the rule set (--rules prints it)' },
  classbench: { run: (argv, io) => runClassbench(argv, io), summary: 'classify a ClassBench trace against a rule file' },
  apply: { run: (argv, io) => runBackendVerb('apply', argv, io), summary: 'enforce in this network namespace and exit (--backend nftables|ebpf; --delete removes)' },
  enforce: { run: (argv, io) => runBackendVerb('enforce', argv, io), summary: 'stay running: watch -f DIR and apply each change (--backend nftables|ebpf|nfqueue)' },
  stats: { run: (argv, io) => runBackendVerb('stats', argv, io), summary: 'per-rule counters of what a backend has installed' },
  agent: { run: async (argv, io) => (await import('./agent.js')).runAgent(argv, io), summary: 'the Kubernetes node agent: watch the API server and enforce (--backend, --node-name)' },
  'install-cni': { run: (argv, io) => import('./install-cni.js').then((m) => m.runInstallCni(argv, io)), summary: 'install the palisade CNI plugin and a conflist (or chain it into one: --chain-into)' },
};

export const USAGE = `Usage: palisade <command> [flags]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`)
  .join('\n')}
  help        this text; \`palisade <command> --help\` for a command's flags

Exit status: 0 success, 2 invalid input (every problem printed with file, object, field path
and code; nothing is used), 1 internal error.
`;

export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic]) return run([topic, '--help'], io);
    (name === undefined ? io.err : io.out)(USAGE);
    return name === undefined ? EXIT_INVALID : EXIT_OK;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`palisade: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return EXIT_INVALID;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`palisade ${name}: ${e.message}\n(see palisade ${name} --help)\n`);
      return EXIT_INVALID;
    }
    if (e instanceof PalisadeError) {
      // an operational failure with a row in docs/error-codes.md: its code and message say what to do
      io.err(`palisade ${name}: ${e.code}: ${e.message}\n`);
      return e.code === 'ERR_PALISADE_INVALID_INPUT' || e.code === 'ERR_PALISADE_UNSUPPORTED_RULE' ? EXIT_INVALID : EXIT_INTERNAL;
    }
    const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.err(`palisade ${name}: internal error: ${detail}\n`);
    return EXIT_INTERNAL;
  }
}
