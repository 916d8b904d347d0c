/**
 * metadata. Source: apimachinery pkg/api/validation ValidateObjectMeta with each kind's name
 * function (core validation ValidateNamespaceName = DNS-1123 label, ValidateServiceName =
 * DNS-1035 label, ValidatePodName / ValidateNodeName / ValidateNetworkPolicyName /
 * custom resources = DNS-1123 subdomain), ValidateLabels, ValidateAnnotations, and the namespace
 * strategy that sets kubernetes.io/metadata.name.
 */
import { describe, expect, it } from 'vitest';
import { cnp, doc, expectAccepted, expectRejected, expectWarning, np } from './helpers.js';

const ns = (metadata: Record<string, unknown>) => doc({ apiVersion: 'v1', kind: 'Namespace', metadata });
const pod = (metadata: Record<string, unknown>) => doc({ apiVersion: 'v1', kind: 'Pod', metadata });
const svc = (metadata: Record<string, unknown>) => doc({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'x', ...metadata } });

describe('metadata.name', () => {
  it('rejects a missing name', () => {
    expectRejected(np({}, { name: undefined }), 'METADATA_NAME_REQUIRED', 'metadata.name');
  });
  it('rejects a missing metadata', () => {
    expectRejected(doc({ apiVersion: 'v1', kind: 'Namespace' }), 'METADATA_NAME_REQUIRED', 'metadata.name');
  });
  it('rejects a generateName without name', () => {
    expectRejected(pod({ generateName: 'web-' }), 'METADATA_NAME_REQUIRED', 'metadata.name');
  });
  it('rejects a non-string name', () => {
    expectRejected(ns({ name: 123 }), 'FIELD_TYPE', 'metadata.name');
  });
  it('Namespace: a dot is not allowed (DNS-1123 label)', () => {
    expectRejected(ns({ name: 'a.b' }), 'METADATA_NAME_INVALID', 'metadata.name');
  });
  it('Namespace: 64 characters is too long (DNS-1123 label)', () => {
    expectRejected(ns({ name: 'n'.repeat(64) }), 'METADATA_NAME_INVALID', 'metadata.name');
  });
  it('NetworkPolicy: a dot is allowed (DNS-1123 subdomain), upper case is not', () => {
    expectAccepted(np({}, { name: 'allow.web' }));
    expectRejected(np({}, { name: 'Allow-Web' }), 'METADATA_NAME_INVALID', 'metadata.name');
  });
  it('Pod: 254 characters is too long (DNS-1123 subdomain)', () => {
    expectRejected(pod({ name: 'p'.repeat(254) }), 'METADATA_NAME_INVALID', 'metadata.name');
  });
  it('Service: must start with a letter (DNS-1035 label)', () => {
    expectRejected(svc({ name: '1web' }), 'METADATA_NAME_INVALID', 'metadata.name');
  });
  it('ClusterNetworkPolicy: DNS-1123 subdomain (custom resources use NameIsDNSSubdomain)', () => {
    expectAccepted(cnp({}, { name: 'deny.all' }));
    expectRejected(cnp({}, { name: 'deny_all' }), 'METADATA_NAME_INVALID', 'metadata.name');
  });
});

describe('metadata.namespace', () => {
  it('rejects an invalid namespace on a namespaced kind (ValidateNamespaceName)', () => {
    expectRejected(np({}, { namespace: 'My_NS' }), 'METADATA_NAMESPACE_INVALID', 'metadata.namespace');
  });
  it('warns that a namespace on a cluster-scoped kind is ignored (EnsureObjectNamespaceMatchesRequestNamespace)', () => {
    expectWarning(cnp({}, { namespace: 'x' }), 'METADATA_NAMESPACE_IGNORED', 'metadata.namespace');
  });
});

describe('metadata.labels and annotations', () => {
  it('rejects an invalid label key', () => {
    expectRejected(pod({ name: 'a', namespace: 'x', labels: { 'app name': 'web' } }), 'LABEL_KEY_INVALID', 'metadata.labels["app name"]');
  });
  it('rejects an invalid label value', () => {
    expectRejected(ns({ name: 'x', labels: { app: '-web' } }), 'LABEL_VALUE_INVALID', 'metadata.labels["app"]');
  });
  it('rejects a numeric label value (labels are map[string]string)', () => {
    expectRejected(ns({ name: 'x', labels: { version: 1 } }), 'FIELD_TYPE', 'metadata.labels["version"]');
  });
  it('rejects an invalid annotation key', () => {
    expectRejected(ns({ name: 'x', annotations: { 'a b': 'c' } }), 'ANNOTATION_KEY_INVALID', 'metadata.annotations["a b"]');
  });
  it('accepts annotations as kubectl prints them', () => {
    expectAccepted(ns({ name: 'x', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}\n' } }));
  });
});

describe('Namespace kubernetes.io/metadata.name (set by the control plane; cannot be overridden)', () => {
  it('warns when the label disagrees with the name, and the name wins', () => {
    const r = expectWarning(ns({ name: 'x', labels: { 'kubernetes.io/metadata.name': 'y' } }), 'NAMESPACE_NAME_LABEL_OVERRIDDEN', 'metadata.labels["kubernetes.io/metadata.name"]');
    expect(r.cluster?.namespaces[0]?.labels['kubernetes.io/metadata.name']).toBe('x');
  });
  it('says nothing when the label equals the name', () => {
    const r = expectAccepted(ns({ name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' } }));
    expect(r.problems.filter((p) => p.code === 'NAMESPACE_NAME_LABEL_OVERRIDDEN')).toEqual([]);
  });
});
