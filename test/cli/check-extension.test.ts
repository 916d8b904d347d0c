/**
 * `palisade check` on PalisadeClusterNetworkPolicy rules: it names what matched, the node a
 * pod runs on for a nodeSelector subject (S7), why an address is in the Cluster entity (S16),
 * and the source port (`--src-port`, S25). Run in-process on the examples.
 */
import { describe, expect, it } from 'vitest';
import { example, palisade } from './helpers.js';

describe('palisade check names what a PalisadeClusterNetworkPolicy rule matched', () => {
  it('S7: the node whose labels the subject nodeSelector matched', async () => {
    const r = await palisade('check', '-f', example('s07-pods-on-infra-nodes'), '--from', 'shop/api', '--to', 'kube-system/apiserver', '--port', '6443');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('egress matched by apiserver-from-infra-nodes egress[0]:');
    expect(r.stdout).toMatch(/subject: .*selects shop\/api: it runs on node node-1 \{.*node-role\.example\.com\/infra=true\}, which matches \{node-role\.example\.com\/infra=true\}/);
  });
  it('S7: a pod on another node is not selected, and the lower-priority deny decides', async () => {
    const r = await palisade('check', '-f', example('s07-pods-on-infra-nodes'), '--from', 'shop/web', '--to', 'kube-system/apiserver', '--port', '6443');
    expect(r.stdout).toMatch(/TCP\/6443: DENIED/);
    expect(r.stdout).toContain('egress matched by apiserver-from-nobody-else egress[0]:');
  });
  it('S16: a Service ClusterIP is in the Cluster entity; an internet address is not', async () => {
    const svc = await palisade('check', '-f', example('s16-block-internet-cluster-group'), '--from', 'shop/web', '--to', '10.96.0.10', '--port', '443');
    expect(svc.stdout).toContain('peer: entities Cluster: 10.96.0.10 is a cluster address (a Service address)');
    const out = await palisade('check', '-f', example('s16-block-internet-cluster-group'), '--from', 'shop/web', '--to', '203.0.113.10', '--port', '443');
    expect(out.stdout).toMatch(/TCP\/443: DENIED/);
    expect(out.stdout).toContain('peer: networks 0.0.0.0/0, ::/0: 203.0.113.10 is in 0.0.0.0/0');
  });
  it('S25: --src-port is the flow source port; without it no sourcePort rule matches', async () => {
    const hit = await palisade('check', '-f', example('s25-deny-source-port'), '--from', 'batch/legacy', '--to', 'data/db', '--port', '5432', '--src-port', '20001');
    expect(hit.stdout).toMatch(/TCP\/5432: DENIED/);
    expect(hit.stdout).toContain('ports: TCP/5432 from source port 20001 is TCP (every port) from source port 20000-20999');
    const none = await palisade('check', '-f', example('s25-deny-source-port'), '--from', 'batch/legacy', '--to', 'data/db', '--port', '5432');
    expect(none.stdout).toMatch(/TCP\/5432: ALLOWED/);
  });
});
