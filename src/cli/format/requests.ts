/** What the request and erasure commands print. */
import type { LetterSent, RequestView, RunResult } from '../../app/requests/index.js';
import { recordCount } from './holds.js';
import { afterHoldLeft } from './sweep.js';

/** What `erasure replay` did and left. */
export function formatReplay(
  replay: {
    readonly erasures: number;
    readonly redone: readonly { table: string; id: string }[];
    readonly skipped: readonly { request: number; table: string; id: string; why: string }[];
    readonly suppressed: number;
    readonly afterHold?: readonly { table: string; id: string }[];
    readonly afterHoldSkipped?: readonly { request: number; table: string; id: string; why: string }[];
    readonly notRekeyed?: number;
  },
  dryRun: boolean,
): string {
  const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;
  return [
    `${dryRun ? 'dry run: would redo' : 'redone'}: ${records(replay.redone.length)} of ${replay.erasures} past erasure(s); ${replay.suppressed} address hash(es) put back on the suppression list`,
    ...replay.skipped.map((s) => `  left ${s.table} ${s.id} (request ${s.request}): ${s.why}`),
    ...(replay.afterHold?.length
      ? [
          `${dryRun ? 'would erase' : 'erased'} ${records(replay.afterHold.length)} an erasure kept for a hold that has ended`,
        ]
      : []),
    ...afterHoldLeft(replay.afterHoldSkipped ?? []),
    ...(replay.notRekeyed
      ? [
          `  ${replay.notRekeyed} erasure(s) whose hash was made with a previous key and whose address did not come back: no hash put back for them`,
        ]
      : []),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** How a letter to the person went, in one line; `erased`: its address is gone, to be given again. */
function letterLine(
  id: number,
  kind: string,
  via: string,
  error: string | undefined,
  erased: boolean,
): string {
  if (via === 'smtp') return `the ${kind} letter was sent to the person`;
  if (via === 'outbox')
    return `the ${kind} letter was written to the outbox, not sent: no mail server is configured (mail.smtp)`;
  if (via === 'none') return `no ${kind} letter was sent (--delivery none): answer the person another way`;
  return `the ${kind} letter could not be sent${error ? ` (${error})` : ''}: send it again with registre request send-letters ${id}${erased ? ' --email ADDRESS (the erasure removed it)' : ''}`;
}

export function formatLetterSent(id: number, letter: LetterSent): string {
  return `request ${id}: ${letterLine(id, letter.kind, letter.via, letter.error, false)}\n`;
}

/** The letter the last command sent (extend, refuse). */
export function formatLetterOutcome(r: RequestView, kind: 'refusal' | 'extension'): string {
  const last = [...(r.letters ?? [])].reverse().find((l) => l.kind === kind);
  if (!last) return `the ${kind} letter could not be sent${r.letterError ? ` (${r.letterError})` : ''}\n`;
  return `${letterLine(r.id, kind, last.via, r.letterError ?? last.error, false)}\n`;
}

/** `request show`: the request, then each letter to the person and those still owed. */
export function formatRequestDetail(r: RequestView): string {
  const lines = (r.letters ?? []).map(
    (l) =>
      `  ${l.kind} letter, ${l.at.slice(0, 16).replace('T', ' ')}: ${
        l.via === 'smtp'
          ? 'sent'
          : l.via === 'outbox'
            ? 'written to the outbox'
            : l.via === 'none'
              ? 'not sent (--delivery none)'
              : `could not be sent (${l.error ?? 'E_MAIL'})`
      }`,
  );
  if (r.lettersOwed?.length)
    lines.push(
      `  owed to the person: ${r.lettersOwed.map((k) => `the ${k} letter`).join(', ')} (registre request send-letters ${r.id})`,
    );
  return `${formatRequest(r)}${keptAfterHold(r.outcome)}${lines.map((l) => `${l}\n`).join('')}`;
}

export function formatRequest(r: RequestView): string {
  const left =
    r.status === 'done' || r.status === 'refused'
      ? ''
      : r.overdue
        ? `, ${-r.daysLeft} day(s) late`
        : `, ${r.daysLeft} day(s) left`;
  const asked = r.askedBy.includes('@')
    ? `asked by ${r.askedBy}`
    : `asked by person ${r.askedBy.slice(0, 16)} (keyed hash)`;
  return `request ${r.id}: ${r.type}, ${r.status}, ${asked}, received ${r.received}, due ${r.due}${left}${r.purpose ? `, purpose ${r.purpose}` : ''}${r.extended ? `, extended ${r.extended.months} month(s): ${r.extended.reason}` : ''}${r.refused ? `, refused: ${r.refused}` : ''}${r.lifted ? `, lifted ${r.lifted.slice(0, 10)}` : ''}${
    r.code?.via === 'failed'
      ? `, the identity code could not be sent${r.mailError ? ` (${r.mailError})` : ''}: send it again (request send-code ${r.id})`
      : ''
  }\n`;
}

/** What an erasure kept for a hold, once the hold ended: erased on a day, or left as not proven the person's. */
function keptAfterHold(outcome: Record<string, unknown> | undefined): string {
  const kept = (outcome?.kept ?? []) as {
    table: string;
    id: string;
    erasedOn?: string;
    unproven?: { on: string; why: string };
  }[];
  return kept
    .flatMap((k) =>
      k.erasedOn
        ? [`  ${k.table} ${k.id}, kept for a hold: erased on ${k.erasedOn}, once it ended\n`]
        : k.unproven
          ? [
              `  ${k.table} ${k.id}, kept for a hold: not proven erased, left on ${k.unproven.on}: ${k.unproven.why}\n`,
            ]
          : [],
    )
    .join('');
}

export function formatRequests(list: readonly RequestView[]): string {
  return list.length ? list.map(formatRequest).join('') : 'no request\n';
}

/** An erasure's ground for keeping a record, in words. */
const KEPT_BASIS: Readonly<Record<string, string>> = {
  '17(3)(b)': 'a legal obligation (art. 17(3)(b))',
  '17(3)(e)': 'legal claims: a hold (art. 17(3)(e))',
  '18': 'a restriction of processing (art. 18)',
};

export const keptBasisText = (basis: string) => KEPT_BASIS[basis] ?? basis;

/** What a run did, or (a dry run) would do: the same lines, in the conditional. */
export function formatRun(r: RunResult): string {
  const verb = (done: string, would: string) => (r.dryRun ? `would ${would}` : done);
  const lines = [
    `request ${r.request} (${r.type}) ${r.dryRun ? 'dry run on' : 'carried out on'} ${r.at}: ${r.found} record(s) found${r.dryRun ? '; nothing was changed' : ''}`,
  ];
  if (r.message) lines.push(r.message);
  if (r.resumed) lines.push('  completes a run that was interrupted after its intent was logged');
  for (const f of r.files ?? []) lines.push(`  wrote ${f}`);
  for (const e of r.erased ?? [])
    lines.push(
      `  ${e.action === 'delete' ? verb('deleted', 'delete') : verb('anonymised', 'anonymise')} ${e.table} ${e.id}${e.archived ? ' (archive)' : ''}`,
    );
  for (const k of r.kept ?? [])
    lines.push(
      `  ${verb('kept', 'keep')} ${k.table} ${k.id}: ${k.basis}${k.until ? `, until ${k.until}` : ''}${k.afterHold ? ', until the hold ends' : ''}`,
    );
  for (const f of r.forwarded ?? [])
    lines.push(`  ${verb('forwarded', 'forward')} to ${f.controller}: ${f.table} ${f.id}`);
  for (const x of r.rectified ?? [])
    lines.push(`  ${verb('rectified', 'rectify')} ${x.table} ${x.id}: ${x.fields.join(', ')}`);
  for (const u of r.unchanged ?? [])
    lines.push(
      `  ${verb('unchanged', 'leave unchanged')} ${u.table} ${u.id}${u.fields?.length ? ` (${u.fields.join(', ')})` : ''}: ${u.basis}`,
    );
  if (r.restricted?.length)
    lines.push(
      r.dryRun
        ? `  would restrict: ${r.restricted.length} record(s)`
        : `  restricted: ${r.restricted.length} record(s) (hold ${r.hold})`,
    );
  if (r.suppressed)
    lines.push(
      r.dryRun
        ? '  would put the address on the suppression list (keyed hash)'
        : '  the address is on the suppression list (keyed hash)',
    );
  if (r.objection)
    lines.push(
      `  ${r.dryRun ? 'would record' : 'recorded'}: the objection to ${r.objection.purpose}${r.objection.suppressionList ? ', by the suppression list' : ''} and in the audit log${r.objection.grounds ? " (with the DPO's compelling legitimate grounds: processing goes on)" : ''}`,
    );
  if (r.letter)
    lines.push(letterLine(r.request, 'completion', r.letter.via, r.letter.error, r.type === 'erasure'));
  return `${lines.join('\n')}\n`;
}

/** `request open`: the request, and where its identity code went. */
export function formatOpened(opened: RequestView): string {
  return `${formatRequest(opened)}${
    opened.code?.via === 'failed'
      ? `the request is recorded, but its identity code could not be sent (the mail server refused it or could not be reached): send it with registre request send-code ${opened.id}`
      : opened.code?.via === 'outbox'
        ? 'the identity code was written to the outbox, not sent: no mail server is configured (mail.smtp) (valid 15 minutes)'
        : 'the identity code was sent to the address (valid 15 minutes)'
  }\n`;
}

/** `request open --json`: the request's id, type, status and dates, on one line. */
export function openedJson(opened: RequestView): string {
  return `${JSON.stringify({ id: opened.id, type: opened.type, status: opened.status, received: opened.received, due: opened.due })}\n`;
}

/** `request send-code`: `id` as it was given. */
export function formatCodeResent(id: string, sent: RequestView): string {
  return `request ${id}: a new code was ${sent.code?.via === 'outbox' ? 'written to the outbox (no mail server is configured)' : 'sent'} (${sent.code?.sent ?? 0} of 3 codes a request may be sent)\n`;
}

export function formatExtended(extended: RequestView): string {
  return `request ${extended.id}: now due ${extended.due}\n${formatLetterOutcome(extended, 'extension')}`;
}

export function formatRefused(refused: RequestView): string {
  return `request ${refused.id}: refused\n${formatLetterOutcome(refused, 'refusal')}`;
}

export function formatRestrictionLifted(lifted: { request: number; hold: number; records: number }): string {
  return `request ${lifted.request}: restriction lifted (hold ${lifted.hold}, ${recordCount(lifted.records)})\n`;
}
