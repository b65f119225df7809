/**
 * The consent ledger's use cases: record a choice (or many, from a banner's JSON lines), the
 * current state of a subject's consents, the check a sender makes before using a purpose, the
 * proof of every event, and a withdrawal as easy as the consent was to give (art. 7(3)), whose
 * effects the data map lists are applied at once to the records of an address.
 */

import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { readHmacKey, readHmacKeyIfAvailable, readPreviousKeys } from '../adapters/files/config-paths.js';
import { applyConsentEffects, type ConsentEffect, effectTables } from '../adapters/sql/consent-effects.js';
import { loadRows } from '../adapters/sql/records.js';
import type { NewConsentEvent, StateStore } from '../adapters/state/state-store.js';
import {
  CONSENT_CHOICES,
  CONSENT_SOURCES,
  type ConsentEvent,
  type ConsentState,
  checkConsentPurposes,
  consentAddress,
  consentPurposes,
  type PurposeState,
  purposeState,
  type Subject,
  VISITOR_ID,
} from '../core/consent/consent.js';
import { field, RegistreError } from '../core/errors.js';
import { addressOf, personHash } from '../core/identity.js';
import type { HoldCase } from '../core/retention/results.js';
import { appendGrouped } from './consent-commit.js';
import type { Context, Engine } from './engine.js';
import { calendarDate, isoInstant, oneOf, parseInput } from './input.js';
import type { Project } from './project.js';

/** A withdrawal of a consent the ledger never saw given: no text was shown (the SHA-256 of nothing). */
const NO_NOTICE = {
  version: 'none',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

/**
 * A consent is recorded many times a second by a banner's traffic: the audit log's whole check (a
 * count of its entries) is made at most once a second per engine; each append still checks the
 * head it chains to.
 */
const WHOLE_WITHIN_MS = 1_000;

/** Events per transaction of an import: one audit entry each. */
const IMPORT_BATCH = 2_000;

const visitorId = z
  .string()
  .transform((v) => v.trim())
  .refine((v) => VISITOR_ID.test(v), {
    error:
      'a visitor id is the identifier the site set in the browser (1 to 200 letters, digits or signs, no space)',
  });

/** Who the consent is of: an address (kept as its keyed hash) or a visitor id (kept as given). */
const SubjectFields = {
  /** The person's address: the ledger keeps its keyed hash, never the address. */
  email: z.string().optional(),
  /** …or the pseudonymous id a site set in the visitor's browser (the analytics cookie's). */
  visitor: visitorId.optional(),
};
const oneSubject = (i: { email?: string | undefined; visitor?: string | undefined }) =>
  (i.email === undefined) !== (i.visitor === undefined);
const ONE_SUBJECT = { error: `give either ${field('email')} or ${field('visitor')}` };

const Notice = z.strictObject({
  /** The version of the notice or banner text the person saw (cookieconsent's `revision`). */
  version: z.string().min(1).max(64),
  /** The SHA-256 (hex) of that text, as shown. */
  sha256: z
    .string()
    .transform((v) => v.toLowerCase())
    .refine((v) => /^[0-9a-f]{64}$/.test(v), { error: 'must be a SHA-256 in hexadecimal (64 characters)' }),
});

const EventFields = {
  ...SubjectFields,
  /** The register's purposes the choice is about (each based on consent). */
  purposes: z.array(z.string().min(1)).min(1),
  choice: oneOf(CONSENT_CHOICES),
  notice: Notice,
  /** When the person chose (default: now). */
  at: isoInstant.optional(),
  /** Where the choice was made. */
  source: oneOf(CONSENT_SOURCES).optional(),
  /** The banner's consent id (cookieconsent's `consentId`); one is generated when none is given. */
  consentId: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, { error: 'must be 1 to 128 printable characters, no space' })
    .optional(),
  /** The language the text was shown in (`fr`, `en`). */
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, { error: 'must be a language tag such as fr or en-GB' })
    .max(16)
    .optional(),
};

export const RecordConsentInput = z.strictObject(EventFields).refine(oneSubject, ONE_SUBJECT);
export type RecordConsentInput = z.input<typeof RecordConsentInput>;

/** A line of an import: the same fields (the source defaults to `banner`). */
const ImportLine = z.strictObject(EventFields).refine(oneSubject, ONE_SUBJECT);

export const ConsentSubjectInput = z
  .strictObject({
    ...SubjectFields,
    /** The day the state is asked for (default: today). */
    on: calendarDate.optional(),
  })
  .refine(oneSubject, ONE_SUBJECT);
export type ConsentSubjectInput = z.input<typeof ConsentSubjectInput>;

export const CheckConsentInput = z
  .strictObject({ ...SubjectFields, purpose: z.string().min(1), on: calendarDate.optional() })
  .refine(oneSubject, ONE_SUBJECT);
export type CheckConsentInput = z.input<typeof CheckConsentInput>;

export const WithdrawConsentInput = z
  .strictObject({
    ...SubjectFields,
    /** The purposes withdrawn (default: every purpose the subject's consent is given for). */
    purposes: z.array(z.string().min(1)).min(1).optional(),
    /** The notice shown when withdrawing (default: the one of the consent withdrawn). */
    notice: Notice.optional(),
    at: isoInstant.optional(),
    source: oneOf(CONSENT_SOURCES).optional(),
    language: EventFields.language,
  })
  .refine(oneSubject, ONE_SUBJECT);
export type WithdrawConsentInput = z.input<typeof WithdrawConsentInput>;

export const ImportConsentsInput = z.strictObject({
  /** A file of JSON lines, one event each (what the banner snippets of the README post). */
  file: z.string().min(1),
  /** The folder `file` is relative to (default: the process's working folder). */
  cwd: z.string().optional(),
});
export type ImportConsentsInput = z.input<typeof ImportConsentsInput>;

/** What a recording did: the events appended, the replays skipped, the effects applied. */
export interface ConsentRecorded {
  readonly events: readonly number[];
  readonly rows: number;
  readonly duplicates: number;
  readonly effects: readonly ConsentEffect[];
}

export interface ConsentImported {
  readonly lines: number;
  readonly events: number;
  readonly rows: number;
  readonly duplicates: number;
  /** The lines refused, by number, and why (the rest are imported). */
  readonly refused: readonly { readonly line: number; readonly error: string }[];
  readonly effects: readonly ConsentEffect[];
}

/** One purpose's state for a subject, as the commands show it. */
export interface ConsentStatusLine {
  readonly purpose: string;
  readonly state: ConsentState;
  /** The day of the event it stands on. */
  readonly since: string | null;
  /** A given consent: the day it stops counting (none: until withdrawn). */
  readonly expires: string | null;
  readonly event: number | null;
  readonly notice: { readonly version: string; readonly sha256: string } | null;
}

export interface ConsentStatus {
  readonly subject: { readonly kind: Subject['kind']; readonly id: string };
  readonly on: string;
  readonly purposes: readonly ConsentStatusLine[];
}

export interface ConsentProof {
  readonly subject: { readonly kind: Subject['kind']; readonly id: string };
  readonly events: readonly ConsentEvent[];
  readonly status: readonly ConsentStatusLine[];
  /** When the proof was drawn, and on which day the states are. */
  readonly drawnAt: string;
  readonly on: string;
}

interface Subjects {
  /** The subject as it is recorded now (an address under the key in force). */
  readonly subject: Subject;
  /** Every id it may be recorded under (an address under each key, old ones too). */
  readonly ids: readonly string[];
  /** The normalised address, to apply a withdrawal's effects (never stored). */
  readonly address?: string;
}

function subjectOf(
  project: Project,
  input: { email?: string | undefined; visitor?: string | undefined },
  write: boolean,
): Subjects {
  if (input.visitor !== undefined)
    return { subject: { kind: 'visitor', id: input.visitor }, ids: [input.visitor] };
  const address = consentAddress(input.email as string);
  const key = write ? readHmacKey(project.loaded) : readHmacKeyIfAvailable(project.loaded);
  if (!key)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      'the consent ledger keeps an address as its keyed hash: the configuration needs hmacKey (registre key generate)',
    );
  const id = personHash(key, address);
  const previous = readPreviousKeys(project.loaded).map((k) => personHash(k, address));
  return { subject: { kind: 'email', id }, ids: [id, ...previous], address };
}

/** The subject as a result names it: a visitor's id, an address's keyed hash. */
const shownSubject = (s: Subject) => ({ kind: s.kind, id: s.id });

function newEvent(
  subject: Subject,
  input: z.output<typeof ImportLine>,
  now: Date,
  defaultSource: NewConsentEvent['source'],
): NewConsentEvent {
  const at = input.at ?? now.toISOString();
  // A minute's grace for clocks: a choice made later than now is not one yet.
  if (Date.parse(at) > now.getTime() + 60_000)
    throw new RegistreError(
      'E_USAGE',
      `${field('at')} ${at} is in the future (now is ${now.toISOString()})`,
      {
        path: ['at'],
      },
    );
  return {
    subject,
    purposes: input.purposes,
    choice: input.choice,
    at,
    notice: input.notice,
    source: input.source ?? defaultSource,
    consentId: input.consentId ?? randomUUID(),
    language: input.language ?? null,
  };
}

/**
 * What the refusals and withdrawals of each address change in its records (the data map's
 * `consent.withdrawn`), each table with its audit entry: for the purposes whose latest choice in
 * the ledger today is a refusal or a withdrawal (a newer consent, or an older withdrawal arriving
 * late, changes nothing), dated by that choice. Applied again whenever the person's withdrawal is
 * sent again (a replay, a withdrawal run again): the effects are idempotent, and one that failed
 * (a store away) is applied then. A visitor's records need none: they are due at once (the
 * sweep's verdicts read the ledger).
 */
async function effectsOf(
  engine: Engine,
  project: Project,
  state: StateStore,
  people: readonly Subjects[],
  actor: string,
): Promise<ConsentEffect[]> {
  const out: ConsentEffect[] = [];
  const today = engine.today();
  const purposes = [...consentPurposes(project.register).values()];
  for (const person of people) {
    if (person.address === undefined) continue;
    const events = await state.consents.ofSubjects('email', person.ids);
    const byDay = new Map<string, string[]>();
    for (const purpose of purposes) {
      const now = purposeState(purpose, events, today);
      if ((now.state !== 'refused' && now.state !== 'withdrawn') || !now.event) continue;
      const day = now.event.at.slice(0, 10);
      byDay.set(day, [...(byDay.get(day) ?? []), purpose.id]);
    }
    for (const [day, ended] of byDay)
      for (const store of project.datamap.stores) {
        if (!store.tables.some((t) => t.consent?.withdrawn)) continue;
        const { conn, ctx } = await engine.retention(store);
        const tables = effectTables(ctx, store, ended).map((t) => t.name);
        if (tables.length === 0) continue;
        const { byTable: heldByTable } = await state.heldKeys(store.id, tables, today);
        const effects = await applyConsentEffects(conn, ctx, store, {
          address: person.address,
          purposes: ended,
          day,
          at: today,
          heldByTable,
        });
        for (const effect of effects) {
          // Only what changed, or what a hold kept, is logged: a replay that changes nothing writes nothing.
          if (effect.changed.length === 0 && effect.kept.length === 0) continue;
          await state.audit('consent.effect', {
            person: person.subject.id,
            purposes: ended,
            store: store.id,
            table: effect.table,
            changed: effect.changed,
            kept: effect.kept,
            set: effect.columns,
            actor,
          });
          out.push(effect);
        }
      }
  }
  return out;
}

/**
 * After a hold is released: the withdrawal effects its records were kept from, applied now (the
 * records of a table with `consent.withdrawn` effects, by the address in their subject column).
 */
export async function effectsAfterHold(
  engine: Engine,
  state: StateStore,
  released: HoldCase,
  actor: string,
): Promise<ConsentEffect[]> {
  const project = await engine.project({ cached: true });
  const keys = [readHmacKeyIfAvailable(project.loaded), ...readPreviousKeys(project.loaded)].filter(
    (k): k is Buffer => k !== undefined,
  );
  const [key] = keys;
  if (!key) return [];
  const people = new Map<string, Subjects>();
  for (const record of released.records) {
    const store = project.datamap.stores.find((s) => s.id === record.store);
    const table = store?.tables.find((t) => t.name === record.table);
    if (!store || !table?.consent?.withdrawn) continue;
    const conn = await engine.store(store);
    const [row] = await loadRows(conn, table.name, table.primaryKey, record.key);
    const value = row?.[table.consent.subject];
    const address = typeof value === 'string' ? addressOf(value) : undefined;
    if (address === undefined) continue;
    const ids = keys.map((k) => personHash(k, address));
    people.set(ids[0] as string, { subject: { kind: 'email', id: ids[0] as string }, ids, address });
  }
  return people.size ? effectsOf(engine, project, state, [...people.values()], actor) : [];
}

/** Records one choice (given, refused or withdrawn) of one subject for one or several purposes. */
export async function recordConsent(
  engine: Engine,
  input: RecordConsentInput,
  context: Context,
): Promise<ConsentRecorded> {
  const parsed = parseInput(RecordConsentInput, input);
  const project = await engine.project({ cached: true });
  const purposes = checkConsentPurposes(project.register, parsed.purposes);
  const subjects = subjectOf(project, parsed, true);
  const event = newEvent(subjects.subject, { ...parsed, purposes }, engine.clock.now(), 'api');
  const state = await engine.state('write', { wholeWithinMs: WHOLE_WITHIN_MS });
  const appended = await appendGrouped(state, context.actor, event, () => engine.clock.now().toISOString());
  // A refusal or a withdrawal (a replay too: its effects may not have been applied) changes the
  // address's records as the ledger now stands.
  const effects =
    event.choice !== 'given' && subjects.address !== undefined
      ? await effectsOf(engine, project, state, [subjects], context.actor)
      : [];
  return { ...appended, effects };
}

/**
 * Imports a file of JSON lines (one event each, as the banner snippets post them), in batches of
 * 2,000 with one audit entry each; a malformed line is refused by number and the rest imported.
 */
export async function importConsents(
  engine: Engine,
  input: ImportConsentsInput,
  context: Context,
): Promise<ConsentImported> {
  const { file, cwd = process.cwd() } = parseInput(ImportConsentsInput, input);
  const path = resolve(cwd, file);
  const project = await engine.project({ cached: true });
  const state = await engine.state('write', { wholeWithinMs: WHOLE_WITHIN_MS });
  const now = engine.clock.now();
  const refused: { line: number; error: string }[] = [];
  /** The addresses with a refusal or a withdrawal in the file: their records' effects once all is recorded. */
  const ended = new Map<string, Subjects>();
  let batch: NewConsentEvent[] = [];
  let lines = 0;
  let events = 0;
  let rows = 0;
  let duplicates = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const appended = await state.consents.append(batch, context.actor, engine.clock.now().toISOString(), {
      import: true,
    });
    events += appended.events.length;
    rows += appended.rows;
    duplicates += appended.duplicates;
    batch = [];
    context.onProgress?.({ phase: 'import', done: lines, total: 0 });
  };
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((ok, fail) => {
    stream.once('open', () => ok());
    stream.once('error', fail);
  });
  try {
    await opened;
  } catch {
    throw new RegistreError('E_FILE_READ', `${file}: cannot be read (no such file, or not readable)`);
  }
  for await (const read of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    lines++;
    // A byte order mark opens the first line of a file some editors write.
    const text = lines === 1 && read.startsWith('\uFEFF') ? read.slice(1) : read;
    if (text.trim() === '') continue;
    try {
      // Bytes that are not UTF-8 were read as U+FFFD: an address would be hashed mangled.
      if (text.includes('\uFFFD'))
        throw new RegistreError('E_CONSENT_EVENT', 'not valid UTF-8 (the file must be written in UTF-8)');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new RegistreError('E_CONSENT_EVENT', 'not a JSON object');
      }
      const line = parseInput(ImportLine, json);
      const purposes = checkConsentPurposes(project.register, line.purposes);
      const subjects = subjectOf(project, line, true);
      const event = newEvent(subjects.subject, { ...line, purposes }, now, 'banner');
      batch.push(event);
      if (event.choice !== 'given' && subjects.address !== undefined)
        ended.set(subjects.subject.id, subjects);
    } catch (error) {
      if (!(error instanceof RegistreError) || error.kind === 'misconfigured') throw error;
      refused.push({ line: lines, error: error.message });
      continue;
    }
    if (batch.length >= IMPORT_BATCH) {
      await flush();
      if (context.signal?.aborted)
        throw new RegistreError(
          'E_CANCELLED',
          `the import was stopped after line ${lines}: ${events} event(s) recorded, each batch with its audit entry; run it again to finish (events already recorded are skipped)`,
        );
    }
  }
  await flush();
  const effects = await effectsOf(engine, project, state, [...ended.values()], context.actor);
  return { lines, events, rows, duplicates, refused, effects };
}

function statusLines(project: Project, events: readonly ConsentEvent[], on: string): ConsentStatusLine[] {
  return [...consentPurposes(project.register).values()].map((purpose) =>
    lineOf(purposeState(purpose, events, on)),
  );
}

function lineOf(s: PurposeState): ConsentStatusLine {
  return {
    purpose: s.purpose,
    state: s.state,
    since: s.event ? s.event.at.slice(0, 10) : null,
    expires: s.expires ?? null,
    event: s.event?.event ?? null,
    notice: s.event ? s.event.notice : null,
  };
}

async function eventsOf(engine: Engine, subjects: Subjects): Promise<ConsentEvent[]> {
  const state = await engine.state('read');
  return state.consents.ofSubjects(subjects.subject.kind, subjects.ids);
}

/** The state of each consent-based purpose for a subject on a day (default today). */
export async function consentStatus(
  engine: Engine,
  input: ConsentSubjectInput,
  _context: Context,
): Promise<ConsentStatus> {
  const parsed = parseInput(ConsentSubjectInput, input);
  const project = await engine.project({ cached: true });
  const subjects = subjectOf(project, parsed, false);
  const on = parsed.on ?? engine.today();
  const events = await eventsOf(engine, subjects);
  return { subject: shownSubject(subjects.subject), on, purposes: statusLines(project, events, on) };
}

/** Whether a subject's consent for one purpose counts on a day: `current` only when given and not expired. */
export async function checkConsent(
  engine: Engine,
  input: CheckConsentInput,
  _context: Context,
): Promise<ConsentStatusLine & { readonly current: boolean }> {
  const parsed = parseInput(CheckConsentInput, input);
  const project = await engine.project({ cached: true });
  const [id] = checkConsentPurposes(project.register, [parsed.purpose]);
  const purpose = consentPurposes(project.register).get(id as string);
  const subjects = subjectOf(project, parsed, false);
  const events = await eventsOf(engine, subjects);
  const line = lineOf(
    purposeState(purpose as NonNullable<typeof purpose>, events, parsed.on ?? engine.today()),
  );
  return { ...line, current: line.state === 'given' };
}

/** Every event of a subject, with the notice version and text hash each was given under, and the states today. */
export async function consentProof(
  engine: Engine,
  input: ConsentSubjectInput,
  _context: Context,
): Promise<ConsentProof> {
  const parsed = parseInput(ConsentSubjectInput, input);
  const project = await engine.project({ cached: true });
  const subjects = subjectOf(project, parsed, false);
  const on = parsed.on ?? engine.today();
  const events = await eventsOf(engine, subjects);
  return {
    subject: shownSubject(subjects.subject),
    events,
    status: statusLines(project, events, on),
    drawnAt: engine.clock.now().toISOString(),
    on,
  };
}

/**
 * Withdraws a subject's consent in one call: every purpose it is given for (or those named), one
 * event, with the notice of the consent withdrawn unless another is given; the data map's effects
 * applied to the address's records.
 */
export async function withdrawConsent(
  engine: Engine,
  input: WithdrawConsentInput,
  context: Context,
): Promise<ConsentRecorded & { readonly purposes: readonly string[] }> {
  const parsed = parseInput(WithdrawConsentInput, input);
  const project = await engine.project({ cached: true });
  const subjects = subjectOf(project, parsed, true);
  const events = await eventsOf(engine, subjects);
  const today = engine.today();
  const named = parsed.purposes ? checkConsentPurposes(project.register, parsed.purposes) : undefined;
  const states = [...consentPurposes(project.register).values()].map((p) => purposeState(p, events, today));
  // Every purpose given; none given (a consent from before the ledger, or by a form that did not
  // post it): every purpose not already refused or withdrawn, so that the withdrawal is on record
  // and changes the records; all of them withdrawn already: nothing recorded, the effects applied
  // again (one that failed before is applied now).
  const given = states.filter((s) => s.state === 'given').map((s) => s.purpose);
  const open = states.filter((s) => s.state !== 'refused' && s.state !== 'withdrawn').map((s) => s.purpose);
  const purposes = named ?? (given.length ? given : open);
  if (purposes.length === 0) {
    const state = await engine.state('write', { wholeWithinMs: WHOLE_WITHIN_MS });
    const effects = await effectsOf(engine, project, state, [subjects], context.actor);
    return { events: [], rows: 0, duplicates: 0, effects, purposes };
  }
  // Grouped by the notice of the consent withdrawn: one event per notice (usually one).
  const byNotice = new Map<string, { notice: { version: string; sha256: string }; purposes: string[] }>();
  for (const purpose of purposes) {
    const latest = states.find((s) => s.purpose === purpose)?.event;
    const notice = parsed.notice ?? latest?.notice ?? NO_NOTICE;
    const key = `${notice.version}\u0000${notice.sha256}`;
    const group = byNotice.get(key) ?? { notice, purposes: [] as string[] };
    group.purposes.push(purpose);
    byNotice.set(key, group);
  }
  const now = engine.clock.now();
  const consentId = randomUUID();
  const batch = [...byNotice.values()].map((g) =>
    newEvent(
      subjects.subject,
      {
        purposes: g.purposes,
        choice: 'withdrawn',
        notice: g.notice,
        ...(parsed.at ? { at: parsed.at } : {}),
        ...(parsed.language ? { language: parsed.language } : {}),
        consentId,
      },
      now,
      parsed.source ?? 'api',
    ),
  );
  const state = await engine.state('write', { wholeWithinMs: WHOLE_WITHIN_MS });
  const appended = await state.consents.append(batch, context.actor, now.toISOString(), { withdrawal: true });
  const effects = await effectsOf(engine, project, state, [subjects], context.actor);
  return { ...appended, effects, purposes };
}
