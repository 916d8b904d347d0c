/** The truth-table computation (pure): endpoints, cells, text rendering. */
export * from './endpoints.js';
export * from './compute.js';
export * from './text.js';
