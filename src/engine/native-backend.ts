/**
 * The native classifier behind the ClassifierBackend interface (filled in when
 * src/native/binding.ts lands). Importing this module registers the factory when the addon loads.
 */
export {};
