// The enforce loop: applies each valid change, converges within 1 s of a file change, and keeps
// the last good state when a change is invalid.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startEnforceLoop, type ApplyTarget, type EnforceEvent, type EnforceLoop } from '../../src/enforce/watch.js';
import type { Cluster } from '../../src/model/types.js';

/** Records what it was asked to apply; fails on demand, like a kernel transaction that fails. */
class RecordingEnforcer implements ApplyTarget {
  applied: Cluster[] = [];
  failNext = false;
  async apply(c: Cluster) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('transaction refused');
    }
    this.applied.push(c);
    return { summary: `${c.networkPolicies.length} policies`, ms: 0 };
  }
}

const np = (name: string, extra = '') => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: x}
spec:
  podSelector: {}
${extra}`;

async function until(cond: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

describe('enforce loop', () => {
  let loop: EnforceLoop | undefined;
  let dir = '';
  afterEach(async () => {
    await loop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies changes, keeps the last good state on invalid input, and recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-watch-'));
    writeFileSync(join(dir, 'a.yaml'), np('a'));
    const events: EnforceEvent[] = [];
    const enforcer = new RecordingEnforcer();
    loop = startEnforceLoop({ paths: [dir], enforcer, onEvent: (e) => events.push(e) });
    await loop.ready;
    expect(enforcer.applied).toHaveLength(1);
    expect(loop.current()!.networkPolicies.map((p) => p.name)).toEqual(['a']);

    // a valid change converges within 1 s
    writeFileSync(join(dir, 'b.yaml'), np('b'));
    const ms = await until(() => enforcer.applied.length === 2, 1000);
    expect(loop.current()!.networkPolicies.map((p) => p.name)).toEqual(['a', 'b']);
    expect(ms).toBeLessThanOrEqual(1000);

    // an invalid change is rejected and nothing is applied: the last good state stays
    writeFileSync(join(dir, 'b.yaml'), np('b', '  policyTypes: [Ingress\n'));
    await until(() => events.some((e) => e.type === 'rejected'), 2000);
    expect(enforcer.applied).toHaveLength(2);
    expect(loop.current()!.networkPolicies.map((p) => p.name)).toEqual(['a', 'b']);
    const rejected = events.find((e) => e.type === 'rejected');
    expect(rejected && rejected.type === 'rejected' && rejected.problems[0]?.file).toContain('b.yaml');

    // a failed kernel apply keeps the previous state too
    enforcer.failNext = true;
    writeFileSync(join(dir, 'b.yaml'), np('c'));
    await until(() => events.some((e) => e.type === 'apply-failed'), 2000);
    expect(loop.current()!.networkPolicies.map((p) => p.name)).toEqual(['a', 'b']);

    // and the next good change applies
    writeFileSync(join(dir, 'b.yaml'), np('d'));
    await until(() => enforcer.applied.length === 3, 2000);
    expect(loop.current()!.networkPolicies.map((p) => p.name)).toEqual(['a', 'd']);
  });
});
