/** What the breach commands print. */
import type { BreachShown, BreachView } from '../../app/breaches.js';
import { textIn } from '../../core/breaches/breach.js';
import { instantText } from '../../core/breaches/breach-documents.js';

const count = (n: number | null, one: string, many: string) =>
  n === null ? `? ${many}` : `${n} ${n === 1 ? one : many}`;

/** "70 h 30 min", "1 min": to the minute, as the last hour before the deadline needs. */
function duration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function deadlineText(b: BreachView): string {
  if (b.minutesLeft === null) return '';
  if (b.minutesLeft < 0) {
    // Floored: -1 is the first minute past the deadline.
    const past = -b.minutesLeft - 1;
    return `deadline passed ${instantText(b.deadline)} (${past === 0 ? 'less than a minute' : duration(past)} ago)`;
  }
  return `notify the CNIL by ${instantText(b.deadline)} (${b.minutesLeft === 0 ? 'less than a minute' : duration(b.minutesLeft)} left)`;
}

function notificationText(b: BreachView): string {
  const n = b.notification;
  if (n.decision === 'notify')
    return `notified ${instantText(n.notifiedAt)}${n.reference ? `, reference ${n.reference}` : ''}${b.status === 'notified-late' ? ` (late: ${n.delayReason ?? ''})` : ''}`;
  if (n.decision === 'no-notify') return `not notified: ${n.reason}`;
  return deadlineText(b);
}

function informationText(b: BreachView): string {
  const i = b.information;
  if (i.decision === 'inform')
    return `the people are to be told${i.informedAt ? ` (told ${instantText(i.informedAt)})` : ''}`;
  if (i.decision === 'no-inform') return `the people are not told: ${i.reason}`;
  return 'whether to tell the people: to decide';
}

const tableLines = (b: BreachView) =>
  b.affected.tables
    .map(
      (t) =>
        `  ${t.store}.${t.table} (${t.columns.join(', ')}): ${count(t.records, 'record', 'records')}, ${count(t.people, 'person', 'people')}\n`,
    )
    .join('');

export function formatBreachRecorded(b: BreachView): string {
  return `breach ${b.id} recorded: ${count(b.people, 'person', 'people')}, ${count(b.affected.records, 'record', 'records')}; ${deadlineText(b)}\n${tableLines(b)}`;
}

export function formatBreaches(breaches: readonly BreachView[]): string {
  if (breaches.length === 0) return 'no breach in the register\n';
  return breaches
    .map(
      (b) =>
        `${b.id} ${b.status}  discovered ${instantText(b.discoveredAt)}  ${count(b.people, 'person', 'people')}, ${count(b.affected.records, 'record', 'records')}  ${notificationText(b)}\n`,
    )
    .join('');
}

export function formatBreach(b: BreachShown): string {
  return (
    [
      `breach ${b.id} (${b.status}, version ${b.version})`,
      `  discovered  ${instantText(b.discoveredAt)}${b.occurredAt ? `, happened ${instantText(b.occurredAt)}` : ''}`,
      `  kinds       ${b.kinds.join(', ')}`,
      `  what        ${textIn(b.nature, 'en')}`,
      `  people      ${count(b.people, 'person', 'people')}${b.affected.peopleUpperBound ? ' at most' : ''}${b.peopleEstimate !== null ? ` (estimate ${b.peopleEstimate})` : ''}`,
      `  records     ${b.affected.records} (counted ${instantText(b.affected.countedAt)})`,
      `  consequences ${textIn(b.consequences, 'en')}`,
      `  measures    ${textIn(b.measures, 'en')}`,
      `  CNIL        ${notificationText(b)}`,
      `  people told ${informationText(b)}`,
      '',
    ].join('\n') + tableLines(b)
  );
}

export function formatBreachDecided(b: BreachShown): string {
  return `breach ${b.id}: ${notificationText(b)}\n`;
}

export function formatBreachInformed(b: BreachShown): string {
  const letters =
    b.information.decision === 'inform' ? `; the letter: registre breach show ${b.id} --letter fr|en` : '';
  return `breach ${b.id}: ${informationText(b)}${letters}\n`;
}
