/** Moved to src/topology/cni.ts (production code: the demo uses it); kept so the tests' imports stay. */
export * from '../../src/topology/cni.js';
