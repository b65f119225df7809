/**
 * The inputs of the use cases: one zod schema each, validated at the use case (whoever calls it:
 * the CLI, the HTTP API, a script), with dates as calendar dates, numbers as numbers and choices
 * as unions. A refused input is a RegistreError E_USAGE carrying the field's `path`. A message
 * names an input field between backquotes (`` `batchSize` must be… ``), which each edge writes in
 * its own words (fieldsAs): `--batch-size` on the command line, `batchSize` in a JSON body. These
 * schemas are the ones the API documents.
 */
import { z } from 'zod';
import { field, RegistreError } from '../core/errors.js';
import { LAST_DATE, parseDateInput } from '../core/retention/calendar.js';

const shown = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

/** A calendar day written YYYY-MM-DD, with a four-digit year. */
export const calendarDate = z.string().refine((v) => parseDateInput(v) === v, {
  error: (issue) =>
    `must be a date written YYYY-MM-DD, a real calendar day with a four-digit year (got ${shown(issue.input)})`,
});

/** A date a plan, sweep or explanation is asked for: before 9999-12-31, which stands for "never". */
export const retentionDate = calendarDate.refine((v) => v < LAST_DATE, {
  error: (issue) =>
    `${String(issue.input)}: the last day of the calendar stands for "never" in the databases; ask for 9999-12-30 at the latest`,
});

/** An ISO 8601 time with its offset (`2026-12-05T10:00:00Z`, `…+01:00`), read as an instant. */
export const isoInstant = z
  .string()
  .refine(
    (v) =>
      /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/.test(
        v,
      ) &&
      // A real calendar day (2026-02-30 is refused, not moved to March).
      parseDateInput(v.slice(0, 10)) === v.slice(0, 10) &&
      !Number.isNaN(Date.parse(v)),
    { error: 'must be an ISO 8601 time with its offset on a real day, e.g. 2026-12-05T10:00:00Z' },
  )
  .transform((v) => new Date(v).toISOString());

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number) {
  const text = `must be a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}`;
  return z
    .number({ error: (issue) => `${text} (got ${shown(issue.input)})` })
    .int({ error: (issue) => `${text} (got ${shown(issue.input)})` })
    .min(min, { error: (issue) => `${text} (got ${shown(issue.input)})` })
    .max(max, { error: (issue) => `${text} (got ${shown(issue.input)})` });
}

/** A request's or a hold's number. */
export const positiveId = wholeNumber(1, Number.MAX_SAFE_INTEGER);

/** One of `values`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `${String(issue.input)}: one of ${values.join(', ')}`,
  });
}

/** The input of a use case that takes none. */
export const NoInput = z.strictObject({});
export type NoInput = z.input<typeof NoInput>;

export { field, fieldsAs } from '../core/errors.js';

/** A text that says something (a reason): refused with `error` when empty once trimmed. */
export const saying = (error: string) => z.string().refine((v) => v.trim() !== '', { error });

/**
 * The input, parsed by its schema; the first problem refused as E_USAGE naming its field: the
 * message starts with the field (`` `batchSize` must be… ``), which the edges write their way.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const message =
    issue.code === 'unrecognized_keys'
      ? `${issue.keys.map((k) => field([...path, k].join('.'))).join(', ')}: not an input of this use case`
      : // A message that names its fields itself is taken as it is.
        `${path.length && !/`[A-Za-z]/.test(issue.message) ? `${field(path.join('.'))} ` : ''}${issue.message}`;
  throw new RegistreError('E_USAGE', message, {
    path: issue.code === 'unrecognized_keys' ? [...path, issue.keys[0] ?? ''] : path,
  });
}
