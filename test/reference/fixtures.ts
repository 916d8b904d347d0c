/**
 * Builders for manifest fixtures: plain Kubernetes objects (as kubectl prints them) turned into
 * YAML text and parsed by the real pipeline (safeParseCluster), so every test also exercises
 * loading, validation and normalization.
 */
import { stringify } from 'yaml';
import { cluster } from './helpers.js';
import type { Cluster } from '../../src/model/types.js';

export type Obj = Record<string, unknown>;

export const namespace = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

export interface PodOptions {
  labels?: Record<string, string>;
  ips: string[];
  nodeName?: string;
  hostNetwork?: boolean;
  /** containerPort entries: [name | undefined, number, protocol] */
  ports?: [string | undefined, number, 'TCP' | 'UDP' | 'SCTP'][];
}

export const pod = (ns: string, name: string, o: PodOptions): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: o.labels ?? {} },
  spec: {
    ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    ...(o.hostNetwork ? { hostNetwork: true } : {}),
    containers: [
      {
        name: 'main',
        image: 'registry.k8s.io/e2e-test-images/agnhost:2.43',
        ports: (o.ports ?? []).map(([n, containerPort, protocol]) => ({ ...(n ? { name: n } : {}), containerPort, protocol })),
      },
    ],
  },
  status: { podIP: o.ips[0], podIPs: o.ips.map((ip) => ({ ip })) },
});

export const node = (name: string, labels: Record<string, string>, addresses: string[]): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels },
  status: { addresses: addresses.map((address, i) => ({ type: i === 0 ? 'InternalIP' : 'ExternalIP', address })) },
});

export const networkPolicy = (ns: string, name: string, spec: Obj): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: ns },
  spec,
});

export const clusterNetworkPolicy = (name: string, spec: Obj): Obj => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha2',
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec,
});

export const adminNetworkPolicy = (name: string, spec: Obj): Obj => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'AdminNetworkPolicy',
  metadata: { name },
  spec,
});

export const baselineAdminNetworkPolicy = (spec: Obj): Obj => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'BaselineAdminNetworkPolicy',
  metadata: { name: 'default' },
  spec,
});

/** Multi-document YAML, as a person would write it. */
export const yamlOf = (objs: readonly Obj[]): string => objs.map((o) => stringify(o)).join('---\n');

export const clusterOf = (objs: readonly Obj[]): Cluster => cluster(yamlOf(objs));

/** matchLabels selector shorthand */
export const sel = (matchLabels: Record<string, string> = {}): Obj => ({ matchLabels });
export const nsName = (name: string): Obj => sel({ 'kubernetes.io/metadata.name': name });
