/** A request's lifecycle: open, send a code, verify, extend, refuse, list and show. */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { outboxFiles, removeFromOutbox } from '../../adapters/mail/mailer.js';
import type { NewRequest, RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { personHash } from '../../core/identity.js';
import { codeLetter } from '../../core/requests/letters.js';
import { type RequestEvent, transition } from '../../core/requests/lifecycle.js';
import { checkRectification } from '../../core/requests/rectification.js';
import {
  CODE_ATTEMPTS,
  CODE_TTL_MINUTES,
  dueDate,
  isOpen,
  REQUEST_TYPES,
  requireEmail,
} from '../../core/requests/requests.js';
import type { Context, Engine, Mailer } from '../engine.js';
import { calendarDate, field, oneOf, parseInput, positiveId, saying } from '../input.js';
import type { Project } from '../project.js';
import { testPause } from './guard.js';
import { deliverLetter, letterContext, senderOf } from './letters.js';
import { purposeOf, type RequestView, requireKey, requireRequest, viewOf, withState } from './shared.js';

export const OpenRequestInput = z.strictObject({
  /** What the person asks (GDPR art. 15 to 21). */
  type: oneOf(REQUEST_TYPES),
  /** The person's address: the identity code is sent to it. */
  email: z.string(),
  /** The day the request was received (default: today): its deadline counts from it. */
  received: calendarDate.optional(),
  /** The purpose objected to (an objection), or the only purpose a restriction or erasure is about. */
  purpose: z.string().optional(),
  /** A rectification's corrections: the corrected value of each field. */
  set: z.record(z.string(), z.string()).optional(),
  /** The person's language, for the code and the letters (default: every language of the register). */
  lang: oneOf(['fr', 'en']).optional(),
  /** A visitor id (the browser's cookie) whose records are the person's too: web visits. */
  visitor: z.string().optional(),
});
export type OpenRequestInput = z.input<typeof OpenRequestInput>;
/** @deprecated the name of OpenRequestInput before the engine. */
export type OpenOptions = OpenRequestInput;

/** Opens a request and sends the identity code to the address (SMTP, or the outbox). */
export async function openRequest(
  engine: Engine,
  input: OpenRequestInput,
  context: Context,
): Promise<RequestView> {
  const options = parseInput(OpenRequestInput, input);
  const today = engine.today();
  return withState(engine, 'write', async (state, project) => {
    const opened = await addRequest(state, prepareOpen(project, options, today), context.actor);
    if (opened.duplicate) {
      const d = opened.row;
      throw new RegistreError(
        'E_DUPLICATE',
        `request ${d.id} (${d.type}, received ${d.received}) of the same person is still open: this one is a duplicate${
          d.mail === 'failed' || (d.status === 'received' && d.codes === 0 && !justOpened(d))
            ? `; its identity code could not be sent: send it again with request send-code ${d.id}`
            : ''
        }`,
      );
    }
    await testPause('request-before-code');
    const sent = await sendCode(engine.mailer, state, project, opened.row, context.actor, engine.clock.now());
    const view = viewOf(await requireRequest(state, opened.row.id), today);
    return sent.failure ? { ...view, mailError: sent.failure } : view;
  });
}

/** A request as it will be added, every field of `options` checked first (E_USAGE naming it). */
export function prepareOpen(
  project: Project,
  options: z.output<typeof OpenRequestInput>,
  today: string,
): NewRequest {
  const { type } = options;
  const email = requireEmail(options.email);
  const received = options.received ?? today;
  if (received > today)
    throw new RegistreError('E_USAGE', `${field('received')} ${received} is after today (${today})`, {
      path: ['received'],
    });
  const details: Record<string, unknown> = {};
  if (options.lang !== undefined) details.lang = options.lang;
  if (options.visitor !== undefined) details.visitor = requireVisitorId(options.visitor);
  if (type === 'objection' && !options.purpose)
    throw new RegistreError('E_USAGE', `an objection names the purpose objected to: ${field('purpose')} P`, {
      path: ['purpose'],
    });
  const key = requireKey(project);
  if (options.purpose !== undefined) {
    const found = purposeOf(project.register, options.purpose);
    if (!found)
      throw new RegistreError(
        'E_USAGE',
        `${field('purpose')} ${options.purpose}: no such purpose in the register (${project.register.activities
          .flatMap((a) => a.purposes.map((p) => p.id))
          .join(', ')})`,
        { path: ['purpose'] },
      );
    const { purpose } = found;
    if (
      type === 'objection' &&
      purpose.legalBasis !== 'legitimate-interest' &&
      !purpose.tags?.includes('direct-marketing')
    )
      throw new RegistreError(
        'E_USAGE',
        `${field('purpose')} ${purpose.id} rests on ${purpose.legalBasis}: art. 21 objection applies to legitimate interest and direct marketing; consent is withdrawn, a contract or a legal obligation is not objected to`,
        { path: ['purpose'] },
      );
    details.purpose = purpose.id;
  }
  if (type === 'rectification')
    details.set = checkRectification(options.set ?? {}, project.register, project.datamap);
  return {
    type,
    status: 'received',
    email,
    person: personHash(key, email),
    received,
    due: dueDate(received),
    extendedMonths: 0,
    details,
  };
}

/**
 * Adds a prepared request with its `request.open` entry, unless the person has one of its type
 * open: the check and the insert are one transaction, so racing opens open one request.
 */
export function addRequest(state: StateStore, request: NewRequest, actor: string) {
  const { type, person, received } = request;
  return state.addRequest(request, {
    unlessOpen: true,
    log: (r) => ({ request: r.id, type, person, received, due: r.due, actor }),
  });
}

/**
 * Opened less than a minute ago: a request without a code yet may be one another process is
 * opening and sending now (a code not sent after that, its process stopped before sending it).
 */
function justOpened(row: RequestRow, now = Date.now()): boolean {
  return now - Date.parse(row.createdAt) < 60_000;
}

/** A visitor id as a browser holds it: one line of at most 200 printable characters. */
function requireVisitorId(text: string): string {
  const id = text.trim();
  if (!/^[\x21-\x7e]{1,200}$/.test(id))
    throw new RegistreError(
      'E_USAGE',
      `${field('visitor')}: a visitor id is the identifier the site set in the browser (1 to 200 letters, digits or signs, no space)`,
      { path: ['visitor'] },
    );
  return id;
}

/** The row's condition for its next step: still in the state it was read in. */
export function expectedOf(row: RequestRow) {
  return { status: row.status, attempts: row.attempts, version: row.version };
}

/**
 * Moves a request one step: the pure transition, then its change and entry written together on
 * the condition that nobody moved it meanwhile (E_REQUEST_CHANGED otherwise, nothing written).
 */
export async function step(
  state: StateStore,
  row: RequestRow,
  event: RequestEvent,
  now = new Date(),
): Promise<RequestRow> {
  const { change, entry } = transition(row, event, now);
  return state.transitionRequest(row.id, expectedOf(row), change, entry);
}

/**
 * A new code, valid 15 minutes, stored as its keyed hash, sent to the request's address. The
 * code is recorded first (at most 3 per request, one a minute, the attempts going on across
 * codes), then sent; a failed send voids it, is not counted, and is told (`mail: failed`).
 */
export async function sendCode(
  mailer: Mailer,
  state: StateStore,
  project: Project,
  row: RequestRow,
  actor: string,
  now = new Date(),
): Promise<RequestRow & { readonly failure?: string }> {
  if (!row.email) throw new RegistreError('E_ADDRESS_ERASED', `request ${row.id} no longer holds an address`);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const via = project.loaded.config.mail?.smtp ? 'smtp' : 'outbox';
  const pending = await step(
    state,
    row,
    { kind: 'code-sent', codeHash: state.digest(`code:${row.id}:${code}`), via, actor },
    now,
  );
  const letter = codeLetter(letterContext(project, row), code, CODE_TTL_MINUTES);
  try {
    await mailer(project, senderOf(project), {
      to: row.email,
      subject: letter.subject,
      text: letter.text,
      tag: `request-${row.id}-code`,
    });
  } catch (error) {
    const code = error instanceof RegistreError ? error.code : 'E_MAIL';
    // The mailer's message is safe (the server's code and a fixed text): the operator sees why.
    const failure = error instanceof RegistreError ? error.message : 'the message could not be sent';
    return { ...(await step(state, pending, { kind: 'send-failed', error: code, actor }, now)), failure };
  } finally {
    await purgeCodes(state, project, now);
  }
  return pending;
}

/**
 * The outbox keeps no code that can no longer be used: a request's code messages go once the
 * code is used, replaced (only the newest is kept), void or expired, and those of a request
 * that is not there (or no longer matches its seal).
 */
export async function purgeCodes(state: StateStore, project: Project, now = new Date()): Promise<void> {
  const files = outboxFiles(project.loaded.config.mail, project.loaded.dir, /-request-\d+-code-/);
  const newest = new Map<number, string>();
  for (const file of files) newest.set(Number(/-request-(\d+)-code-/.exec(file)?.[1]), file);
  for (const file of files) {
    const id = Number(/-request-(\d+)-code-/.exec(file)?.[1]);
    const row = await state.request(id).catch(() => undefined);
    const pending =
      row !== undefined &&
      row.status === 'received' &&
      row.codeHash !== null &&
      row.codeExpiresAt !== null &&
      row.codeExpiresAt > now.toISOString() &&
      newest.get(id) === file;
    if (!pending) removeFromOutbox(file);
  }
}

/** A request named by its number. */
export const RequestIdInput = z.strictObject({ id: positiveId });
export type RequestIdInput = z.input<typeof RequestIdInput>;

/** A new identity code for a request, sent to its address. */
export async function resendCode(
  engine: Engine,
  input: RequestIdInput,
  context: Context,
): Promise<RequestView> {
  const { id } = parseInput(RequestIdInput, input);
  return withState(engine, 'write', async (state, project) => {
    requireKey(project);
    const row = await requireRequest(state, id);
    const sent = await sendCode(engine.mailer, state, project, row, context.actor, engine.clock.now());
    if (sent.mail === 'failed')
      throw new RegistreError(
        'E_MAIL',
        `the code of request ${id} could not be sent (${sent.failure ?? 'the mail server refused it or could not be reached'}): nothing was counted; try again with request send-code ${id}`,
      );
    return viewOf(sent, engine.today());
  });
}

export const VerifyRequestInput = z
  .strictObject({
    id: positiveId,
    /** The code the person received… */
    code: z.string().optional(),
    /** …or: the DPO checked the identity by other means… */
    manual: z.boolean().optional(),
    /** …and says how. */
    reason: z.string().optional(),
  })
  .superRefine((i, ctx) => {
    if ((i.code === undefined) === (i.manual !== true))
      ctx.addIssue({
        code: 'custom',
        message: `give either ${field('code')} CODE or ${field('manual')} ${field('reason')} TEXT`,
      });
    else if (i.manual && (i.reason ?? '').trim() === '')
      ctx.addIssue({
        code: 'custom',
        path: ['reason'],
        message: `a manual verification says how the identity was checked: ${field('reason')} TEXT`,
      });
  });
export type VerifyRequestInput = z.input<typeof VerifyRequestInput>;
export type Verification = { readonly code: string } | { readonly manual: true; readonly reason: string };

/**
 * Checks the code (15 minutes, 5 attempts per request across its codes: the fifth wrong one
 * locks the request, then only the DPO's manual verification opens it), or records the DPO's
 * manual verification with its reason. Each attempt counts in one conditional update with its
 * entry: parallel guesses are counted one by one, five at most, one lock.
 */
export async function verifyRequest(
  engine: Engine,
  input: VerifyRequestInput,
  context: Context,
): Promise<RequestView> {
  const given = parseInput(VerifyRequestInput, input);
  const { id } = given;
  const how: Verification = given.manual
    ? { manual: true, reason: given.reason ?? '' }
    : { code: given.code ?? '' };
  const now = engine.clock.now();
  const { actor } = context;
  return withState(engine, 'write', async (state, project) => {
    requireKey(project);
    if ('manual' in how) {
      const reason = await state.keepReason(how.reason);
      const row = await requireRequest(state, id);
      await step(state, row, { kind: 'manual-verify', reason, actor }, now);
      await purgeCodes(state, project, now);
      return viewOf(await requireRequest(state, id), engine.today());
    }
    return viewOf(await tryCode(state, project, id, how.code.trim(), actor, now), engine.today());
  });
}

/**
 * Tries `code` on request `id`: its row once verified, else E_WRONG_CODE (counted) or
 * E_REQUEST_LOCKED (the attempt that locked it). An attempt another process counted first is
 * counted against the row as it now is.
 */
export async function tryCode(
  state: StateStore,
  project: Project,
  id: number,
  code: string,
  actor: string,
  now: Date,
): Promise<RequestRow> {
  for (let tries = 0; ; tries++) {
    const row = await requireRequest(state, id);
    const matches =
      /^\d{6}$/.test(code) && row.codeHash !== null && state.digest(`code:${id}:${code}`) === row.codeHash;
    let after: RequestRow;
    try {
      after = await step(state, row, { kind: 'code', matches, actor }, now);
    } catch (error) {
      if (error instanceof RegistreError && error.code === 'E_REQUEST_CHANGED' && tries < 100) continue;
      throw error;
    }
    if (after.status === 'verified') {
      await purgeCodes(state, project, now);
      return after;
    }
    const locked = after.status === 'locked';
    if (locked) await purgeCodes(state, project, now);
    throw new RegistreError(
      locked ? 'E_REQUEST_LOCKED' : 'E_WRONG_CODE',
      locked
        ? `wrong code, the ${CODE_ATTEMPTS}th: request ${id} is locked; the DPO verifies the identity by other means`
        : `wrong code for request ${id}: ${CODE_ATTEMPTS - after.attempts} attempt(s) left`,
    );
  }
}

export const ListRequestsInput = z.strictObject({
  /** Only the requests past their deadline. */
  overdue: z.boolean().default(false),
});
export type ListRequestsInput = z.input<typeof ListRequestsInput>;

/** The requests, overdue first, then the open ones by days left, then the closed ones. */
export async function listRequests(
  engine: Engine,
  input: ListRequestsInput,
  _ctx: Context,
): Promise<RequestView[]> {
  const options = parseInput(ListRequestsInput, input);
  const today = engine.today();
  return withState(engine, 'read', async (state) => {
    const views = (await state.requests()).map((r) => viewOf(r, today));
    const shown = options.overdue ? views.filter((v) => v.overdue) : views;
    // Overdue first, then the open ones by days left, then the closed ones.
    const rank = (v: RequestView) => (v.overdue ? 0 : isOpen(v.status) ? 1 : 2);
    return shown.sort((a, b) => rank(a) - rank(b) || a.daysLeft - b.daysLeft || a.id - b.id);
  });
}

/** One request, as the DPO follows it. */
export async function showRequest(
  engine: Engine,
  input: RequestIdInput,
  _ctx: Context,
): Promise<RequestView> {
  const { id } = parseInput(RequestIdInput, input);
  return withState(engine, 'read', async (state) => viewOf(await requireRequest(state, id), engine.today()));
}

export const ExtendRequestInput = z.strictObject({
  id: positiveId,
  /** By how many months (art. 12(3): two at most). */
  months: z
    .number()
    .refine((m) => m === 1 || m === 2, { error: (issue) => `${String(issue.input)}: 1 or 2` }),
  /** Why: told to the person in the letter. */
  reason: z.string(),
});
export type ExtendRequestInput = z.input<typeof ExtendRequestInput>;

/** Extends a request's deadline (once, by 1 or 2 months), with its reason told to the person. */
export async function extendRequest(
  engine: Engine,
  input: ExtendRequestInput,
  context: Context,
): Promise<RequestView> {
  const { id, months, reason } = parseInput(ExtendRequestInput, input);
  const today = engine.today();
  return withState(engine, 'write', async (state, project) => {
    const row = await requireRequest(state, id);
    const event = {
      kind: 'extend' as const,
      months,
      reason,
      reasonHash: state.digest(reason),
      today,
      actor: context.actor,
    };
    transition(row, event, engine.clock.now()); // refused before its reason is kept
    await state.keepReason(reason);
    const extended = await step(state, row, event, engine.clock.now());
    // An open request holds its address: the letter goes to it, and is told when it cannot.
    if (!row.email) return withLetterError(viewOf(extended, today), 'the request holds no address');
    const letter = await deliverLetter(
      engine.mailer,
      state,
      project,
      extended,
      row.email,
      'extension',
      event.actor,
    );
    return withLetterError(viewOf(letter.row, today), letter.sent.error);
  });
}

export const RefuseRequestInput = z.strictObject({
  id: positiveId,
  /** Why (art. 12(4)): told to the person in the letter. */
  reason: saying(`a refusal gives its reason (art. 12(4)): ${field('reason')} TEXT`),
});
export type RefuseRequestInput = z.input<typeof RefuseRequestInput>;

/** Refuses a request (manifestly unfounded or excessive, art. 12(5)), with its reason told to the person. */
export async function refuseRequest(
  engine: Engine,
  input: RefuseRequestInput,
  context: Context,
): Promise<RequestView> {
  const { id, reason } = parseInput(RefuseRequestInput, input);
  return withState(engine, 'write', async (state, project) => {
    const row = await requireRequest(state, id);
    const event = {
      kind: 'refuse' as const,
      reason,
      reasonHash: state.digest(reason),
      actor: context.actor,
    };
    transition(row, event, engine.clock.now()); // refused before its reason is kept
    await state.keepReason(reason);
    const refused = await step(state, row, event, engine.clock.now());
    await purgeCodes(state, project, engine.clock.now());
    // The letter before the address may go (the person erased by another request).
    const letter = row.email
      ? await deliverLetter(engine.mailer, state, project, refused, row.email, 'refusal', event.actor)
      : undefined;
    await forgetIfErased(state, row.person);
    const view = viewOf(await requireRequest(state, id), engine.today());
    return withLetterError(view, letter ? letter.sent.error : 'the request holds no address');
  });
}

function withLetterError(view: RequestView, error: string | undefined): RequestView {
  return error === undefined ? view : { ...view, letterError: error };
}

/**
 * Once a person is erased, their address stays in no closed request of theirs (nor in a
 * rectification's corrected values): an open one keeps it until it is carried out or refused.
 */
export async function forgetIfErased(state: StateStore, person: string): Promise<void> {
  const rows = await state.requests({ person });
  if (!rows.some((r) => r.type === 'erasure' && r.status === 'done')) return;
  const ids = await state.forgetAddress(person);
  if (ids.length) await state.audit('request.forget-address', { person, requests: ids });
}
