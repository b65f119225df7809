/**
 * A CSV file read record by record, each record's bytes exactly as they were, so that a filter
 * writes what it keeps without rewriting it (quotes, other columns, line endings). RFC 4180:
 * fields quoted with `"`, `""` for a quote inside, records ended by LF or CRLF outside quotes. A
 * quote inside an unquoted field, or text other than spaces after a closing quote, is kept as it
 * is (as spreadsheets do) and marks that field as not well formed. The record being read is the only
 * thing held: a record longer than `maxRecordBytes` (a quote left open) is refused.
 */
import { RegistreError } from './errors.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

// Where the scanner is within a field.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote inside a quoted field: the end of the field, or the first half of `""`. */
const QUOTE_IN_QUOTED = 3;
const AFTER_CLOSE = 4;

/** One record, valid only during the callback it is given to (its buffers are reused). */
export interface CsvRecord {
  /** The record's bytes, its line ending included (none for a last record without one). */
  readonly bytes: Buffer;
  /** How many fields it has. */
  readonly fieldCount: number;
  /** Field `i`'s value, unquoted (`""` read as `"`); undefined past the last field. */
  field(i: number): string | undefined;
  /** Whether field `i` is well formed (no stray quote, nothing after its closing quote). */
  wellFormed(i: number): boolean;
  /** The file ended inside this record's quoted field: the record is not whole. */
  readonly unterminated: boolean;
  /** An empty line (nothing but its line ending): not a record of data. */
  readonly blank: boolean;
}

/** The first mebibyte: longer than any row of a mailing list, short enough to hold. */
export const MAX_RECORD_BYTES = 1 << 20;

export class CsvScanner {
  private carry: Buffer | undefined;
  /** Where scanning resumes, from the start of the carried record. */
  private resume = 0;
  private state = FIELD_START;
  // The fields of the record being read, as offsets from its start (typed arrays, grown as needed).
  private readonly fields = new Fields();
  private fieldStart = 0;
  private fieldQuoted = false;
  private fieldMalformed = false;
  private fieldEnd = -1;
  private readonly record = new Record(this.fields);

  constructor(
    private readonly delimiter = 0x2c,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {}

  /** Reads `chunk`, giving each record it completes to `onRecord`. */
  push(chunk: Buffer, onRecord: (record: CsvRecord) => void): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const delimiter = this.delimiter;
    let recordStart = 0;
    let state = this.state;
    let i = this.resume;
    const n = buf.length;
    while (i < n) {
      const b = buf[i] as number;
      switch (state) {
        case QUOTED: {
          // The rest of a quoted field up to its next quote, in one search.
          const q = buf.indexOf(QUOTE, i);
          if (q < 0) {
            i = n;
            continue;
          }
          i = q;
          state = QUOTE_IN_QUOTED;
          break;
        }
        case QUOTE_IN_QUOTED:
          if (b === QUOTE) {
            state = QUOTED;
            break;
          }
          // The quote before closed the field.
          this.fieldEnd = i - 1 - recordStart;
          state = AFTER_CLOSE;
          continue;
        case FIELD_START:
          if (b === QUOTE) {
            this.fieldQuoted = true;
            this.fieldStart = i + 1 - recordStart;
            state = QUOTED;
            break;
          }
          this.fieldStart = i - recordStart;
          state = UNQUOTED;
          continue;
        case UNQUOTED:
          if (b === delimiter) {
            this.endField(i - recordStart);
            this.fieldStart = i + 1 - recordStart;
            state = FIELD_START;
          } else if (b === LF) {
            const end = i > recordStart && buf[i - 1] === CR ? i - 1 : i;
            this.endField(Math.max(end - recordStart, this.fieldStart));
            this.emit(buf, recordStart, i + 1, false, onRecord);
            recordStart = i + 1;
            state = FIELD_START;
          } else if (b === QUOTE) this.fieldMalformed = true;
          break;
        case AFTER_CLOSE:
          if (b === delimiter) {
            this.endField(this.fieldEnd);
            this.fieldStart = i + 1 - recordStart;
            state = FIELD_START;
          } else if (b === LF) {
            this.endField(this.fieldEnd);
            this.emit(buf, recordStart, i + 1, false, onRecord);
            recordStart = i + 1;
            state = FIELD_START;
            // Spaces before the delimiter, and the CR of a CRLF, are let pass; any other byte is out of place.
          } else if (b !== CR && b !== SPACE && b !== TAB) this.fieldMalformed = true;
          break;
      }
      i++;
    }
    this.state = state;
    const left = n - recordStart;
    if (left > this.maxRecordBytes)
      throw new RegistreError(
        'E_CSV_RECORD',
        `a record is longer than ${this.maxRecordBytes.toLocaleString('en')} bytes: a quote is probably left open`,
      );
    this.carry = left > 0 ? Buffer.from(buf.subarray(recordStart)) : undefined;
    this.resume = left;
  }

  /** The file's end: its last record when it has no line ending. */
  end(onRecord: (record: CsvRecord) => void): void {
    const buf = this.carry;
    if (!buf) return;
    let unterminated = false;
    switch (this.state) {
      case QUOTED:
        unterminated = true;
        this.endField(buf.length);
        break;
      case QUOTE_IN_QUOTED:
        this.endField(buf.length - 1);
        break;
      case AFTER_CLOSE:
        this.endField(this.fieldEnd);
        break;
      default:
        this.endField(Math.max(buf[buf.length - 1] === CR ? buf.length - 1 : buf.length, this.fieldStart));
    }
    this.emit(buf, 0, buf.length, unterminated, onRecord);
    this.carry = undefined;
    this.resume = 0;
    this.state = FIELD_START;
  }

  private endField(end: number): void {
    this.fields.add(this.fieldStart, end, this.fieldQuoted, this.fieldMalformed);
    this.fieldQuoted = false;
    this.fieldMalformed = false;
    this.fieldEnd = -1;
  }

  private emit(
    buf: Buffer,
    start: number,
    end: number,
    unterminated: boolean,
    onRecord: (record: CsvRecord) => void,
  ): void {
    this.record.set(buf.subarray(start, end), unterminated);
    onRecord(this.record);
    this.fields.count = 0;
    this.fieldStart = 0;
  }
}

const QUOTED_FLAG = 1;
const MALFORMED_FLAG = 2;

/** The fields of one record: offsets from its start and flags, reused from record to record. */
class Fields {
  count = 0;
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  flags = new Uint8Array(16);

  add(start: number, end: number, quoted: boolean, malformed: boolean): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.flags = grow(this.flags);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.flags[this.count] = (quoted ? QUOTED_FLAG : 0) | (malformed ? MALFORMED_FLAG : 0);
    this.count++;
  }
}

class Record implements CsvRecord {
  bytes: Buffer = Buffer.alloc(0);
  unterminated = false;

  constructor(private readonly fields: Fields) {}

  set(bytes: Buffer, unterminated: boolean): void {
    this.bytes = bytes;
    this.unterminated = unterminated;
  }

  get fieldCount(): number {
    return this.fields.count;
  }

  get blank(): boolean {
    const b = this.bytes;
    return (
      this.fields.count === 1 &&
      ((this.fields.flags[0] as number) & QUOTED_FLAG) === 0 &&
      (b.length === 0 || (b.length === 1 && b[0] === LF) || (b.length === 2 && b[0] === CR && b[1] === LF))
    );
  }

  field(i: number): string | undefined {
    const f = this.fields;
    if (i >= f.count) return undefined;
    const text = this.bytes.toString('utf8', f.starts[i], f.ends[i]);
    return ((f.flags[i] as number) & QUOTED_FLAG) !== 0 && text.includes('"')
      ? text.replaceAll('""', '"')
      : text;
  }

  wellFormed(i: number): boolean {
    return i < this.fields.count && ((this.fields.flags[i] as number) & MALFORMED_FLAG) === 0;
  }
}

/**
 * The delimiter of a CSV file, read from its header: the one of `,`, `;` and tab that appears
 * most outside quotes (`,` when none does: one column). French Excel writes `;`.
 */
export function headerDelimiter(firstBytes: Buffer): number {
  const counts = new Map<number, number>([
    [0x2c, 0],
    [0x3b, 0],
    [0x09, 0],
  ]);
  let inQuotes = false;
  for (const b of firstBytes) {
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (!inQuotes && b === LF) break;
    else if (!inQuotes && counts.has(b)) counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  let best = 0x2c;
  for (const [b, count] of counts) if (count > (counts.get(best) ?? 0)) best = b;
  return best;
}
