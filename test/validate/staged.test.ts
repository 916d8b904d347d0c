/**
 * The staged mark (model/staged.ts, validate/staged.ts): `policy.palisade.dev/staged` must be
 * "true" or "false" on a policy kind (STAGED_ANNOTATION_INVALID, at the annotation's path), is
 * ignored with a warning on any other kind, and a staged policy lands in `Cluster.staged`,
 * flagged, never in the lists enforcement reads.
 */
import { describe, expect, it } from 'vitest';
import { anp, banp, cnp, doc, expectAccepted, expectRejected, expectWarning, np } from './helpers.js';

const PATH = 'metadata.annotations["policy.palisade.dev/staged"]';
const staged = (value: unknown) => ({ annotations: { 'policy.palisade.dev/staged': value } });
const spec = { podSelector: {}, policyTypes: ['Ingress'] };

describe('staged mark', () => {
  it('stages a NetworkPolicy: kept apart in Cluster.staged, flagged', () => {
    const c = expectAccepted(np(spec, staged('true'))).cluster!;
    expect(c.networkPolicies).toEqual([]);
    expect(c.staged?.networkPolicies.map((p) => [p.name, p.staged])).toEqual([['p', true]]);
  });

  it('stages every cluster kind', () => {
    for (const text of [cnp({}, staged('true')), anp({}, staged('true')), banp({}, staged('true'))]) {
      const c = expectAccepted(text).cluster!;
      expect(c.clusterPolicies).toEqual([]);
      expect(c.staged?.clusterPolicies).toHaveLength(1);
      expect(c.staged?.clusterPolicies[0]?.staged).toBe(true);
    }
  });

  it('"false" is in force, with no flag and no staged set', () => {
    const c = expectAccepted(np(spec, staged('false'))).cluster!;
    expect(c.networkPolicies).toHaveLength(1);
    expect(c.networkPolicies[0]).not.toHaveProperty('staged');
    expect(c.staged).toBeUndefined();
  });

  for (const bad of ['yes', 'True', '', '1']) {
    it(`rejects ${JSON.stringify(bad)} with STAGED_ANNOTATION_INVALID at ${PATH}`, () => {
      const p = expectRejected(np(spec, staged(bad)), 'STAGED_ANNOTATION_INVALID', PATH);
      expect(p.object).toEqual({ kind: 'NetworkPolicy', namespace: 'x', name: 'p' });
      expect(p.message).toContain(JSON.stringify(bad));
    });
  }

  it('rejects a non-string value as FIELD_TYPE at the same path', () => {
    expectRejected(np(spec, staged(true)), 'FIELD_TYPE', PATH);
  });

  it('warns on a kind that is not a policy', () => {
    const pod = doc({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'x', ...staged('true') }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    expectWarning(pod, 'STAGED_ANNOTATION_IGNORED', PATH);
  });

  it('a staged and an enforced policy cannot share a name (promotion replaces, it does not merge)', () => {
    expectRejected(`${np(spec)}---\n${np(spec, staged('true'))}`, 'DUPLICATE_OBJECT', 'metadata.name');
  });
});
