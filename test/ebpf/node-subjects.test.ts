/**
 * S20 on real packets through the eBPF host role (a new flow judged egress then ingress where it
 * is first seen: pod veths and the external namespace's veth; palisade.bpf.c host_judge()): the
 * shared suite, test/harness/node-subject-suite.ts. A drop of a packet the node sends on a veth's
 * tc egress is ENOBUFS to the sender (test/ebpf/backend.ts ebpfMismatches).
 */
import { expect } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import { NODE_SUBJECT_ADDRESSES as A, nodeSubjectSuite } from '../harness/node-subject-suite.js';
import { ebpfMismatches, testEbpfBackend } from './backend.js';

nodeSubjectSuite({
  name: 'ebpf',
  missing: requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'),
  backend: (topo) => testEbpfBackend('nodesub', topo.nodeNetnsPath),
  mismatches: ebpfMismatches,
  // the host role's drops are deny-log lines naming the rule, as the pod path's
  after: (enforcement) => {
    const lines = enforcement.drainDenied();
    const policy = 'PalisadeClusterNetworkPolicy/dmz-nodes';
    expect(lines).toContainEqual(expect.objectContaining({ backend: 'ebpf', src: A.NODE, dst: A.CASSANDRA, dstPort: 9042, direction: 'egress', tier: 'Admin', policy, rule: 'no-cassandra' }));
    expect(lines).toContainEqual(expect.objectContaining({ src: A.WEB, dst: A.NODE, dstPort: 80, direction: 'ingress', tier: 'Admin', policy, rule: 'closed' }));
  },
});
