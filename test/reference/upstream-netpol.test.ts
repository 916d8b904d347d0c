/**
 * Table tests derived from the upstream NetworkPolicy e2e suite:
 * kubernetes/kubernetes test/e2e/network/netpol/network_policy.go @9db638c0807a720aa050ebcef69c32e4d4cce280
 * with model.go (pods a/b/c in namespaces x/y/z, one container per port x protocol, containerPort
 * named `serve-<port>-<protocol>`), policies.go (SetSpecIngressRules / SetSpecEgressRules also add
 * the policy type) and reachability.go (ExpectPeer, ExpectAllIngress, ExpectAllEgress; loopback
 * cells are ignored, `ignoreLoopback = true`).
 *
 * Each case is named after its upstream test; each step is one `ValidateOrFail` with the policies,
 * labels and expected truth table upstream has at that point. Every case runs twice: on an IPv4
 * cluster and on an IPv6 cluster (upstream uses `status.podIP` with /32 or /128).
 */
import { describe, expect, it } from 'vitest';
import type { Family } from '../../src/model/ip.js';
import type { Protocol } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { clusterOf, namespace, networkPolicy, pod, type Obj } from './fixtures.js';

const NAMESPACES = ['x', 'y', 'z'] as const;
const PODS = ['a', 'b', 'c'] as const;
type PodString = `${(typeof NAMESPACES)[number]}/${(typeof PODS)[number]}`;
const ALL: PodString[] = NAMESPACES.flatMap((ns) => PODS.map((p) => `${ns}/${p}` as PodString));

function podIp(ps: string, family: Family): string {
  const [ns, p] = ps.split('/') as [string, string];
  const n = NAMESPACES.indexOf(ns as 'x') + 1;
  const i = PODS.indexOf(p as 'a') + 1;
  return family === 4 ? `10.244.${n}.${i}` : `fd00:10:244:${n}::${i}`;
}

// ---- reachability.go, as upstream writes expectations ---------------------------------------

interface Peer {
  namespace?: string;
  pod?: string;
}
const matches = (p: Peer, ps: string) => {
  const [ns, name] = ps.split('/');
  return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === name);
};

class Reachability {
  readonly expected = new Map<string, boolean>();
  constructor(defaultExpectation = true) {
    for (const f of ALL) for (const t of ALL) this.expected.set(`${f} ${t}`, defaultExpectation);
  }
  expect(from: string, to: string, connected: boolean): this {
    this.expected.set(`${from} ${to}`, connected);
    return this;
  }
  expectAllIngress(to: string, connected: boolean): this {
    for (const f of ALL) this.expect(f, to, connected);
    return this;
  }
  expectAllEgress(from: string, connected: boolean): this {
    for (const t of ALL) this.expect(from, t, connected);
    return this;
  }
  expectPeer(from: Peer, to: Peer, connected: boolean): this {
    for (const f of ALL) if (matches(from, f)) for (const t of ALL) if (matches(to, t)) this.expect(f, t, connected);
    return this;
  }
}

// ---- policies.go ------------------------------------------------------------------------------

type Rule = Obj;
interface Gen {
  ingress?: Rule[];
  egress?: Rule[];
  policyTypes?: string[];
}
/** GenNetworkPolicyWithNameAndPodSelector + SetSpecIngressRules / SetSpecEgressRules */
function gen(ns: string, name: string, podSelector: Obj, g: Gen): Obj {
  const policyTypes = g.policyTypes ?? [...(g.ingress ? ['Ingress'] : []), ...(g.egress ? ['Egress'] : [])];
  return networkPolicy(ns, name, {
    podSelector,
    ...(g.ingress ? { ingress: g.ingress } : {}),
    ...(g.egress ? { egress: g.egress } : {}),
    policyTypes,
  });
}
const podLabel = (p: string) => ({ matchLabels: { pod: p } });
const nsLabel = (ns: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });
const ALL_PODS = {};

// ---- the model -----------------------------------------------------------------------------

interface Step {
  /** every NetworkPolicy present at this point (creation, update = replace, deletion) */
  policies: (family: Family) => Obj[];
  nsLabels?: Record<string, Record<string, string>>;
  podLabels?: Record<string, Record<string, string>>;
  probes: { port: number; protocol: Protocol; reachability: Reachability }[];
}
interface Case {
  name: string;
  ports: number[];
  protocols: Protocol[];
  steps: Step[];
}

function model(c: Case, step: Step, family: Family): Obj[] {
  const objs: Obj[] = [];
  for (const ns of NAMESPACES) objs.push(namespace(ns, step.nsLabels?.[ns] ?? {}));
  for (const ns of NAMESPACES) {
    for (const p of PODS) {
      const ps = `${ns}/${p}`;
      objs.push(
        pod(ns, p, {
          labels: step.podLabels?.[ps] ?? { pod: p },
          ips: [podIp(ps, family)],
          ports: c.ports.flatMap((port) => c.protocols.map((proto) => [`serve-${port}-${proto.toLowerCase()}`, port, proto] as [string, number, Protocol])),
        }),
      );
    }
  }
  return [...objs, ...step.policies(family)];
}

function run(c: Case, family: Family): void {
  c.steps.forEach((step, si) => {
    const ev = new ReferenceEvaluator(clusterOf(model(c, step, family)));
    for (const probe of step.probes) {
      const wrong: string[] = [];
      for (const from of ALL) {
        for (const to of ALL) {
          if (from === to) continue; // ignoreLoopback
          const got = ev.evaluate({
            src: ev.cluster.pods.find((p) => `${p.namespace}/${p.name}` === from)!.ips[0]!,
            dst: ev.cluster.pods.find((p) => `${p.namespace}/${p.name}` === to)!.ips[0]!,
            protocol: probe.protocol,
            dstPort: probe.port,
          }).verdict;
          const want = probe.reachability.expected.get(`${from} ${to}`) ? 'allow' : 'deny';
          if (got !== want) wrong.push(`${from} -> ${to}: expected ${want}, got ${got}`);
        }
      }
      expect(wrong, `step ${si + 1}, ${probe.protocol}/${probe.port}`).toEqual([]);
    }
  });
}

const one = (policies: (f: Family) => Obj[], port: number, protocol: Protocol, r: Reachability): Step => ({
  policies,
  probes: [{ port, protocol, reachability: r }],
});
const tcp80 = (policies: Obj[], r: Reachability): Step => one(() => policies, 80, 'TCP', r);

const ingressFromNsYPort = (port: number, protocol: Protocol) => ({
  from: [{ namespaceSelector: nsLabel('y') }],
  ports: [{ port, protocol }],
});

// ---- the cases, in upstream order ------------------------------------------------------------

const CASES: Case[] = [
  {
    name: "should support a 'default-deny-ingress' policy",
    ports: [80],
    protocols: ['TCP'],
    steps: [tcp80([gen('x', 'deny-ingress', ALL_PODS, { ingress: [] })], new Reachability().expectPeer({}, { namespace: 'x' }, false))],
  },
  {
    name: "should support a 'default-deny-all' policy",
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'deny-all', ALL_PODS, { ingress: [], egress: [] })],
        new Reachability().expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, {}, false),
      ),
    ],
  },
  {
    name: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'x-a-allows-x-b', podLabel('a'), { ingress: [{ from: [{ podSelector: podLabel('b') }] }] })],
        new Reachability().expectAllIngress('x/a', false).expect('x/b', 'x/a', true),
      ),
    ],
  },
  {
    name: 'should enforce policy to allow ingress traffic for a target',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'deny-all', ALL_PODS, { ingress: [] }),
          gen('x', 'allow-all-to-a', podLabel('a'), { ingress: [{ from: [{ podSelector: {}, namespaceSelector: {} }] }] }),
        ],
        new Reachability().expectAllIngress('x/a', true).expectAllIngress('x/b', false).expectAllIngress('x/c', false),
      ),
    ],
  },
  {
    name: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'allow-from-another-ns', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: { matchLabels: {} } }] }] })],
        new Reachability(),
      ),
    ],
  },
  {
    name: 'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'allow-client-a-via-ns-selector', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: nsLabel('y') }] }] })],
        new Reachability().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  },
  {
    name: 'should enforce policy based on PodSelector with MatchExpressions',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'x-a-allows-x-b', podLabel('a'), {
            ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }],
          }),
        ],
        new Reachability().expectAllIngress('x/a', false).expect('x/b', 'x/a', true),
      ),
    ],
  },
  {
    name: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-ns-y-match-selector', podLabel('a'), {
            ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y'] }] } }] }],
          }),
        ],
        new Reachability().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  },
  {
    name: 'should enforce policy based on PodSelector or NamespaceSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-ns-y-match-selector', podLabel('a'), {
            ingress: [
              {
                from: [
                  { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }] } },
                  { podSelector: podLabel('b') },
                ],
              },
            ],
          }),
        ],
        new Reachability().expect('x/a', 'x/a', false).expect('x/c', 'x/a', false),
      ),
    ],
  },
  {
    name: 'should enforce policy based on PodSelector and NamespaceSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-ns-y-podselector-and-nsselector', podLabel('a'), {
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }] },
                    podSelector: podLabel('b'),
                  },
                ],
              },
            ],
          }),
        ],
        new Reachability().expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true),
      ),
    ],
  },
  {
    name: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-ns-y-z-pod-b-c', podLabel('a'), {
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }] },
                    podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] },
                  },
                ],
              },
            ],
          }),
        ],
        new Reachability()
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expect('y/a', 'x/a', false)
          .expect('z/a', 'x/a', false),
      ),
    ],
  },
  {
    name: 'should enforce policy based on any PodSelectors',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'allow-ns-x-pod-b-c', podLabel('a'), { ingress: [{ from: [{ podSelector: podLabel('b') }, { podSelector: podLabel('c') }] }] })],
        new Reachability().expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expect('x/c', 'x/a', true),
      ),
    ],
  },
  {
    name: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', podLabel('a'), {
            ingress: [{ from: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] }],
          }),
        ],
        new Reachability().expectAllIngress('x/a', false).expect('y/a', 'x/a', true),
      ),
    ],
  },
  {
    name: 'should enforce policy based on Ports',
    ports: [81],
    protocols: ['TCP'],
    steps: [
      one(
        () => [gen('x', 'allow-client-a-via-ns-selector', podLabel('a'), { ingress: [ingressFromNsYPort(81, 'TCP')] })],
        81,
        'TCP',
        new Reachability()
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  },
  (() => {
    const allow81 = gen('x', 'allow-client-a-via-ns-selector', podLabel('a'), { ingress: [ingressFromNsYPort(81, 'TCP')] });
    const allow80 = gen('x', 'allow-client-a-via-ns-selector-80', podLabel('a'), { ingress: [ingressFromNsYPort(80, 'TCP')] });
    const reachabilityALLOW = new Reachability()
      .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
      .expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true)
      .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false);
    return {
      name: 'should enforce multiple, stacked policies with overlapping podSelectors',
      ports: [80, 81],
      protocols: ['TCP'],
      steps: [
        {
          policies: () => [allow81],
          probes: [
            { port: 81, protocol: 'TCP', reachability: reachabilityALLOW },
            { port: 80, protocol: 'TCP', reachability: new Reachability().expectAllIngress('x/a', false) },
          ],
        },
        one(() => [allow81, allow80], 80, 'TCP', reachabilityALLOW),
      ],
    } satisfies Case;
  })(),
  {
    name: 'should support allow-all policy',
    ports: [80, 81],
    protocols: ['TCP'],
    steps: [
      {
        policies: () => [gen('x', 'allow-all', { matchLabels: {} }, { ingress: [{}] })],
        probes: [
          { port: 80, protocol: 'TCP', reachability: new Reachability() },
          { port: 81, protocol: 'TCP', reachability: new Reachability() },
        ],
      },
    ],
  },
  {
    name: 'should allow ingress access on one named port',
    ports: [80, 81],
    protocols: ['TCP'],
    steps: [
      {
        policies: () => [gen('x', 'allow-all', { matchLabels: {} }, { ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
        probes: [
          { port: 81, protocol: 'TCP', reachability: new Reachability() },
          { port: 80, protocol: 'TCP', reachability: new Reachability().expectPeer({}, { namespace: 'x' }, false) },
        ],
      },
    ],
  },
  {
    name: 'should allow ingress access from namespace on one named port',
    ports: [80, 81],
    protocols: ['TCP'],
    steps: [
      {
        policies: () => [
          gen('x', 'allow-client-a-via-ns-selector-80', podLabel('a'), {
            ingress: [{ from: [{ namespaceSelector: nsLabel('y') }], ports: [{ port: 'serve-80-tcp', protocol: 'TCP' }] }],
          }),
        ],
        probes: [
          {
            port: 80,
            protocol: 'TCP',
            reachability: new Reachability()
              .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
              .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
          },
          { port: 81, protocol: 'TCP', reachability: new Reachability().expectAllIngress('x/a', false) },
        ],
      },
    ],
  },
  {
    name: 'should allow egress access on one named port',
    ports: [80, 81],
    protocols: ['TCP'],
    steps: [
      {
        policies: () => [gen('x', 'allow-egress', { matchLabels: {} }, { egress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
        probes: [
          { port: 80, protocol: 'TCP', reachability: new Reachability() },
          { port: 81, protocol: 'TCP', reachability: new Reachability().expectPeer({ namespace: 'x' }, {}, false) },
        ],
      },
    ],
  },
  {
    name: 'should enforce updated policy',
    ports: [81],
    protocols: ['TCP'],
    steps: [
      one(() => [gen('x', 'allow-all-mutate-to-deny-all', { matchLabels: {} }, { ingress: [{}] })], 81, 'TCP', new Reachability()),
      // UpdatePolicy: spec.ingress = [] (policyTypes stays [Ingress])
      one(
        () => [gen('x', 'allow-all-mutate-to-deny-all', { matchLabels: {} }, { ingress: [] })],
        81,
        'TCP',
        new Reachability().expectPeer({}, { namespace: 'x' }, false),
      ),
    ],
  },
  (() => {
    const policy = gen('x', 'allow-client-a-via-ns-selector', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }] });
    return {
      name: 'should allow ingress access from updated namespace',
      ports: [80],
      protocols: ['TCP'],
      steps: [
        tcp80([policy], new Reachability().expectAllIngress('x/a', false)),
        {
          policies: () => [policy],
          nsLabels: { y: { ns2: 'updated' } },
          probes: [{ port: 80, protocol: 'TCP', reachability: new Reachability().expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, {}, true) }],
        },
      ],
    } satisfies Case;
  })(),
  (() => {
    const policy = gen('x', 'allow-client-a-via-pod-selector', podLabel('a'), {
      ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }],
    });
    return {
      name: 'should allow ingress access from updated pod',
      ports: [80],
      protocols: ['TCP'],
      steps: [
        tcp80([policy], new Reachability().expectAllIngress('x/a', false)),
        {
          policies: () => [policy],
          podLabels: { 'x/b': { pod: 'b', pod2: 'updated' } },
          probes: [{ port: 80, protocol: 'TCP', reachability: new Reachability().expectAllIngress('x/a', false).expect('x/b', 'x/a', true) }],
        },
      ],
    } satisfies Case;
  })(),
  {
    name: 'should deny ingress from pods on other namespaces',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'deny-empty-policy', ALL_PODS, { ingress: [{ from: [{ podSelector: { matchLabels: {} } }] }] })],
        new Reachability().expectPeer({ namespace: 'y' }, { namespace: 'x' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x' }, false),
      ),
    ],
  },
  (() => {
    const policy = gen('x', 'deny-ingress-via-label-selector', { matchLabels: { target: 'isolated' } }, { ingress: [] });
    return {
      name: 'should deny ingress access to updated pod',
      ports: [80],
      protocols: ['TCP'],
      steps: [
        tcp80([policy], new Reachability()),
        {
          policies: () => [policy],
          podLabels: { 'x/a': { pod: 'a', target: 'isolated' } },
          probes: [{ port: 80, protocol: 'TCP', reachability: new Reachability().expectAllIngress('x/a', false) }],
        },
      ],
    } satisfies Case;
  })(),
  {
    name: 'should deny egress from pods based on PodSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [tcp80([gen('x', 'deny-egress-pod-a', podLabel('a'), { egress: [] })], new Reachability().expectAllEgress('x/a', false))],
  },
  {
    name: 'should deny egress from all pods in a namespace',
    ports: [80],
    protocols: ['TCP'],
    steps: [tcp80([gen('x', 'deny-egress-ns-x', ALL_PODS, { egress: [] })], new Reachability().expectPeer({ namespace: 'x' }, {}, false))],
  },
  {
    name: 'should work with Ingress, Egress specified together',
    ports: [80, 81],
    protocols: ['TCP'],
    steps: [
      {
        policies: () => [
          gen('x', 'allow-client-a-via-pod-selector', podLabel('a'), {
            ingress: [{ from: [{ podSelector: podLabel('b') }] }],
            egress: [{ ports: [{ port: 80 }] }],
            policyTypes: ['Egress', 'Ingress'],
          }),
        ],
        probes: [
          { port: 80, protocol: 'TCP', reachability: new Reachability().expectAllIngress('x/a', false).expect('x/b', 'x/a', true) },
          {
            port: 81,
            protocol: 'TCP',
            reachability: new Reachability().expectAllIngress('x/a', false).expectAllEgress('x/a', false).expect('x/b', 'x/a', true),
          },
        ],
      },
    ],
  },
  {
    name: 'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-to-ns-y-pod-a', podLabel('a'), { egress: [{ to: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] }] }),
          gen('y', 'allow-from-xa-on-ya-match-selector', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: nsLabel('x'), podSelector: podLabel('a') }] }] }),
          gen('y', 'allow-from-xa-on-yb-match-selector', podLabel('b'), { ingress: [{ from: [{ namespaceSelector: nsLabel('x'), podSelector: podLabel('a') }] }] }),
        ],
        new Reachability()
          .expectPeer({ namespace: 'x', pod: 'a' }, {}, false)
          .expectPeer({}, { namespace: 'y', pod: 'a' }, false)
          .expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y', pod: 'a' }, true)
          .expectPeer({}, { namespace: 'y', pod: 'b' }, false),
      ),
    ],
  },
  {
    name: 'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'allow-to-ns-y-pod-a', podLabel('a'), { egress: [{ to: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] }] })],
        new Reachability().expectAllEgress('x/a', false).expect('x/a', 'y/a', true),
      ),
    ],
  },
  {
    name: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    ports: [80],
    protocols: ['TCP', 'UDP'],
    steps: [
      {
        policies: () => [gen('x', 'allow-ingress-by-proto', podLabel('a'), { ingress: [{ ports: [{ protocol: 'TCP' }] }] })],
        probes: [
          { port: 80, protocol: 'TCP', reachability: new Reachability() },
          { port: 80, protocol: 'UDP', reachability: new Reachability().expectPeer({}, { namespace: 'x', pod: 'a' }, false) },
        ],
      },
    ],
  },
  (() => {
    const only80 = gen('x', 'allow-ingress-port-80', { matchLabels: {} }, { ingress: [{ ports: [{ port: 80 }] }] });
    return {
      name: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
      ports: [81],
      protocols: ['TCP'],
      steps: [
        one(() => [only80], 81, 'TCP', new Reachability().expectPeer({}, { namespace: 'x' }, false)),
        one(() => [only80, gen('x', 'allow-ingress', { matchLabels: {} }, { ingress: [{}] })], 81, 'TCP', new Reachability()),
      ],
    } satisfies Case;
  })(),
  (() => {
    const only80 = gen('x', 'allow-egress-port-80', { matchLabels: {} }, { egress: [{ ports: [{ port: 80 }] }] });
    return {
      name: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
      ports: [81],
      protocols: ['TCP'],
      steps: [
        one(() => [only80], 81, 'TCP', new Reachability().expectPeer({ namespace: 'x' }, {}, false)),
        one(() => [only80, gen('x', 'allow-egress', { matchLabels: {} }, { egress: [{}] })], 81, 'TCP', new Reachability()),
      ],
    } satisfies Case;
  })(),
  {
    name: 'should stop enforcing policies after they are deleted',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'deny-all', ALL_PODS, { ingress: [], egress: [] })],
        new Reachability().expectPeer({ namespace: 'x' }, {}, false).expectPeer({}, { namespace: 'x' }, false),
      ),
      tcp80([], new Reachability()),
    ],
  },
  {
    name: 'should allow egress access to server in CIDR block',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      one(
        (f) => [
          gen('x', 'allow-client-a-via-cidr-egress-rule', podLabel('a'), {
            egress: [{ to: [{ ipBlock: { cidr: `${podIp('y/b', f)}/${f === 4 ? 32 : 128}` } }] }],
          }),
        ],
        80,
        'TCP',
        new Reachability().expectAllEgress('x/a', false).expect('x/a', 'y/b', true),
      ),
    ],
  },
  {
    name: 'should enforce except clause while egress access to server in CIDR block',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      one(
        (f) => [
          gen('x', 'allow-client-a-via-cidr-egress-rule', podLabel('a'), {
            egress: [{ to: [{ ipBlock: { cidr: `${podIp('x/a', f)}/4`, except: [`${podIp('x/b', f)}/${f === 4 ? 32 : 128}`] } }] }],
          }),
        ],
        80,
        'TCP',
        new Reachability().expect('x/a', 'x/b', false),
      ),
    ],
  },
  {
    name: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      one(
        (f) => [
          gen('x', 'allow-client-a-via-cidr-egress-rule', podLabel('a'), {
            egress: [{ to: [{ ipBlock: { cidr: `${podIp('x/a', f)}/4`, except: [`${podIp('x/b', f)}/${f === 4 ? 32 : 128}`] } }] }],
          }),
        ],
        80,
        'TCP',
        new Reachability().expect('x/a', 'x/b', false),
      ),
      // UpdatePolicy with the same name: the policy is replaced as a whole
      one(
        (f) => [
          gen('x', 'allow-client-a-via-cidr-egress-rule', podLabel('a'), {
            egress: [{ to: [{ ipBlock: { cidr: `${podIp('x/b', f)}/${f === 4 ? 32 : 128}` } }] }],
          }),
        ],
        80,
        'TCP',
        new Reachability().expectAllEgress('x/a', false).expect('x/a', 'x/b', true),
      ),
    ],
  },
  (() => {
    const allowEgress = gen('x', 'allow-egress-for-target', podLabel('a'), { egress: [{}] });
    return {
      name: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
      ports: [80],
      protocols: ['TCP'],
      steps: [
        tcp80([allowEgress], new Reachability()),
        tcp80([allowEgress, gen('x', 'deny-ingress-via-label-selector', podLabel('a'), { ingress: [] })], new Reachability().expectAllIngress('x/a', false)),
      ],
    } satisfies Case;
  })(),
  {
    name: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    ports: [81],
    protocols: ['TCP'],
    steps: [
      one(
        () => [
          gen('x', 'deny-ingress', ALL_PODS, { ingress: [] }),
          gen('x', 'allow-only-sctp-ingress-on-port-81', podLabel('a'), { ingress: [{ ports: [{ port: 81, protocol: 'SCTP' }] }] }),
        ],
        81,
        'TCP',
        new Reachability().expectPeer({}, { namespace: 'x' }, false),
      ),
    ],
  },
  {
    name: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    ports: [81],
    protocols: ['TCP'],
    steps: [
      one(
        () => [gen('x', 'allow-only-sctp-ingress-on-port-80', podLabel('a'), { ingress: [{ ports: [{ port: 80, protocol: 'SCTP' }] }] })],
        81,
        'TCP',
        new Reachability().expectAllIngress('x/a', false),
      ),
    ],
  },
  {
    name: 'should not allow access by TCP when a policy specifies only UDP',
    ports: [81],
    protocols: ['TCP'],
    steps: [
      one(
        () => [gen('x', 'allow-only-udp-ingress-on-port-81', podLabel('a'), { ingress: [{ ports: [{ port: 81, protocol: 'UDP' }] }] })],
        81,
        'TCP',
        new Reachability().expectAllIngress('x/a', false),
      ),
    ],
  },
  {
    name: 'should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [gen('x', 'allow-client-a-via-ns-selector-for-immutable-ns-label', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: nsLabel('y') }] }] })],
        new Reachability().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  },
  {
    name: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label',
    ports: [80],
    protocols: ['TCP'],
    steps: [
      tcp80(
        [
          gen('x', 'allow-ns-y-match-selector-for-immutable-ns-label', podLabel('a'), {
            egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['y'] }] } }] }],
          }),
        ],
        new Reachability().expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y' }, false),
      ),
    ],
  },
  // ---- "NetworkPolicy between server and client using UDP" and "... using SCTP" ----
  ...(['UDP', 'SCTP'] as const).flatMap((proto): Case[] => [
    {
      name: `[${proto}] should support a 'default-deny-ingress' policy`,
      ports: [80],
      protocols: [proto],
      steps: [one(() => [gen('x', 'deny-all', ALL_PODS, { ingress: [] })], 80, proto, new Reachability().expectPeer({}, { namespace: 'x' }, false))],
    },
    {
      name: `[${proto}] should enforce policy based on Ports`,
      ports: [81],
      protocols: [proto],
      steps: [
        one(
          () => [gen('x', 'allow-ingress-on-port-81-ns-x', podLabel('a'), { ingress: [ingressFromNsYPort(81, proto)] })],
          81,
          proto,
          new Reachability().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
        ),
      ],
    },
    {
      name: `[${proto}] should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector`,
      ports: [80],
      protocols: [proto],
      steps: [
        one(
          () => [
            gen('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', podLabel('a'), {
              ingress: [{ from: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] }],
            }),
          ],
          80,
          proto,
          new Reachability().expectAllIngress('x/a', false).expect('y/a', 'x/a', true),
        ),
      ],
    },
  ]),
];

describe('upstream e2e netpol truth tables (kubernetes test/e2e/network/netpol/network_policy.go)', () => {
  it('derives at least 25 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });
  for (const family of [4, 6] as const) {
    describe(`IPv${family}`, () => {
      for (const c of CASES) it(c.name, () => run(c, family));
    });
  }
});
