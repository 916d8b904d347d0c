/** Moved to src/topology/netns.ts (production code: the demo uses it); kept so the tests' imports stay. */
export * from '../../src/topology/netns.js';
