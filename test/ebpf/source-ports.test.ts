/** S25 on real packets through the eBPF backend (source-port tables, tables.ts): the shared suite, test/harness/source-port-suite.ts. */
import { requires } from '../harness/prerequisites.js';
import { sourcePortSuite } from '../harness/source-port-suite.js';
import { ebpfMismatches, testEbpfBackend } from './backend.js';

sourcePortSuite({
  name: 'ebpf',
  missing: requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'),
  inventorySeeds: [3101, 3202],
  setsPerInventory: 5,
  backend: (topo, invSeed) => testEbpfBackend(`sp${invSeed}`, topo.nodeNetnsPath),
  mismatches: ebpfMismatches,
});
