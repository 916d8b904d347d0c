/**
 * Label selectors everywhere. Source: apimachinery pkg/apis/meta/v1/validation
 * ValidateLabelSelector / ValidateLabelSelectorRequirement / ValidateLabels, and
 * pkg/util/validation IsQualifiedName / IsValidLabelValue.
 */
import { describe, it } from 'vitest';
import { cnp, expectAccepted, expectRejected, np } from './helpers.js';

const sel = (s: unknown) => np({ podSelector: s });
const P = 'spec.podSelector';

describe('matchExpressions (ValidateLabelSelectorRequirement)', () => {
  it('rejects an unknown operator: "not a valid selector operator"', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] }), 'SELECTOR_OPERATOR_INVALID', `${P}.matchExpressions[0].operator`);
  });
  it('rejects In without values: "must be specified when operator is In or NotIn"', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), 'SELECTOR_VALUES_REQUIRED', `${P}.matchExpressions[0].values`);
  });
  it('rejects NotIn with values absent', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }), 'SELECTOR_VALUES_REQUIRED', `${P}.matchExpressions[0].values`);
  });
  it('rejects Exists with values: "may not be specified when operator is Exists or DoesNotExist"', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), 'SELECTOR_VALUES_FORBIDDEN', `${P}.matchExpressions[0].values`);
  });
  it('rejects DoesNotExist with values', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] }), 'SELECTOR_VALUES_FORBIDDEN', `${P}.matchExpressions[0].values`);
  });
  it('rejects an invalid key (ValidateLabelName)', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a/b/c', operator: 'Exists' }] }), 'LABEL_KEY_INVALID', `${P}.matchExpressions[0].key`);
  });
  it('rejects a missing key (CRD: required [key, operator])', () => {
    expectRejected(sel({ matchExpressions: [{ operator: 'Exists' }] }), 'FIELD_REQUIRED', `${P}.matchExpressions[0].key`);
  });
  it('rejects a missing operator', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a' }] }), 'FIELD_REQUIRED', `${P}.matchExpressions[0].operator`);
  });
  it('rejects an invalid value (IsValidLabelValue)', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', 'not ok'] }] }), 'LABEL_VALUE_INVALID', `${P}.matchExpressions[0].values[1]`);
  });
  it('rejects an unknown requirement field', () => {
    expectRejected(sel({ matchExpressions: [{ key: 'a', operator: 'Exists', value: 'x' }] }), 'FIELD_UNKNOWN', `${P}.matchExpressions[0].value`);
  });
  it('accepts all four operators used correctly', () => {
    expectAccepted(
      sel({
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x', 'y'] },
          { key: 'example.com/b', operator: 'NotIn', values: [''] },
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist', values: [] },
        ],
      }),
    );
  });
});

describe('matchLabels (ValidateLabels)', () => {
  const badKeys: [string, string][] = [
    ['empty prefix', '/name'],
    ['prefix not a DNS subdomain', 'Example.com/name'],
    ['two slashes', 'a/b/c'],
    ['name longer than 63', 'x'.repeat(64)],
    ['name starting with a dash', '-name'],
    ['empty name after prefix', 'example.com/'],
    ['space', 'my key'],
  ];
  it.each(badKeys)('rejects a key with %s (IsQualifiedName)', (_n, key) => {
    expectRejected(sel({ matchLabels: { [key]: 'v' } }), 'LABEL_KEY_INVALID', `${P}.matchLabels[${JSON.stringify(key)}]`);
  });
  const badValues: [string, string][] = [
    ['64 characters', 'v'.repeat(64)],
    ['a trailing dot', 'v.'],
    ['a slash', 'a/b'],
  ];
  it.each(badValues)('rejects a value with %s (IsValidLabelValue)', (_n, value) => {
    expectRejected(sel({ matchLabels: { app: value } }), 'LABEL_VALUE_INVALID', `${P}.matchLabels["app"]`);
  });
  it('rejects a non-string value (map[string]string)', () => {
    expectRejected(sel({ matchLabels: { version: 2 } }), 'FIELD_TYPE', `${P}.matchLabels["version"]`);
  });
  it('accepts an empty value, 63-character names and values, and a prefixed key', () => {
    expectAccepted(sel({ matchLabels: { a: '', ['n'.repeat(63)]: 'v'.repeat(63), 'kubernetes.io/metadata.name': 'x', 'A_b.c-D': 'X_y.z-1' } }));
  });
  it('rejects an unknown selector field', () => {
    expectRejected(sel({ matchLabel: { a: 'b' } }), 'FIELD_UNKNOWN', `${P}.matchLabel`);
  });
});

describe('selectors in ClusterNetworkPolicy (the CRD does not check them; Palisade does)', () => {
  it('rejects a bad operator in a subject', () => {
    expectRejected(
      cnp({ subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'Foo' }] } } }),
      'SELECTOR_OPERATOR_INVALID',
      'spec.subject.namespaces.matchExpressions[0].operator',
    );
  });
  it('rejects a bad label value in an egress nodes peer', () => {
    expectRejected(
      cnp({ egress: [{ action: 'Accept', to: [{ nodes: { matchLabels: { role: 'a b' } } }] }] }),
      'LABEL_VALUE_INVALID',
      'spec.egress[0].to[0].nodes.matchLabels["role"]',
    );
  });
});
