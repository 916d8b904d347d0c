/**
 * Which classifier an Engine runs is decided explicitly, never by which modules happen to be
 * imported: the Engine takes a factory (no default of its own), and compile() picks the default
 * in one place (src/engine/default-classifier.ts). This file imports the engine module directly,
 * not the package entry point, as a module that "forgot" an import would.
 */
import { describe, expect, test } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { Classifier, ClassifierFactory } from '../../src/engine/classifier.js';
import { classifierFactory, nativeAvailable } from '../../src/engine/default-classifier.js';
import { LinearClassifier, linearClassifier } from '../../src/engine/linear-classifier.js';
import { nativeClassifier } from '../../src/engine/native-classifier.js';
import { parseIp } from '../../src/model/ip.js';
import { compile } from '../../src/index.js';

const cluster = safeParseCluster(`
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a, labels: {app: p}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIPs: [{ip: 10.244.1.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: q, namespace: a, labels: {app: q}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIPs: [{ip: 10.244.1.2}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-p, namespace: a}
spec: {podSelector: {matchLabels: {app: p}}, policyTypes: [Ingress]}
`).cluster!;
const flow = { src: parseIp('10.244.1.2')!, dst: parseIp('10.244.1.1')!, protocol: 'TCP' as const, dstPort: 80 };

describe('the Engine has no default classifier', () => {
  test('new Engine(cluster) without a factory throws ERR_PALISADE_NO_CLASSIFIER (no silent fallback)', () => {
    const noOptions = Engine as unknown as new (c: typeof cluster) => Engine;
    expect(() => new noOptions(cluster)).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_NO_CLASSIFIER' }));
    expect(() => new Engine(cluster, {} as EngineOptions)).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_NO_CLASSIFIER' }));
  });

  test('the factory given is the one that answers: every classifier it made ran, on both directions', () => {
    const made: Classifier[] = [];
    const counting: ClassifierFactory = {
      kind: 'ts',
      create: () => {
        const c = new LinearClassifier();
        made.push(c);
        return c;
      },
    };
    const e = new Engine(cluster, { classifier: counting });
    expect(e.lookup(flow).verdict).toBe('deny');
    expect(made).toHaveLength(2);
    expect(made.every((c) => c.lookups > 0)).toBe(true);
    expect(e.classifierLookups).toBe(made[0]!.lookups + made[1]!.lookups);
  });
});

describe('the default is chosen in default-classifier.ts', () => {
  test('ts is the linear classifier; a factory passes through unchanged', () => {
    expect(classifierFactory('ts')).toBe(linearClassifier);
    expect(classifierFactory(linearClassifier)).toBe(linearClassifier);
  });

  test('auto and native are the native classifier when the addon loads (set PALISADE_ALLOW_TS=1 to run without it)', () => {
    if (process.env.PALISADE_ALLOW_TS === '1' && !nativeAvailable()) {
      expect(classifierFactory('auto')).toBe(linearClassifier);
      expect(() => classifierFactory('native')).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_NATIVE_MISSING' }));
      return;
    }
    expect(nativeAvailable()).toBe(true);
    expect(classifierFactory('auto')).toBe(nativeClassifier());
    expect(classifierFactory('native').kind).toBe('native');
    // an Engine built straight from engine.js with the native factory really runs native code
    const e = new Engine(cluster, { classifier: nativeClassifier()! });
    expect(e.classifier).toBe('native');
    expect(e.lookup(flow).verdict).toBe('deny');
    expect(e.classifierLookups).toBeGreaterThan(0);
    // and compile() with no options picks it
    expect(compile(cluster).classifier).toBe('native');
    expect(compile(cluster, { classifier: 'ts' }).classifier).toBe('ts');
  });
});
