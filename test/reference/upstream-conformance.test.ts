/**
 * Table tests derived from the network-policy-api conformance suite
 * (kubernetes-sigs/network-policy-api conformance/tests and conformance/base; summarized in
 * docs/reference/network-policy-api.md §2.2-§2.4). Manifests read from the stored upstream files:
 * base/manifests.yaml (5 houses; centaur is hostNetwork; containerPorts web = TCP 80, dns = UDP 53),
 * base/admin_tier/standard-{ingress,egress}-{tcp,udp,sctp}-rules.yaml, standard-egress-inline-cidr-rules.yaml,
 * standard-priority-field.yaml, experimental-egress-selector-rules.yaml, api_integration/standard-anp-np-banp.yaml,
 * and the tests' PokeServer steps (patches are cumulative, as upstream Get-then-Patch makes them).
 * The stored manifests are in transition between API versions (`ports` / `protocols`, v1alpha2 / v1beta1);
 * they are written here in the v1alpha2 shape this repository loads (`protocols`, `Accept`).
 *
 * The pods: <statefulset>-0 runs on node kind-worker, -1 on kind-worker2; centaur-N (hostNetwork) has
 * its node's address. Every test runs on an IPv4 and an IPv6 cluster, as upstream CI does.
 */
import { describe, expect, it } from 'vitest';
import type { Family } from '../../src/model/ip.js';
import type { Protocol } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { compile } from '../../src/index.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import type { DirectionVerdict } from '../../src/model/verdict.js';
import { canonical } from '../engine/compare.js';
import { clusterNetworkPolicy, clusterOf, namespace, networkPolicy, node, pod, yamlOf, type Obj } from './fixtures.js';

const HOUSES = {
  gryffindor: 'harry-potter',
  slytherin: 'draco-malfoy',
  hufflepuff: 'cedric-diggory',
  ravenclaw: 'luna-lovegood',
} as const;
type House = keyof typeof HOUSES;
const NS = (h: string) => `network-policy-conformance-${h}`;
const HOUSE_INDEX: Record<string, number> = { gryffindor: 1, slytherin: 2, hufflepuff: 3, ravenclaw: 4 };

const nodeIp = (i: number, f: Family) => (f === 4 ? `10.244.100.${i + 1}` : `fd00:10:244:100::${i + 1}`);
const podIp = (house: string, i: number, f: Family) =>
  f === 4 ? `10.244.${HOUSE_INDEX[house]}.${10 + i}` : `fd00:10:244:${HOUSE_INDEX[house]}::${10 + i}`;

/** base/manifests.yaml as the cluster shows it once the StatefulSets run. */
function topology(f: Family, nsLabelOverrides: Record<string, Record<string, string>> = {}): Obj[] {
  const objs: Obj[] = [];
  for (const h of [...Object.keys(HOUSES), 'forbidden-forrest']) {
    objs.push(namespace(NS(h), nsLabelOverrides[h] ?? { 'conformance-house': h }));
  }
  for (const [h, set] of Object.entries(HOUSES)) {
    for (const i of [0, 1]) {
      objs.push(
        pod(NS(h), `${set}-${i}`, {
          labels: { 'conformance-house': h },
          ips: [podIp(h, i, f)],
          nodeName: i === 0 ? 'kind-worker' : 'kind-worker2',
          ports: [
            ['web', 80, 'TCP'],
            [undefined, 8080, 'TCP'],
            [undefined, 5353, 'UDP'],
            ['dns', 53, 'UDP'],
          ],
        }),
      );
    }
  }
  for (const i of [0, 1]) {
    objs.push(
      pod(NS('forbidden-forrest'), `centaur-${i}`, {
        labels: { 'conformance-house': 'forbidden-forrest' },
        hostNetwork: true,
        ips: [nodeIp(i, f)],
        nodeName: i === 0 ? 'kind-worker' : 'kind-worker2',
        ports: [['dns', 53, 'UDP']],
      }),
    );
    objs.push(node(i === 0 ? 'kind-worker' : 'kind-worker2', { 'kubernetes.io/os': 'linux' }, [nodeIp(i, f)]));
  }
  return objs;
}

// ---- policy shapes ----------------------------------------------------------------------------

const nsByName = (h: string) => ({ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': NS(h) } } });
const houseOf = (h: string) => ({ matchLabels: { 'conformance-house': h } });
const housePods = (h: string) => ({ pods: { namespaceSelector: houseOf(h), podSelector: houseOf(h) } });
const port = (protocol: Protocol, number: number) => ({ [protocol.toLowerCase()]: { destinationPort: { number } } });

interface Gress {
  direction: 'ingress' | 'egress';
  subject: House;
  protocol: Protocol;
  /** the "friend" house: Accept / Deny / Pass everything */
  friend: House;
  /** the partial house: Deny / Pass on sPort */
  partial: House;
  sPort: number;
  /** the port house: Accept on hPort, Deny everything else */
  portHouse: House;
  hPort: number;
}

/** standard-{ingress,egress}-<proto>-rules.yaml: 7 rules in the Admin tier, 5 (no Pass) in Baseline. */
function gressRules(g: Gress, tier: 'Admin' | 'Baseline'): Obj[] {
  const peerKey = g.direction === 'ingress' ? 'from' : 'to';
  const verb = g.direction === 'ingress' ? 'from' : 'to';
  const rule = (name: string, action: string, house: House, p?: number): Obj => ({
    name,
    action,
    [peerKey]: [nsByName(house)],
    ...(p !== undefined ? { protocols: [port(g.protocol, p)] } : {}),
  });
  const lc = g.protocol.toLowerCase();
  const all: (Obj | null)[] = [
    rule(`allow-${verb}-${g.friend}-everything`, 'Accept', g.friend),
    rule(`deny-${verb}-${g.friend}-everything`, 'Deny', g.friend),
    tier === 'Admin' ? rule(`pass-${verb}-${g.friend}-everything`, 'Pass', g.friend) : null,
    rule(`deny-${verb}-${g.partial}-at-${lc}-${g.sPort}`, 'Deny', g.partial, g.sPort),
    tier === 'Admin' ? rule(`pass-${verb}-${g.partial}-at-${lc}-${g.sPort}`, 'Pass', g.partial, g.sPort) : null,
    rule(`allow-${verb}-${g.portHouse}-at-${lc}-${g.hPort}`, 'Accept', g.portHouse, g.hPort),
    rule(`deny-${verb}-${g.portHouse}-everything-else`, 'Deny', g.portHouse),
  ];
  return all.filter((r): r is Obj => r !== null);
}

const PORTS: Record<Protocol, [number, number]> = { TCP: [80, 8080], UDP: [53, 5353], SCTP: [9003, 9005] };
const otherPort = (p: Protocol, n: number) => (PORTS[p][0] === n ? PORTS[p][1] : PORTS[p][0]);

// ---- steps --------------------------------------------------------------------------------------

interface State {
  cnps: Obj[];
  nps: Obj[];
  nsLabels: Record<string, Record<string, string>>;
}
interface Poke {
  client: string; // ns-less pod name, e.g. luna-lovegood-0
  server: string;
  protocol: Protocol;
  port: number;
  connect: boolean;
}
interface Step {
  name: string;
  mutate?: (s: State) => void;
  pokes: Poke[];
}
interface ConformanceCase {
  shortName: string;
  initial: () => State;
  steps: Step[];
}

const POD_HOUSE: Record<string, string> = {
  'harry-potter': 'gryffindor',
  'draco-malfoy': 'slytherin',
  'cedric-diggory': 'hufflepuff',
  'luna-lovegood': 'ravenclaw',
  centaur: 'forbidden-forrest',
};
const nsOfPod = (name: string) => NS(POD_HOUSE[name.replace(/-\d$/, '')]!);
const poke = (client: string, server: string, protocol: Protocol, p: number, connect: boolean): Poke => ({ client, server, protocol, port: p, connect });

const cnpOf = (s: State, name: string) => s.cnps.find((c) => (c.metadata as { name: string }).name === name)!;
const rulesOf = (s: State, name: string, d: 'ingress' | 'egress') => (cnpOf(s, name).spec as Record<string, Obj[]>)[d]!;
function swap(s: State, name: string, d: 'ingress' | 'egress', i: number, j: number): void {
  const r = rulesOf(s, name, d);
  [r[i], r[j]] = [r[j]!, r[i]!];
}

function runCase(c: ConformanceCase, f: Family): void {
  const state = structuredClone(c.initial());
  for (const step of c.steps) {
    step.mutate?.(state);
    const ev = new ReferenceEvaluator(clusterOf([...topology(f, state.nsLabels), ...state.cnps, ...state.nps]));
    const ipOf = (name: string) => ev.cluster.pods.find((p) => p.namespace === nsOfPod(name) && p.name === name)!.ips[0]!;
    const wrong: string[] = [];
    for (const k of step.pokes) {
      const v = ev.evaluate({ src: ipOf(k.client), dst: ipOf(k.server), protocol: k.protocol, dstPort: k.port });
      if ((v.verdict === 'allow') !== k.connect) {
        wrong.push(`${k.client} -> ${k.server} ${k.protocol}/${k.port}: expected ${k.connect ? 'allow' : 'deny'}, got ${v.verdict}`);
      }
    }
    expect(wrong, step.name).toEqual([]);
  }
}

// ---- the 7-rule / 5-rule tests ----------------------------------------------------------------

const podsOf = (h: House) => [`${HOUSES[h]}-0`, `${HOUSES[h]}-1`] as const;

/** The t.Run steps of CNPAdminTier{Ingress,Egress}{TCP,UDP,SCTP} (and the Baseline subset). */
function gressCase(shortName: string, policyName: string, priority: number, g: Gress, tier: 'Admin' | 'Baseline'): ConformanceCase {
  const [n0, n1] = podsOf(g.subject);
  const [f0, f1] = podsOf(g.friend);
  const [s0, s1] = podsOf(g.partial);
  const [h0, h1] = podsOf(g.portHouse);
  const [a, b] = PORTS[g.protocol];
  const P = g.protocol;
  // ingress: the peer is the client, the subject the server; egress: the other way round
  const pk = (peer: string, subj: string, p: number, connect: boolean) =>
    g.direction === 'ingress' ? poke(peer, subj, P, p, connect) : poke(subj, peer, P, p, connect);
  const steps: Step[] = [
    { name: `allow-${g.direction} ${P}: rule ordering (Accept [0] before Deny [1])`, pokes: [pk(f0, n0, a, true), pk(f1, n0, b, true)] },
    {
      name: `allow-${g.direction} ${P} at the specified port`,
      pokes: [pk(h0, n1, g.hPort, true), pk(h1, n1, otherPort(P, g.hPort), false)],
    },
  ];
  if (g.direction === 'ingress' && P === 'TCP' && tier === 'Admin') {
    steps.push({
      name: 'does not affect egress traffic when only ingress rules are specified',
      pokes: [poke(n0, f0, 'TCP', 80, true), poke(n1, s0, 'TCP', 80, true)],
    });
  }
  steps.push(
    {
      name: `deny-${g.direction} ${P}: swap rules [0] and [1]`,
      mutate: (s) => swap(s, policyName, g.direction, 0, 1),
      pokes: [pk(f0, n1, a, false), pk(f1, n1, b, false)],
    },
    {
      name: `deny-${g.direction} ${P} at the specified port`,
      pokes: [pk(s0, n0, g.sPort, false), pk(s1, n0, otherPort(P, g.sPort), true)],
    },
  );
  if (tier === 'Admin') {
    steps.push(
      {
        name: `pass-${g.direction} ${P}: swap rules [0] and [2]`,
        mutate: (s) => swap(s, policyName, g.direction, 0, 2),
        pokes: [pk(f0, n0, a, true), pk(f1, n0, b, true)],
      },
      {
        name: `pass-${g.direction} ${P} at the specified port: swap rules [3] and [4]`,
        mutate: (s) => swap(s, policyName, g.direction, 3, 4),
        pokes: [pk(s0, n0, g.sPort, true), pk(s1, n0, otherPort(P, g.sPort), true)],
      },
    );
  }
  return {
    shortName,
    initial: () => ({
      cnps: [
        clusterNetworkPolicy(policyName, {
          tier,
          priority,
          subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': NS(g.subject) } } },
          [g.direction]: gressRules(g, tier),
        }),
      ],
      nps: [],
      nsLabels: {},
    }),
    steps,
  };
}

// subjects, priorities and houses per network-policy-api.md §2.4 and the stored manifests
const GRESS: { key: string; name: string; priority: number; g: Gress }[] = [
  { key: 'IngressTCP', name: 'ingress-tcp', priority: 3, g: { direction: 'ingress', subject: 'gryffindor', protocol: 'TCP', friend: 'ravenclaw', partial: 'slytherin', sPort: 80, portHouse: 'hufflepuff', hPort: 80 } },
  { key: 'IngressUDP', name: 'ingress-udp', priority: 4, g: { direction: 'ingress', subject: 'hufflepuff', protocol: 'UDP', friend: 'ravenclaw', partial: 'slytherin', sPort: 5353, portHouse: 'gryffindor', hPort: 53 } },
  { key: 'IngressSCTP', name: 'ingress-sctp', priority: 5, g: { direction: 'ingress', subject: 'ravenclaw', protocol: 'SCTP', friend: 'gryffindor', partial: 'slytherin', sPort: 9003, portHouse: 'hufflepuff', hPort: 9003 } },
  { key: 'EgressTCP', name: 'egress-tcp', priority: 6, g: { direction: 'egress', subject: 'gryffindor', protocol: 'TCP', friend: 'ravenclaw', partial: 'slytherin', sPort: 80, portHouse: 'hufflepuff', hPort: 8080 } },
  { key: 'EgressUDP', name: 'egress-udp', priority: 7, g: { direction: 'egress', subject: 'hufflepuff', protocol: 'UDP', friend: 'ravenclaw', partial: 'slytherin', sPort: 5353, portHouse: 'gryffindor', hPort: 53 } },
  { key: 'EgressSCTP', name: 'egress-sctp', priority: 8, g: { direction: 'egress', subject: 'ravenclaw', protocol: 'SCTP', friend: 'gryffindor', partial: 'slytherin', sPort: 9003, portHouse: 'hufflepuff', hPort: 9003 } },
];

/** CNP{Admin,Baseline}Tier{Egress,Ingress}NamedPort: rule "accept the port house at hPort" rewritten to a named port. */
function namedPortCase(shortName: string, tier: 'Admin' | 'Baseline', key: string, portName: string, expectAllow: number, expectDeny: number): ConformanceCase {
  const spec = GRESS.find((x) => x.key === key)!;
  const base = gressCase(shortName, tier === 'Admin' ? spec.name : 'default', tier === 'Admin' ? spec.priority : 10, spec.g, tier);
  const ruleIndex = tier === 'Admin' ? 5 : 3;
  const g = spec.g;
  const [n0, n1] = podsOf(g.subject);
  const [h0, h1] = podsOf(g.portHouse);
  const pk = (peer: string, subj: string, p: number, connect: boolean) =>
    g.direction === 'ingress' ? poke(peer, subj, g.protocol, p, connect) : poke(subj, peer, g.protocol, p, connect);
  return {
    shortName,
    initial: base.initial,
    steps: [
      {
        name: `${g.direction} rule [${ruleIndex}] protocols -> destinationNamedPort: ${portName}`,
        mutate: (s) => {
          const r = rulesOf(s, tier === 'Admin' ? spec.name : 'default', g.direction)[ruleIndex]!;
          r.protocols = [{ destinationNamedPort: portName }];
        },
        pokes: [pk(h0, n0, expectAllow, true), pk(h1, n1, expectDeny, false)],
      },
    ],
  };
}

/** CNP{Admin,Baseline}TierGress: standard-gress-rules-combined.yaml, both directions, three protocols per rule. */
function gressCombinedCase(shortName: string, tier: 'Admin' | 'Baseline'): ConformanceCase {
  const name = tier === 'Admin' ? 'gress-rules' : 'default';
  const ports = (tcp: number, udp: number, sctp: number) => [port('TCP', tcp), port('UDP', udp), port('SCTP', sctp)];
  const rules = (d: 'ingress' | 'egress'): Obj[] => {
    const k = d === 'ingress' ? 'from' : 'to';
    const all: (Obj | null)[] = [
      { name: 'allow-ravenclaw-everything', action: 'Accept', [k]: [nsByName('ravenclaw')] },
      { name: 'deny-ravenclaw-everything', action: 'Deny', [k]: [nsByName('ravenclaw')] },
      tier === 'Admin' ? { name: 'pass-ravenclaw-everything', action: 'Pass', [k]: [nsByName('ravenclaw')] } : null,
      { name: 'deny-slytherin-at-80-53-9003', action: 'Deny', [k]: [nsByName('slytherin')], protocols: ports(80, 53, 9003) },
      tier === 'Admin' ? { name: 'pass-slytherin-at-80-53-9003', action: 'Pass', [k]: [nsByName('slytherin')], protocols: ports(80, 53, 9003) } : null,
      d === 'egress'
        ? { name: 'allow-hufflepuff-at-8080-5353-9003', action: 'Accept', [k]: [nsByName('hufflepuff')], protocols: ports(8080, 5353, 9003) }
        : { name: 'allow-hufflepuff-at-80-5353-9003', action: 'Accept', [k]: [nsByName('hufflepuff')], protocols: ports(80, 5353, 9003) },
      { name: 'deny-hufflepuff-everything-else', action: 'Deny', [k]: [nsByName('hufflepuff')] },
    ];
    return all.filter((r): r is Obj => r !== null);
  };
  const both = (i: number, j: number) => (st: State) => {
    swap(st, name, 'egress', i, j);
    swap(st, name, 'ingress', i, j);
  };
  const H0 = 'harry-potter-0';
  const H1 = 'harry-potter-1';
  const steps: Step[] = [
    {
      name: "'allow-gress' across different protocols",
      pokes: [
        poke(H0, 'luna-lovegood-0', 'TCP', 80, true), poke(H1, 'luna-lovegood-0', 'UDP', 53, true), poke(H0, 'luna-lovegood-0', 'SCTP', 9003, true),
        poke('luna-lovegood-0', H0, 'TCP', 80, true), poke('luna-lovegood-1', H0, 'UDP', 53, true), poke('luna-lovegood-1', H0, 'SCTP', 9003, true),
      ],
    },
    {
      name: "'allow-gress' across different protocols at the specified ports",
      pokes: [
        poke(H0, 'cedric-diggory-1', 'TCP', 8080, true), poke(H1, 'cedric-diggory-1', 'TCP', 80, false),
        poke(H0, 'cedric-diggory-1', 'UDP', 5353, true), poke(H1, 'cedric-diggory-1', 'UDP', 53, false),
        poke(H0, 'cedric-diggory-1', 'SCTP', 9003, true), poke(H1, 'cedric-diggory-1', 'SCTP', 9005, false),
        poke('cedric-diggory-0', H1, 'TCP', 80, true), poke('cedric-diggory-1', H1, 'TCP', 8080, false),
        poke('cedric-diggory-0', H1, 'UDP', 5353, true), poke('cedric-diggory-1', H1, 'UDP', 53, false),
        poke('cedric-diggory-0', H1, 'SCTP', 9003, true), poke('cedric-diggory-1', H1, 'SCTP', 9005, false),
      ],
    },
    {
      name: "'deny-gress' across different protocols: swap [0] and [1] in both directions",
      mutate: both(0, 1),
      pokes: [
        poke(H0, 'luna-lovegood-1', 'TCP', 80, false), poke(H1, 'luna-lovegood-1', 'UDP', 53, false), poke(H0, 'luna-lovegood-1', 'SCTP', 9003, false),
        poke('luna-lovegood-0', H1, 'TCP', 80, false), poke('luna-lovegood-1', H1, 'UDP', 53, false), poke('luna-lovegood-1', H1, 'SCTP', 9003, false),
      ],
    },
    {
      name: "'deny-gress' across different protocols at the specified ports",
      pokes: [
        poke(H0, 'draco-malfoy-0', 'TCP', 80, false), poke(H1, 'draco-malfoy-0', 'TCP', 8080, true),
        poke(H0, 'draco-malfoy-0', 'UDP', 53, false), poke(H1, 'draco-malfoy-0', 'UDP', 5353, true),
        poke(H0, 'draco-malfoy-0', 'SCTP', 9003, false), poke(H1, 'draco-malfoy-0', 'SCTP', 9005, true),
        poke('draco-malfoy-0', H0, 'TCP', 80, false), poke('draco-malfoy-1', H0, 'TCP', 8080, true),
        poke('draco-malfoy-0', H0, 'UDP', 53, false), poke('draco-malfoy-1', H0, 'UDP', 5353, true),
        poke('draco-malfoy-0', H0, 'SCTP', 9003, false), poke('draco-malfoy-1', H0, 'SCTP', 9005, true),
      ],
    },
  ];
  if (tier === 'Admin') {
    steps.push(
      {
        name: "'pass-gress' across different protocols: swap [0] and [2] in both directions",
        mutate: both(0, 2),
        pokes: [
          poke(H0, 'luna-lovegood-0', 'TCP', 80, true), poke(H0, 'luna-lovegood-0', 'UDP', 5353, true), poke(H0, 'luna-lovegood-0', 'SCTP', 9003, true),
          poke('luna-lovegood-0', H0, 'TCP', 80, true), poke('luna-lovegood-1', H0, 'UDP', 53, true), poke('luna-lovegood-1', H0, 'SCTP', 9003, true),
        ],
      },
      {
        name: "'pass-gress' across different protocols at the specified ports: swap [3] and [4]",
        mutate: both(3, 4),
        pokes: [
          poke(H0, 'draco-malfoy-0', 'TCP', 80, true), poke(H1, 'draco-malfoy-0', 'TCP', 8080, true),
          poke(H0, 'draco-malfoy-0', 'UDP', 53, true), poke(H1, 'draco-malfoy-0', 'UDP', 5353, true),
          poke(H0, 'draco-malfoy-0', 'SCTP', 9003, true), poke(H1, 'draco-malfoy-0', 'SCTP', 9005, true),
          poke('draco-malfoy-0', H0, 'TCP', 80, true), poke('draco-malfoy-1', H0, 'TCP', 8080, true),
          poke('draco-malfoy-0', H0, 'UDP', 53, true), poke('draco-malfoy-1', H0, 'UDP', 5353, true),
          poke('draco-malfoy-0', H0, 'SCTP', 9003, true), poke('draco-malfoy-1', H0, 'SCTP', 9005, true),
        ],
      },
    );
  }
  return {
    shortName,
    initial: () => ({
      cnps: [
        clusterNetworkPolicy(name, {
          tier,
          priority: tier === 'Admin' ? 15 : 10,
          subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': NS('gryffindor') } } },
          egress: rules('egress'),
          ingress: rules('ingress'),
        }),
      ],
      nps: [],
      nsLabels: {},
    }),
    steps,
  };
}

const gryffindorPods = { pods: { namespaceSelector: houseOf('gryffindor'), podSelector: houseOf('gryffindor') } };

function inlineCidrCase(shortName: string, tier: 'Admin' | 'Baseline'): ConformanceCase {
  const name = tier === 'Admin' ? 'inline-cidr-as-peers-example' : 'default';
  const three = (server: string, connect: boolean): Poke[] => [
    poke('harry-potter-1', server, 'TCP', 80, connect),
    poke('harry-potter-1', server, 'UDP', 53, connect),
    poke('harry-potter-1', server, 'SCTP', 9003, connect),
  ];
  return {
    shortName,
    initial: () => ({
      cnps: [
        clusterNetworkPolicy(name, {
          tier,
          priority: tier === 'Admin' ? 85 : 10,
          subject: gryffindorPods,
          egress: [
            { name: 'allow-egress-to-slytherin', action: 'Accept', to: [housePods('slytherin')] },
            { name: 'deny-egress-to-internet', action: 'Deny', to: [{ networks: ['0.0.0.0/0', '::/0'] }] },
          ],
        }),
      ],
      nps: [],
      nsLabels: {},
    }),
    steps: [
      {
        name: "'deny-egress' rule for egress-cidr-peer: networks also match pod IPs; slytherin accepted first",
        pokes: [...three('luna-lovegood-0', false), ...three('cedric-diggory-0', false), ...three('draco-malfoy-0', true)],
      },
      {
        // network-policy-api.md §2.4: relabel the slytherin namespace -> the Accept no longer matches
        name: 'relabel the slytherin namespace: the pods peer no longer matches, networks Deny applies',
        mutate: (s) => {
          s.nsLabels.slytherin = { 'conformance-house': 'slytherin-relabelled' };
        },
        pokes: three('draco-malfoy-0', false),
      },
      {
        name: 'restore the slytherin label: accepted again',
        mutate: (s) => {
          delete s.nsLabels.slytherin;
        },
        pokes: three('draco-malfoy-0', true),
      },
      {
        name: "'allow-egress' rule for egress-cidr-peer: prepend Accept networks [luna-lovegood-0, cedric-diggory-0]",
        mutate: (s) => {
          const cnp = cnpOf(s, name).spec as Record<string, Obj[]>;
          const f = (s as State & { family: Family }).family;
          const mask = f === 4 ? '/32' : '/128';
          cnp.egress = [
            {
              name: 'allow-egress-to-specific-podIPs',
              action: 'Accept',
              to: [{ networks: [podIp('ravenclaw', 0, f) + mask, podIp('hufflepuff', 0, f) + mask] }],
            },
            ...cnp.egress!,
          ];
        },
        pokes: [...three('luna-lovegood-0', true), ...three('cedric-diggory-0', true), ...three('luna-lovegood-1', false), ...three('cedric-diggory-1', false)],
      },
    ],
  };
}

const CASES: ((f: Family) => ConformanceCase)[] = [
  ...GRESS.map((x) => () => gressCase(`CNPAdminTier${x.key}`, x.name, x.priority, x.g, 'Admin')),
  ...GRESS.map((x) => () => gressCase(`CNPBaselineTier${x.key}`, 'default', 10, x.g, 'Baseline')),
  () => gressCombinedCase('CNPAdminTierGress', 'Admin'),
  () => gressCombinedCase('CNPBaselineTierGress', 'Baseline'),
  () => namedPortCase('CNPAdminTierEgressNamedPort', 'Admin', 'EgressTCP', 'web', 80, 8080),
  () => namedPortCase('CNPAdminTierIngressNamedPort', 'Admin', 'IngressUDP', 'dns', 53, 5353),
  () => namedPortCase('CNPBaselineTierEgressNamedPort', 'Baseline', 'EgressUDP', 'dns', 53, 5353),
  () => namedPortCase('CNPBaselineTierIngressNamedPort', 'Baseline', 'IngressTCP', 'web', 80, 8080),
  (f) => withFamily(inlineCidrCase('CNPAdminTierEgressInlineCIDRPeers', 'Admin'), f),
  (f) => withFamily(inlineCidrCase('CNPBaselineTierEgressInlineCIDRPeers', 'Baseline'), f),
  () => ({
    shortName: 'CNPAdminTierPriorityField',
    initial: () => {
      const both = (action: string, verbIn: string, verbOut: string) => ({
        ingress: [{ name: `${verbIn}-all-ingress-from-slytherin`, action, from: [housePods('slytherin')] }],
        egress: [{ name: `${verbOut}-all-egress-to-slytherin`, action, to: [housePods('slytherin')] }],
      });
      return {
        cnps: [
          clusterNetworkPolicy('priority-50-example', { tier: 'Admin', priority: 50, subject: gryffindorPods, ...both('Deny', 'deny', 'deny') }),
          clusterNetworkPolicy('old-priority-60-new-priority-40-example', { tier: 'Admin', priority: 60, subject: gryffindorPods, ...both('Pass', 'pass', 'pass') }),
          clusterNetworkPolicy('default', { tier: 'Baseline', priority: 10, subject: gryffindorPods, ...both('Accept', 'allow', 'allow') }),
        ],
        nps: [],
        nsLabels: {},
      };
    },
    steps: [
      {
        name: 'Deny traffic from slytherin to gryffindor respecting admin CNP (50 before 60)',
        pokes: [poke('draco-malfoy-0', 'harry-potter-0', 'TCP', 80, false), poke('draco-malfoy-1', 'harry-potter-0', 'TCP', 8080, false)],
      },
      {
        name: 'Deny traffic to slytherin from gryffindor respecting admin CNP',
        pokes: [poke('harry-potter-0', 'draco-malfoy-0', 'TCP', 80, false), poke('harry-potter-1', 'draco-malfoy-0', 'TCP', 8080, false)],
      },
      {
        name: 'priority 60 -> 40: Pass wins, the Baseline Accept applies in both directions',
        mutate: (s) => {
          (cnpOf(s, 'old-priority-60-new-priority-40-example').spec as { priority: number }).priority = 40;
        },
        pokes: [
          poke('draco-malfoy-0', 'harry-potter-0', 'TCP', 80, true),
          poke('draco-malfoy-1', 'harry-potter-0', 'TCP', 8080, true),
          poke('harry-potter-0', 'draco-malfoy-0', 'TCP', 80, true),
          poke('harry-potter-1', 'draco-malfoy-0', 'TCP', 8080, true),
        ],
      },
    ],
  }),
  () => ({
    shortName: 'CNPAdminTierIntegration',
    initial: () => {
      const denyBoth = {
        ingress: [{ name: 'deny-all-ingress-from-slytherin', action: 'Deny', from: [{ namespaces: houseOf('slytherin') }] }],
        egress: [{ name: 'deny-all-egress-to-slytherin', action: 'Deny', to: [{ namespaces: houseOf('slytherin') }] }],
      };
      return {
        cnps: [
          clusterNetworkPolicy('pass-example', { tier: 'Admin', priority: 10, subject: { namespaces: houseOf('gryffindor') }, ...structuredClone(denyBoth) }),
          clusterNetworkPolicy('default', { tier: 'Baseline', priority: 10, subject: { namespaces: houseOf('gryffindor') }, ...structuredClone(denyBoth) }),
        ],
        nps: [
          networkPolicy(NS('gryffindor'), 'allow-gress-from-to-slytherin-to-gryffindor', {
            podSelector: {},
            policyTypes: ['Ingress', 'Egress'],
            ingress: [{ from: [{ namespaceSelector: houseOf('slytherin') }] }],
            egress: [{ to: [{ namespaceSelector: houseOf('slytherin') }] }],
          }),
        ],
        nsLabels: {},
      };
    },
    steps: [
      {
        name: 'Deny traffic from slytherin to gryffindor respecting admin CNP (over the NetworkPolicy allow)',
        pokes: [poke('draco-malfoy-0', 'harry-potter-0', 'TCP', 80, false), poke('draco-malfoy-1', 'harry-potter-0', 'TCP', 8080, false)],
      },
      {
        name: 'Deny traffic to slytherin from gryffindor respecting admin CNP',
        pokes: [poke('harry-potter-0', 'draco-malfoy-0', 'TCP', 80, false), poke('harry-potter-1', 'draco-malfoy-0', 'TCP', 8080, false)],
      },
      {
        name: "'pass-ingress': ingress[0] Deny -> Pass, the NetworkPolicy allow applies",
        mutate: (s) => {
          rulesOf(s, 'pass-example', 'ingress')[0]!.action = 'Pass';
        },
        pokes: [poke('draco-malfoy-0', 'harry-potter-0', 'TCP', 80, true), poke('draco-malfoy-1', 'harry-potter-0', 'TCP', 8080, true)],
      },
      {
        name: "'pass-egress': egress[0] Deny -> Pass, the NetworkPolicy allow applies",
        mutate: (s) => {
          rulesOf(s, 'pass-example', 'egress')[0]!.action = 'Pass';
        },
        pokes: [poke('harry-potter-0', 'draco-malfoy-0', 'TCP', 80, true), poke('harry-potter-1', 'draco-malfoy-0', 'TCP', 8080, true)],
      },
      {
        name: 'delete the NetworkPolicy: Pass goes on to the Baseline Deny (ingress)',
        mutate: (s) => {
          s.nps = [];
        },
        pokes: [poke('draco-malfoy-0', 'harry-potter-0', 'TCP', 80, false), poke('draco-malfoy-1', 'harry-potter-0', 'TCP', 8080, false)],
      },
      {
        name: 'Baseline Deny (egress)',
        pokes: [poke('harry-potter-0', 'draco-malfoy-0', 'TCP', 80, false), poke('harry-potter-1', 'draco-malfoy-0', 'TCP', 8080, false)],
      },
    ],
  }),
  () => ({
    shortName: 'CNPAdminTierEgressNodePeers',
    initial: () => ({
      cnps: [
        clusterNetworkPolicy('node-and-cidr-as-peers-example', {
          tier: 'Admin',
          priority: 75,
          subject: gryffindorPods,
          egress: [
            { name: 'allow-egress-to-36363-on-nodes', action: 'Accept', to: [{ nodes: { matchLabels: { 'kubernetes.io/os': 'linux' } } }], protocols: [port('TCP', 36363)] },
            { name: 'pass-egress-to-34345-on-nodes', action: 'Pass', to: [{ nodes: { matchLabels: { 'kubernetes.io/os': 'linux' } } }], protocols: [port('UDP', 34345)] },
            {
              name: 'deny-egress-to-slytherin-and-nodes-and-internet',
              action: 'Deny',
              to: [housePods('slytherin'), { nodes: { matchLabels: { 'kubernetes.io/os': 'linux' } } }, { networks: ['0.0.0.0/0', '::/0'] }],
            },
          ],
        }),
      ],
      nps: [],
      nsLabels: {},
    }),
    steps: [
      { name: "'allow-egress' rule for egress-node-peer", pokes: [poke('harry-potter-0', 'centaur-1', 'TCP', 36363, true)] },
      { name: "'pass-egress' rule for egress-node-peer", pokes: [poke('harry-potter-1', 'centaur-1', 'UDP', 34345, true)] },
      {
        name: "'deny-egress' rule for egress-node-peer",
        pokes: [
          poke('harry-potter-1', 'centaur-1', 'TCP', 36364, false),
          poke('harry-potter-1', 'centaur-1', 'UDP', 34346, false),
          poke('harry-potter-1', 'centaur-1', 'SCTP', 9003, false),
        ],
      },
    ],
  }),
  () => ({
    shortName: 'CNPBaselineTierEgressNodePeers',
    initial: () => ({
      cnps: [
        clusterNetworkPolicy('default', {
          tier: 'Baseline',
          priority: 10,
          subject: gryffindorPods,
          egress: [
            {
              name: 'allow-egress-to-nodes-tcp-range',
              action: 'Accept',
              to: [{ nodes: { matchLabels: { 'kubernetes.io/os': 'linux' } } }],
              protocols: [{ tcp: { destinationPort: { range: { start: 34345, end: 34346 } } } }],
            },
            { name: 'deny-egress-to-nodes-and-internet', action: 'Deny', to: [{ nodes: { matchLabels: { 'kubernetes.io/os': 'linux' } } }, { networks: ['0.0.0.0/0', '::/0'] }] },
          ],
        }),
      ],
      nps: [],
      nsLabels: {},
    }),
    steps: [
      {
        name: 'tcp range hnp0-hnp1 accepted (inclusive), udp hnp4 and sctp hnp6 denied',
        pokes: [
          poke('harry-potter-0', 'centaur-0', 'TCP', 34345, true),
          poke('harry-potter-0', 'centaur-0', 'TCP', 34346, true),
          poke('harry-potter-0', 'centaur-0', 'UDP', 34349, false),
          poke('harry-potter-0', 'centaur-0', 'SCTP', 34351, false),
          // not upstream: one past the end of the range
          poke('harry-potter-0', 'centaur-0', 'TCP', 34347, false),
        ],
      },
    ],
  }),
];

function withFamily(c: ConformanceCase, f: Family): ConformanceCase {
  return { ...c, initial: () => Object.assign(c.initial(), { family: f }) };
}

// ---- the CNP-superset test (docs/extension-kind.md) ----------------------------------------------

/** A ClusterNetworkPolicy with its group and kind changed to PalisadeClusterNetworkPolicy; other kinds unchanged. */
const asExtension = (o: Obj): Obj =>
  o.kind === 'ClusterNetworkPolicy' ? { ...structuredClone(o), apiVersion: 'policy.palisade.dev/v1alpha1', kind: 'PalisadeClusterNetworkPolicy' } : o;

/** A direction verdict with the policy kind read as ClusterNetworkPolicy: what "the same verdict modulo kind" compares. */
function modKind(d: DirectionVerdict): string {
  const unkind = (t: string): string => t.replaceAll('PalisadeClusterNetworkPolicy', 'ClusterNetworkPolicy');
  return unkind(canonical(d));
}

/**
 * Every step of a case, in both kinds: the reference verdicts (whole explanations, modulo the
 * kind's name) of every pod pair on every port the tests poke are equal, the engine (native
 * classifier) on the extension objects gives the reference's answer, and validation gives the
 * same problems (code, severity, path, object name) for both.
 */
function runSupersetCase(c: ConformanceCase, f: Family): number {
  const state = structuredClone(c.initial());
  let compared = 0;
  for (const step of c.steps) {
    step.mutate?.(state);
    const upstream = [...topology(f, state.nsLabels), ...state.cnps, ...state.nps];
    const extension = upstream.map(asExtension);
    expect(extension.some((o) => o.kind === 'PalisadeClusterNetworkPolicy') || !upstream.some((o) => o.kind === 'ClusterNetworkPolicy')).toBe(true);
    const problems = (objs: Obj[]) =>
      safeParseCluster(yamlOf(objs), 'fixture.yaml').problems.map((p) => ({ code: p.code, severity: p.severity, path: p.path, name: p.object?.name }));
    expect(problems(extension), step.name).toEqual(problems(upstream));
    const a = new ReferenceEvaluator(clusterOf(upstream));
    const b = new ReferenceEvaluator(clusterOf(extension));
    const engine = compile(b.cluster);
    const pods = a.cluster.pods;
    const ports = [...new Set(step.pokes.map((k) => `${k.protocol}/${k.port}`))].map((t) => {
      const [protocol, n] = t.split('/');
      return { protocol: protocol as Protocol, port: Number(n) };
    });
    const wrong: string[] = [];
    for (const src of pods) {
      for (const dst of pods) {
        for (const { protocol, port: dstPort } of ports) {
          const flow = { src: src.ips[0]!, dst: dst.ips[0]!, protocol, dstPort };
          const va = a.evaluate(flow);
          const vb = b.evaluate(flow);
          const same = va.verdict === vb.verdict && modKind(va.egress) === modKind(vb.egress) && modKind(va.ingress) === modKind(vb.ingress);
          const viaEngine = engine.explain(flow);
          if (!same || canonical(viaEngine) !== canonical(vb)) {
            if (wrong.length < 5) wrong.push(`${src.name} -> ${dst.name} ${protocol}/${dstPort}: CNP ${va.verdict}, PCNP ${vb.verdict}, engine ${viaEngine.verdict}`);
          }
          compared++;
        }
      }
    }
    expect(wrong, step.name).toEqual([]);
  }
  return compared;
}

describe('the CNP-superset test: the conformance objects as PalisadeClusterNetworkPolicy give exactly the CNP verdicts', () => {
  for (const family of [4, 6] as const) {
    describe(`IPv${family}`, () => {
      for (const make of CASES) {
        const c = make(family);
        it(c.shortName, () => {
          expect(runSupersetCase(c, family)).toBeGreaterThan(0);
        });
      }
    });
  }
});

describe('network-policy-api conformance (kubernetes-sigs/network-policy-api conformance/tests)', () => {
  it('covers the 24 upstream tests named in network-policy-api.md §2.4', () => {
    const names = CASES.map((c) => c(4).shortName);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(24);
  });
  for (const family of [4, 6] as const) {
    describe(`IPv${family}`, () => {
      for (const make of CASES) {
        const c = make(family);
        it(c.shortName, () => runCase(c, family));
      }
    });
  }
});
