/**
 * What kind of failure an error is: the edges translate a kind, never a code, into an exit code
 * (src/cli/exit-codes.ts) or an HTTP status (src/http/status.ts). A closed set, each kind one
 * question the caller can act on.
 */
export const ERROR_KINDS = {
  usage: 'the call itself is wrong: an option or argument is missing, malformed or out of range',
  invalid:
    'a file or value the call hands in cannot be used (a register file, a notice table, a rectification)',
  misconfigured:
    "the project's configuration, data map, keys or folders do not let the command run; the operator fixes them",
  'not-found': 'what the call names (a request, a hold, a record, a person, a file) does not exist',
  conflict:
    'the state of what the call names does not allow it (closed, already done, changed meanwhile, exists)',
  locked: 'what the call names is locked until someone acts (a request after its wrong codes)',
  busy: 'another process holds what the call needs (a sweep, a request run); it may succeed once that one ends',
  'rate-limited': 'the call comes too soon after the last one; it may succeed at the time the message says',
  'too-large': 'the call hands in more than the service reads (a body over its limit)',
  unauthenticated: 'the call to the service carries no token, or one that is unknown or revoked',
  forbidden: 'a rule refuses the call whatever the state: identity not proven, an unsafe path, the law',
  tampered: 'the state or the audit log no longer proves itself: it was changed outside registre',
  unavailable: 'a store or the mail server cannot be reached or refused; nothing was done',
  failed: 'an operation failed part way for a reason outside the call (a store, the disk); see the message',
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

export interface ErrorEntry {
  readonly kind: ErrorKind;
  /** What the code means, in one sentence: for the documentation and the API (the thrown message says the specifics). */
  readonly template: string;
}

/**
 * Every code a `RegistreError` may carry, each with one meaning. Register validation issues
 * (src/core/issues.ts) are a separate list. docs/errors.md shows this table; errors.test.ts keeps
 * them equal.
 */
export const ERROR_CATALOGUE = {
  // usage
  E_USAGE: { kind: 'usage', template: 'An option or argument is missing, malformed or out of range.' },
  E_ENGINE_CLOSED: { kind: 'usage', template: 'The engine was closed before the call: build another.' },

  // invalid
  E_DATE: { kind: 'invalid', template: 'A date lies beyond the calendar registre computes with.' },
  E_ENCODING: { kind: 'invalid', template: 'A register file is not valid UTF-8.' },
  E_CONTROLLER_GROUP_NESTED: {
    kind: 'invalid',
    template: 'A group of controllers holds another group: a group holds controllers only.',
  },
  E_TOO_LARGE: {
    kind: 'invalid',
    template: 'A register file, or the register as a whole, is larger than registre reads.',
  },
  E_NOTICE_FORMAT: {
    kind: 'invalid',
    template: 'The notice file looks like an XLSX workbook but cannot be read.',
  },
  E_NOTICE_EMPTY: { kind: 'invalid', template: 'The notice file holds no table row with purposes.' },
  E_NOT_RECTIFIABLE: {
    kind: 'invalid',
    template: 'A rectification asks to correct what is never rectified.',
  },
  E_NO_RECORD: {
    kind: 'invalid',
    template: 'The table named is bound to no register record, so no rule applies to it.',
  },
  E_OUT_NAME: { kind: 'invalid', template: 'A package file name is a path, not one name.' },
  E_CSV_COLUMN: {
    kind: 'invalid',
    template: 'The CSV file has no column of the name given, or more than one.',
  },
  E_CSV_RECORD: {
    kind: 'invalid',
    template: 'A record of the CSV file is longer than registre reads (a quote left open).',
  },
  E_BREACH_SCOPE: {
    kind: 'invalid',
    template: 'A breach names an activity, rule, record or category the register lacks, or no table holds.',
  },

  // misconfigured
  E_REGISTER_INVALID: {
    kind: 'misconfigured',
    template: 'The register has errors: no document is made from it.',
  },
  E_CONFIG: {
    kind: 'misconfigured',
    template: 'The configuration file is not valid or lacks what the command needs.',
  },
  E_ENV_UNSET: {
    kind: 'misconfigured',
    template: 'The configuration reads a value from an environment variable that is not set.',
  },
  E_NO_HMAC_KEY: {
    kind: 'misconfigured',
    template: 'The command needs the HMAC key, and the configuration names none.',
  },
  E_KEY_UNREADABLE: { kind: 'misconfigured', template: 'The HMAC key file cannot be read.' },
  E_KEY_PERMISSIONS: {
    kind: 'misconfigured',
    template: 'The HMAC key file can be read or written by others than its owner.',
  },
  E_WEAK_KEY: {
    kind: 'misconfigured',
    template: 'The HMAC key is too short or too repetitive to be a random key.',
  },
  E_STORE_URL: {
    kind: 'misconfigured',
    template: "A store's URL is not one of the database types registre knows.",
  },
  E_STORE_NOT_CONFIGURED: {
    kind: 'misconfigured',
    template: 'A store of the data map has no URL in the configuration.',
  },
  E_STORE_MISMATCH: { kind: 'misconfigured', template: 'A store lacks a table the data map names.' },
  E_NO_SUPPRESSION_LIST: {
    kind: 'misconfigured',
    template: 'A rule or command needs the suppression list, and the store declares none.',
  },
  E_UNKNOWN_FOLDER: {
    kind: 'misconfigured',
    template: "A file folder of the data map is not in the configuration's files.",
  },
  E_UNBOUND_RECORD: {
    kind: 'misconfigured',
    template: 'A register record is bound to no table of the data map.',
  },
  E_UNBOUND_RELATION: {
    kind: 'misconfigured',
    template: 'A relation of the register has no join in the data map.',
  },
  E_UNKNOWN_RELATION: {
    kind: 'misconfigured',
    template: 'A rule follows a relation its record does not declare.',
  },
  E_UNMAPPED_FIELD: {
    kind: 'misconfigured',
    template: 'A field a rule reads has no column in the data map.',
  },
  E_FOREIGN_KEY_BLOCKS: {
    kind: 'misconfigured',
    template: 'A foreign key the register does not declare would block the sweep.',
  },
  E_NOT_WRITABLE: { kind: 'misconfigured', template: 'A folder the sweep writes to cannot be written.' },

  // not-found
  E_NO_CONFIG: { kind: 'not-found', template: 'There is no configuration file where the command needs one.' },
  E_NO_DOCUMENT: { kind: 'not-found', template: 'No document of the register has the name given.' },
  E_NO_PACKAGE: { kind: 'not-found', template: 'The request has no package, or its package no such file.' },
  E_TOKEN_UNKNOWN: { kind: 'not-found', template: 'No live API token has the name given.' },
  E_ROUTE: { kind: 'not-found', template: 'The service has no endpoint at the path and method called.' },
  E_REGISTER_NOT_FOUND: {
    kind: 'not-found',
    template: 'There is no register (no file, or no .yaml file in the folder) at the path given.',
  },
  E_NOTICE_UNREADABLE: {
    kind: 'not-found',
    template: 'The notice file given cannot be read (it is missing or not readable).',
  },
  E_CSV_UNREADABLE: {
    kind: 'not-found',
    template: 'The CSV file given cannot be read (it is missing, a folder or not readable).',
  },
  E_REQUEST_NOT_FOUND: { kind: 'not-found', template: 'There is no request with that number.' },
  E_ERASURE_NOT_FOUND: { kind: 'not-found', template: 'There is no erasure with that number.' },
  E_HOLD_NOT_FOUND: { kind: 'not-found', template: 'There is no hold with that number.' },
  E_BREACH_NOT_FOUND: {
    kind: 'not-found',
    template: 'The register of breaches has no breach with that number.',
  },
  E_UNKNOWN_TABLE: { kind: 'not-found', template: 'The data map has no table of that name.' },
  E_RECORD_NOT_FOUND: { kind: 'not-found', template: 'The table has no row with that primary key.' },
  E_CONSENT_PURPOSE: {
    kind: 'invalid',
    template: 'A consent names a purpose the register does not have, or one not based on consent.',
  },
  E_CONSENT_EVENT: {
    kind: 'invalid',
    template:
      'A consent event (one line of an import) is malformed: the message says which field, and where.',
  },
  E_PERSON_NOT_FOUND: { kind: 'not-found', template: 'No store holds a record of that person.' },
  E_GONE: {
    kind: 'not-found',
    template: 'The record is gone; the message says which erasure or sweep removed it.',
  },
  E_NOT_FORWARDED: { kind: 'not-found', template: 'The erasure forwarded nothing to the controller named.' },

  // conflict
  E_TOKEN_EXISTS: { kind: 'conflict', template: 'A live API token already has the name given.' },
  E_REQUEST_STATE: { kind: 'conflict', template: "The request's status does not allow this step." },
  E_REQUEST_CLOSED: { kind: 'conflict', template: 'The request is already done or refused.' },
  E_REQUEST_CHANGED: {
    kind: 'conflict',
    template: 'Another command changed the request while this one ran; nothing was done.',
  },
  E_ADDRESS_ERASED: {
    kind: 'conflict',
    template: "The request no longer holds the person's address (the person was erased).",
  },
  E_DUPLICATE: {
    kind: 'conflict',
    template: 'A request of the same type from the same person is still open.',
  },
  E_NO_CODE: { kind: 'conflict', template: 'The request has no identity code pending.' },
  E_NO_LETTER: { kind: 'conflict', template: 'The request owes no letter: each was sent.' },
  E_ALREADY_EXTENDED: { kind: 'conflict', template: 'The request was already extended once.' },
  E_TOO_LATE: {
    kind: 'conflict',
    template: "The request's first month ran out: it can no longer be extended.",
  },
  E_HOLD_RELEASED: { kind: 'conflict', template: 'The hold was already released.' },
  E_BREACH_CHANGED: {
    kind: 'conflict',
    template: 'The breach changed since it was read (someone else decided first); nothing was done.',
  },
  E_HOLD_TOO_LATE: {
    kind: 'conflict',
    template: 'The hold is recorded, but a running sweep deleted a record it names first.',
  },
  E_EXISTS: {
    kind: 'conflict',
    template: 'A key file already exists at that path: a key is never overwritten.',
  },
  E_DEMO_EXISTS: { kind: 'conflict', template: "The store already has the reference shop's tables." },
  E_OUT_EXISTS: {
    kind: 'conflict',
    template: 'An output file (a package file, a filtered list) already exists: it is never written over.',
  },
  E_OUT_FILE: { kind: 'conflict', template: 'The output folder, or one above it, is a file.' },
  E_OUT_NOT_EMPTY: { kind: 'conflict', template: 'The output folder already holds files.' },

  // locked
  E_REQUEST_LOCKED: {
    kind: 'locked',
    template:
      'The request is locked after five wrong identity codes; the DPO verifies the identity by other means.',
  },

  // busy
  E_LOCK_HELD: {
    kind: 'busy',
    template:
      'Another process holds the lock this command needs (a sweep, a run or change of a request, a replay).',
  },
  E_SWEEP_BUSY: {
    kind: 'busy',
    template: 'The hold is recorded, but a running sweep has not confirmed it yet.',
  },

  // rate-limited
  E_CODE_TOO_SOON: {
    kind: 'rate-limited',
    template: 'A code was sent to the request less than a minute ago.',
  },

  E_RATE_LIMITED: {
    kind: 'rate-limited',
    template: 'The service was called more times than its limit allows in a window (per client or address).',
  },

  // too-large
  E_BODY_TOO_LARGE: { kind: 'too-large', template: "A call's body is larger than the service reads." },

  // unauthenticated
  E_TOKEN_MISSING: {
    kind: 'unauthenticated',
    template: 'The call carries no API token (Authorization: Bearer …).',
  },
  E_TOKEN_INVALID: { kind: 'unauthenticated', template: 'The API token is unknown or revoked.' },

  // forbidden
  E_SCOPE: {
    kind: 'forbidden',
    template:
      "The API token's scope does not allow the call (read, operate, admin), or it is limited to one controller.",
  },
  E_ORIGIN: {
    kind: 'forbidden',
    template: 'The call comes from a web origin the configuration does not allow.',
  },
  E_NOT_VERIFIED: {
    kind: 'forbidden',
    template: "The person's identity is not verified: nothing is done before it is.",
  },
  E_WRONG_CODE: { kind: 'forbidden', template: 'The identity code does not match.' },
  E_CODE_EXPIRED: { kind: 'forbidden', template: 'The identity code expired.' },
  E_CODE_LIMIT: {
    kind: 'forbidden',
    template: 'The request was sent the most identity codes one request may be sent.',
  },
  E_RESTRICTION: {
    kind: 'forbidden',
    template: 'A restriction of processing is lifted with its request, not released as a hold.',
  },
  E_FILE_PATH: {
    kind: 'forbidden',
    template:
      'A file a record names leaves its folder, or is a link or not a regular file: it is not followed.',
  },
  E_OUT_LINK: { kind: 'forbidden', template: 'The output folder is a symbolic link.' },
  E_OUT_UNSAFE: {
    kind: 'forbidden',
    template: 'The output folder belongs to another user or can be written by others.',
  },

  // tampered
  E_STATE_TAMPERED: { kind: 'tampered', template: 'A row of the state store does not match its seal.' },
  E_HOLDS_TAMPERED: { kind: 'tampered', template: 'The holds table does not match the audit log.' },
  E_LOG_BROKEN: { kind: 'tampered', template: 'The audit log is not whole up to its checkpoint.' },
  E_AUDIT_TRUNCATED: {
    kind: 'tampered',
    template: 'The audit log does not reach its checkpoint: it was truncated or rewritten.',
  },
  E_AUDIT_BROKEN: { kind: 'tampered', template: 'The audit log does not verify with the key in force.' },

  // unavailable
  E_STORE_UNREACHABLE: { kind: 'unavailable', template: 'A store cannot be reached.' },
  E_MAIL: { kind: 'unavailable', template: 'The mail server refused the message or could not be reached.' },

  // failed
  E_STORE_FAILED: {
    kind: 'failed',
    template: 'A store failed during a sweep or an erasure; its batch was rolled back.',
  },
  E_STATE_MIGRATION: { kind: 'failed', template: 'The state store could not be migrated.' },
  E_CANCELLED: {
    kind: 'failed',
    template: 'The caller stopped a long operation between two batches; what was done stays done and logged.',
  },
  E_LOCK_LOST: { kind: 'failed', template: 'The sweep lost its lock after missed heartbeats and stopped.' },
  E_FILE_READ: { kind: 'failed', template: 'A file a record names cannot be read.' },
  E_OUT_CREATE: {
    kind: 'failed',
    template: 'An output folder or file (a package, a filtered list) cannot be created.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface RegistreErrorOptions {
  readonly cause?: unknown;
  /** The input field at fault (`['limit']`): the CLI prints it as `--limit`, the API as `limit`. */
  readonly path?: readonly (string | number)[];
  /** When a refused call may come again, in seconds (a rate limit: the API's Retry-After). */
  readonly retryAfter?: number;
}

/** An expected failure with a catalogued code, translated to an exit or status code at the edges by its kind. */
export class RegistreError extends Error {
  override readonly name = 'RegistreError';
  readonly kind: ErrorKind;
  // Declared, not defined: an error with no field at fault has no `path` property at all.
  declare readonly path?: readonly (string | number)[];
  declare readonly retryAfter?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: RegistreErrorOptions,
  ) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.kind = ERROR_CATALOGUE[code].kind;
    if (options?.path !== undefined) this.path = options.path;
    if (options?.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** An input field as a message names it: between backquotes, written by each edge its way (fieldsAs). */
export const field = (name: string): string => `\`${name}\``;

/**
 * A message with the input fields it names written by `write`: the CLI writes `batchSize` as
 * `--batch-size`, the API as the field's name.
 */
export function fieldsAs(message: string, write: (name: string) => string): string {
  return message.replace(/`([A-Za-z][\w.]*)`/g, (_, name: string) => write(name));
}
