/**
 * How validation problems reach the user: file, line, object, path and
 * code; YAML syntax errors name the file and line; an invalid object is rejected whole and the
 * whole input is then unusable (no cluster).
 */
import { describe, expect, it } from 'vitest';
import { FILE, parse } from './helpers.js';
import { formatProblem } from '../../src/model/problems.js';

const validPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ok, namespace: x}
spec: {podSelector: {}}
`;
const invalidPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
  namespace: x
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: 90
      endPort: 80
`;

describe('problem reporting', () => {
  it('a YAML syntax error names the file and the line', () => {
    const r = parse('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [x\n');
    expect(r.cluster).toBeUndefined();
    const p = r.problems.find((q) => q.code === 'YAML_SYNTAX');
    expect(p?.file).toBe(FILE);
    expect(p?.line).toBeGreaterThanOrEqual(4);
  });

  it('a problem names file, line of the document, object, path and code', () => {
    const r = parse(validPolicy + '---\n' + invalidPolicy);
    expect(r.cluster).toBeUndefined();
    const p = r.problems.find((q) => q.severity === 'error');
    expect(p).toMatchObject({
      code: 'NP_ENDPORT_BEFORE_PORT',
      file: FILE,
      line: 6,
      object: { kind: 'NetworkPolicy', namespace: 'x', name: 'bad' },
      path: 'spec.ingress[0].ports[0].endPort',
    });
    expect(formatProblem(p!)).toBe(
      `${FILE}:6: error NP_ENDPORT_BEFORE_PORT: NetworkPolicy x/bad: spec.ingress[0].ports[0].endPort: must be greater than or equal to \`port\` (80 < 90)`,
    );
  });

  it('an error in a List item gives the item line and the path inside the item', () => {
    const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: x}
- apiVersion: policy.networking.k8s.io/v1alpha2
  kind: ClusterNetworkPolicy
  metadata: {name: c}
  spec:
    tier: Admin
    priority: 2000
    subject: {namespaces: {}}
`;
    const r = parse(list);
    expect(r.cluster).toBeUndefined();
    expect(r.problems.find((q) => q.severity === 'error')).toMatchObject({
      code: 'CNP_PRIORITY_OUT_OF_RANGE',
      line: 7,
      object: { kind: 'ClusterNetworkPolicy', name: 'c' },
      path: 'spec.priority',
    });
  });

  it('an invalid policy is rejected whole: no cluster at all, even though the other objects are valid', () => {
    const r = parse(validPolicy + '---\n' + invalidPolicy);
    expect(r.cluster).toBeUndefined();
    const ok = parse(validPolicy);
    expect(ok.cluster?.networkPolicies.map((p) => p.name)).toEqual(['ok']);
  });

  it('every problem of an object is reported, not only the first', () => {
    const r = parse(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: Bad_Name, namespace: x}
spec:
  policyTypes: [ingress]
  egress:
  - to: [{}]
    ports: [{port: 0}]
`);
    const codes = r.problems.filter((p) => p.severity === 'error').map((p) => `${p.code} ${p.path}`);
    expect(codes).toEqual(
      expect.arrayContaining([
        'METADATA_NAME_INVALID metadata.name',
        'NP_POLICY_TYPE_INVALID spec.policyTypes[0]',
        'NP_PEER_EMPTY spec.egress[0].to[0]',
        'PORT_OUT_OF_RANGE spec.egress[0].ports[0].port',
      ]),
    );
  });

  it('warnings alone do not reject: the cluster is built', () => {
    const r = parse(`apiVersion: v1
kind: Namespace
metadata:
  name: x
  labels: {kubernetes.io/metadata.name: y}
`);
    expect(r.cluster).toBeDefined();
    expect(r.problems.map((p) => p.severity)).toEqual(['warning']);
  });
});
