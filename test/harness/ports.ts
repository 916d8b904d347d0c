/** Moved to src/topology/ports.ts (production code: the demo uses it); kept so the tests' imports stay. */
export * from '../../src/topology/ports.js';
