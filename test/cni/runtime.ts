/**
 * A container runtime's CNI half, as libcni does it (CNI spec 1.0, "Execution Protocol" and
 * "Network configuration lists"), for the tests: each plugin of a conflist is found by `type` in
 * CNI_PATH and run with CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and
 * CNI_PATH in its environment and its configuration on stdin: the plugin's entry plus the list's
 * `cniVersion` and `name`, plus `prevResult`. ADD runs the plugins in order, each getting the
 * previous one's result; DEL runs them in reverse and CHECK in order, each with the cached result
 * of the ADD as prevResult (what libcni caches). Plugins run inside the node namespace (`ip netns
 * exec`), which a plugin treats as the host.
 *
 * A non-zero exit is a `CniFailure` holding the plugin's error JSON (stdout). Every run is bounded
 * (20 s, then SIGKILL). No shell: argument arrays only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/topology/exec.js';

export interface Conflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly Record<string, unknown>[];
}

export interface Invocation {
  /** the node namespace the plugins run in */
  readonly nodeNs: string;
  readonly containerId: string;
  /** /run/netns/... of the pod */
  readonly netns: string;
  readonly ifname: string;
  /** K8S_POD_NAMESPACE / K8S_POD_NAME (and anything else) for CNI_ARGS */
  readonly args?: Readonly<Record<string, string>>;
  /** directories searched for plugins, in order */
  readonly cniPath: readonly string[];
}

export interface PluginRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export class CniFailure extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly result: PluginRun,
  ) {
    super(`${plugin} ${command} exited ${result.exitCode}: ${result.stdout.trim() || result.stderr.trim()}`);
    this.name = 'CniFailure';
  }
  /** the CNI error result on stdout */
  get error(): { cniVersion?: string; code?: number; msg?: string; details?: string } {
    return JSON.parse(this.result.stdout) as { code?: number; msg?: string };
  }
}

export const cniArgs = (args: Readonly<Record<string, string>> = {}): string =>
  ['IgnoreUnknown=1', ...Object.entries(args).map(([k, v]) => `${k}=${v}`)].join(';');

function pluginPath(type: string, dirs: readonly string[]): string {
  for (const d of dirs) if (existsSync(join(d, type))) return join(d, type);
  throw new Error(`CNI plugin ${type} not found in ${dirs.join(':')}`);
}

/** Run one plugin binary with an exact configuration text (the malformed-input tests use this). */
export async function execPlugin(type: string, command: string, inv: Invocation, stdin: string, extraEnv: Readonly<Record<string, string>> = {}): Promise<PluginRun> {
  const t0 = performance.now();
  const r = await run('ip', ['netns', 'exec', inv.nodeNs, pluginPath(type, inv.cniPath)], {
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: inv.containerId,
      CNI_NETNS: inv.netns,
      CNI_IFNAME: inv.ifname,
      CNI_ARGS: cniArgs(inv.args),
      CNI_PATH: inv.cniPath.join(':'),
      ...extraEnv,
    },
    input: stdin,
    timeoutMs: 20_000,
    allowFailure: true,
  });
  return { ...r, ms: performance.now() - t0 };
}

/** The configuration one plugin of the list gets (libcni buildOneConfig). */
export function pluginConfig(list: Conflist, plugin: Record<string, unknown>, prevResult?: unknown): string {
  return JSON.stringify({ ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult !== undefined ? { prevResult } : {}) });
}

async function step(list: Conflist, plugin: Record<string, unknown>, command: string, inv: Invocation, prevResult: unknown): Promise<PluginRun> {
  const type = String(plugin.type);
  const r = await execPlugin(type, command, inv, pluginConfig(list, plugin, prevResult));
  if (r.exitCode !== 0) throw new CniFailure(type, command, r);
  return r;
}

export interface AddOutcome {
  /** the final result (what the runtime caches) */
  readonly result: Record<string, unknown>;
  /** per plugin, in order */
  readonly runs: readonly PluginRun[];
}

export async function chainAdd(list: Conflist, inv: Invocation): Promise<AddOutcome> {
  let prev: unknown;
  const runs: PluginRun[] = [];
  for (const p of list.plugins) {
    const r = await step(list, p, 'ADD', inv, prev);
    runs.push(r);
    prev = JSON.parse(r.stdout);
  }
  return { result: prev as Record<string, unknown>, runs };
}

export async function chainDel(list: Conflist, inv: Invocation, cached?: unknown): Promise<void> {
  for (const p of [...list.plugins].reverse()) await step(list, p, 'DEL', inv, cached);
}

export async function chainCheck(list: Conflist, inv: Invocation, cached: unknown): Promise<void> {
  for (const p of list.plugins) await step(list, p, 'CHECK', inv, cached);
}
