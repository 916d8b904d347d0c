/**
 * Flows and endpoints: the question every engine answers (the reference evaluator, the engine,
 * every kernel backend) and what an address is in the inventory.
 * Invariants: a checked flow (`checkFlow`) has both addresses in one family, a destination port
 * in 1..65535 and a known protocol. Plain read-only data; no I/O.
 */
import { PalisadeError } from './errors.js';
import type { IpAddr } from './ip.js';
import { PROTOCOLS, type Protocol } from './types.js';

/** A new connection (or datagram) from `src` to `dst`; both addresses of one family. */
export interface Flow {
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly protocol: Protocol;
  /** destination (server) port, 1..65535 */
  readonly dstPort: number;
  /** source port; no standard API matches on it, carried for the classifier */
  readonly srcPort?: number;
}

/** What an address is in the inventory. */
export type EndpointKind =
  /** a pod that is not host-network and owns the address */
  | 'pod'
  /** a node address (host-network pods live here) */
  | 'node'
  /** anything else */
  | 'external';

export interface Endpoint {
  readonly kind: EndpointKind;
  readonly ip: string;
  /** `namespace/name` of the pod (for kind `pod`, or the host-network pod chosen for a node address) */
  readonly pod?: string;
  /** node name (for kind `node`, or the node a pod runs on) */
  readonly node?: string;
}

/** Thrown for a question that is not a flow (mixed families, bad port or protocol). */
export class InvalidFlowError extends PalisadeError {
  constructor(message: string) {
    super('ERR_PALISADE_INVALID_FLOW', message);
  }
}

/** The checks every evaluator applies before answering; throws InvalidFlowError. */
export function checkFlow(flow: Flow): void {
  if (flow.src.family !== flow.dst.family) {
    throw new InvalidFlowError(`a flow is one address family: ${flow.src.text} -> ${flow.dst.text}`);
  }
  if (!Number.isInteger(flow.dstPort) || flow.dstPort < 1 || flow.dstPort > 65535) {
    throw new InvalidFlowError(`dstPort must be an integer in 1..65535, got ${String(flow.dstPort)}`);
  }
  if (!PROTOCOLS.includes(flow.protocol)) {
    throw new InvalidFlowError(`protocol must be one of ${PROTOCOLS.join(', ')}, got ${String(flow.protocol)}`);
  }
}
