/** What the consent commands print. `who`: the subject as the operator typed it (an address is never shown otherwise). */
import type {
  ConsentImported,
  ConsentProof,
  ConsentRecorded,
  ConsentStatus,
  ConsentStatusLine,
} from '../../app/consent.js';
import { fieldsAs } from '../../core/errors.js';

type Effect = ConsentRecorded['effects'][number];

/** A table with a header, its columns padded to their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a withdrawal or refusal did to the records of an address (the data map's `consent.withdrawn`). */
function effectLines(effects: readonly Effect[]): string[] {
  return effects.map((e) => {
    const kept = e.kept.length
      ? `; ${plural(e.kept.length, 'record')} left as they were (${[...new Set(e.kept.map((k) => k.status))].join(', ')}): ${e.kept.map((k) => k.key).join(', ')}`
      : '';
    return `  ${e.table}: ${e.columns.join(', ')} set on ${plural(e.changed.length, 'record')}${e.changed.length ? ` (${e.changed.join(', ')})` : ''}${kept}`;
  });
}

export function formatRecorded(
  who: string,
  choice: string,
  purposes: readonly string[],
  recorded: ConsentRecorded,
): string {
  const head =
    recorded.rows === 0
      ? `already recorded: ${who}, ${choice} for ${purposes.join(', ')} (the same subject, purpose, time, choice and consent id is in the ledger; nothing appended)`
      : `recorded: ${who}, ${choice} for ${purposes.join(', ')} (event ${recorded.events.join(', ')}, ${plural(recorded.rows, 'row')}${recorded.duplicates ? `, ${recorded.duplicates} already there` : ''})`;
  return `${[head, ...effectLines(recorded.effects)].join('\n')}\n`;
}

export function formatImported(imported: ConsentImported): string {
  return `${[
    `imported ${plural(imported.lines, 'line')}: ${plural(imported.events, 'event')} recorded (${plural(imported.rows, 'row')}), ${imported.duplicates} already in the ledger, ${imported.refused.length} line(s) refused`,
    ...effectLines(imported.effects),
  ].join('\n')}\n`;
}

/** The refused lines of an import, for standard error: each with its number and why (fields as the JSON names them). */
export function formatRefusedLines(file: string, imported: ConsentImported): string {
  return imported.refused
    .map((r) => `${file}:${r.line}: refused: ${fieldsAs(r.error, (name) => `"${name}"`)}\n`)
    .join('');
}

const dash = (v: string | number | null) => (v === null ? '-' : String(v));

export function formatStatus(who: string, status: ConsentStatus): string {
  return `consent of ${who} on ${status.on}\n${table(
    ['purpose', 'state', 'since', 'expires', 'event'],
    status.purposes.map((p) => [
      p.purpose,
      p.state,
      dash(p.since),
      p.state === 'given' ? (p.expires ?? 'never') : '-',
      dash(p.event),
    ]),
  )}`;
}

/** One purpose's state, in one line. */
export function formatCheck(who: string, line: ConsentStatusLine): string {
  const detail =
    line.state === 'none'
      ? 'the ledger holds no choice for this purpose'
      : [
          `since ${line.since}`,
          line.state === 'given' ? (line.expires ? `expires ${line.expires}` : 'until withdrawn') : '',
          line.state === 'expired' && line.expires ? `expired on ${line.expires}` : '',
          `event ${line.event}`,
          line.notice ? `notice ${line.notice.version}` : '',
        ]
          .filter(Boolean)
          .join(', ');
  return `${who}: ${line.purpose} ${line.state} (${detail})\n`;
}

export function formatProof(who: string, proof: ConsentProof): string {
  const events = proof.events.length
    ? table(
        [
          'event',
          'at',
          'purpose',
          'choice',
          'notice',
          'sha256',
          'source',
          'consent id',
          'lang',
          'recorded at',
          'by',
        ],
        proof.events.map((e) => [
          String(e.event),
          e.at,
          e.purpose,
          e.choice,
          e.notice.version,
          e.notice.sha256,
          e.source,
          e.consentId,
          e.language ?? '-',
          e.recordedAt,
          e.actor,
        ]),
      )
    : 'no event in the ledger\n';
  return `${formatStatus(who, { subject: proof.subject, on: proof.on, purposes: proof.status })}\n${events}`;
}

export function formatWithdrawn(
  who: string,
  withdrawn: ConsentRecorded & { readonly purposes: readonly string[] },
): string {
  if (withdrawn.purposes.length === 0)
    return `nothing to withdraw: ${who} has no current consent (registre consent status shows each purpose)\n`;
  const head =
    withdrawn.rows === 0
      ? `already withdrawn: ${who}, ${withdrawn.purposes.join(', ')} (the same withdrawal is in the ledger)`
      : `withdrawn: ${who}, ${withdrawn.purposes.join(', ')} (event ${withdrawn.events.join(', ')})`;
  const effects = withdrawn.effects.length
    ? ['effects on the records:', ...effectLines(withdrawn.effects)]
    : [
        'no record changed by the withdrawal itself (the data map lists no effect of it); records kept only on this consent are for the sweep to delete',
      ];
  return `${[head, ...effects].join('\n')}\n`;
}
