/** What the commands print: the application layer's results as terminal text. */
import type { Explanation, KeptBy } from '../app/explain.js';
import type { Forecast, Plan, PlanListing } from '../app/plan.js';
import type { LetterSent, RequestView, RunResult } from '../app/requests/index.js';
import type { SweepReport } from '../app/sweep.js';
import { spreadsheetCsv } from '../core/csv.js';
import type { RecordStatus } from '../core/retention/statuses.js';

export function formatSweep(report: SweepReport): string {
  const head = `${report.dryRun ? 'dry run: would apply' : `sweep run ${report.run}: applied`} on ${report.at}: ${report.total} records`;
  const skipped = report.skipped.map((s) => `  skipped ${s.table} ${s.key} (rule ${s.rule}): ${s.reason}`);
  const recovered =
    report.recovered.finished || report.recovered.dropped
      ? [
          `  finished the file work of an interrupted run: ${report.recovered.finished} file(s) done, ${report.recovered.dropped} left with their record`,
        ]
      : [];
  return `${[
    head,
    ...report.lines
      .filter((l) => l.count > 0)
      .map((l) => `  ${l.rule.padEnd(24)} ${l.table.padEnd(24)} ${l.action.padEnd(14)} ${l.count}`),
    ...recovered,
    ...(skipped.length ? [`${skipped.length} record(s) skipped, left as they are:`, ...skipped] : []),
    ...(report.afterHold
      ? [`  erased ${report.afterHold} record(s) an erasure kept for a hold that has ended`]
      : []),
    ...afterHoldLeft(report.afterHoldSkipped ?? []),
  ].join('\n')}\n`;
}

/** Records kept for a hold that has ended, left: the key is not proven the person's any more. */
function afterHoldLeft(
  left: readonly { request: number; table: string; id: string; why: string }[],
): string[] {
  return left.map(
    (s) => `  left ${s.table} ${s.id} of erasure request ${s.request} (not that person's any more): ${s.why}`,
  );
}

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
/** How a status reads after "records … that are": the right words for each. */
function statusWords(status: RecordStatus, action: PlanListing['action']): string {
  switch (status) {
    case 'archive':
      // Live rows whose rule has reached its archive phase: the next sweep moves them.
      return 'in their archive phase';
    case 'due':
      return action === 'delete' ? 'due for deletion' : 'due for anonymisation';
    case 'restricted':
      return 'restricted (art. 18)';
    case 'invalid':
      return 'invalid (a date or duration it reads is not one)';
    default:
      return status;
  }
}

/** A word as a shell reads it back: quoted when it holds anything but plain characters. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * One page of plan --list. `config`: the --config given, repeated in the next page's command
 * with every other option of this one (date, statuses, limit).
 */
export function formatPlanList(list: PlanListing, options: { config?: string } = {}): string {
  const head = `${list.table} records of rule ${list.rule} that are ${list.status.map((s) => statusWords(s, list.action)).join(' or ')} on ${list.at} (live store "${list.store}")`;
  const rows = list.records.map((r) => `${r.key}\t${r.status}\t${r.deadline ?? 'no deadline'}`);
  const next = [
    'registre plan',
    ...(options.config !== undefined ? ['--config', shellWord(options.config)] : []),
    '--list',
    shellWord(list.rule),
    '--at',
    list.at,
    ...(list.status.join(',') === 'due' ? [] : ['--status', list.status.join(',')]),
    '--limit',
    String(list.limit),
    '--after',
    shellWord(list.next ?? ''),
  ].join(' ');
  const more = list.next ? [`more: ${next}`] : [];
  return `${[head, ...(rows.length ? ['key\tstatus\tdeadline', ...rows] : ['none']), ...more].join('\n')}\n`;
}

export function formatPlan(plan: Plan): string {
  const header = ['rule', 'table', 'active', 'archive', 'due', 'held', 'restricted', 'anonymised', 'invalid'];
  const rows = [
    ...plan.rules.map((l) =>
      [l.rule, l.table, l.active, l.archive, l.due, l.held, l.restricted, l.anonymised, l.invalid].map(
        String,
      ),
    ),
    [
      'total',
      '',
      ...(['active', 'archive', 'due', 'held', 'restricted', 'anonymised', 'invalid'] as const).map((k) =>
        String(plan.totals[k]),
      ),
    ],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return `plan on ${plan.at}\n${line(header)}\n${rows.map(line).join('\n')}\n`;
}

export function forecastCsv(forecast: Forecast): string {
  const rows = [
    ['rule', 'table', ...forecast.months],
    ...forecast.rules.map((l) => [l.rule, l.table, ...forecast.months.map((m) => String(l.months[m] ?? 0))]),
  ];
  return spreadsheetCsv(rows);
}

export function formatForecast(forecast: Forecast): string {
  const header = ['rule', ...forecast.months];
  const rows = forecast.rules.map((l) => [l.rule, ...forecast.months.map((m) => String(l.months[m] ?? 0))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return `records reaching their deadline, by month, from ${forecast.from} (holds aside)\n${line(header)}\n${rows.map(line).join('\n')}\n`;
}

export function formatExplanation(e: Explanation & { readonly keptBy?: KeptBy }): string {
  const head = `${e.table} ${e.id}: ${e.status}${e.deadline ? `, deadline ${e.deadline}` : ', no deadline'}${e.action ? `, then ${e.action}` : ''}${e.processor ? ' (processed on behalf of a controller)' : ''}`;
  const lines = [head];
  if (e.archiveFrom)
    lines.push(`  intermediate archive from ${e.archiveFrom}${e.status === 'archive' ? ' (now)' : ''}`);
  const byRule = new Map<string, typeof e.purposes>();
  for (const p of e.purposes) byRule.set(p.rule, [...(byRule.get(p.rule) ?? []), p]);
  for (const [rule, purposes] of e.store === 'archive' ? [] : byRule) {
    const p = purposes[0];
    lines.push(
      `  rule ${rule}${rule === e.rule ? ' (wins)' : ''} for ${purposes.map((x) => x.purpose).join(', ')}: anchor ${p?.anchor ?? '-'} = ${p?.anchorDate ?? 'none'}, deadline ${p?.deadline ?? 'none'}`,
    );
  }
  if (e.store === 'archive')
    lines.push(
      `  in the intermediate archive since ${e.archiveFrom} (rule ${e.rule}); deleted from it on ${e.deadline}`,
    );
  else if (e.purposes.length === 0) lines.push('  no retention rule applies to it');
  if (e.status === 'invalid')
    lines.push(
      '  a value one of its rules reads is there but is not a valid date or duration: never due until it is corrected (registre check names the column)',
    );
  for (const h of e.holds) lines.push(`  held by ${h.hold}: ${h.reason}`);
  if (e.keptBy)
    lines.push(
      `  kept by the erasure of request ${e.keptBy.request} on ${e.keptBy.on}: ${keptBasisText(e.keptBy.basis)}`,
    );
  return `${lines.join('\n')}\n`;
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
