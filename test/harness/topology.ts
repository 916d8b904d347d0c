/** Moved to src/topology/topology.ts (production code: the demo uses it); kept so the tests' imports stay. */
export * from '../../src/topology/topology.js';
