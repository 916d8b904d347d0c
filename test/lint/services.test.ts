/**
 * LINT_SERVICE_SELECTS_NO_ENDPOINTS (src/lint/services.ts) on the S15 example: the proxy Service
 * has an endpoint (no warning); with its EndpointSlice gone, or naming a Service that does not
 * exist, the `services` peer is flagged with its field path; a `services` subject is not
 * reported as "selects no pod".
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lint } from '../../src/lint/index.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';

const dir = (d: string): string => join(fileURLToPath(new URL('../../examples', import.meta.url)), d);
const load = (d: string) => safeLoadCluster([dir(d)]).cluster!;
const codes = (ps: ReturnType<typeof lint>) => ps.filter((p) => p.code === 'LINT_SERVICE_SELECTS_NO_ENDPOINTS' || p.code === 'LINT_SELECTS_NOTHING').map((p) => `${p.code} ${p.path} ${p.message}`);

describe('LINT_SERVICE_SELECTS_NO_ENDPOINTS', () => {
  it('a Redirect target (S14): quiet with endpoints; flagged without endpoints, without ClusterIP, or missing', () => {
    const c = load('s14-redirect');
    expect(codes(lint(c))).toEqual([]);
    const at = 'LINT_SERVICE_SELECTS_NO_ENDPOINTS spec.egress[0].redirect.service Redirect target Service iam/metadata-proxy';
    expect(codes(lint({ ...c, endpointSlices: [] }))).toEqual([`${at} has no endpoints: redirected traffic goes nowhere.`]);
    expect(codes(lint({ ...c, services: c.services.map((s) => ({ ...s, clusterIPs: [] })) }))).toEqual([`${at} has no ClusterIP (headless): the rule denies what it matches.`]);
    expect(codes(lint({ ...c, services: [] }))).toEqual([`${at} is not in the inventory: the rule denies what it matches.`]);
  });

  it('is quiet for a Service with endpoints, and for a services subject', () => {
    expect(codes(lint(load('s15-egress-through-proxy')))).toEqual([]);
    expect(codes(lint(load('s04-who-may-reach-my-service')))).toEqual([]);
  });

  it('flags a Service without endpoints and a missing Service, with the field path', () => {
    const c = load('s15-egress-through-proxy');
    expect(codes(lint({ ...c, endpointSlices: [] }))).toEqual([
      'LINT_SERVICE_SELECTS_NO_ENDPOINTS spec.egress[0].to[0].services[0] Service proxy/squid has no endpoints (no EndpointSlice labelled kubernetes.io/service-name=squid lists an address): this entry matches only its frontends, where traffic goes nowhere.',
    ]);
    expect(codes(lint({ ...c, services: [] }))).toEqual([
      'LINT_SERVICE_SELECTS_NO_ENDPOINTS spec.egress[0].to[0].services[0] Service proxy/squid is not in the inventory: this entry matches nothing today.',
    ]);
  });
});
