/** Moved to src/topology/exec.ts (production code: the demo uses it); kept so the tests' imports stay. */
export * from '../../src/topology/exec.js';
