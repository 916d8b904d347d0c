/**
 * A rule the compiler cannot lower (UnsupportedRuleError) is reported like any input problem:
 * the file, the line, the object and the field path, through safeCompile / compile and through
 * loweringProblems (what `palisade validate` adds); and an Engine.update that would reach one
 * throws and leaves the engine answering as before (the last good state stays).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile, safeCompile } from '../../src/index.js';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { InvalidInputError } from '../../src/model/problems.js';
import type { Cluster, ClusterPolicy, Service } from '../../src/model/types.js';
import { UnsupportedRuleError } from '../../src/rules/lower.js';
import { loweringProblems } from '../../src/rules/refusals.js';
import type { Flow } from '../../src/model/flow.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const fixture = join(here, '../cli/fixtures/redirect-single-stack');
const load = (dir: string): Cluster => {
  const r = safeLoadCluster([dir]);
  expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return r.cluster!;
};
const example = (d: string) => load(join(here, '../../examples', d));

/** the Service a Redirect rule sends to, made dual-stack (an IPv6 ClusterIP beside the IPv4 one) */
function dualStack(c: Cluster): Cluster {
  const services: Service[] = c.services.map((s) => (s.name === 'metadata-proxy' ? { ...s, clusterIPs: [...s.clusterIPs, parseIp('fd00:10:244:f0::30')!] } : s));
  return { ...c, services };
}

const flows: Flow[] = [
  { src: parseIp('10.244.1.10')!, dst: parseIp('169.254.169.254')!, protocol: 'TCP', dstPort: 80 },
  { src: parseIp('10.244.1.10')!, dst: parseIp('169.254.169.254')!, protocol: 'TCP', dstPort: 81 },
  { src: parseIp('10.244.1.20')!, dst: parseIp('169.254.169.254')!, protocol: 'TCP', dstPort: 80 },
  { src: parseIp('10.244.1.20')!, dst: parseIp('10.244.1.50')!, protocol: 'TCP', dstPort: 8080 },
  { src: parseIp('10.244.1.10')!, dst: parseIp('10.244.1.20')!, protocol: 'UDP', dstPort: 53 },
];
const answers = (e: ReturnType<typeof compile>) => flows.map((f) => JSON.stringify(e.lookup(f)));

describe('refused rules are placed at their policy and field', () => {
  it('safeCompile returns RULE_UNSUPPORTED with file, line, object and path, and no engine', () => {
    const r = safeCompile({ paths: [fixture] });
    expect(r.engine).toBeUndefined();
    const refused = r.problems.filter((p) => p.code === 'RULE_UNSUPPORTED');
    // compiling stops at the first refusal, in the total order of the policies
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      severity: 'error',
      object: { kind: 'PalisadeClusterNetworkPolicy', name: 'pods-via-proxy' },
      path: 'spec.egress[1].to[1]',
    });
    expect(refused[0]!.file).toMatch(/redirect-single-stack\/policies\.yaml$/);
    expect(refused[0]!.line).toBe(4);
    expect(refused[0]!.message).toMatch(/single-stack Service iam\/metadata-proxy/);
    expect(refused[0]!.message).toMatch(/RequireDualStack/);
  });

  it('compile throws InvalidInputError carrying the placed problem', () => {
    let thrown: unknown;
    try {
      compile({ paths: [fixture] });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidInputError);
    const e = thrown as InvalidInputError;
    expect(e.problems.map((p) => `${p.code} ${p.path}`)).toEqual(['RULE_UNSUPPORTED spec.egress[1].to[1]']);
    expect(e.message).toMatch(/pods-via-proxy/);
  });

  it('loweringProblems collects every refusal, each at its own rule', () => {
    const got = loweringProblems(load(fixture)).map((p) => `${p.object?.name} ${p.path} line ${p.line}`);
    expect(got.sort()).toEqual(['iam-via-proxy spec.egress[0].to[0] line 34', 'pods-via-proxy spec.egress[1].to[1] line 4']);
  });

  it('the same policies compile once the target Service is dual-stack', () => {
    const c = dualStack(load(fixture));
    expect(loweringProblems(c)).toEqual([]);
    const r = safeCompile(c);
    expect(r.problems).toEqual([]);
    expect(r.engine).toBeDefined();
  });

  it('a hand-built named port with a nodes peer is placed at spec.egress[0]', () => {
    const c = example('s14-redirect');
    const base = c.clusterPolicies[0]!;
    const bad: ClusterPolicy = {
      ...base,
      name: 'named-port-to-nodes',
      egress: [{ index: 0, action: 'Deny', peers: [{ kind: 'nodes', nodeSelector: { matchLabels: {}, matchExpressions: [] } }], protocols: [{ kind: 'namedPort', name: 'http' }] }],
      ingress: [],
    };
    const problems = loweringProblems({ ...c, clusterPolicies: [...c.clusterPolicies, bad] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'RULE_UNSUPPORTED', object: { name: 'named-port-to-nodes' }, path: 'spec.egress[0]' });
    expect(problems[0]!.message).toMatch(/a named port combined with a nodes peer/);
  });
});

describe('Engine.update keeps the last good state when a change is refused', () => {
  it('a policy change to a refused policy throws, and the engine answers as before', () => {
    const engine = compile(example('s14-redirect'));
    const before = answers(engine);
    const rules = engine.ruleSet.rules.length;
    const refused = load(fixture).clusterPolicies.find((p) => p.name === 'pods-via-proxy')!;
    expect(() => engine.update({ kind: 'policy', policy: refused })).toThrow(UnsupportedRuleError);
    expect(answers(engine)).toEqual(before);
    expect(engine.ruleSet.rules.length).toBe(rules);
    // the refused policy is not kept: an unrelated change rebuilds without meeting it again
    const other: ClusterPolicy = { ...engine.cluster().clusterPolicies[0]!, name: 'another-valid-policy' };
    expect(engine.update({ kind: 'policy', policy: other }).rebuilt).toBe(true);
    expect(engine.cluster().clusterPolicies.map((p) => p.name)).not.toContain('pods-via-proxy');
    // and the same policy, fixed, applies
    const fixed: ClusterPolicy = { ...refused, egress: refused.egress.slice(0, 1) };
    expect(engine.update({ kind: 'policy', policy: fixed }).rebuilt).toBe(true);
  });

  it('a Service changed to single-stack under a Redirect rule throws, and the engine answers as before', () => {
    const c = dualStack(load(fixture));
    const engine = compile(c);
    const before = answers(engine);
    const single = load(fixture).services.find((s) => s.name === 'metadata-proxy')!;
    expect(() => engine.update({ kind: 'service', service: single })).toThrow(UnsupportedRuleError);
    expect(answers(engine)).toEqual(before);
    // the Service the engine holds is still the dual-stack one
    const held = engine.cluster().services.find((s) => s.name === 'metadata-proxy')!;
    expect(held.clusterIPs.map((a) => a.text)).toEqual(['10.244.240.30', 'fd00:10:244:f0::30']);
  });
});
