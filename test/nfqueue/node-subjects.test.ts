/** S20 on real packets through the nfqueue backend (INPUT / OUTPUT steering): the shared suite, test/harness/node-subject-suite.ts. */
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { requires } from '../harness/prerequisites.js';
import { nodeSubjectSuite } from '../harness/node-subject-suite.js';

nodeSubjectSuite({
  name: 'nfqueue',
  missing: requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'),
  backend: (topo) => new NfqueueBackend({ netnsPath: topo.nodeNetnsPath, firstQueue: 4800 }),
});
