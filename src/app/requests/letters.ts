/**
 * Letters to the person about their request (refusal, extension, completion), sent by the
 * transport of the codes (SMTP, or the outbox), each recorded on the request with its audit entry
 * (`request.letter`, `request.letter-failed`: the person's keyed hash and the letter's kind, never
 * the address). A letter that could not be sent is sent again by `request send-letters`.
 */
import { basename, join } from 'node:path';
import { z } from 'zod';
import { outboxFiles, removeFromOutbox } from '../../adapters/mail/mailer.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { personHash } from '../../core/identity.js';
import { rightsEmail } from '../../core/register/organisation-contacts.js';
import { languagesOf } from '../../core/register/register-model.js';
import type { LocalText } from '../../core/register/register-schema.js';
import {
  type CompletionFacts,
  completionLetter,
  type Delivery,
  extensionLetter,
  type Letter,
  type LetterContext,
  lettersOwed,
  refusalLetter,
} from '../../core/requests/letters.js';
import { type LetterRecord, type RequestEvent, transition } from '../../core/requests/lifecycle.js';
import { requireEmail } from '../../core/requests/requests.js';
import type { Language } from '../../core/text.js';
import type { Context, Engine, Mailer } from '../engine.js';
import { field, parseInput, positiveId } from '../input.js';
import type { Project } from '../project.js';
import { type RequestView, requireKey, requireRequest, viewOf, withState } from './shared.js';

export const SendLettersInput = z.strictObject({
  id: positiveId,
  /** The person's address, once an erasure removed it from the request (checked against their hash). */
  email: z.string().optional(),
});
export type SendLettersInput = z.input<typeof SendLettersInput>;

type LetterKind = LetterRecord['kind'];

/** One step of the request (as lifecycle.ts's `step`, which imports this module). */
async function step(state: StateStore, row: RequestRow, event: RequestEvent): Promise<RequestRow> {
  const { change, entry } = transition(row, event, new Date());
  return state.transitionRequest(
    row.id,
    { status: row.status, attempts: row.attempts, version: row.version },
    change,
    entry,
  );
}

/** The person's language (`request open --lang`), else every language of the register. */
export function languagesFor(project: Project, row: RequestRow): readonly Language[] {
  const lang = (row.details as { lang?: string }).lang;
  return lang === 'fr' || lang === 'en' ? [lang] : languagesOf(project.register);
}

export function letterContext(project: Project, row: RequestRow): LetterContext {
  const names = new Map<string, LocalText>();
  for (const store of project.datamap.stores)
    for (const table of store.tables) {
      const record = project.register.records.find((r) => r.id === table.record);
      if (record && !names.has(table.name)) names.set(table.name, record.name);
    }
  return {
    organisation: project.register.organisation,
    languages: languagesFor(project, row),
    request: { id: row.id, type: row.type as LetterContext['request']['type'], received: row.received },
    names,
  };
}

export function senderOf(project: Project): string {
  const org = project.register.organisation;
  return rightsEmail(org) ?? 'dpo@localhost';
}

/** The letter a request owes, composed from what its row remembers (the reasons, the outcome). */
function letterFor(project: Project, row: RequestRow, kind: LetterKind): Letter {
  const ctx = letterContext(project, row);
  const details = row.details as { refused?: string; extension?: string };
  if (kind === 'refusal') return refusalLetter(ctx, details.refused ?? '');
  if (kind === 'extension') return extensionLetter(ctx, details.extension ?? '', row.extendedMonths, row.due);
  const outcome = (row.outcome ?? { found: 0 }) as unknown as CompletionFacts & { delivery?: Delivery };
  return completionLetter(ctx, { ...outcome, delivery: outcome.delivery === 'letter' ? 'letter' : 'mail' });
}

/** An access or portability package attached to its completion letter (`--delivery mail`). */
function attachmentsOf(row: RequestRow, kind: LetterKind): { filename: string; path: string }[] {
  const outcome = row.outcome as { delivery?: Delivery; folder?: string; files?: string[] } | null;
  if (kind !== 'completion' || outcome?.delivery !== 'mail' || !outcome.folder) return [];
  return (outcome.files ?? []).map((f) => ({
    filename: basename(f),
    path: join(outcome.folder as string, f),
  }));
}

export interface LetterSent {
  readonly kind: LetterKind;
  readonly via: 'smtp' | 'outbox' | 'failed' | 'none';
  /** Why it could not be sent (the mail server's code and a fixed text, never an address). */
  readonly error?: string;
}

/**
 * Sends one letter to `to` and records how it went on the request (one step with its entry).
 * A failed send is recorded too, and not thrown: what the letter reports is already done.
 */
export async function deliverLetter(
  mailer: Mailer,
  state: StateStore,
  project: Project,
  row: RequestRow,
  to: string,
  kind: LetterKind,
  actor: string,
): Promise<{ row: RequestRow; sent: LetterSent }> {
  const letter = letterFor(project, row, kind);
  const via = project.loaded.config.mail?.smtp ? 'smtp' : 'outbox';
  let failure: { code: string; message: string } | undefined;
  try {
    await mailer(project, senderOf(project), {
      to,
      subject: letter.subject,
      text: letter.text,
      tag: `request-${row.id}-letter-${kind}`,
      attachments: attachmentsOf(row, kind),
    });
  } catch (error) {
    failure =
      error instanceof RegistreError
        ? { code: error.code, message: error.message }
        : // A file of the package gone, or a transport's own error: its kind only, never its text.
          { code: 'E_MAIL', message: 'the letter could not be sent' };
  }
  const after = await step(state, row, {
    kind: 'letter',
    letter: kind,
    via: failure ? 'failed' : via,
    ...(failure ? { error: failure.code } : {}),
    actor,
  });
  return {
    row: after,
    sent: failure ? { kind, via: 'failed', error: failure.message } : { kind, via },
  };
}

/** Records that the completion letter is not sent by registre (`--delivery none`). */
export async function recordNoLetter(state: StateStore, row: RequestRow, actor: string): Promise<RequestRow> {
  return step(state, row, { kind: 'letter', letter: 'completion', via: 'none', actor });
}

/**
 * After an erasure, the outbox keeps none of the person's letters but the erasure's own
 * completion letter, which the law requires to reach them (art. 12(3)).
 */
export async function purgeLetters(
  state: StateStore,
  project: Project,
  person: string,
  keep: number,
): Promise<void> {
  const files = outboxFiles(project.loaded.config.mail, project.loaded.dir, /-request-\d+-letter-/);
  if (!files.length) return;
  const ids = new Set((await state.requests({ person })).map((r) => r.id));
  for (const file of files) {
    const id = Number(/-request-(\d+)-letter-/.exec(file)?.[1]);
    if (ids.has(id) && id !== keep) removeFromOutbox(file);
  }
}

/**
 * A run's completion letter (or its absence, `--delivery none`, recorded); after an erasure, the
 * outbox keeps no other letter of the person.
 */
export async function sendCompletion(
  mailer: Mailer,
  state: StateStore,
  project: Project,
  row: RequestRow,
  to: string,
  delivery: Delivery,
  actor: string,
  erased: boolean,
): Promise<{ readonly via: LetterSent['via']; readonly error?: string }> {
  if (delivery === 'none') {
    await recordNoLetter(state, row, actor);
    return { via: 'none' };
  }
  const { sent } = await deliverLetter(mailer, state, project, row, to, 'completion', actor);
  if (erased) await purgeLetters(state, project, row.person, row.id);
  return sent.error === undefined ? { via: sent.via } : { via: sent.via, error: sent.error };
}

export interface SendLettersResult {
  readonly request: RequestView;
  readonly letters: readonly LetterSent[];
}

/**
 * Sends the letters a request owes and has not delivered (their send failed, or a run was killed
 * before it): to the request's address, or to `email` once an erasure removed it, checked
 * against the person's keyed hash (only the person who asked receives them).
 */
export async function sendLetters(
  engine: Engine,
  input: SendLettersInput,
  context: Context,
): Promise<SendLettersResult> {
  const options = parseInput(SendLettersInput, input);
  const { id } = options;
  const { actor } = context;
  return withState(engine, 'write', async (state, project) => {
    const key = requireKey(project);
    let row = await requireRequest(state, id);
    let to = row.email;
    if (options.email !== undefined) {
      const email = requireEmail(options.email);
      if (personHash(key, email) !== row.person)
        throw new RegistreError(
          'E_USAGE',
          `${field('email')} is not the address of the person who made request ${id}: its letters go only to them`,
          { path: ['email'] },
        );
      to = email;
    }
    const owed = lettersOwed(row);
    if (owed.length === 0)
      throw new RegistreError(
        'E_NO_LETTER',
        `request ${id} owes no letter: each was sent (request show ${id})`,
      );
    if (!to)
      throw new RegistreError(
        'E_USAGE',
        `request ${id} no longer holds the address (the person is erased): give it with ${field('email')} ADDRESS`,
        { path: ['email'] },
      );
    const letters: LetterSent[] = [];
    for (const kind of owed) {
      const done = await deliverLetter(engine.mailer, state, project, row, to, kind, actor);
      row = done.row;
      letters.push(done.sent);
    }
    if (row.email === null) await purgeLetters(state, project, row.person, row.id);
    return { request: viewOf(row, engine.today()), letters };
  });
}
