/**
 * `palisade apply --backend NAME -f PATH... [--netns PATH]`: put the policy in force once, through
 * `Enforcement` (compile once, one atomic install), and exit; what is installed stays in force.
 * `--delete` removes everything the backend installed (Backend.remove) and nothing else.
 * Invalid input prints every problem and exits 2 before any backend is loaded (nothing changes);
 * a kernel failure exits 1 with the previous state still in force (the Backend failure rule).
 */
import type { Backend, BackendName } from '../enforce/backend.js';
import { Enforcement } from '../enforce/enforcement.js';
import { createBackend } from '../../backends/registry.js';
import { hasErrors } from '../model/problems.js';
import { UsageError } from './args.js';
import { backendUsage, describeFailure, parseBackendArgs, usageFailure } from './backend.js';
import { loadForCommand } from './load.js';
import type { Io } from './io.js';

export async function runApply(name: BackendName, argv: readonly string[], io: Io): Promise<number> {
  let a;
  try {
    a = parseBackendArgs('apply', name, argv);
    if (a.flags.help) {
      io.out(backendUsage('apply', name));
      return 0;
    }
    if (!a.flags.delete && a.flags.filename.length === 0) throw new UsageError('-f PATH... is required (or --delete)');
    if (a.flags.delete && a.flags.filename.length > 0) throw new UsageError('--delete takes no -f');
  } catch (e) {
    return usageFailure('apply', name, e, io);
  }
  let backend: Backend | undefined;
  try {
    if (a.flags.delete) {
      backend = await createBackend(name, a.options);
      await backend.remove();
      io.out(`palisade apply --delete (${name}): ${a.cli.removed}\n`);
      return 0;
    }
    const loaded = loadForCommand(a.flags.filename, io);
    if (!loaded.cluster || hasErrors(loaded.problems)) return 2;
    backend = await createBackend(name, { ...a.options, log: (text: string) => io.err(`palisade apply (${name}): ${text}\n`) });
    const r = await new Enforcement(backend).apply(loaded.cluster);
    io.out(`palisade apply (${name}): ${r.summary}, ${r.ms.toFixed(1)} ms\n`);
    return 0;
  } catch (e) {
    io.err(`palisade apply --backend ${name}: ${describeFailure(e)}\n`);
    return 1;
  } finally {
    await backend?.close().catch(() => undefined); // what is installed stays in force
  }
}
