// Manifest loading: multi-document YAML, kind: List as kubectl prints it, JSON, directories,
// and the defaults applied by normalization.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseManifestText, loadPaths } from '../../src/manifests/load.js';
import { safeParseCluster, safeLoadCluster } from '../../src/manifests/cluster.js';
import { NAMESPACE_NAME_LABEL } from '../../src/model/types.js';

const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: x
    labels: {team: a}
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: x, labels: {pod: a}}
  spec:
    nodeName: n1
    containers:
    - name: c
      ports: [{name: serve-80-tcp, containerPort: 80}]
  status:
    podIP: 10.244.1.2
    podIPs: [{ip: 10.244.1.2}, {ip: "fd00:10:244:1::2"}]
metadata:
  resourceVersion: ""
`;

describe('manifest loading', () => {
  it('expands kind: List items with their own line numbers', () => {
    const r = parseManifestText(list, 'list.yaml');
    expect(r.problems).toEqual([]);
    expect(r.objects.map((o) => o.obj.kind)).toEqual(['Namespace', 'Pod']);
    expect(r.objects.map((o) => o.line)).toEqual([4, 9]);
  });

  it('reads multi-document YAML and skips empty documents', () => {
    const r = parseManifestText('---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n', 'm.yaml');
    expect(r.objects.map((o) => (o.obj.metadata as { name: string }).name)).toEqual(['a', 'b']);
    expect(r.objects.map((o) => o.line)).toEqual([2, 7]);
  });

  it('names the file and line of a YAML syntax error', () => {
    const r = parseManifestText('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [a\n', 'bad.yaml');
    expect(r.problems[0]).toMatchObject({ code: 'YAML_SYNTAX', file: 'bad.yaml', severity: 'error' });
    expect(r.problems[0]?.line).toBeGreaterThanOrEqual(4);
  });

  it('walks directories recursively, reading .yaml, .yml and .json in sorted order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-load-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'b.yml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n');
    writeFileSync(join(dir, 'sub', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } }));
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    const r = loadPaths([dir]);
    expect(r.problems).toEqual([]);
    expect(r.objects.map((o) => (o.obj.metadata as { name: string }).name)).toEqual(['a', 'b', 'c']);
  });

  it('reports a missing path', () => {
    const r = safeLoadCluster(['/nonexistent/palisade']);
    expect(r.cluster).toBeUndefined();
    expect(r.problems[0]).toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('normalization', () => {
  it('normalizes pods: dual-stack IPs, named ports with TCP default, node', () => {
    const r = safeParseCluster(list, 'list.yaml');
    const pod = r.cluster!.pods[0]!;
    expect(pod.ips.map((i) => i.text)).toEqual(['10.244.1.2', 'fd00:10:244:1::2']);
    expect(pod.containerPorts).toEqual([{ name: 'serve-80-tcp', containerPort: 80, protocol: 'TCP' }]);
    expect(pod.nodeName).toBe('n1');
  });

  // kubernetes.io "Targeting a Namespace by its name": the control plane sets this immutable label.
  it('always sets kubernetes.io/metadata.name and it cannot be overridden', () => {
    const r = safeParseCluster('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels: {kubernetes.io/metadata.name: y}\n');
    expect(r.cluster!.namespaces[0]!.labels[NAMESPACE_NAME_LABEL]).toBe('x');
  });

  it('skips other kinds with a notice', () => {
    const r = safeParseCluster('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n');
    expect(r.cluster).toBeDefined();
    expect(r.problems).toMatchObject([{ code: 'KIND_SKIPPED', severity: 'warning' }]);
  });

  it('rejects a known kind with the wrong apiVersion', () => {
    const r = safeParseCluster('apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}}\n', 'np.yaml');
    expect(r.cluster).toBeUndefined();
    expect(r.problems[0]).toMatchObject({ code: 'API_VERSION_UNSUPPORTED', path: 'apiVersion', file: 'np.yaml', line: 1 });
  });

  // SetDefaults_NetworkPolicy (pkg/apis/networking/v1/defaults.go): empty policyTypes -> [Ingress]
  // plus Egress when there are egress rules; protocol defaults to TCP.
  it('defaults policyTypes and protocols like the API server', () => {
    const r = safeParseCluster(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  egress:
  - ports: [{port: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: q, namespace: x}
spec:
  podSelector: {}
  egress: []
`);
    const [p, q] = r.cluster!.networkPolicies;
    expect(p!.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(p!.egress[0]).toEqual({ peers: null, ports: [{ protocol: 'TCP', port: 53 }] });
    expect(q!.policyTypes).toEqual(['Ingress']);
  });

  // v1alpha1 ANP/BANP read as the Admin/Baseline tiers: Allow = Accept, ports = protocols.
  it('maps AdminNetworkPolicy and BaselineAdminNetworkPolicy onto the cluster tiers', () => {
    const r = safeParseCluster(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 5
  subject: {namespaces: {}}
  ingress:
  - name: web
    action: Allow
    from: [{namespaces: {matchLabels: {team: a}}}]
    ports: [{portNumber: {protocol: UDP, port: 53}}, {portRange: {start: 1000, end: 2000}}, {namedPort: web}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {pods: {namespaceSelector: {}, podSelector: {}}}
  egress:
  - action: Deny
    to: [{networks: ["10.0.0.0/8"]}]
`);
    const [anp, banp] = r.cluster!.clusterPolicies;
    expect(anp).toMatchObject({ kind: 'AdminNetworkPolicy', tier: 'Admin', priority: 5 });
    expect(anp!.ingress[0]).toMatchObject({
      index: 0,
      name: 'web',
      action: 'Accept',
      protocols: [
        { kind: 'port', protocol: 'UDP', portStart: 53, portEnd: 53 },
        { kind: 'port', protocol: 'TCP', portStart: 1000, portEnd: 2000 },
        { kind: 'namedPort', name: 'web' },
      ],
    });
    expect(banp).toMatchObject({ kind: 'BaselineAdminNetworkPolicy', tier: 'Baseline', priority: 1001 });
    expect(banp!.egress[0]!.peers[0]).toMatchObject({ kind: 'networks', cidrs: [{ text: '10.0.0.0/8' }] });
  });

  it('creates implicit namespaces for objects that refer to undefined ones, with a notice', () => {
    const r = safeParseCluster('apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: q}\nspec: {containers: []}\nstatus: {podIP: 10.244.0.5}\n');
    expect(r.cluster!.namespaces).toMatchObject([{ name: 'q', labels: { [NAMESPACE_NAME_LABEL]: 'q' } }]);
    expect(r.problems).toMatchObject([{ code: 'NAMESPACE_IMPLICIT', severity: 'warning' }]);
  });

  it('rejects duplicate objects', () => {
    const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n';
    const r = safeParseCluster(`${ns}---\n${ns}`, 'dup.yaml');
    expect(r.cluster).toBeUndefined();
    expect(r.problems).toMatchObject([{ code: 'DUPLICATE_OBJECT', line: 5, path: 'metadata.name' }]);
  });
});

describe('hostile YAML', () => {
  it('reports excessive alias expansion as a problem instead of crashing', () => {
    const anchors = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 12; i++) anchors.push(`a${i}: &a${i} [${Array(10).fill(i === 1 ? '*a' : `*a${i - 1}`).join(', ')}]`);
    const r = parseManifestText(anchors.join('\n') + '\n', 'bomb.yaml');
    expect(r.objects).toEqual([]);
    expect(r.problems[0]).toMatchObject({ code: 'YAML_SYNTAX', file: 'bomb.yaml', line: 1 });
  });
});
