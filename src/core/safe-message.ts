/**
 * What may be said of an error. A message from outside registre (a database, an SMTP server)
 * may quote what it refused: `550 5.1.1 <person@…>: Recipient address rejected`, a trigger's own
 * text with the row's address, MariaDB's `Data too long for column 'email' at row 1`. Such an
 * error is reduced to its code and a fixed text; its message never reaches output, logs or the
 * audit log. registre's own errors (`RegistreError`) say what they say.
 */
import { RegistreError } from './errors.js';

interface Foreign {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly responseCode?: unknown;
  readonly command?: unknown;
  readonly sqlState?: unknown;
  readonly severity?: unknown;
}

/** Fixed texts for the codes met most, by code (SQLSTATE, SQLite, MySQL, Node, nodemailer). */
const KNOWN: Readonly<Record<string, string>> = {
  P0001: 'a trigger or function of the database raised an error',
  '22001': 'a value is too long for its column',
  '23502': 'a required value is missing',
  '23503': 'a foreign key refused the change',
  '23505': 'a unique constraint refused the change',
  '23514': 'a check constraint refused the change',
  '40001': 'the transaction could not be serialised',
  '40P01': 'a deadlock was detected',
  '57014': 'the statement was cancelled',
  '28000': 'the server refused the login',
  '28P01': 'the server refused the login',
  '3D000': 'the database does not exist',
  '3F000': 'the schema does not exist',
  '53300': 'the server has too many connections',
  '57P03': 'the server is starting up or shutting down',
  ER_ACCESS_DENIED_ERROR: 'the server refused the login',
  ER_DBACCESS_DENIED_ERROR: 'the server refused access to the database',
  ER_BAD_DB_ERROR: 'the database does not exist',
  ER_CON_COUNT_ERROR: 'the server has too many connections',
  SQLITE_CANTOPEN: 'the database file cannot be opened',
  SQLITE_NOTADB: 'the file is not a SQLite database',
  ER_DATA_TOO_LONG: 'a value is too long for its column',
  ER_SIGNAL_EXCEPTION: 'a trigger or procedure of the database raised an error',
  ER_DUP_ENTRY: 'a unique constraint refused the change',
  ER_NO_REFERENCED_ROW_2: 'a foreign key refused the change',
  ER_ROW_IS_REFERENCED_2: 'a foreign key refused the change',
  ER_LOCK_DEADLOCK: 'a deadlock was detected',
  ER_LOCK_WAIT_TIMEOUT: 'a lock wait timed out',
  SQLITE_CONSTRAINT_TRIGGER: 'a trigger of the database refused the change',
  SQLITE_CONSTRAINT: 'a constraint refused the change',
  SQLITE_BUSY: 'the database is locked by another process',
  EENVELOPE: 'the SMTP server refused the sender or a recipient',
  EMESSAGE: 'the SMTP server refused the message',
  EAUTH: 'the SMTP server refused the login',
  ECONNECTION: 'the SMTP server could not be reached',
  ETIMEDOUT: 'the server did not answer in time',
  ECONNREFUSED: 'the server refused the connection',
  ECONNRESET: 'the server closed the connection',
  ENOTFOUND: 'the server name is not known',
};

/** JavaScript's own errors: a fault of registre, whose message names no row. */
const INTERNAL = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/** The codes an error carries: an SMTP reply code, then the driver's code. */
function codesOf(error: Foreign): string[] {
  const codes: string[] = [];
  if (typeof error.responseCode === 'number') codes.push(String(error.responseCode));
  if (typeof error.code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(error.code)) codes.push(error.code);
  else if (typeof error.errno === 'number') codes.push(`errno ${error.errno}`);
  return codes;
}

/** What a foreign error is, in a fixed text: its kind by code, else by where it came from. */
function textOf(error: Foreign, codes: readonly string[]): string {
  for (const code of codes) {
    const known = KNOWN[code] ?? (code.startsWith('SQLITE_CONSTRAINT') ? KNOWN.SQLITE_CONSTRAINT : undefined);
    if (known) return known;
  }
  if (typeof error.responseCode === 'number' || typeof error.command === 'string')
    return 'the SMTP server refused the command';
  if (
    typeof error.sqlState === 'string' ||
    typeof error.severity === 'string' ||
    error.name === 'SqliteError' ||
    codes.some((c) => /^[0-9A-Z]{5}$/.test(c) || c.startsWith('SQLITE_') || c.startsWith('ER_'))
  )
    return 'the database refused the statement';
  return 'an error from outside registre';
}

/**
 * One line about an error that is safe to print and to log: registre's own message, or for an
 * error from outside, a fixed text and its codes (`a value is too long for its column
 * (ER_DATA_TOO_LONG)`), never the text it came with.
 */
export function safeMessage(error: unknown): string {
  if (error instanceof RegistreError) return error.message;
  const e = (typeof error === 'object' && error !== null ? error : {}) as Foreign;
  if (typeof e.name === 'string' && INTERNAL.has(e.name) && codesOf(e).length === 0) {
    // A fault of registre: its first line, quoted parts left out all the same.
    const first = ((error as Error).message ?? '').split('\n')[0] ?? '';
    return `${e.name}: ${first.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'")}`;
  }
  const codes = codesOf(e);
  return codes.length ? `${textOf(e, codes)} (${codes.join(', ')})` : textOf(e, codes);
}
