/**
 * Which retention rules the consent ledger gates: a rule whose purposes all rest on consent, on a
 * table the data map binds to a consent subject (a visitor id, an address). Its record is due at
 * once when its subject's consent for every one of those purposes is refused, withdrawn or expired.
 */
import { columnOf } from '../datamap/columns.js';
import type { StoreMap, TableMap } from '../datamap/datamap-schema.js';
import type { Register } from '../register/register-load.js';
import type { RetentionRule } from '../register/register-schema.js';
import {
  type ConsentEvent,
  consentLost,
  consentPurposes,
  type PurposeState,
  purposeState,
  type SubjectKind,
} from './consent.js';

export interface GatedRule {
  readonly rule: RetentionRule;
  readonly table: TableMap;
  readonly kind: SubjectKind;
  /** The column naming the subject. */
  readonly column: string;
}

/** The consent-gated rules of a store's tables. */
export function gatedRules(register: Register, store: StoreMap): GatedRule[] {
  const consent = consentPurposes(register);
  const out: GatedRule[] = [];
  for (const table of store.tables) {
    const binding = table.consent;
    if (!binding || !table.record) continue;
    const spec = table.columns[binding.subject];
    const identity = spec === undefined ? undefined : columnOf(spec).identity;
    const kind: SubjectKind | undefined =
      identity === 'visitor-id' ? 'visitor' : identity === 'email' ? 'email' : undefined;
    if (!kind) continue;
    for (const rule of register.retention) {
      if (rule.record !== table.record || rule.todo !== undefined || rule.follows !== undefined) continue;
      const purposes = rule.purposes ?? [];
      if (purposes.length > 0 && purposes.every((p) => consent.has(p)))
        out.push({ rule, table, kind, column: binding.subject });
    }
  }
  return out;
}

/** One subject whose consent a gated rule's records lost: the day, and the event that decided it. */
export interface LostConsent {
  readonly subject: string;
  readonly ended: string;
  readonly event: number;
  readonly state: string;
}

/**
 * From the latest event of each subject for each purpose (of `on` or before), the subjects that
 * lost the consent `rule` stands on, on `on`.
 */
export function lostConsents(
  register: Register,
  rule: RetentionRule,
  latest: readonly ConsentEvent[],
  on: string,
): LostConsent[] {
  const purposes = consentPurposes(register);
  const bySubject = new Map<string, ConsentEvent[]>();
  for (const e of latest) {
    const list = bySubject.get(e.subject.id) ?? [];
    list.push(e);
    bySubject.set(e.subject.id, list);
  }
  const out: LostConsent[] = [];
  for (const [subject, events] of bySubject) {
    const states: PurposeState[] = (rule.purposes ?? []).map((id) => {
      const purpose = purposes.get(id);
      return purpose ? purposeState(purpose, events, on) : { purpose: id, state: 'none' };
    });
    const lost = consentLost(states);
    if (lost) out.push({ subject, ended: lost.ended, event: lost.event.event, state: lost.state });
  }
  return out;
}
