/**
 * The native classifier (addon/classifier, through src/native/binding.ts: the one door to native)
 * behind the engine's Classifier interface. `nativeClassifier()` is its factory, undefined when
 * the addon does not load; `default-classifier.ts` decides when the engine uses it.
 *
 * Mapping: one NativeClassifier per direction table. A rule's subject and peer sets become the
 * set-rule address fields (egress: src = subject, dst = peer; ingress: src = peer, dst = subject;
 * a null peer is `any`); priority = the rule's position in the first-match list; ruleId = the
 * rule's id in the RuleSet; the action byte is the RuleAction's index (kept for logs and
 * debugging; the engine reads actions from the RuleSet by id). Set membership is loaded as edits
 * and kept current with `updateSets` (one published version per engine change).
 * Batches cross with zero copies: the engine's FlowBatch words are the native header layout, and
 * the rule ids come back in a Uint32Array view of the caller's Int32Array (0xFFFFFFFF reads -1).
 */
import type { Cidr, Family } from '../model/ip.js';
import {
  nativeAvailable as addonLoads,
  NativeClassifier,
  packRules,
  packSetEdits,
  type ClassifierRule,
  type SetEdit,
} from '../native/binding.js';
import type { SetDelta } from '../resolve/changes.js';
import type { DirectionTable, RuleAction } from '../rules/types.js';
import { NO_RULE, type Classifier, type ClassifierFactory } from './classifier.js';
import { PROTOCOL_NUMBER, type FlowBatch } from './flow-batch.js';

export const ACTION_BYTE: Record<RuleAction, number> = { accept: 1, deny: 2, pass: 3, allow: 4, 'node-local': 5, 'isolation-deny': 6 };

function edit(op: 'add' | 'remove', setId: number, c: Cidr): SetEdit {
  return { op, setId, family: c.family, addr: c.family === 4 ? Number(c.base) : c.base, prefixLen: c.prefixLen };
}

export class NativeDirectionClassifier implements Classifier {
  readonly kind = 'native' as const;
  private readonly native = new NativeClassifier();
  private actions = new Uint8Array(0);

  get lookups(): number {
    return this.native.stats().nativeLookups;
  }

  /** The class form's size (addon/classifier/class_table.h): classes known, with bitmaps of their own. */
  classStats(): { addressClasses: number; namedClasses: number; classBytes: number; setRules: number } {
    const s = this.native.stats();
    return { addressClasses: s.addressClasses, namedClasses: s.namedClasses, classBytes: s.classBytes, setRules: s.setRules };
  }

  loadSets(sets: ReadonlyMap<number, readonly Cidr[]>): void {
    const edits: SetEdit[] = [];
    for (const [id, cidrs] of sets) for (const c of cidrs) edits.push(edit('add', id, c));
    if (edits.length) this.native.updateSets(packSetEdits(edits));
  }

  publishRules(table: DirectionTable): void {
    const rules: ClassifierRule[] = table.rules.map((r) => {
      const subject = { kind: 'set', setId: r.subject } as const;
      const peer = r.peer === null ? ({ kind: 'any' } as const) : ({ kind: 'set', setId: r.peer } as const);
      return {
        ruleId: r.id,
        priority: r.priority,
        action: ACTION_BYTE[r.action],
        src: r.direction === 'egress' ? subject : peer,
        dst: r.direction === 'egress' ? peer : subject,
        srcPort: r.srcPorts,
        dstPort: r.dstPorts,
        ...(r.protocol !== null ? { proto: { value: PROTOCOL_NUMBER[r.protocol], mask: 0xff } } : {}),
      };
    });
    this.native.compileSync(packRules(rules));
  }

  applySetEdits(deltas: readonly SetDelta[]): void {
    const edits: SetEdit[] = [];
    for (const d of deltas) {
      for (const c of d.removed) edits.push(edit('remove', d.set, c));
      for (const c of d.added) edits.push(edit('add', d.set, c));
    }
    if (edits.length) this.native.updateSets(packSetEdits(edits));
  }

  lookup(family: Family, src: bigint, dst: bigint, protocol: number, srcPort: number, dstPort: number, minPriority: number): number {
    if (family === 4) {
      const raw = this.native.lookup4Raw(Number(src), Number(dst), srcPort, dstPort, protocol, minPriority);
      return raw < 0 ? NO_RULE : raw % 4294967296;
    }
    const m = this.native.lookup6(src, dst, srcPort, dstPort, protocol, minPriority);
    return m === null ? NO_RULE : m.ruleId;
  }

  lookupBatch(batch: FlowBatch, minPriority: number, out: Int32Array): void {
    if (this.actions.length < batch.count) this.actions = new Uint8Array(batch.count);
    const ruleId = new Uint32Array(out.buffer, out.byteOffset, batch.count);
    const o = { ruleId, action: this.actions };
    // NO_RULE_ID (0xFFFFFFFF) written through the Uint32Array view reads as -1 (NO_RULE) in `out`.
    if (batch.family === 4) this.native.lookupBatch4(batch.words.subarray(0, batch.count * 4), o, { minPriority });
    else this.native.lookupBatch6(batch.words.subarray(0, batch.count * 10), o, { minPriority });
  }
}

const NATIVE: ClassifierFactory = { kind: 'native', create: () => new NativeDirectionClassifier() };

/** The native classifier's factory, or undefined when the addon is not built or does not load. */
export function nativeClassifier(): ClassifierFactory | undefined {
  return addonLoads() ? NATIVE : undefined;
}
