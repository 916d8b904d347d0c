/**
 * Named ports -> the (protocol, number) groups they stand for in the current inventory.
 *
 * A named port matches a destination pod on (protocol, port) only when that pod declares a
 * containerPort with that name, protocol and number (NetworkPolicy v1 §7.4; CNP
 * destinationNamedPort). Rules split into one group per distinct (protocol, number); each group
 * narrows the destination to the pods that declare exactly that pair (`SetDef.namedPort`).
 * Host-network pods are not pods for policy and never resolve a named port.
 * Cost: O(pods x containerPorts). Pure.
 */
import type { Pod, Protocol } from '../model/types.js';
import type { NamedPortGroup } from './set-def.js';

const PROTO_ORDER: Record<Protocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };

/** Every group of `name` (restricted to `protocol` when given), sorted by protocol then number. */
export function namedPortGroups(pods: Iterable<Pod>, name: string, protocol?: Protocol): NamedPortGroup[] {
  const seen = new Map<string, NamedPortGroup>();
  for (const p of pods) {
    if (p.hostNetwork) continue;
    for (const cp of p.containerPorts) {
      if (cp.name !== name || (protocol !== undefined && cp.protocol !== protocol)) continue;
      seen.set(`${cp.protocol}/${cp.containerPort}`, { name, protocol: cp.protocol, port: cp.containerPort });
    }
  }
  return [...seen.values()].sort((a, b) => PROTO_ORDER[a.protocol] - PROTO_ORDER[b.protocol] || a.port - b.port);
}

/** Every named port of the inventory: name -> its groups (all protocols), one pass over the pods. */
export function namedPortIndex(pods: Iterable<Pod>): Map<string, NamedPortGroup[]> {
  const byName = new Map<string, Map<string, NamedPortGroup>>();
  for (const p of pods) {
    if (p.hostNetwork) continue;
    for (const cp of p.containerPorts) {
      if (cp.name === undefined) continue;
      let m = byName.get(cp.name);
      if (!m) byName.set(cp.name, (m = new Map()));
      m.set(`${cp.protocol}/${cp.containerPort}`, { name: cp.name, protocol: cp.protocol, port: cp.containerPort });
    }
  }
  const out = new Map<string, NamedPortGroup[]>();
  for (const [name, m] of byName) out.set(name, [...m.values()].sort((a, b) => PROTO_ORDER[a.protocol] - PROTO_ORDER[b.protocol] || a.port - b.port));
  return out;
}

export const groupKey = (g: NamedPortGroup): string => `${g.name}:${g.protocol}/${g.port}`;
