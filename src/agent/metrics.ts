/**
 * The agent's Prometheus metrics (prom-client, its own Registry: nothing global), served by
 * health.ts on /metrics. Figures that live elsewhere (the compiled policy's rules and sets, the
 * informers' restart and relist counts) are read when scraped, through `sources`.
 *
 *   palisade_event_to_kernel_seconds        histogram: watch event received -> its batch in the kernel
 *   palisade_applies_total{update}          committed batches (install | deltas)
 *   palisade_apply_errors_total             batches the backend refused (the last good state stays)
 *   palisade_rules / _sets / _set_members   of the policy in force (sets: those some rule uses)
 *   palisade_watch_restarts_total{resource} / palisade_relists_total{resource}
 *   palisade_watch_events_total{resource}
 *   palisade_invalid_objects{kind}          objects ignored as invalid now
 *   palisade_invalid_reports_total{kind}    invalid object versions seen
 *   palisade_denied_flows_total{tier,policy,rule}   with --log-denied
 *   palisade_fqdn{figure}                   FQDN learning (docs/fqdn.md): learned, evicted, expired,
 *                                           untrusted, held, released (totals), addresses (now),
 *                                           hold_p99_us (last 4,096 answers); absent when not learning
 * Cost: a scrape walks the used sets' members once (O(members)).
 * Thread-safety: one owner.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CompiledPolicy } from '../enforce/compiled.js';
import type { DenyRecord } from '../enforce/deny-log.js';
import type { WatchStats } from './watch-source.js';

export interface MetricSources {
  policy(): CompiledPolicy | undefined;
  watches(): ReadonlyMap<string, WatchStats>;
  invalidByKind(): ReadonlyMap<string, number>;
  /** FQDN learning figures (src/fqdn/node.ts FqdnStats), when learning runs */
  fqdn?(): Readonly<Record<string, number>> | undefined;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly eventToKernel: Histogram;
  readonly applies: Counter<'update'>;
  readonly applyErrors: Counter;
  readonly invalidReports: Counter<'kind'>;
  readonly denied: Counter<'tier' | 'policy' | 'rule'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.eventToKernel = new Histogram({
      name: 'palisade_event_to_kernel_seconds',
      help: 'time from a watch event reaching the agent to its batch being in force in the kernel',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.applies = new Counter({ name: 'palisade_applies_total', help: 'batches put in force, by kind of update', labelNames: ['update'], registers });
    this.applyErrors = new Counter({ name: 'palisade_apply_errors_total', help: 'batches the backend refused (the previous state stays in force)', registers });
    this.invalidReports = new Counter({ name: 'palisade_invalid_reports_total', help: 'invalid object versions seen (each is ignored)', labelNames: ['kind'], registers });
    this.denied = new Counter({ name: 'palisade_denied_flows_total', help: 'denied flows (one per flow per dedup window), by deciding policy and rule', labelNames: ['tier', 'policy', 'rule'], registers });
    new Gauge({
      name: 'palisade_rules',
      help: 'rules of the policy in force',
      registers,
      collect() {
        this.set(sources.policy()?.ruleSet.rules.length ?? 0);
      },
    });
    new Gauge({
      name: 'palisade_sets',
      help: 'address sets some rule of the policy in force uses',
      registers,
      collect() {
        this.set(sources.policy()?.usedSets.size ?? 0);
      },
    });
    new Gauge({
      name: 'palisade_set_members',
      help: 'members (prefixes) of the used address sets',
      registers,
      collect() {
        const p = sources.policy();
        let n = 0;
        if (p) for (const id of p.usedSets) n += p.resolution.unorderedPrefixes(id).length;
        this.set(n);
      },
    });
    new Gauge({
      name: 'palisade_fqdn',
      help: 'FQDN learning: answers learned/evicted/expired/untrusted, answers held/released, addresses now, hold p99 (us)',
      labelNames: ['figure'],
      registers,
      collect() {
        this.reset();
        for (const [figure, n] of Object.entries(sources.fqdn?.() ?? {})) this.set({ figure }, n);
      },
    });
    new Gauge({
      name: 'palisade_invalid_objects',
      help: 'objects ignored now because they are invalid',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of sources.invalidByKind()) this.set({ kind }, n);
      },
    });
    const fromWatches = (name: string, help: string, field: 'restarts' | 'relists' | 'events'): void => {
      const seen = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames: ['resource'],
        registers,
        collect() {
          for (const [resource, s] of sources.watches()) {
            const d = s[field] - (seen.get(resource) ?? 0);
            if (d > 0) this.inc({ resource }, d);
            seen.set(resource, s[field]);
          }
        },
      });
    };
    fromWatches('palisade_watch_restarts_total', 'watches restarted (closed by the server, silent past the deadline, failed)', 'restarts');
    fromWatches('palisade_relists_total', 'full lists after the first (410 Gone, or a restart that could not resume)', 'relists');
    fromWatches('palisade_watch_events_total', 'watch events received', 'events');
  }

  deniedFlow(r: DenyRecord): void {
    this.denied.inc({ tier: r.tier, policy: r.policy, rule: r.rule ?? '' });
  }
}
