/**
 * Named network namespaces (`ip netns`) for the tests and `palisade demo`: create, delete, run a command inside, set
 * namespace-local sysctls. Every name made here starts with `pal-` and carries a per-run
 * tag and the pid, so parallel runs and leftovers from a crashed run never collide.
 *
 * Safety: nothing here touches the root namespace except creating/deleting the named namespaces
 * themselves; sysctls are written with `ip netns exec NS sysctl`, which only sees that namespace.
 */
import { PalisadeError } from '../model/errors.js';
import { run, type RunOptions, type RunResult } from './exec.js';

export const NETNS_DIR = '/run/netns';
const NAME_RE = /^pal-[a-z0-9-]{1,40}$/;

export const netnsPath = (name: string): string => `${NETNS_DIR}/${name}`;

function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `refusing namespace name ${JSON.stringify(name)}: must match ${NAME_RE}`);
}

export async function createNetns(name: string): Promise<void> {
  checkName(name);
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Delete a namespace; missing namespaces are not an error (cleanup runs after partial set-up). */
export async function deleteNetns(name: string): Promise<void> {
  checkName(name);
  await run('ip', ['netns', 'del', name], { allowFailure: true });
}

export function nsExec(ns: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  checkName(ns);
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', 'nsExec: empty argv');
  return run('ip', ['netns', 'exec', ns, cmd, ...rest], opts);
}

/** `ip -n NS ...` (iproute2 switches namespace itself; cheaper than `ip netns exec`). */
export function ipIn(ns: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  checkName(ns);
  return run('ip', ['-n', ns, ...args], opts);
}

export async function sysctlIn(ns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await nsExec(ns, ['sysctl', '-q', '-w', ...args]);
}

/** Namespaces left by earlier runs of this pid-tag family (for a leak check in tests). */
export async function listNetns(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
