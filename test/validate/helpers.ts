/** Test helpers: build manifests as YAML text and run them through safeParseCluster. */
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { safeParseCluster, type ClusterResult } from '../../src/manifests/cluster.js';
import type { Problem } from '../../src/model/problems.js';

export const FILE = 'test.yaml';

export const parse = (yamlText: string): ClusterResult => safeParseCluster(yamlText, FILE);

export const doc = (o: unknown): string => stringify(o, { aliasDuplicateObjects: false });

export const np = (spec: unknown, metadata: Record<string, unknown> = {}): string =>
  doc({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x', ...metadata }, spec });

export const cnp = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string =>
  doc({
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'c', ...metadata },
    spec: { tier: 'Admin', priority: 10, subject: { namespaces: {} }, ...spec },
  });

export const anp = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string =>
  doc({
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: 'a', ...metadata },
    spec: { priority: 10, subject: { namespaces: {} }, ...spec },
  });

export const banp = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string =>
  doc({
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'BaselineAdminNetworkPolicy',
    metadata: { name: 'default', ...metadata },
    spec: { subject: { namespaces: {} }, ...spec },
  });

const errorsOf = (r: ClusterResult): Problem[] => r.problems.filter((p) => p.severity === 'error');

const show = (ps: readonly Problem[]): string => ps.map((p) => `${p.severity} ${p.code} ${p.path ?? ''}: ${p.message}`).join('\n');

/** The object is rejected (no cluster) with an error of this code at exactly this path. */
export function expectRejected(yamlText: string, code: string, path: string): Problem {
  const r = parse(yamlText);
  expect(r.cluster, `expected rejection with ${code} at ${path}; problems:\n${show(r.problems)}`).toBeUndefined();
  const hit = r.problems.find((p) => p.severity === 'error' && p.code === code && p.path === path);
  expect(hit, `expected error ${code} at ${path}; got:\n${show(r.problems)}`).toBeDefined();
  return hit as Problem;
}

/** The manifests are accepted: a cluster and no error. */
export function expectAccepted(yamlText: string): ClusterResult {
  const r = parse(yamlText);
  expect(errorsOf(r), show(r.problems)).toEqual([]);
  expect(r.cluster).toBeDefined();
  return r;
}

/** Accepted, with a warning of this code at this path. */
export function expectWarning(yamlText: string, code: string, path: string): ClusterResult {
  const r = expectAccepted(yamlText);
  const hit = r.problems.find((p) => p.severity === 'warning' && p.code === code && p.path === path);
  expect(hit, `expected warning ${code} at ${path}; got:\n${show(r.problems)}`).toBeDefined();
  return r;
}

/** Accepted without any problem of this code. */
export function expectNoProblem(yamlText: string, code: string): void {
  const r = expectAccepted(yamlText);
  expect(r.problems.filter((p) => p.code === code), show(r.problems)).toEqual([]);
}

/** A PalisadeClusterNetworkPolicy (docs/extension-kind.md), defaults as `cnp`. */
export const pcnp = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string =>
  doc({
    apiVersion: 'policy.palisade.dev/v1alpha1',
    kind: 'PalisadeClusterNetworkPolicy',
    metadata: { name: 'c', ...metadata },
    spec: { tier: 'Admin', priority: 10, subject: { namespaces: {} }, ...spec },
  });
