/**
 * A Redirect rule carries its target's ClusterIP and endpoint (rules/lower.ts), so a change of
 * the Services or EndpointSlices must re-lower (rules/inputs.ts outgrowsRules) while one exists,
 * and the engine then follows the new endpoint; without a Redirect rule the same change stays a
 * membership delta.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/index.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import type { EndpointSlice } from '../../src/model/types.js';
import { outgrowsRules } from '../../src/rules/inputs.js';

const example = (d: string) => safeLoadCluster([join(fileURLToPath(new URL('../../examples', import.meta.url)), d)]).cluster!;

describe('Redirect targets follow Service and EndpointSlice changes', () => {
  it('an EndpointSlice change re-lowers, and the rule then names the new endpoint', () => {
    const c = example('s14-redirect');
    const engine = compile(c);
    const rs = engine.ruleSet;
    const slice = c.endpointSlices[0]!;
    const moved: EndpointSlice = { ...slice, addresses: [parseIp('10.244.1.20')!] };
    expect(outgrowsRules(rs, { kind: 'endpointslice', slice: moved })).toBe(true);
    const u = engine.update({ kind: "endpointslice", slice: moved });
    expect(u.rebuilt).toBe(true);
    const targets = engine.ruleSet.rules.flatMap((r) => (r.redirect?.v4?.endpoint ? [`${r.redirect.protocol} ${r.redirect.v4.endpoint.ip.text}:${r.redirect.v4.endpoint.port}`] : []));
    expect(targets.sort()).toEqual(['TCP 10.244.1.20:8080', 'UDP 10.244.1.20:8080']);
  });
  it('without a Redirect rule an EndpointSlice change with the same groups is no re-lowering', () => {
    const c = example('s15-egress-through-proxy');
    const rs = compile(c).ruleSet;
    const slice = c.endpointSlices[0]!;
    expect(outgrowsRules(rs, { kind: 'endpointslice', slice: { ...slice, addresses: [parseIp('10.244.1.21')!] } }, true, () => [{ protocol: 'TCP', port: 3128 }])).toBe(false);
  });
});
