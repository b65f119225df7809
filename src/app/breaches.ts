/**
 * The register of personal data breaches (art. 33(5)): a breach recorded with what it touched,
 * counted in the stores through the data map; the decision to notify the CNIL (art. 33, within
 * 72 hours of the discovery) and to tell the people (art. 34), each with its reason; the register
 * exported in the CNIL model's shape; the letter to the people drafted in French and English.
 * Every change is logged with the breach's number and counts, never its texts (their keyed hash).
 */
import { z } from 'zod';
import type { Connection } from '../adapters/sql/connect.js';
import type { RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import {
  type Affected,
  type AffectedTable,
  BREACH_KINDS,
  type Breach,
  type BreachText,
  type BreachView,
  deadlineOf,
  orderBreaches,
  viewOf,
} from '../core/breaches/breach.js';
import {
  type BreachLetter,
  breachLetter,
  breachRegisterCsv,
  breachRegisterHtml,
  breachRegisterTable,
} from '../core/breaches/breach-documents.js';
import { resolveBreachScope, type ScopedTable } from '../core/breaches/breach-scope.js';
import { scheduleOf } from '../core/config.js';
import { field, RegistreError } from '../core/errors.js';
import type { Context, Engine } from './engine.js';
import { isoInstant, NoInput, oneOf, parseInput, positiveId, saying, wholeNumber } from './input.js';

const ids = z.array(z.string().min(1).max(64)).max(200).optional();

/** A spreadsheet cell holds 32,767 characters: a text of the register must fit in one, with its label. */
const TEXT_MAX = 10_000;

const said = (error: string) =>
  saying(error).max(TEXT_MAX, {
    error: (issue) =>
      `is ${String((issue.input as string).length)} characters long: at most ${TEXT_MAX.toLocaleString('en')} (a cell of the exported register), say the rest in a file the register names`,
  });

/** A text in one language for both letters, or one per language. */
const Text = (what: string) =>
  z.union([
    said(`must say ${what}`),
    z.strictObject({ fr: said(`must say ${what} in French`), en: said(`must say ${what} in English`) }),
  ]);

export const RecordBreachInput = z.strictObject({
  /** When the controller became aware of it: the 72 hours run from here. */
  discoveredAt: isoInstant,
  /** When it happened, if known. */
  occurredAt: isoInstant.optional(),
  /** Loss of confidentiality, integrity or availability. */
  kinds: z
    .array(oneOf(BREACH_KINDS))
    .min(1, { error: 'name at least one: confidentiality, integrity or availability' }),
  /** What happened. */
  nature: Text('what happened'),
  /** The processing activities, retention rules, register records and data categories it touched. */
  activities: ids,
  rules: ids,
  records: ids,
  categories: ids,
  /** The DPO's own estimate of the people, beside the count (people the stores do not hold). */
  people: wholeNumber(0, 10_000_000_000).optional(),
  consequences: Text('the likely consequences'),
  measures: Text('the measures taken or proposed'),
});
export type RecordBreachInput = z.input<typeof RecordBreachInput>;

export const BreachIdInput = z.strictObject({ id: positiveId });
export type BreachIdInput = z.input<typeof BreachIdInput>;

const version = wholeNumber(0, Number.MAX_SAFE_INTEGER).optional();

export const DecideBreachInput = z.strictObject({
  id: positiveId,
  /** Whether the breach is notified to the CNIL. */
  notify: z.boolean({ error: 'must be true or false' }),
  /** When it was notified (required with notify). */
  notifiedAt: isoInstant.optional(),
  /** The CNIL's reference of the notification. */
  reference: z.string().min(1).max(128).optional(),
  /** Why it is not notified (art. 33(1): unlikely to result in a risk), or why it was notified late. */
  reason: z.string().max(4000).optional(),
  /** The version read (breach show): refused when the breach changed since. */
  version,
});
export type DecideBreachInput = z.input<typeof DecideBreachInput>;

export const InformBreachInput = z.strictObject({
  id: positiveId,
  /** Whether the people are told (art. 34: a high risk to their rights and freedoms). */
  inform: z.boolean({ error: 'must be true or false' }),
  /** When they were told, once they were. */
  informedAt: isoInstant.optional(),
  /** Why they are not told (art. 34(3): data unintelligible, risk no longer likely, disproportionate effort). */
  reason: z.string().max(4000).optional(),
  version,
});
export type InformBreachInput = z.input<typeof InformBreachInput>;

export const ExportBreachesInput = z.strictObject({
  format: oneOf(['html', 'csv', 'xlsx']),
  lang: oneOf(['fr', 'en']).optional(),
});
export type ExportBreachesInput = z.input<typeof ExportBreachesInput>;

export type { BreachLetter, BreachView };

/** A breach as `breach show` answers it: where it stands, and the letter to its people in both languages. */
export interface BreachShown extends BreachView {
  readonly letters: { readonly fr: BreachLetter; readonly en: BreachLetter };
}

const usage = (name: string, message: string) =>
  new RegistreError('E_USAGE', `${field(name)} ${message}`, { path: [name] });

function notAfterNow(name: string, instant: string, now: Date): void {
  if (Date.parse(instant) > now.getTime())
    throw usage(name, `${instant} is in the future (it is now ${now.toISOString()})`);
}

/**
 * A decision already made is changed only by whoever read it: without the version read, a second
 * operator (or a retried call) would write over the first decision unseen.
 */
const decidedAlready = (id: number, what: string) =>
  usage(
    'version',
    `is required to change ${what} of breach ${id}, already decided: read it first (registre breach show ${id}) and give its version`,
  );

const textsOf = (...texts: BreachText[]) => JSON.stringify(texts);

/** What the data map finds in the stores: per table, then the people of each identity once. */
async function countAffected(engine: Engine, tables: readonly ScopedTable[], now: Date): Promise<Affected> {
  const { countPeople, countScopedTable } = await import('../adapters/sql/breach-count.js');
  const counted: AffectedTable[] = [];
  const byKey = new Map<string, { conn: Connection; ctx: RetentionSqlContext; tables: ScopedTable[] }>();
  for (const scoped of tables) {
    const { conn, ctx } = await engine.retention(scoped.store);
    counted.push(await countScopedTable(conn, ctx, scoped));
    if (!scoped.person) continue;
    const group = byKey.get(scoped.person.key) ?? { conn, ctx, tables: [] };
    group.tables.push(scoped);
    byKey.set(scoped.person.key, group);
  }
  let people: number | null = null;
  for (const [key, group] of byKey) {
    const n =
      group.tables.length === 1
        ? (counted.find((t) => t.personKey === key)?.people ?? 0)
        : await countPeople(group.conn, group.ctx, group.tables);
    people = (people ?? 0) + n;
  }
  return {
    tables: counted,
    records: counted.reduce((n, t) => n + t.records, 0),
    people,
    peopleUpperBound: byKey.size > 1,
    countedAt: now.toISOString(),
  };
}

/** Records a breach: what it touched is counted in the stores now, its deadline set 72 hours after its discovery. */
export async function recordBreach(
  engine: Engine,
  input: RecordBreachInput,
  context: Context,
): Promise<BreachView> {
  const parsed = parseInput(RecordBreachInput, input);
  const now = engine.clock.now();
  notAfterNow('discoveredAt', parsed.discoveredAt, now);
  if (parsed.occurredAt !== undefined && parsed.occurredAt > parsed.discoveredAt)
    throw usage('occurredAt', `${parsed.occurredAt} is after the discovery (${parsed.discoveredAt})`);
  const project = await engine.project();
  const scope = {
    activities: parsed.activities ?? [],
    rules: parsed.rules ?? [],
    records: parsed.records ?? [],
    categories: parsed.categories ?? [],
  };
  const resolved = resolveBreachScope(project.register, project.datamap, scope);
  const affected = await countAffected(engine, resolved.tables, now);
  const state = await engine.state('write');
  const breach = await state.breaches.add(
    {
      discoveredAt: parsed.discoveredAt,
      deadline: deadlineOf(parsed.discoveredAt),
      occurredAt: parsed.occurredAt ?? null,
      kinds: [...new Set(parsed.kinds)],
      nature: parsed.nature,
      scope,
      affected,
      peopleEstimate: parsed.people ?? null,
      consequences: parsed.consequences,
      measures: parsed.measures,
      notification: { decision: 'pending' },
      information: { decision: 'pending' },
      recordedBy: context.actor,
    },
    now.toISOString(),
    (b) => ({
      kind: 'breach.record',
      data: {
        actor: context.actor,
        breach: b.id,
        discoveredAt: b.discoveredAt,
        deadline: b.deadline,
        kinds: b.kinds,
        ...scope,
        tables: affected.tables.map((t) => ({
          store: t.store,
          table: t.table,
          records: t.records,
          people: t.people,
        })),
        records: affected.records,
        people: affected.people,
        ...(b.peopleEstimate !== null ? { peopleEstimate: b.peopleEstimate } : {}),
        texts: state.digest(textsOf(b.nature, b.consequences, b.measures)),
      },
    }),
  );
  return viewOf(breach, now);
}

/** Every breach, overdue first, then those to decide by deadline, then the decided, newest first. */
export async function listBreaches(engine: Engine, input: NoInput, _context: Context): Promise<BreachView[]> {
  parseInput(NoInput, input);
  const state = await engine.state('read');
  const now = engine.clock.now();
  return orderBreaches((await state.breaches.list()).map((b) => viewOf(b, now)));
}

async function breachOf(engine: Engine, id: number): Promise<Breach> {
  const state = await engine.state('read');
  const breach = await state.breaches.get(id);
  if (!breach)
    throw new RegistreError(
      'E_BREACH_NOT_FOUND',
      `there is no breach ${id} (registre breach list shows them)`,
    );
  return breach;
}

async function shown(engine: Engine, breach: Breach): Promise<BreachShown> {
  const view = viewOf(breach, engine.clock.now());
  const { register, loaded } = await engine.project();
  const zone = scheduleOf(loaded.config).timeZone;
  return {
    ...view,
    letters: { fr: breachLetter(register, view, 'fr', zone), en: breachLetter(register, view, 'en', zone) },
  };
}

/** One breach, with where it stands and the letter to its people. */
export async function showBreach(
  engine: Engine,
  input: BreachIdInput,
  _context: Context,
): Promise<BreachShown> {
  const { id } = parseInput(BreachIdInput, input);
  return shown(engine, await breachOf(engine, id));
}

/**
 * The decision to notify the CNIL or not, with its reason (art. 33(5) documents both): a
 * notification says when it was made and the CNIL's reference; one after the 72 hours says why.
 */
export async function decideBreach(
  engine: Engine,
  input: DecideBreachInput,
  context: Context,
): Promise<BreachShown> {
  const parsed = parseInput(DecideBreachInput, input);
  const now = engine.clock.now();
  const reason = parsed.reason?.trim() || undefined;
  if (parsed.notify) {
    if (parsed.notifiedAt === undefined)
      throw usage('notifiedAt', 'is required with a notification: when it was made');
    notAfterNow('notifiedAt', parsed.notifiedAt, now);
  } else {
    if (reason === undefined)
      throw usage(
        'reason',
        'must say why the breach is not notified (art. 33(1): unlikely to result in a risk)',
      );
    if (parsed.notifiedAt !== undefined || parsed.reference !== undefined)
      throw usage(
        parsed.notifiedAt !== undefined ? 'notifiedAt' : 'reference',
        'goes with a notification only',
      );
  }
  const state = await engine.state('write');
  const changed = await state.breaches.change(parsed.id, parsed.version, now.toISOString(), (before) => {
    const at = parsed.notifiedAt;
    if (at !== undefined && at < before.discoveredAt)
      throw usage('notifiedAt', `${at} is before the breach was discovered (${before.discoveredAt})`);
    const late = at !== undefined && at > before.deadline;
    if (late && reason === undefined)
      throw usage(
        'reason',
        `must give the reasons for the delay: the notification (${at}) came after the 72 hours (${before.deadline}), art. 33(1)`,
      );
    if (parsed.version === undefined && before.notification.decision !== 'pending')
      throw decidedAlready(before.id, 'the decision to notify the CNIL');
    const decided = { decidedAt: now.toISOString(), decidedBy: context.actor };
    const notification =
      at !== undefined
        ? {
            decision: 'notify' as const,
            notifiedAt: at,
            reference: parsed.reference ?? null,
            delayReason: late ? (reason ?? null) : null,
            ...decided,
          }
        : { decision: 'no-notify' as const, reason: reason as string, ...decided };
    return {
      details: { ...before, notification },
      entry: {
        kind: 'breach.decide',
        data: {
          actor: context.actor,
          breach: before.id,
          notify: parsed.notify,
          ...(at !== undefined ? { notifiedAt: at, late } : {}),
          ...(parsed.reference !== undefined ? { reference: parsed.reference } : {}),
          ...(reason !== undefined ? { reason: state.digest(reason) } : {}),
          version: before.version + 1,
        },
      },
    };
  });
  return shown(engine, changed);
}

/** Whether the people are told (art. 34), with the reason when not; the letter is drafted from the register. */
export async function informBreach(
  engine: Engine,
  input: InformBreachInput,
  context: Context,
): Promise<BreachShown> {
  const parsed = parseInput(InformBreachInput, input);
  const now = engine.clock.now();
  const reason = parsed.reason?.trim() || undefined;
  if (parsed.informedAt !== undefined) notAfterNow('informedAt', parsed.informedAt, now);
  if (!parsed.inform) {
    if (reason === undefined)
      throw usage(
        'reason',
        'must say why the people are not told (art. 34(3): data unintelligible to others, high risk no longer likely, or a disproportionate effort)',
      );
    if (parsed.informedAt !== undefined) throw usage('informedAt', 'goes with telling the people only');
  }
  const state = await engine.state('write');
  const changed = await state.breaches.change(parsed.id, parsed.version, now.toISOString(), (before) => {
    if (parsed.informedAt !== undefined && parsed.informedAt < before.discoveredAt)
      throw usage(
        'informedAt',
        `${parsed.informedAt} is before the breach was discovered (${before.discoveredAt})`,
      );
    if (parsed.version === undefined && before.information.decision !== 'pending')
      throw decidedAlready(before.id, 'whether the people are told');
    const decided = { decidedAt: now.toISOString(), decidedBy: context.actor };
    const information = parsed.inform
      ? { decision: 'inform' as const, informedAt: parsed.informedAt ?? null, ...decided }
      : { decision: 'no-inform' as const, reason: reason as string, ...decided };
    return {
      details: { ...before, information },
      entry: {
        kind: 'breach.inform',
        data: {
          actor: context.actor,
          breach: before.id,
          inform: parsed.inform,
          ...(parsed.informedAt !== undefined ? { informedAt: parsed.informedAt } : {}),
          ...(reason !== undefined ? { reason: state.digest(reason) } : {}),
          version: before.version + 1,
        },
      },
    };
  });
  return shown(engine, changed);
}

/** The register of breaches, as the CNIL's model lays it out: HTML, CSV or XLSX; its export is logged. */
export async function exportBreachRegister(
  engine: Engine,
  input: ExportBreachesInput,
  context: Context,
): Promise<{ name: string; content: string | Buffer }> {
  const parsed = parseInput(ExportBreachesInput, input);
  const lang = parsed.lang ?? 'fr';
  const now = engine.clock.now();
  const { register, loaded } = await engine.project();
  const state = await engine.state('write');
  const breaches = (await state.breaches.list()).map((b) => viewOf(b, now));
  // The register reads on the controller's clocks (the schedule's time zone), in words.
  const zone = scheduleOf(loaded.config).timeZone;
  const table = breachRegisterTable(register, breaches, lang, now.toISOString(), zone);
  const content =
    parsed.format === 'html'
      ? breachRegisterHtml(table)
      : parsed.format === 'csv'
        ? breachRegisterCsv(table)
        : await (await import('../adapters/files/breach-xlsx.js')).renderBreachRegisterXlsx(table);
  await state.audit('breach.export', {
    actor: context.actor,
    format: parsed.format,
    lang,
    breaches: breaches.map((b) => b.id),
  });
  return { name: `breach-register.${lang}.${parsed.format}`, content };
}
