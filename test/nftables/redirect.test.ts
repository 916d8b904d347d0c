/**
 * S14 Redirect on real packets through nftables (docs/extension-semantics.md, Redirect), over the
 * example examples/s14-redirect in its own topology with kube-proxy's tables: a pod of namespace
 * apps that dials the metadata address 169.254.169.254 on TCP/80 and UDP/80 reaches the proxy pod
 * iam/kube2iam on 8080 (which answers with a payload naming itself), and the replies come back
 * from 169.254.169.254:80 (TCP: the handshake completes to the address dialled; UDP: an
 * unconnected socket's recvfrom names the sender). Other destinations are untouched (the proxy's
 * own address answers as itself), a port the rule does not name is denied by the Deny after it,
 * and a pod the Redirect does not select (batch/job) never reaches the proxy.
 * The rig (topology, kube-proxy's tables, proxy server, bounds): redirect-rig.ts.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { safeLoadCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { requires } from '../harness/prerequisites.js';
import { PAYLOAD, redirectRig } from './redirect-rig.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/s14-redirect', import.meta.url));

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'cni-plugins'))('nftables: Redirect (S14) on real packets', () => {
  const rig = redirectRig(
    'redir',
    () => {
      const r = safeLoadCluster([EXAMPLE]);
      if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
      return r.cluster;
    },
    { pod: 'iam/kube2iam', addresses: ['10.244.1.50'] },
  );
  const dial = rig.dial;

  for (const protocol of ['TCP', 'UDP'] as const) {
    it(`${protocol}: apps/web -> 169.254.169.254:80 reaches the proxy, and the reply comes from 169.254.169.254:80`, async () => {
      expect(await dial('apps/web', protocol, '169.254.169.254', 80)).toEqual({ peer: '169.254.169.254:80', data: PAYLOAD });
    });
    it(`${protocol}: other destinations are untouched (the proxy's own address answers as itself)`, async () => {
      expect(await dial('apps/web', protocol, '10.244.1.50', 8080)).toEqual({ peer: '10.244.1.50:8080', data: PAYLOAD });
    });
    it(`${protocol}: batch/job (not a subject of the Redirect) never reaches the proxy through the metadata address`, async () => {
      const a = await dial('batch/job', protocol, '169.254.169.254', 80);
      expect(a.error).toBeDefined();
      expect(a.data).toBeUndefined();
    });
  }

  it('TCP: a port the Redirect does not name (81) is not redirected', async () => {
    // the node has no route to 169.254.169.254: the client sees an error either way (no answer)
    const a = await dial('apps/web', 'TCP', '169.254.169.254', 81);
    expect(a.error).toBeDefined();
    expect(a.data).toBeUndefined();
  });

  it('the reference evaluator says the same: allowed by the Redirect rule, naming the target', () => {
    const v = new ReferenceEvaluator(rig.cluster()).evaluate({ src: parseIp('10.244.1.10')!, dst: parseIp('169.254.169.254')!, protocol: 'TCP', dstPort: 80 });
    expect(v.egress.rule?.action).toBe('Redirect');
    expect(v.egress.notes).toContain('PalisadeClusterNetworkPolicy metadata-via-proxy egress[0] (to-kube2iam): redirected to Service iam/metadata-proxy 10.244.240.30:80/TCP');
  });
});
