/**
 * Validation parity with the API server: values it ACCEPTS that Palisade must not reject, and values it REJECTS that
 * Palisade must not accept. Each row is [case, manifest, upstream accepts?]. Cases where Palisade disagrees live in
 * disagreements.test.ts.
 * Sources:
 * - NetworkPolicy: kubernetes pkg/apis/networking/validation/validation.go (ValidateNetworkPolicyPort, ...Peer, ...Spec,
 *   ValidateIPBlock: "must be a strict subset of `cidr`", "may not specify more than two policyTypes", "must specify a
 *   peer", "may not specify both ipBlock and another peer", endPort rules) and validation_test.go TestValidateNetworkPolicy
 *   (success: IPv4/IPv6 ipBlocks with except, endPort 32000..32768, named UDP port "dns", SCTP 7777; errors: "192.168.5.6"
 *   and "fd00:192:168::" without prefix, except "192.168.9.1/24" outside 192.168.8.0/24, except equal to cidr, protocol
 *   ICMP, port 123456789, port name "!@#$", policyTypes [foo bar baz], endPort with named port, endPort without port,
 *   port > endPort, endPort 65537, selector key "NoUppercaseOrSpecialCharsLike=Equals").
 * - apimachinery util/validation: IsValidPortName (IANA_SVC_NAME, <= 15, a letter), IsQualifiedName, IsValidLabelValue
 *   (<= 63, may be empty), IsDNS1123Subdomain (<= 253) for object names, IsDNS1123Label for namespaces;
 *   util/validation/ip.go parseCIDR. NOTE: StrictIPCIDRValidation is on by default since 1.36 (kubernetes#137053) and GA in
 *   1.38 (kubernetes#141979): host bits, leading zeros and IPv4-mapped IPv6 in ipBlock are rejected for new objects;
 *   those cases are in disagreements.test.ts (D4), not here.
 *   A string "80" is an intstr of Type String and fails IsValidPortName ("must contain at least one letter").
 * - network-policy-api CRDs (kubernetes-sigs/network-policy-api): priority 0..1000, tier enum, subject/peer/protocol min/maxProperties 1,
 *   from/to minItems 1 maxItems 25 (v1alpha1 100), protocols minItems 1, range CEL "self.start < self.end",
 *   networks `isCIDR(self)` + maxLength 43 + list-type set, rule name maxLength 100, domainNames pattern, the
 *   networks/nodes/domainNames-with-namedPort CEL, BANP CEL `self.metadata.name == 'default'`, BANP actions Allow/Deny.
 *   CEL isCIDR (k8s.io/apiserver/pkg/cel/library/cidr.go) uses netip.ParsePrefix: host bits allowed, leading-zero
 *   prefix length and IPv4-mapped IPv6 refused.
 */
import { describe, expect, it } from 'vitest';
import { anp, banp, cnp, describeProblems, errors, np } from './helpers.js';

const NS = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n';
const cases: [string, string, boolean][] = [
  // [name, yaml, acceptedUpstream]
  ['np ipv6 upper', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "FD00:192:168::/48", except: ["fd00:192:168:3::/64"]}}]}]}'), true],
  ['np ipv6 embedded v4', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "64:ff9b::10.0.0.0/120"}}]}]}'), true],
  ['np except other family', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: ["fd00::/64"]}}]}]}'), false],
  ['np except equal', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 192.168.0.0/24, except: [192.168.0.0/24]}}]}]}'), false],
  ['np except empty list', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 192.168.0.0/24, except: []}}]}]}'), true],
  ['np except empty string', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 192.168.0.0/24, except: [""]}}]}]}'), false],
  ['np cidr no prefix', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 192.168.5.6}}]}]}'), false],
  ['np cidr v6 no prefix', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "fd00:192:168::"}}]}]}'), false],
  ['np cidr /33', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}'), false],
  ['np cidr zone', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "fe80::%eth0/64"}}]}]}'), false],
  ['np ipv6 full form', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "fd00:0000:0000:0000:0000:0000:0000:0000/8"}}]}]}'), true],
  ['np ipv6 host /128', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "fd00:10:244:1::1/128", except: []}}]}]}'), true],
  ['np ipv4 /32 and /0', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.244.1.1/32}}, {ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]}]}'), true],
  ['np ipv6 /129', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "fd00::/129"}}]}]}'), false],
  ['np ipv4 octet 256', np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.256.0.0/16}}]}]}'), false],
  ['np label value dots', np('x', 'p', '{podSelector: {matchLabels: {app.kubernetes.io/name: my.app_v1-2}}}'), true],
  ['np empty label value', np('x', 'p', '{podSelector: {matchLabels: {tier: ""}}}'), true],
  ['np label 63', np('x', 'p', `{podSelector: {matchLabels: {k: ${'a'.repeat(63)}}}}`), true],
  ['np label 64', np('x', 'p', `{podSelector: {matchLabels: {k: ${'a'.repeat(64)}}}}`), false],
  ['np label key prefix upper', np('x', 'p', '{podSelector: {matchLabels: {Example.com/k: v}}}'), false],
  ['np label key upper name', np('x', 'p', '{podSelector: {matchLabels: {example.com/My_Key.x: v}}}'), true],
  ['np invalid key', np('x', 'p', '{podSelector: {matchLabels: {"NoUppercaseOrSpecialCharsLike=Equals": b}}}'), false],
  ['np port string number', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: "80"}]}]}'), false],
  ['np port name 15', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: abcdefghijklmno}]}]}'), true],
  ['np port name 16', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: abcdefghijklmnop}]}]}'), false],
  ['np port name upper', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: HTTP}]}]}'), false],
  ['np port name digits+letter', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 8080a}]}]}'), true],
  ['np port 0', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 0}]}]}'), false],
  ['np port 65536', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 65536}]}]}'), false],
  ['np endPort eq', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 80, endPort: 80}]}]}'), true],
  ['np endPort lt', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 80, endPort: 79}]}]}'), false],
  ['np endPort 65537', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 30000, endPort: 65537}]}]}'), false],
  ['np endPort named', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: dns, endPort: 100}]}]}'), false],
  ['np endPort alone', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{protocol: TCP, endPort: 100}]}]}'), false],
  ['np endPort 0 with port', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 1, endPort: 0}]}]}'), false],
  ['np protocol lower', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{protocol: tcp}]}]}'), false],
  ['np protocol ICMP', np('x', 'p', '{podSelector: {}, ingress: [{ports: [{protocol: ICMP}]}]}'), false],
  ['np policyTypes dup', np('x', 'p', '{podSelector: {}, policyTypes: [Ingress, Ingress]}'), true],
  ['np policyTypes 3', np('x', 'p', '{podSelector: {}, policyTypes: [Ingress, Egress, Ingress]}'), false],
  ['np policyTypes lower', np('x', 'p', '{podSelector: {}, policyTypes: [ingress]}'), false],
  ['np empty peer', np('x', 'p', '{podSelector: {}, egress: [{to: [{}]}]}'), false],
  ['np peer ipblock+ns', np('x', 'p', '{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, namespaceSelector: {}}]}]}'), false],
  ['np peer ns+pod', np('x', 'p', '{podSelector: {}, egress: [{to: [{podSelector: {}, namespaceSelector: {}}]}]}'), true],
  ['np op lower', np('x', 'p', '{podSelector: {matchExpressions: [{key: a, operator: in, values: [b]}]}}'), false],
  ['np In no values', np('x', 'p', '{podSelector: {matchExpressions: [{key: a, operator: In, values: []}]}}'), false],
  ['np Exists with values', np('x', 'p', '{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}}'), false],
  ['np In empty-string value', np('x', 'p', '{podSelector: {matchExpressions: [{key: a, operator: In, values: [""]}]}}'), true],
  ['np name dots', np('x', 'allow.web-1', '{podSelector: {}}'), true],
  ['np name upper', np('x', 'Allow', '{podSelector: {}}'), false],
  ['np name 253', np('x', 'a'.repeat(253), '{podSelector: {}}'), true],
  ['np name 254', np('x', 'a'.repeat(254), '{podSelector: {}}'), false],
  ['np ns dots', np('my.ns', 'p', '{podSelector: {}}'), false],
  ['np ns 63', np('n'.repeat(63), 'p', '{podSelector: {}}'), true],
  // cluster kinds
  ['cnp networks host bits', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [10.0.0.1/8]}]}]'), true],
  ['cnp networks v6', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: ["2001:db8::/32", "::/0"]}]}]'), true],
  ['cnp networks v6 upper', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: ["2001:DB8::/32"]}]}]'), true],
  ['cnp networks no prefix', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [10.0.0.1]}]}]'), false],
  ['cnp networks leading0 prefix', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [10.0.0.0/08]}]}]'), false],
  ['cnp networks 4in6', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: ["::ffff:10.0.0.0/104"]}]}]'), false],
  ['cnp networks dup', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}]'), false],
  ['cnp networks empty', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: []}]}]'), false],
  ['cnp priority 0', cnp('c', 'Admin', 0, '  subject: {namespaces: {}}'), true],
  ['cnp priority 1000', cnp('c', 'Admin', 1000, '  subject: {namespaces: {}}'), true],
  ['cnp priority 1001', cnp('c', 'Admin', 1001, '  subject: {namespaces: {}}'), false],
  ['cnp priority -1', cnp('c', 'Admin', -1, '  subject: {namespaces: {}}'), false],
  ['cnp tier lower', cnp('c', 'admin' as 'Admin', 1, '  subject: {namespaces: {}}'), false],
  ['cnp no rules', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: []\n  egress: []'), true],
  ['cnp subject none', cnp('c', 'Admin', 1, '  subject: {}'), false],
  ['cnp subject both', cnp('c', 'Admin', 1, '  subject: {namespaces: {}, pods: {podSelector: {}}}'), false],
  ['cnp subject pods no podSelector', cnp('c', 'Admin', 1, '  subject: {pods: {namespaceSelector: {}}}'), false],
  ['cnp subject pods no nsSelector', cnp('c', 'Admin', 1, '  subject: {pods: {podSelector: {}}}'), true],
  ['cnp action Allow', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Allow, from: [{namespaces: {}}]}]'), false],
  ['cnp from empty list', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: []}]'), false],
  ['cnp from missing', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny}]'), false],
  ['cnp peer two fields', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}, pods: {podSelector: {}}}]}]'), false],
  ['cnp ingress nodes', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{nodes: {}}]}]'), false],
  ['cnp range eq', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 80, end: 80}}}}]}]'), false],
  ['cnp range full', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{udp: {destinationPort: {range: {start: 1, end: 65535}}}}]}]'), true],
  ['cnp tcp empty', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {}}]}]'), false],
  ['cnp dstPort both', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80, range: {start: 1, end: 2}}}}]}]'), false],
  ['cnp protocols empty', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: []}]'), false],
  ['cnp proto two', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 80}}}]}]'), false],
  ['cnp named+networks', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: web}]}]'), false],
  ['cnp named+nodes', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{nodes: {}}], protocols: [{destinationNamedPort: web}]}]'), false],
  ['cnp named+pods', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{pods: {podSelector: {}}}], protocols: [{destinationNamedPort: web}]}]'), true],
  ['cnp ingress named+ns', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{destinationNamedPort: web}]}]'), true],
  ['cnp rule name 100', cnp('c', 'Admin', 1, `  subject: {namespaces: {}}\n  ingress: [{name: ${'n'.repeat(100)}, action: Deny, from: [{namespaces: {}}]}]`), true],
  ['cnp rule name 101', cnp('c', 'Admin', 1, `  subject: {namespaces: {}}\n  ingress: [{name: ${'n'.repeat(101)}, action: Deny, from: [{namespaces: {}}]}]`), false],
  ['cnp rule name free text', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{name: "Allow DNS & metrics!", action: Deny, from: [{namespaces: {}}]}]'), true],
  ['cnp domain wildcard', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Accept, to: [{domainNames: ["*.kubernetes.io", "kubernetes.io.", "my_host.example.com"]}]}]'), true],
  ['cnp domain bad wildcard', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Accept, to: [{domainNames: ["foo.*.io"]}]}]'), false],
  ['cnp domain single label', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Accept, to: [{domainNames: ["localhost"]}]}]'), false],
  ['cnp name upper', 'apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: Big}\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}}\n', false],
  ['cnp name dots', 'apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: a.b}\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}}\n', true],
  ['cnp missing priority', 'apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: a}\nspec: {tier: Admin, subject: {namespaces: {}}}\n', false],
  ['cnp missing tier', 'apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}}\n', false],
  ['cnp 25 rules', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress:\n' + '  - {action: Deny, from: [{namespaces: {}}]}\n'.repeat(25)), true],
  ['cnp 26 rules', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress:\n' + '  - {action: Deny, from: [{namespaces: {}}]}\n'.repeat(26)), false],
  ['anp range eq', anp('a', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], ports: [{portRange: {start: 80, end: 80}}]}]'), true],
  ['anp pods no nsSelector', anp('a', 1, '  subject: {pods: {podSelector: {}}}'), false],
  ['anp action Accept', anp('a', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Accept, from: [{namespaces: {}}]}]'), false],
  ['anp 26 rules', anp('a', 1, '  subject: {namespaces: {}}\n  ingress:\n' + '  - {action: Deny, from: [{namespaces: {}}]}\n'.repeat(26)), true],
  ['banp Pass', banp('  subject: {namespaces: {}}\n  ingress: [{action: Pass, from: [{namespaces: {}}]}]'), false],
  ['banp name', banp('  subject: {namespaces: {}}').replace('name: default', 'name: other'), false],
  ['anp namedPort+networks', anp('a', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], ports: [{namedPort: web}]}]'), false],
  ['anp namedPort+domainNames', anp('a', 1, '  subject: {namespaces: {}}\n  egress: [{action: Allow, to: [{domainNames: [example.com]}], ports: [{namedPort: web}]}]'), false],
  ['banp namedPort+nodes', banp('  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{nodes: {}}], ports: [{namedPort: web}]}]'), false],
  ['banp domainNames', banp('  subject: {namespaces: {}}\n  egress: [{action: Allow, to: [{domainNames: [example.com]}]}]'), false],
  ['banp ingress nodes', banp('  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{nodes: {}}]}]'), false],
  ['cnp 26 networks', cnp('c', 'Admin', 1, `  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [${Array.from({ length: 26 }, (_, i) => `10.${i}.0.0/16`).join(', ')}]}]}]`), false],
  ['cnp 25 networks', cnp('c', 'Admin', 1, `  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [${Array.from({ length: 25 }, (_, i) => `10.${i}.0.0/16`).join(', ')}]}]}]`), true],
  ['cnp 26 peers', cnp('c', 'Admin', 1, `  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [${Array.from({ length: 26 }, () => '{namespaces: {}}').join(', ')}]}]`), false],
  ['cnp 26 protocols', cnp('c', 'Admin', 1, `  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [${Array.from({ length: 26 }, (_, i) => `{tcp: {destinationPort: {number: ${i + 1}}}}`).join(', ')}]}]`), false],
  ['anp 100 peers', anp('a', 1, `  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [${Array.from({ length: 100 }, () => '{namespaces: {}}').join(', ')}]}]`), true],
  ['anp 101 peers', anp('a', 1, `  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [${Array.from({ length: 101 }, () => '{namespaces: {}}').join(', ')}]}]`), false],
  ['cnp networks 48 chars (maxLength 43)', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: ["2001:0db8:0000:0000:0000:0000:10.100.100.100/128"]}]}]'), false],
  ['cnp range start 0', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 0, end: 10}}}}]}]'), false],
  ['cnp number 65536', cnp('c', 'Admin', 1, '  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{sctp: {destinationPort: {number: 65536}}}]}]'), false],];

describe('validation parity with the API server', () => {
  for (const [name, yaml, ok] of cases) {
    it(`${name}: upstream ${ok ? 'accepts' : 'rejects'}`, () => {
      const errs = errors(NS + yaml);
      expect(errs.length === 0, `${name}\n${describeProblems(NS + yaml)}`).toBe(ok);
    });
  }
});
