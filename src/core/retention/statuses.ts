/** A record's status on a date, as `plan` counts it and `plan --list` lists it. */
export const RECORD_STATUSES = [
  'active',
  'archive',
  'due',
  'held',
  'restricted',
  'anonymised',
  'invalid',
] as const;
/**
 * `anonymised`: the winning rule anonymises, and the record already is: nothing left to do.
 * `invalid`: a value a rule reads is there but is not a date or a whole amount: never due.
 * `restricted`: under a restriction of processing (art. 18): kept as it is, like a hold.
 */
export type RecordStatus = (typeof RECORD_STATUSES)[number];
