/** A request's lifecycle: open, send a code, verify, extend, refuse, list and show. */
import { randomInt } from 'node:crypto';
import { outboxFiles, removeFromOutbox, sendMail } from '../../adapters/mail/mailer.js';
import { currentActor, type RequestRow, type StateStore } from '../../adapters/state/state-store.js';
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
  parseSettings,
  REQUEST_TYPES,
  type RequestType,
  requireEmail,
} from '../../core/requests/requests.js';
import { requireDateInput } from '../../core/retention/calendar.js';
import type { Project } from '../project.js';
import { todayUtc, withState } from '../stores.js';

import { testPause } from './guard.js';
import { deliverLetter, letterContext, senderOf } from './letters.js';
import { purposeOf, type RequestView, requireKey, requireRequest, viewOf } from './shared.js';

export interface OpenOptions {
  readonly type: string;
  readonly email: string;
  readonly received?: string;
  readonly purpose?: string;
  readonly set?: readonly string[];
  /** The person's language, for the code and the letters (default: every language of the register). */
  readonly lang?: string;
  /** A visitor id (the browser's cookie) whose records are the person's too: web visits. */
  readonly visitor?: string;
  readonly today?: string;
  readonly actor?: string;
}

/** Opens a request and sends the identity code to the address (SMTP, or the outbox). */
export async function openRequest(
  configFile: string | undefined,
  options: OpenOptions,
): Promise<RequestView> {
  if (!(REQUEST_TYPES as readonly string[]).includes(options.type))
    throw new RegistreError('E_USAGE', `--type ${options.type}: one of ${REQUEST_TYPES.join(', ')}`);
  const type = options.type as RequestType;
  const email = requireEmail(options.email);
  const today = options.today ?? todayUtc();
  const received = options.received ? requireDateInput('--received', options.received) : today;
  if (received > today)
    throw new RegistreError('E_USAGE', `--received ${received} is after today (${today})`);
  const details: Record<string, unknown> = {};
  if (options.lang !== undefined) {
    if (options.lang !== 'fr' && options.lang !== 'en')
      throw new RegistreError('E_USAGE', `--lang ${options.lang}: fr or en`);
    details.lang = options.lang;
  }
  if (options.visitor !== undefined) details.visitor = requireVisitorId(options.visitor);
  if (type === 'objection') {
    if (!options.purpose)
      throw new RegistreError('E_USAGE', 'an objection names the purpose objected to: --purpose P');
  }
  return withState(configFile, 'write', async (state, project) => {
    const key = requireKey(project);
    if (options.purpose !== undefined) {
      const found = purposeOf(project.register, options.purpose);
      if (!found)
        throw new RegistreError(
          'E_USAGE',
          `--purpose ${options.purpose}: no such purpose in the register (${project.register.activities
            .flatMap((a) => a.purposes.map((p) => p.id))
            .join(', ')})`,
        );
      const { purpose } = found;
      if (
        type === 'objection' &&
        purpose.legalBasis !== 'legitimate-interest' &&
        !purpose.tags?.includes('direct-marketing')
      )
        throw new RegistreError(
          'E_USAGE',
          `--purpose ${purpose.id} rests on ${purpose.legalBasis}: art. 21 objection applies to legitimate interest and direct marketing; consent is withdrawn, a contract or a legal obligation is not objected to`,
        );
      details.purpose = purpose.id;
    }
    if (type === 'rectification')
      details.set = checkRectification(parseSettings(options.set ?? []), project.register, project.datamap);
    const person = personHash(key, email);
    const actor = options.actor ?? currentActor();
    // The duplicate check and the insert are one transaction: racing opens open one request.
    const opened = await state.addRequest(
      {
        type,
        status: 'received',
        email,
        person,
        received,
        due: dueDate(received),
        extendedMonths: 0,
        details,
      },
      {
        unlessOpen: true,
        log: (r) => ({ request: r.id, type, person, received, due: r.due, actor }),
      },
    );
    if (opened.duplicate) {
      const d = opened.row;
      throw new RegistreError(
        'E_DUPLICATE',
        `request ${d.id} (${type}, received ${d.received}) of the same person is still open: this one is a duplicate${
          d.mail === 'failed' || (d.status === 'received' && d.codes === 0 && !justOpened(d))
            ? `; its identity code could not be sent: send it again with request send-code ${d.id}`
            : ''
        }`,
      );
    }
    await testPause('request-before-code');
    const sent = await sendCode(state, project, opened.row, actor);
    const view = viewOf(await requireRequest(state, opened.row.id), today);
    return sent.failure ? { ...view, mailError: sent.failure } : view;
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
      '--visitor: a visitor id is the identifier the site set in the browser (1 to 200 letters, digits or signs, no space)',
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
    await sendMail(project.loaded.config.mail, project.loaded.dir, senderOf(project), {
      to: row.email,
      subject: letter.subject,
      text: letter.text,
      tag: `request-${row.id}-code`,
    });
  } catch (error) {
    const code = error instanceof RegistreError ? error.code : 'E_MAIL';
    // The mailer's message is safe (the server's code and a fixed text): the operator sees why.
    const failure = error instanceof RegistreError ? error.message : 'the message could not be sent';
    return { ...(await step(state, pending, { kind: 'send-failed', error: code, actor })), failure };
  } finally {
    await purgeCodes(state, project);
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

export async function resendCode(
  configFile: string | undefined,
  id: number,
  options: { actor?: string; now?: Date } = {},
): Promise<RequestView> {
  return withState(configFile, 'write', async (state, project) => {
    requireKey(project);
    const row = await requireRequest(state, id);
    const sent = await sendCode(state, project, row, options.actor ?? currentActor(), options.now);
    if (sent.mail === 'failed')
      throw new RegistreError(
        'E_MAIL',
        `the code of request ${id} could not be sent (${sent.failure ?? 'the mail server refused it or could not be reached'}): nothing was counted; try again with request send-code ${id}`,
      );
    return viewOf(sent, todayUtc());
  });
}

export type Verification = { readonly code: string } | { readonly manual: true; readonly reason: string };

/**
 * Checks the code (15 minutes, 5 attempts per request across its codes: the fifth wrong one
 * locks the request, then only the DPO's manual verification opens it), or records the DPO's
 * manual verification with its reason. Each attempt counts in one conditional update with its
 * entry: parallel guesses are counted one by one, five at most, one lock.
 */
export async function verifyRequest(
  configFile: string | undefined,
  id: number,
  how: Verification,
  options: { now?: Date; actor?: string; today?: string } = {},
): Promise<RequestView> {
  const now = options.now ?? new Date();
  const actor = options.actor ?? currentActor();
  return withState(configFile, 'write', async (state, project) => {
    requireKey(project);
    if ('manual' in how) {
      if (how.reason.trim() === '')
        throw new RegistreError(
          'E_USAGE',
          'a manual verification says how the identity was checked: --reason TEXT',
        );
      const reason = await state.keepReason(how.reason);
      const row = await requireRequest(state, id);
      await step(state, row, { kind: 'manual-verify', reason, actor }, now);
      await purgeCodes(state, project, now);
      return viewOf(await requireRequest(state, id), options.today ?? todayUtc());
    }
    const code = how.code.trim();
    for (let tries = 0; ; tries++) {
      const row = await requireRequest(state, id);
      const matches =
        /^\d{6}$/.test(code) && row.codeHash !== null && state.digest(`code:${id}:${code}`) === row.codeHash;
      let after: RequestRow;
      try {
        after = await step(state, row, { kind: 'code', matches, actor }, now);
      } catch (error) {
        // Another attempt was counted first: this one is counted against the row as it now is.
        if (error instanceof RegistreError && error.code === 'E_REQUEST_CHANGED' && tries < 100) continue;
        throw error;
      }
      if (after.status === 'verified') {
        await purgeCodes(state, project, now);
        return viewOf(after, options.today ?? todayUtc());
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
  });
}

export async function listRequests(
  configFile: string | undefined,
  options: { overdue?: boolean; today?: string } = {},
): Promise<RequestView[]> {
  const today = options.today ?? todayUtc();
  return withState(configFile, 'read', async (state) => {
    const views = (await state.requests()).map((r) => viewOf(r, today));
    const shown = options.overdue ? views.filter((v) => v.overdue) : views;
    // Overdue first, then the open ones by days left, then the closed ones.
    const rank = (v: RequestView) => (v.overdue ? 0 : isOpen(v.status) ? 1 : 2);
    return shown.sort((a, b) => rank(a) - rank(b) || a.daysLeft - b.daysLeft || a.id - b.id);
  });
}

export async function showRequest(configFile: string | undefined, id: number, today = todayUtc()) {
  return withState(configFile, 'read', async (state) => viewOf(await requireRequest(state, id), today));
}

export async function extendRequest(
  configFile: string | undefined,
  id: number,
  months: number,
  reason: string,
  options: { today?: string; actor?: string } = {},
): Promise<RequestView> {
  const today = options.today ?? todayUtc();
  return withState(configFile, 'write', async (state, project) => {
    const row = await requireRequest(state, id);
    const event = {
      kind: 'extend' as const,
      months,
      reason,
      reasonHash: state.digest(reason),
      today,
      actor: options.actor ?? currentActor(),
    };
    transition(row, event, new Date()); // refused before its reason is kept
    await state.keepReason(reason);
    const extended = await step(state, row, event);
    // An open request holds its address: the letter goes to it, and is told when it cannot.
    if (!row.email) return withLetterError(viewOf(extended, today), 'the request holds no address');
    const letter = await deliverLetter(state, project, extended, row.email, 'extension', event.actor);
    return withLetterError(viewOf(letter.row, today), letter.sent.error);
  });
}

export async function refuseRequest(
  configFile: string | undefined,
  id: number,
  reason: string,
  options: { today?: string; actor?: string } = {},
): Promise<RequestView> {
  if (reason.trim() === '')
    throw new RegistreError('E_USAGE', 'a refusal gives its reason (art. 12(4)): --reason TEXT');
  return withState(configFile, 'write', async (state, project) => {
    const row = await requireRequest(state, id);
    const event = {
      kind: 'refuse' as const,
      reason,
      reasonHash: state.digest(reason),
      actor: options.actor ?? currentActor(),
    };
    transition(row, event, new Date()); // refused before its reason is kept
    await state.keepReason(reason);
    const refused = await step(state, row, event);
    await purgeCodes(state, project);
    // The letter before the address may go (the person erased by another request).
    const letter = row.email
      ? await deliverLetter(state, project, refused, row.email, 'refusal', event.actor)
      : undefined;
    await forgetIfErased(state, row.person);
    const view = viewOf(await requireRequest(state, id), options.today ?? todayUtc());
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
