/**
 * A MatrixDiff as text for people (`palisade diff`, the admin's approval screen, examples/s21-staged-approval):
 * a summary line, then one block per cause (reference/cause.ts): the policy rule, isolation or
 * default the change is owed to, how many flows it opens and closes, and each flow with its
 * verdict before -> after and what decided before. Pure.
 */
import type { ChangeGroup, MatrixDiff, VerdictChange } from '../diff/compute.js';
import { formatObject } from '../model/problems.js';
import type { Cause, Step } from '../reference/cause.js';
import type { DirectionVerdict } from '../model/verdict.js';
import { formatRule } from './explain-text.js';

/** Words for the two sides: `-f BEFORE -f AFTER`, or enforced vs staged. */
export interface DiffWords {
  /** what a cause found on the after side is: "added or changed", "staged" */
  readonly after: string;
  /** what a cause found on the before side is: "removed or changed" */
  readonly before: string;
  /** the two sides' names in the summary: "before"/"after", "enforced"/"with staged" */
  readonly beforeName: string;
  readonly afterName: string;
}

export const FILE_WORDS: DiffWords = { after: 'added or changed', before: 'removed or changed', beforeName: 'before', afterName: 'after' };
export const STAGED_WORDS: DiffWords = { after: 'staged', before: 'replaced when staged', beforeName: 'enforced', afterName: 'with staged in force' };

const TIER: Record<string, string> = { Admin: 'Admin tier', NetworkPolicy: 'NetworkPolicy tier', Baseline: 'Baseline tier', Default: 'default' };

export function formatStep(step: Step, direction: 'ingress' | 'egress'): string {
  switch (step.kind) {
    case 'rule':
      return `${TIER[step.rule.tier] ?? step.rule.tier}: ${formatRule(step.rule, direction)}`;
    case 'isolation':
      return (
        `NetworkPolicy tier: ${step.policies.map(formatObject).join(', ')} isolate${step.policies.length === 1 ? 's' : ''} the pod for ${direction}` +
        (step.nodeLocal ? '; only its own node is let in' : '; no rule allows')
      );
    case 'default':
      return 'default: no policy decides (allow)';
    case 'no-policy':
      if (step.reason === 'node-allowance') return "a node's built-in allowance (API server, kubelet)";
      return step.reason === 'loopback' ? 'no policy: a pod to its own address' : 'no policy: this end is not a pod';
  }
}

export function formatCause(c: Cause, words: DiffWords): string {
  const side = c.step.kind === 'rule' || c.step.kind === 'isolation' ? ` (${c.side === 'after' ? words.after : words.before})` : '';
  return `${c.direction}, ${formatStep(c.step, c.direction)}${side}`;
}

/** What decided one direction, in one line (the "was" of a change). */
export function formatDecider(d: DirectionVerdict): string {
  switch (d.reason) {
    case 'rule':
      return d.rule ? `${TIER[d.rule.tier] ?? d.rule.tier}: ${formatRule(d.rule, d.direction)}` : TIER[d.tier] ?? d.tier;
    case 'isolated-no-match':
      return `NetworkPolicy tier: isolated by ${(d.isolatedBy ?? []).map(formatObject).join(', ')}, no rule allows`;
    case 'node-local':
      return `NetworkPolicy tier: isolated, but the source is the pod's own node`;
    case 'no-match':
      return d.passed.length > 0 ? `default, after Pass by ${formatRule(d.passed[d.passed.length - 1]!, d.direction)}` : 'default (no policy decides)';
    case 'not-a-pod':
      return 'not a pod: no policy';
    case 'loopback':
      return 'a pod to itself: no policy';
    case 'node-allowance':
      return "a node's built-in allowance (API server, kubelet)";
  }
}

export function formatChange(ch: VerdictChange, words: DiffWords): string {
  const dirs = ch.causes.map((c) => c.direction);
  const was = dirs.map((d) => `${d} ${ch.before[d].verdict}: ${formatDecider(ch.before[d])}`).join('; ');
  const now = dirs.map((d) => `${d} ${ch.after[d].verdict}: ${formatDecider(ch.after[d])}`).join('; ');
  return (
    `  ${ch.from} -> ${ch.to} ${ch.protocol}/${ch.port}: ${ch.before.verdict} -> ${ch.after.verdict.toUpperCase()}\n` +
    `      ${words.beforeName}: ${was}\n` +
    `      ${words.afterName}: ${now}\n`
  );
}

export function formatGroup(g: ChangeGroup, words: DiffWords): string {
  const counts = [g.opened > 0 ? `opens ${g.opened}` : '', g.closed > 0 ? `closes ${g.closed}` : ''].filter(Boolean).join(', ');
  return `${formatCause(g.cause, words)}: ${counts}\n${g.changes.map((c) => formatChange(c, words)).join('')}`;
}

export function formatDiffSummary(d: MatrixDiff, words: DiffWords): string {
  const opened = d.changes.filter((c) => c.after.verdict === 'allow').length;
  const closed = d.changes.length - opened;
  const lines = [
    d.changes.length === 0
      ? `no verdict changes (${d.compared} flow(s) compared, ${words.beforeName} vs ${words.afterName})`
      : `${d.changes.length} flow(s) change verdict: ${opened} opened, ${closed} closed (${d.compared} compared, ${words.beforeName} vs ${words.afterName})`,
  ];
  if (d.onlyBefore.length > 0) lines.push(`only in ${words.beforeName} (not compared): ${d.onlyBefore.join(', ')}`);
  if (d.onlyAfter.length > 0) lines.push(`only in ${words.afterName} (not compared): ${d.onlyAfter.join(', ')}`);
  if (d.incomparable > 0) lines.push(`${d.incomparable} pair(s) have a common address family on one side only (not compared)`);
  return lines.join('\n') + '\n';
}

export function formatDiffText(d: MatrixDiff, words: DiffWords): string {
  const head = formatDiffSummary(d, words);
  if (d.groups.length === 0) return head;
  return `${head}\n${d.groups.map((g) => formatGroup(g, words)).join('\n')}`;
}
