/** Moved to src/topology/probe.ts (production code: the demo uses it); kept so the tests' imports stay. */
export * from '../../src/topology/probe.js';
