/**
 * The base inventories the tests share, written once: a namespace with pods (as manifest YAML, so
 * every test that uses them also runs loading, validation and normalization), the two shapes most
 * suites start from, and model objects for tests that build a `Cluster` by hand.
 * Addresses are in the test ranges (10.244.0.0/16, fd00:10:244::/48; src/topology/topology.ts
 * refuses others); a suite picks its own third octet so parallel topologies never share one.
 * Pure: strings and plain objects. Cost: negligible.
 */
import type { Namespace } from '../../src/model/types.js';

export interface FixturePod {
  readonly name: string;
  readonly ips: readonly string[];
  /** default: none; `app` sets { app: name } */
  readonly labels?: Readonly<Record<string, string>> | 'app';
  readonly nodeName?: string;
}

const flow = (labels: Readonly<Record<string, string>>): string =>
  `{ ${Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')} }`;
const quoted = (ip: string): string => (ip.includes(':') ? `"${ip}"` : ip);

/** Manifest YAML: the namespace `ns` (with `nsLabels` when given) and its pods. */
export function namespaceYaml(ns: string, pods: readonly FixturePod[], nsLabels?: Readonly<Record<string, string>>): string {
  const docs = [`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns}${nsLabels ? `, labels: ${flow(nsLabels)}` : ''} }`];
  for (const p of pods) {
    const labels = p.labels === 'app' ? { app: p.name } : p.labels;
    docs.push(
      [
        'apiVersion: v1',
        'kind: Pod',
        `metadata: { name: ${p.name}, namespace: ${ns}${labels ? `, labels: ${flow(labels)}` : ''} }`,
        ...(p.nodeName ? [`spec: { nodeName: ${p.nodeName} }`] : []),
        `status: { podIPs: [ ${p.ips.map((ip) => `{ ip: ${quoted(ip)} }`).join(', ')} ] }`,
      ].join('\n'),
    );
  }
  return `\n${docs.join('\n---\n')}\n`;
}

export interface PairOptions {
  /** the third octet (and IPv6 group) of the pods' addresses */
  readonly subnet: number;
  /** also an IPv6 address per pod (default true) */
  readonly dualStack?: boolean;
  /** label each pod { app: name } (default false) */
  readonly appLabels?: boolean;
}

const pair = (ns: string, a: string, b: string, hostA: number, hostB: number, o: PairOptions, labelsOf?: (name: string) => Record<string, string> | undefined): string =>
  namespaceYaml(
    ns,
    [
      [a, hostA],
      [b, hostB],
    ].map(([name, host]) => {
      const n = name as string;
      const ips = [`10.244.${o.subnet}.${host}`, ...(o.dualStack === false ? [] : [`fd00:10:244:${o.subnet}::${host}`])];
      const labels = labelsOf?.(n) ?? (o.appLabels ? { app: n } : undefined);
      return { name: n, ips, ...(labels ? { labels } : {}) };
    }),
  );

/** Namespace `app` with pods `client` (.10) and `server` (.20): the nfqueue suites' base. */
export const clientServer = (o: PairOptions): string => pair('app', 'client', 'server', 10, 20, o);

/**
 * Namespace `shop` with pods `web` (.10) and `db` (.11): the nftables suites' base. `webLabel`
 * relabels web (a test that moves it in and out of a policy's selector).
 */
export const shopWebDb = (o: PairOptions & { readonly webLabel?: string }): string =>
  pair('shop', 'web', 'db', 10, 11, o, (n) => (o.webLabel !== undefined && n === 'web' ? { app: o.webLabel } : undefined));

/** A model Namespace as normalization builds it: its metadata.name label, and where it came from. */
export const namespaceObject = (name: string, labels: Readonly<Record<string, string>> = {}, file = '<fixture>'): Namespace => ({
  name,
  labels: { ...labels, 'kubernetes.io/metadata.name': name },
  source: { file },
});
