/** What the suppression commands print: never the address. */
import type { MailingFiltered, SuppressionAdded, SuppressionChecked } from '../../app/suppression.js';

const rows = (n: number) => `${n.toLocaleString('en')} row${n === 1 ? '' : 's'}`;

export function formatSuppressionAdded(r: SuppressionAdded): string {
  const what = r.added
    ? 'added to'
    : r.rekeyed
      ? 'already on (listed under a previous key: re-keyed to the key in force, renewed)'
      : 'already on (renewed)';
  return `${what} the suppression list of store ${r.store}: ${r.reason ?? 'no reason recorded'}, dated ${r.addedAt}\n`;
}

export function formatSuppressionChecked(r: SuppressionChecked): string {
  if (!r.listed) return `not listed on the suppression list of store ${r.store}\n`;
  const details = [r.reason, r.addedAt ? `added ${r.addedAt}` : undefined].filter(Boolean).join(', ');
  return `listed on the suppression list of store ${r.store}${details ? ` (${details})` : ''}${
    r.underPreviousKey ? ', under a previous key (re-keyed the next time it is added)' : ''
  }\n`;
}

export function formatMailingFiltered(r: MailingFiltered): string {
  return [
    `${rows(r.kept)} of ${rows(r.rows)} written to ${r.out}`,
    `  ${rows(r.removed)} left out: the address is on the suppression list of store ${r.store}`,
    ...(r.invalid
      ? [`  ${rows(r.invalid)} left out: no address could be read (empty, malformed, or not one address)`]
      : []),
  ]
    .map((l) => `${l}\n`)
    .join('');
}
