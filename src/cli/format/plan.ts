/** What plan, forecast and explain print. */
import type { Explanation, KeptBy } from '../../app/explain.js';
import type { Forecast, Plan, PlanListing } from '../../app/plan.js';
import { spreadsheetCsv } from '../../core/csv.js';
import type { RecordStatus } from '../../core/retention/statuses.js';
import { keptBasisText } from './requests.js';

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
