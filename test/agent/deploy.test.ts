/**
 * deploy/: every manifest parses (yaml), and the agent gets least privilege: the DaemonSet runs in
 * the host network namespace, not privileged, with capabilities NET_ADMIN and BPF only (everything
 * else dropped), no privilege escalation, bpffs and /run/palisade mounted, the CNI plugin
 * installed by an initContainer with no capability at all; the ClusterRole reads exactly what the
 * agent watches (src/agent/objects.ts) and writes only Events; the CRDs are the upstream ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { RESOURCE_KINDS } from '../../src/agent/objects.js';
import { ROOT } from '../harness/cli.js';

type Obj = Record<string, any>;
const DEPLOY = join(ROOT, 'deploy');

function manifests(dir: string): { file: string; obj: Obj }[] {
  const out: { file: string; obj: Obj }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...manifests(p));
    else if (/\.ya?ml$/.test(e.name)) {
      for (const d of parseAllDocuments(readFileSync(p, 'utf8'))) {
        expect(d.errors, p).toEqual([]);
        if (d.contents !== null) out.push({ file: p, obj: d.toJS() as Obj });
      }
    }
  }
  return out;
}

const all = manifests(DEPLOY);
const one = (kind: string): Obj => {
  const xs = all.filter((m) => m.obj.kind === kind);
  expect(xs, kind).toHaveLength(1);
  return xs[0]!.obj;
};

describe('deploy/ manifests', () => {
  it('every document parses and has apiVersion, kind and a name', () => {
    expect(all.length).toBeGreaterThanOrEqual(7);
    for (const m of all) {
      expect(typeof m.obj.apiVersion, m.file).toBe('string');
      expect(typeof m.obj.kind, m.file).toBe('string');
      expect(typeof m.obj.metadata?.name, m.file).toBe('string');
    }
  });

  it('no container anywhere is privileged or escalates', () => {
    const text = all.map((m) => JSON.stringify(m.obj)).join('\n');
    expect(text).not.toMatch(/"privileged":true/);
    expect(text).not.toMatch(/"allowPrivilegeEscalation":true/);
    expect(text).not.toMatch(/"hostPID":true|"hostIPC":true/);
  });

  it('the DaemonSet: host network, NET_ADMIN and BPF only, bpffs and /run/palisade, CNI install step, probes on /readyz and /healthz', () => {
    const ds = one('DaemonSet');
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.serviceAccountName).toBe(one('ServiceAccount').metadata.name);
    const [agent] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(agent.securityContext.privileged ?? false).toBe(false);
    expect(agent.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(agent.securityContext.capabilities.drop).toEqual(['ALL']);
    expect([...agent.securityContext.capabilities.add].sort()).toEqual(['BPF', 'NET_ADMIN']);
    expect([...agent.command, ...agent.args].join(' ')).toMatch(/^palisade agent --backend=\S+ --node-name=\$\(NODE_NAME\) --health-address=/);
    expect(agent.readinessProbe.httpGet.path).toBe('/readyz');
    expect(agent.livenessProbe.httpGet.path).toBe('/healthz');
    const mounts = new Map<string, string>(agent.volumeMounts.map((v: Obj) => [v.mountPath, v.name]));
    const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
    expect(volumes.get(mounts.get('/sys/fs/bpf')!)?.hostPath?.path).toBe('/sys/fs/bpf');
    expect(volumes.get(mounts.get('/run/palisade')!)?.hostPath?.path).toBe('/run/palisade');
    const [init] = pod.initContainers;
    expect(init.command.slice(0, 2)).toEqual(['palisade', 'install-cni']);
    expect(init.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    for (const v of pod.volumes as Obj[]) if (v.hostPath) expect(['/sys/fs/bpf', '/run/palisade', '/opt/cni/bin', '/etc/cni/net.d']).toContain(v.hostPath.path);
  });

  it('the ClusterRole reads exactly what the agent watches and writes only Events', () => {
    const role = one('ClusterRole');
    const read = new Set<string>();
    for (const r of role.rules as Obj[]) {
      expect(r.resources).not.toContain('*');
      expect(r.apiGroups).not.toContain('*');
      expect(r.resources).not.toContain('secrets');
      const verbs = [...r.verbs].sort().join(',');
      if (r.resources.includes('events')) {
        expect(verbs).toBe('create,patch');
        expect(r.resources).toEqual(['events']);
      } else {
        expect(verbs).toBe('get,list,watch');
        for (const x of r.resources) read.add(x);
      }
    }
    expect([...read].sort()).toEqual([...Object.keys(RESOURCE_KINDS), 'customresourcedefinitions'].sort());
    const binding = one('ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    const sa = one('ServiceAccount');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  });

  it('the CRDs are the upstream ones (both channels), byte for byte', () => {
    const shared = '/work/shared/crds';
    const pairs: [string, string][] = [
      ['standard', 'v1alpha2-standard'],
      ['standard', 'v1alpha1-standard'],
      ['experimental', 'v1alpha2-experimental'],
      ['experimental', 'v1alpha1-experimental'],
    ];
    let n = 0;
    for (const [mine, theirs] of pairs) {
      let files: string[];
      try {
        files = readdirSync(join(shared, theirs));
      } catch {
        continue; // the shared copy is not on every machine; the kinds are checked below
      }
      for (const f of files) {
        expect(readFileSync(join(DEPLOY, 'crds', mine, f), 'utf8')).toBe(readFileSync(join(shared, theirs, f), 'utf8'));
        n++;
      }
    }
    const crds = all.filter((m) => m.obj.kind === 'CustomResourceDefinition').map((m) => m.obj.spec.names.kind);
    expect(crds.sort()).toEqual(['AdminNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'ClusterNetworkPolicy', 'ClusterNetworkPolicy', 'PalisadeClusterNetworkPolicy']);
    if (process.env.CI === 'true') expect(n).toBe(6);
  });

  it('the PalisadeClusterNetworkPolicy CRD keeps every field and CEL rule of the experimental ClusterNetworkPolicy CRD (a superset)', () => {
    const crdOf = (kind: string) => all.find((m) => m.obj.kind === 'CustomResourceDefinition' && m.obj.spec.names.kind === kind && m.file.includes('experimental') === (kind === 'ClusterNetworkPolicy'))!.obj;
    const ext = crdOf('PalisadeClusterNetworkPolicy');
    const cnp = crdOf('ClusterNetworkPolicy');
    expect(ext.spec.group).toBe('policy.palisade.dev');
    expect(ext.spec.scope).toBe('Cluster');
    expect(ext.spec.versions.map((v: { name: string }) => v.name)).toEqual(['v1alpha1']);
    // every schema path of the upstream kind, with its type, is in ours; CEL rules are kept or extended
    const paths = (schema: Record<string, unknown>, at = ''): Map<string, string> => {
      const out = new Map<string, string>();
      const walk = (s: Record<string, unknown>, p: string): void => {
        out.set(p, String(s.type));
        for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) walk(v, `${p}.${k}`);
        if (s.items) walk(s.items as Record<string, unknown>, `${p}[]`);
      };
      walk(schema, at);
      return out;
    };
    const theirs = paths(cnp.spec.versions[0].schema.openAPIV3Schema);
    const ours = paths(ext.spec.versions[0].schema.openAPIV3Schema);
    const missing = [...theirs].filter(([p, t]) => ours.get(p) !== t).map(([p]) => p);
    expect(missing).toEqual([]);
    for (const p of ['.spec.subject.nodes', '.spec.subject.services', '.spec.subject.pods.nodeSelector', '.spec.egress[].to[].services', '.spec.egress[].to[].entities', '.spec.ingress[].from[].entities', '.spec.ingress[].from[].services', '.spec.egress[].redirect', '.spec.egress[].protocols[].tcp.sourcePort']) {
      expect(ours.has(p), p).toBe(true);
    }
    const rules = (o: unknown): string[] => JSON.stringify(o).match(/"rule":"(?:[^"\\]|\\.)*"/g) ?? [];
    expect(rules(ext).length).toBeGreaterThanOrEqual(rules(cnp).length + 4);
  });

  it('the Containerfile is Debian 12 based, runs palisade, and installs the native libraries the addon links', () => {
    const text = readFileSync(join(DEPLOY, 'Containerfile'), 'utf8');
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    expect(base).toMatch(/bookworm/);
    const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    for (const lib of ['libnftables1', 'libnetfilter-queue1', 'libbpf1']) expect(text).toContain(lib);
    expect(text).toMatch(/ENTRYPOINT \["palisade"\]/);
  });
});
