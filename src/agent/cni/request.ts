/**
 * One CNI invocation as the shim (cni/palisade_cni.cc) forwards it, parsed and checked: the wire
 * request, the network configuration in it, CNI_ARGS, and the pod attachment read from
 * `prevResult`. Pure: no I/O.
 *
 * Invariants: every failure is a `CniError` carrying the CNI spec's error code (its "Error" section:
 * 4 invalid environment, 6 cannot decode, 7 invalid network configuration) and a message that
 * names the field (`config.prevResult.ips[0].address`); nothing half-parsed escapes.
 * The pod's IPs are the `prevResult.ips` whose `interface` index names an interface with a
 * `sandbox` (or that name no interface); its host interface is the LAST interface without a
 * `sandbox` (ptp lists the host veth; bridge lists the bridge first, then the pod's veth).
 * Cost: one JSON.parse of the request and one of the configuration.
 */
import { parseCidr, parseIp } from '../../model/ip.js';
import type { CniPodAttachment } from '../cni-types.js';

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** CNI spec error codes used here, and the plugin's own (100 and up). */
export const CNI_ERR = {
  incompatibleVersion: 1,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryAgain: 11,
  notAvailable: 50,
  /** the agent failed to add, delete or check the pod (its message says why) */
  agent: 101,
} as const;

export class CniError extends Error {
  readonly code = 'ERR_PALISADE_CNI_REQUEST';
  constructor(
    readonly cniCode: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniError';
  }
}

/** The parts of a network configuration palisade reads (plus everything else, kept for the echo). */
export interface CniNetConf {
  readonly cniVersion: string;
  readonly name: string;
  /** the result of the plugins before this one in the chain, as given */
  readonly prevResult?: Record<string, unknown>;
  /** `onTimeout`: what ADD answers when the policy is not in force in time */
  readonly passOnTimeout: boolean;
  /** the shim's `timeoutMs` (default 10000): the agent answers before it */
  readonly shimTimeoutMs: number;
  /** GC only: `cni.dev/valid-attachments` */
  readonly validAttachments?: readonly { readonly containerId: string; readonly ifname: string }[];
}

export interface CniRequest {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  /** CNI_ARGS as key=value pairs */
  readonly args: ReadonlyMap<string, string>;
  readonly config: CniNetConf;
}

export const SHIM_DEFAULT_TIMEOUT_MS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** CNI_ARGS: `K=V;K2=V2` (spec: "Alphanumeric key-value pairs separated by semi-colons"). */
export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_ERR.invalidEnv, `CNI_ARGS: ${JSON.stringify(part)} is not KEY=VALUE`);
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function parseNetConf(text: unknown): CniNetConf {
  if (typeof text !== 'string') throw new CniError(CNI_ERR.decode, 'the request has no network configuration (config is not a string)');
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_ERR.decode, `the network configuration is not valid JSON: ${(e as Error).message}`, text.slice(0, 200));
  }
  if (!isObject(conf)) throw new CniError(CNI_ERR.decode, 'the network configuration is not a JSON object');
  if (typeof conf.cniVersion !== 'string' || conf.cniVersion === '') throw new CniError(CNI_ERR.invalidConfig, 'config.cniVersion: missing or not a string');
  if (typeof conf.name !== 'string' || conf.name === '') throw new CniError(CNI_ERR.invalidConfig, 'config.name: missing or not a string');
  if (conf.prevResult !== undefined && !isObject(conf.prevResult)) throw new CniError(CNI_ERR.invalidConfig, 'config.prevResult: not an object');
  for (const key of ['onTimeout', 'onAgentDown'] as const) {
    const v = conf[key];
    if (v !== undefined && v !== 'pass' && v !== 'fail') throw new CniError(CNI_ERR.invalidConfig, `config.${key}: ${JSON.stringify(v)} is not "pass" or "fail"`);
  }
  const t = conf.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t <= 0)) throw new CniError(CNI_ERR.invalidConfig, `config.timeoutMs: ${JSON.stringify(t)} is not a positive integer`);
  let validAttachments: { containerId: string; ifname: string }[] | undefined;
  const va = conf['cni.dev/valid-attachments'];
  if (va !== undefined) {
    if (!Array.isArray(va)) throw new CniError(CNI_ERR.invalidConfig, 'config["cni.dev/valid-attachments"]: not an array');
    validAttachments = va.map((a: unknown, i) => {
      if (!isObject(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
        throw new CniError(CNI_ERR.invalidConfig, `config["cni.dev/valid-attachments"][${i}]: needs string containerID and ifname`);
      }
      return { containerId: a.containerID, ifname: a.ifname };
    });
  }
  return {
    cniVersion: conf.cniVersion,
    name: conf.name,
    ...(conf.prevResult !== undefined ? { prevResult: conf.prevResult as Record<string, unknown> } : {}),
    passOnTimeout: conf.onTimeout === 'pass',
    shimTimeoutMs: typeof t === 'number' ? t : SHIM_DEFAULT_TIMEOUT_MS,
    ...(validAttachments ? { validAttachments } : {}),
  };
}

/** The shim's request bytes -> a checked request. */
export function parseCniRequest(text: string): CniRequest {
  let wire: unknown;
  try {
    wire = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_ERR.decode, `the request from the shim is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(wire)) throw new CniError(CNI_ERR.decode, 'the request from the shim is not a JSON object');
  const str = (k: string): string => (typeof wire[k] === 'string' ? (wire[k] as string) : '');
  const command = str('command');
  if (!(CNI_COMMANDS as readonly string[]).includes(command)) throw new CniError(CNI_ERR.invalidEnv, `unknown CNI_COMMAND ${JSON.stringify(command)}`);
  const cmd = command as CniCommand;
  const need = (k: 'containerId' | 'netns' | 'ifname', env: string): void => {
    if (str(k) === '') throw new CniError(CNI_ERR.invalidEnv, `${env} is not set (required for ${cmd})`);
  };
  if (cmd === 'ADD' || cmd === 'CHECK' || cmd === 'DEL') {
    need('containerId', 'CNI_CONTAINERID');
    need('ifname', 'CNI_IFNAME');
  }
  if (cmd === 'ADD' || cmd === 'CHECK') need('netns', 'CNI_NETNS');
  const config = parseNetConf(wire.config);
  if (cmd === 'GC' && !config.validAttachments) throw new CniError(CNI_ERR.invalidConfig, 'config["cni.dev/valid-attachments"]: required for GC');
  return { command: cmd, containerId: str('containerId'), netns: str('netns'), ifname: str('ifname'), args: parseCniArgs(str('args')), config };
}

/** The pod named by CNI_ARGS (Kubernetes runtimes set K8S_POD_NAMESPACE and K8S_POD_NAME). */
export function podName(req: CniRequest): { namespace: string; name: string } | undefined {
  const namespace = req.args.get('K8S_POD_NAMESPACE');
  const name = req.args.get('K8S_POD_NAME');
  return namespace && name ? { namespace, name } : undefined;
}

/** ADD and CHECK: the attachment from prevResult and CNI_ARGS. */
export function attachmentOf(req: CniRequest): CniPodAttachment {
  const pod = podName(req);
  if (!pod) throw new CniError(CNI_ERR.invalidEnv, 'CNI_ARGS: K8S_POD_NAMESPACE and K8S_POD_NAME are required (palisade polices Kubernetes pods)');
  const prev = req.config.prevResult;
  if (!prev) {
    throw new CniError(CNI_ERR.invalidConfig, `config.prevResult: missing; palisade is a chained plugin (put it after ptp or bridge in the conflist)`);
  }
  const interfaces = Array.isArray(prev.interfaces) ? (prev.interfaces as unknown[]) : [];
  const sandboxed = interfaces.map((i) => isObject(i) && typeof i.sandbox === 'string' && i.sandbox !== '');
  let hostInterface: string | undefined;
  interfaces.forEach((i, k) => {
    if (!sandboxed[k] && isObject(i) && typeof i.name === 'string') hostInterface = i.name;
  });
  const ips: string[] = [];
  const list = prev.ips;
  if (!Array.isArray(list) || list.length === 0) throw new CniError(CNI_ERR.invalidConfig, 'config.prevResult.ips: missing or empty; the plugin before palisade assigned no address');
  list.forEach((entry: unknown, k) => {
    const where = `config.prevResult.ips[${k}]`;
    if (!isObject(entry) || typeof entry.address !== 'string') throw new CniError(CNI_ERR.invalidConfig, `${where}.address: missing or not a string`);
    const cidr = parseCidr(entry.address);
    const ip = cidr ? parseIp(entry.address.slice(0, entry.address.indexOf('/'))) : null;
    if (!ip) throw new CniError(CNI_ERR.invalidConfig, `${where}.address: ${JSON.stringify(entry.address)} is not an address with a prefix length`);
    const idx = entry.interface;
    if (typeof idx === 'number' && interfaces[idx] !== undefined && !sandboxed[idx]) return; // a host-side address (the gateway side)
    if (!ips.includes(ip.text)) ips.push(ip.text);
  });
  return {
    containerId: req.containerId,
    netns: req.netns,
    ifname: req.ifname,
    namespace: pod.namespace,
    name: pod.name,
    ips,
    ...(hostInterface !== undefined ? { hostInterface } : {}),
  };
}

/** ADD's success result: prevResult, in the configuration's version. */
export function echoResult(req: CniRequest): string {
  return JSON.stringify({ ...(req.config.prevResult ?? {}), cniVersion: req.config.cniVersion }) + '\n';
}

/** A CNI error result (stdout of a failed invocation). */
export function errorResult(cniVersion: string, e: CniError): string {
  return JSON.stringify({ cniVersion, code: e.cniCode, msg: e.message, details: e.details }) + '\n';
}
