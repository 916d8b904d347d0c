/** The audit inventory itself parses, and the endpoints resolve as the helpers' header says. */
import { describe, expect, it } from 'vitest';
import { build, ip, N1, N1_EXT, N2, EXT, parse, INVENTORY } from './helpers.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';

describe('audit inventory', () => {
  const c = build();
  const ev = new ReferenceEvaluator(c);
  it('parses; the namespace without a Namespace object exists implicitly with its name label (NAMESPACE_IMPLICIT warning)', () => {
    const r = parse(INVENTORY);
    expect(r.problems.some((p) => p.code === 'NAMESPACE_IMPLICIT')).toBe(true);
    const ghost = c.namespaces.find((n) => n.name === 'ghost');
    expect(ghost?.labels).toEqual({ 'kubernetes.io/metadata.name': 'ghost' });
  });
  it('node addresses (InternalIP and ExternalIP) resolve as nodes; host-network pods live there', () => {
    expect(ev.endpoint(ip(N1))).toMatchObject({ kind: 'node', node: 'n1', pod: 'host/hn' });
    expect(ev.endpoint(ip(N1_EXT))).toMatchObject({ kind: 'node', node: 'n1' });
    expect(ev.endpoint(ip(N2))).toMatchObject({ kind: 'node', node: 'n2', pod: 'host/hn2' });
    expect(ev.endpoint(ip(EXT))).toMatchObject({ kind: 'external' });
    expect(ev.endpoint(ip('10.244.1.1'))).toMatchObject({ kind: 'pod', pod: 'x/a' });
  });
});
