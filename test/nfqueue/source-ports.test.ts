/** S25 on real packets through the nfqueue backend (its loop classifies with the native classifier): the shared suite, test/harness/source-port-suite.ts. */
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { requires } from '../harness/prerequisites.js';
import { sourcePortSuite } from '../harness/source-port-suite.js';

sourcePortSuite({
  name: 'nfqueue',
  missing: requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'),
  inventorySeeds: [3101, 3202],
  setsPerInventory: 5,
  backend: (topo) => new NfqueueBackend({ netnsPath: topo.nodeNetnsPath, firstQueue: 4700 }),
});
