/**
 * The reference evaluator's `domainNames` semantics (docs/fqdn.md): a destination matches while
 * the subject pod itself has a live learned entry for it under a matching name; wildcards as the
 * CRD's DomainName docs define them; case-insensitive; scoped to the pod that asked; expiry.
 */
import { describe, expect, it } from 'vitest';
import { probe } from './helpers.js';
import { EXTERNAL, withPolicies } from './inventory.js';
import { canonicalName, domainNameMatches, parseSnapshot, type LearnedSnapshot } from '../../src/model/fqdn.js';
import { parseIp } from '../../src/model/ip.js';
import { FQDN_NOTE_SUFFIX } from '../../src/model/verdict.js';

const POLICY = withPolicies(`apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: fqdn}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  egress:
  - {name: allow-db, action: Accept, to: [{domainNames: ["db.example.test", "*.cdn.example.test"]}]}
  - {name: deny-rest, action: Deny, to: [{networks: [0.0.0.0/0]}]}`);

const NOW = 1_700_000_000_000;
const entry = (pod: string, name: string, address: string, ttlS = 30, query = name) => ({
  pod,
  name,
  address: parseIp(address)!,
  expiresAtMs: NOW + ttlS * 1000,
  query,
});
const snap = (...entries: ReturnType<typeof entry>[]): LearnedSnapshot => ({ atMs: NOW, entries });

describe('domainNameMatches (CRD DomainName docs)', () => {
  it.each([
    ['kubernetes.io', 'kubernetes.io', true],
    ['kubernetes.io', 'www.kubernetes.io', false],
    ['kubernetes.io', 'my-kubernetes.io', false],
    ['blog.kubernetes.io', 'kubernetes.io', false],
    ['*.kubernetes.io', 'www.kubernetes.io', true],
    ['*.kubernetes.io', 'latest.blog.kubernetes.io', true],
    ['*.kubernetes.io', 'kubernetes.io', false],
    ['*.kubernetes.io', 'my-kubernetes.io', false],
    ['*.kubernetes.io', 'wikipedia.org', false],
    ['Kubernetes.IO', 'kubernetes.io.', true],
    ['*.Example.test', 'A.B.example.TEST', true],
  ])('%s vs %s -> %s', (pattern, name, want) => {
    expect(domainNameMatches(pattern, name)).toBe(want);
  });

  it('canonical names are lower case without the trailing dot', () => {
    expect(canonicalName('DB.Example.Test.')).toBe('db.example.test');
  });
});

describe('domainNames peers with a learned snapshot', () => {
  it('an address learned by the pod for an exact name is allowed; the note names the name and the answer', () => {
    const p = probe(POLICY, { learned: snap(entry('x/a', 'db.example.test', EXTERNAL)) });
    const v = p.check('x/a', EXTERNAL, 5432);
    expect(v.verdict).toBe('allow');
    expect(v.egress.rule).toMatchObject({ ruleName: 'allow-db' });
    expect(v.egress.notes).toContain(`ClusterNetworkPolicy fqdn egress[0] (allow-db): ${FQDN_NOTE_SUFFIX}`);
    expect(v.egress.notes.some((n) => n.includes(`${EXTERNAL} matched as db.example.test (answer to db.example.test for x/a`))).toBe(true);
  });

  it('scoped to the pod that asked: another subject pod of the same rule is denied', () => {
    const p = probe(POLICY, { learned: snap(entry('x/a', 'db.example.test', EXTERNAL)) });
    expect(p.verdict('x/b', EXTERNAL, 5432)).toBe('deny');
  });

  it('an empty snapshot matches nothing (as without one)', () => {
    expect(probe(POLICY, { learned: snap() }).verdict('x/a', EXTERNAL)).toBe('deny');
  });

  it('a name not in the policy, or the wildcard base itself, matches nothing', () => {
    expect(probe(POLICY, { learned: snap(entry('x/a', 'other.example.test', EXTERNAL)) }).verdict('x/a', EXTERNAL)).toBe('deny');
    expect(probe(POLICY, { learned: snap(entry('x/a', 'cdn.example.test', EXTERNAL)) }).verdict('x/a', EXTERNAL)).toBe('deny');
  });

  it('wildcards match one or more labels; a CNAME chain name matches (entry per chain name)', () => {
    expect(probe(POLICY, { learned: snap(entry('x/a', 'a.b.cdn.example.test', EXTERNAL)) }).verdict('x/a', EXTERNAL)).toBe('allow');
    // the pod asked www.shop.test, which is a CNAME for edge.cdn.example.test: the alias target matches
    const chained = snap(entry('x/a', 'www.shop.test', EXTERNAL, 30, 'www.shop.test'), entry('x/a', 'edge.cdn.example.test', EXTERNAL, 30, 'www.shop.test'));
    const v = probe(POLICY, { learned: chained }).check('x/a', EXTERNAL);
    expect(v.verdict).toBe('allow');
    expect(v.egress.notes.some((n) => n.includes('matched as edge.cdn.example.test (answer to www.shop.test'))).toBe(true);
  });

  it('an expired entry matches nothing; a live one for another address matches only that address', () => {
    const expired: LearnedSnapshot = { atMs: NOW + 31_000, entries: [entry('x/a', 'db.example.test', EXTERNAL)] };
    expect(probe(POLICY, { learned: expired }).verdict('x/a', EXTERNAL)).toBe('deny');
    expect(probe(POLICY, { learned: snap(entry('x/a', 'db.example.test', '10.244.200.8')) }).verdict('x/a', EXTERNAL)).toBe('deny');
  });

  it('only egress: a learned address as a source does not pass an ingress rule', () => {
    const p = probe(POLICY, { learned: snap(entry('x/a', 'db.example.test', EXTERNAL)) });
    expect(p.check('x/a', EXTERNAL).ingress.reason).toBe('not-a-pod');
  });
});

describe('parseSnapshot', () => {
  it('reads the documented JSON form and canonicalizes names', () => {
    const s = parseSnapshot({ atMs: 5, entries: [{ pod: 'x/a', name: 'DB.example.test.', address: '192.0.2.1', expiresAtMs: 10 }] });
    expect(s.entries[0]).toMatchObject({ pod: 'x/a', name: 'db.example.test', query: 'db.example.test', expiresAtMs: 10 });
  });
  it('names the bad entry', () => {
    expect(() => parseSnapshot({ entries: [{ pod: 'x/a', name: 'a.test', address: 'nope', expiresAtMs: 1 }] })).toThrow('entries[0].address');
  });
});
