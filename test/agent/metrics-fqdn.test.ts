/**
 * The agent's FQDN metric (src/agent/metrics.ts `palisade_fqdn{figure}`, docs/fqdn.md §7): the
 * learner's figures when learning runs, nothing when it does not.
 */
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/agent/metrics.js';

const base = { policy: () => undefined, watches: () => new Map(), invalidByKind: () => new Map() };

describe('palisade_fqdn', () => {
  it('exports each figure of the learner', async () => {
    const m = new AgentMetrics({ ...base, fqdn: () => ({ learned: 1000, evicted: 2, held: 7, hold_p99_us: 180 }) });
    const text = await m.registry.metrics();
    expect(text).toContain('palisade_fqdn{figure="learned"} 1000');
    expect(text).toContain('palisade_fqdn{figure="evicted"} 2');
    expect(text).toContain('palisade_fqdn{figure="held"} 7');
    expect(text).toContain('palisade_fqdn{figure="hold_p99_us"} 180');
  });

  it('has no series when nothing is learning', async () => {
    const text = await new AgentMetrics({ ...base, fqdn: () => undefined }).registry.metrics();
    expect(text).not.toMatch(/palisade_fqdn\{/);
  });
});
