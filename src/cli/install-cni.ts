/**
 * `palisade install-cni`: put the palisade CNI plugin (build/palisade-cni, cni/palisade_cni.cc)
 * on a node.
 *
 *   1. copies the plugin into the CNI bin dir as `palisade` (default /opt/cni/bin);
 *   2. either writes a conflist (default /etc/cni/net.d/10-palisade.conflist): `ptp` with
 *      `host-local` IPAM, then `palisade` chained after it; or, with `--chain-into FILE`, adds the
 *      palisade plugin to the end of an existing conflist's `plugins` (a palisade entry already
 *      there is replaced in place, so running it twice changes nothing).
 *
 * Invariants: every file is written atomically (a temporary file in the same directory, then a
 * rename), so a runtime reading the bin or conf dir sees the old file or the new one, never half
 * of one; an unchanged file is not rewritten; a conflist that does not parse, or is not a
 * conflist (`plugins` array), is refused with its path and field and left untouched (exit 2).
 * Cost: one copy of a ~60 KB file and one small JSON write. No shell: fs calls only.
 */
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cniPluginPath } from '../native/binding.js';
import { parseArgs, UsageError } from './args.js';
import { EXIT_INVALID, EXIT_OK, processIo, type Io } from './io.js';
import { PalisadeError } from '../model/errors.js';

const FLAGS = {
  'bin-dir': { kind: 'string', value: 'DIR', help: 'CNI plugin directory (default /opt/cni/bin)' },
  'conf-dir': { kind: 'string', value: 'DIR', help: 'CNI configuration directory (default /etc/cni/net.d)' },
  'chain-into': { kind: 'string', value: 'FILE', help: 'add palisade to this existing conflist instead of writing one' },
  socket: { kind: 'string', value: 'PATH', help: 'the agent socket the plugin talks to (default /run/palisade/cni.sock)' },
  'queue-dir': { kind: 'string', value: 'DIR', help: 'where DELs wait while the agent is down (default /run/palisade/cni-queue)' },
  'on-agent-down': { kind: 'string', value: 'fail|pass', help: 'ADD when the agent is down (default fail)' },
  'on-timeout': { kind: 'string', value: 'fail|pass', help: 'ADD when the policy is not in force in time (default fail)' },
  'timeout-ms': { kind: 'string', value: 'N', help: "the plugin's longest wait for the agent (default 10000)" },
  subnet: { kind: 'list', value: 'CIDR...', help: "host-local ranges of the written conflist, one per family (default 10.244.0.0/24)" },
  plugin: { kind: 'string', value: 'FILE', help: 'the plugin executable to install (default: build/palisade-cni)' },
  help: { kind: 'boolean', short: 'h', help: 'this text' },
} as const;

const HELP = `Usage: palisade install-cni [--bin-dir DIR] [--conf-dir DIR | --chain-into FILE] [--socket PATH]

Install the palisade CNI plugin: copy it into the bin dir as \`palisade\`, and write a conflist
(ptp + host-local, then palisade) or chain palisade into an existing conflist.
`;

export const CONFLIST_NAME = '10-palisade.conflist';
/** Debian's ptp and host-local speak up to 1.0.0 */
const CONFLIST_VERSION = '1.0.0';

export class InstallCniError extends PalisadeError {
  constructor(message: string) {
    super('ERR_PALISADE_INSTALL_CNI', message);
  }
}

interface PalisadePluginConf {
  readonly type: 'palisade';
  readonly socket: string;
  readonly queueDir: string;
  readonly onAgentDown: 'fail' | 'pass';
  readonly onTimeout: 'fail' | 'pass';
  readonly timeoutMs: number;
}

const failOrPass = (v: string | undefined, flag: string): 'fail' | 'pass' => {
  if (v === undefined || v === 'fail' || v === 'pass') return v ?? 'fail';
  throw new UsageError(`${flag}: ${JSON.stringify(v)} is not fail or pass`);
};

/** Write `text` to `path` atomically; false when the file already holds exactly that. */
async function writeAtomic(path: string, text: string | Buffer, mode: number): Promise<boolean> {
  const old = await readFile(path).catch(() => undefined);
  if (old !== undefined && old.equals(Buffer.from(text))) return false;
  const tmp = join(dirname(path), `.${process.pid}.palisade-tmp`);
  try {
    await writeFile(tmp, text, { mode });
    await chmod(tmp, mode);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return true;
}

/** The conflist to add palisade to, parsed and checked; errors name the file and the field. */
function chainedConflist(path: string, text: string, plugin: PalisadePluginConf): string {
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch (e) {
    throw new InstallCniError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new InstallCniError(`${path}: not a JSON object`);
  const list = (conf as { plugins?: unknown }).plugins;
  if (!Array.isArray(list)) throw new InstallCniError(`${path}: plugins: missing or not an array (a single-plugin .conf file cannot chain; use a .conflist)`);
  if (list.length === 0) throw new InstallCniError(`${path}: plugins: empty; palisade chains after a plugin that assigns addresses (ptp, bridge)`);
  list.forEach((p: unknown, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string') throw new InstallCniError(`${path}: plugins[${i}].type: missing or not a string`);
  });
  const at = list.findIndex((p: { type: string }) => p.type === 'palisade');
  const plugins = at >= 0 ? list.map((p: unknown, i) => (i === at ? plugin : p)) : [...list, plugin];
  if (at === 0) throw new InstallCniError(`${path}: plugins[0] is palisade; it must come after the plugin that assigns addresses`);
  return JSON.stringify({ ...(conf as object), plugins }, null, 2) + '\n';
}

function snippet(plugin: PalisadePluginConf, subnets: readonly string[]): string {
  const ranges = subnets.map((subnet) => [{ subnet }]);
  const routes = subnets.map((s) => ({ dst: s.includes(':') ? '::/0' : '0.0.0.0/0' }));
  return (
    JSON.stringify(
      {
        cniVersion: CONFLIST_VERSION,
        name: 'palisade',
        plugins: [{ type: 'ptp', ipMasq: false, mtu: 1500, ipam: { type: 'host-local', ranges, routes } }, plugin],
      },
      null,
      2,
    ) + '\n'
  );
}

export async function runInstallCni(argv: readonly string[], io: Io = processIo): Promise<number> {
  const flags = parseArgs(argv, FLAGS);
  if (flags.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const timeoutText = flags['timeout-ms'] ?? '10000';
  if (!/^\d{1,6}$/.test(timeoutText) || Number(timeoutText) === 0) throw new UsageError(`--timeout-ms: ${JSON.stringify(timeoutText)} is not a positive number of milliseconds`);
  if (flags['chain-into'] !== undefined && flags['conf-dir'] !== undefined) throw new UsageError('--chain-into and --conf-dir: give one (chain into a file, or write a conflist into a dir)');
  for (const s of flags.subnet) if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s)) throw new UsageError(`--subnet: ${JSON.stringify(s)} is not a CIDR`);
  const plugin: PalisadePluginConf = {
    type: 'palisade',
    socket: flags.socket ?? '/run/palisade/cni.sock',
    queueDir: flags['queue-dir'] ?? '/run/palisade/cni-queue',
    onAgentDown: failOrPass(flags['on-agent-down'], '--on-agent-down'),
    onTimeout: failOrPass(flags['on-timeout'], '--on-timeout'),
    timeoutMs: Number(timeoutText),
  };
  try {
    const source = flags.plugin ?? cniPluginPath();
    const binDir = flags['bin-dir'] ?? '/opt/cni/bin';
    await mkdir(binDir, { recursive: true });
    const target = join(binDir, 'palisade');
    const copied = await installBinary(source, target);
    io.out(`${copied ? 'installed' : 'unchanged'} ${target} (from ${source})\n`);

    let confPath: string;
    let text: string;
    if (flags['chain-into'] !== undefined) {
      confPath = flags['chain-into'];
      const old = await readFile(confPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new InstallCniError(`${confPath}: cannot read: ${e.message}`);
      });
      text = chainedConflist(confPath, old, plugin);
    } else {
      const confDir = flags['conf-dir'] ?? '/etc/cni/net.d';
      await mkdir(confDir, { recursive: true });
      confPath = join(confDir, CONFLIST_NAME);
      text = snippet(plugin, flags.subnet.length > 0 ? flags.subnet : ['10.244.0.0/24']);
    }
    const mode = await stat(confPath).then((s) => s.mode & 0o777, () => 0o644);
    const wrote = await writeAtomic(confPath, text, mode);
    io.out(`${wrote ? 'wrote' : 'unchanged'} ${confPath}\n`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof InstallCniError || (e as { code?: string }).code === 'ERR_PALISADE_NATIVE_MISSING') {
      io.err(`palisade install-cni: ${(e as Error).message}\n`);
      return EXIT_INVALID;
    }
    throw e;
  }
}

/** Copy the plugin to `target` atomically (same-directory temporary file, then rename). */
async function installBinary(source: string, target: string): Promise<boolean> {
  const bytes = await readFile(source).catch((e: NodeJS.ErrnoException) => {
    throw new InstallCniError(`${source}: cannot read the plugin: ${e.message}`);
  });
  const old = await readFile(target).catch(() => undefined);
  if (old !== undefined && old.equals(bytes)) return false;
  const tmp = join(dirname(target), `.palisade.${process.pid}.tmp`);
  try {
    await copyFile(source, tmp);
    await chmod(tmp, 0o755);
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
  return true;
}
