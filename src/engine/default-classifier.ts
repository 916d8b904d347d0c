/**
 * The one place that decides which classifier an Engine gets when the caller names a kind (or
 * nothing) instead of a factory: `compile()`/`safeCompile()` in src/index.ts and the CLI both ask
 * here. `auto` is the native classifier when the addon loads, else the linear one; `native`
 * without the addon is an error, never a silent downgrade.
 * Cost: the first call may load the addon (src/native/binding.ts caches it). No other I/O.
 */
import { PalisadeError } from '../model/errors.js';
import type { ClassifierFactory, ClassifierKind } from './classifier.js';
import { linearClassifier } from './linear-classifier.js';
import { nativeClassifier } from './native-classifier.js';

/** What a caller may ask for: a kind, `auto`, or a factory of its own. */
export type ClassifierChoice = ClassifierKind | 'auto' | ClassifierFactory;

/** True when the native classifier can be used (the addon is built and loads). */
export const nativeAvailable = (): boolean => nativeClassifier() !== undefined;

/** The factory for `choice` (default `auto`); throws ERR_PALISADE_NATIVE_MISSING for `native` without the addon. */
export function classifierFactory(choice: ClassifierChoice = 'auto'): ClassifierFactory {
  if (typeof choice === 'object') return choice;
  if (choice === 'ts') return linearClassifier;
  const native = nativeClassifier();
  if (native) return native;
  if (choice === 'auto') return linearClassifier;
  throw new PalisadeError('ERR_PALISADE_NATIVE_MISSING', 'the native classifier is not available (build it with npm run build:native)');
}
