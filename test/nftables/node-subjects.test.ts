/** S20 on real packets through nftables (input / output hooks): the shared suite, test/harness/node-subject-suite.ts. */
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { requires } from '../harness/prerequisites.js';
import { nodeSubjectSuite } from '../harness/node-subject-suite.js';

nodeSubjectSuite({
  name: 'nftables',
  missing: requires('root', 'netns', 'addon', 'cni-plugins'),
  backend: (topo) => new NftablesBackend({ netnsPath: topo.nodeNetnsPath }),
});
