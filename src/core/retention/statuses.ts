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
export type RecordStatus = (typeof RECORD_STATUSES)[number];
