/** S25 on real packets through nftables (`th sport` ranges): the shared suite, test/harness/source-port-suite.ts. */
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { requires } from '../harness/prerequisites.js';
import { sourcePortSuite } from '../harness/source-port-suite.js';

sourcePortSuite({
  name: 'nftables',
  missing: requires('root', 'netns', 'addon', 'cni-plugins'),
  inventorySeeds: [3101, 3202],
  setsPerInventory: 5,
  backend: (topo) => new NftablesBackend({ netnsPath: topo.nodeNetnsPath }),
});
