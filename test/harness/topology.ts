/** Re-exports src/topology/topology.ts for test/ebpf and test/harness/differential.ts only; every other test imports the module itself. Delete once those do. */
export * from '../../src/topology/topology.js';
