/** Resolution: selectors x inventory -> address sets (see resolver.ts). */
export { Resolution, podKey } from './resolver.js';
export type { InventoryChange, RetimedMember, SetDelta } from './changes.js';
export type { LearnedKey } from './learned.js';
export { NO_EXPIRY } from './learned.js';
export { isEmptyDelta } from './changes.js';
export { setKey, describeSet, type SetDef, type SetId, type NamedPortGroup, type IpBlock } from './set-def.js';
export { subtractPrefixes, comparePrefixes } from './prefixes.js';
export { selectorKey } from './selector-key.js';
export { namedPortGroups, groupKey } from './named-ports.js';
