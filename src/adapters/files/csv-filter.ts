/**
 * Filters a CSV file row by row into a new file: each row kept is written byte for byte as it was
 * read (CsvScanner), the header too. The file is read a mebibyte at a time and written under a
 * temporary name beside the output, which takes the output's name only once it is whole and on
 * disk: an interruption never leaves half a file under that name, and an existing file is never
 * written over.
 */
import { randomBytes } from 'node:crypto';
import { constants, lstatSync } from 'node:fs';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CsvScanner, headerDelimiter } from '../../core/csv-records.js';
import { RegistreError } from '../../core/errors.js';
import { trimIdentity } from '../../core/identity.js';

const CHUNK = 1 << 20;

/** What happens to a row: written, left out because its address is suppressed, or left out as unreadable. */
export type RowFate = 'keep' | 'remove' | 'invalid';

export interface CsvFilterOptions {
  /** The file read (absolute). */
  readonly file: string;
  /** The file written (absolute); refused if anything is there. */
  readonly out: string;
  /** The column whose value decides, by its name in the header. */
  readonly column: string;
  /** A row's fate from its value in the column; undefined when the row has no such field or it is malformed. */
  readonly fate: (value: string | undefined) => RowFate;
  readonly onProgress?: (bytesRead: number, totalBytes: number, rows: number) => void;
  /** Aborted: stops between two chunks, leaving no file. */
  readonly signal?: AbortSignal;
  /** Called when aborted, for the error to throw. */
  readonly cancelled?: (signal: AbortSignal) => Error;
}

export interface CsvFilterCounts {
  /** Rows read, the header and blank lines not counted. */
  readonly rows: number;
  readonly kept: number;
  readonly removed: number;
  readonly invalid: number;
}

function refuseExisting(out: string): void {
  let there = false;
  try {
    lstatSync(out);
    there = true;
  } catch {
    // Nothing there: good.
  }
  if (there)
    throw new RegistreError(
      'E_OUT_EXISTS',
      `${out} already exists: the filtered list is never written over a file`,
    );
}

/** The index of `column` among the header's names (trimmed; exact, else ignoring case), or an error naming them. */
function columnIndex(names: readonly string[], column: string, file: string): number {
  const wanted = column.trim();
  const exact = names.flatMap((n, i) => (n === wanted ? [i] : []));
  const loose = names.flatMap((n, i) => (n.toLowerCase() === wanted.toLowerCase() ? [i] : []));
  const found = exact.length ? exact : loose;
  const shown = names.map((n) => JSON.stringify(n)).join(', ');
  if (found.length === 1) return found[0] as number;
  throw new RegistreError(
    'E_CSV_COLUMN',
    found.length === 0
      ? `${file} has no column "${wanted}" (its columns: ${shown || 'none'}); name the address column with --column; nothing was written`
      : `${file} has ${found.length} columns named "${wanted}" (its columns: ${shown}); nothing was written`,
  );
}

/** Filters `file` into `out` (see the module's comment); returns the counts. */
export async function filterCsvFile(options: CsvFilterOptions): Promise<CsvFilterCounts> {
  const { file, out, signal } = options;
  refuseExisting(out);
  let input: FileHandle;
  try {
    input = await open(file, constants.O_RDONLY);
  } catch (cause) {
    throw new RegistreError(
      'E_CSV_UNREADABLE',
      `cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause },
    );
  }
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}-${randomBytes(4).toString('hex')}.part`);
  let output: FileHandle | undefined;
  try {
    const stat = await input.stat();
    const total = stat.size;
    if (!stat.isFile()) throw new RegistreError('E_CSV_UNREADABLE', `${file} is not a regular file`);
    try {
      output = await open(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
        0o600,
      );
    } catch (cause) {
      throw new RegistreError(
        'E_OUT_CREATE',
        `cannot create a file in ${dirname(out)} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
        { cause },
      );
    }
    const counts = { rows: 0, kept: 0, removed: 0, invalid: 0 };
    let index = -1;
    let scanner: CsvScanner | undefined;
    let pending: Buffer[] = [];
    const take = (record: Parameters<Parameters<CsvScanner['push']>[1]>[0]) => {
      if (index < 0) {
        // The header: its names without quotes or a byte order mark.
        const names = Array.from({ length: record.fieldCount }, (_, i) =>
          trimIdentity(record.field(i) ?? ''),
        );
        index = columnIndex(names, options.column, file);
        pending.push(record.bytes);
        return;
      }
      if (record.blank) return;
      counts.rows++;
      const value = record.unterminated || !record.wellFormed(index) ? undefined : record.field(index);
      const fate = options.fate(value);
      if (fate === 'keep') {
        counts.kept++;
        pending.push(record.bytes);
      } else if (fate === 'remove') counts.removed++;
      else counts.invalid++;
    };
    const flush = async () => {
      const data = Buffer.concat(pending);
      pending = [];
      for (let done = 0; done < data.length; )
        done += (await (output as FileHandle).write(data, done, data.length - done)).bytesWritten;
    };
    let read = 0;
    for (;;) {
      if (signal?.aborted) throw options.cancelled?.(signal) ?? signal.reason;
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await input.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      scanner ??= new CsvScanner(headerDelimiter(chunk));
      scanner.push(chunk, take);
      read += bytesRead;
      await flush();
      options.onProgress?.(read, Math.max(total, read), counts.rows);
    }
    scanner?.end(take);
    if (index < 0)
      throw new RegistreError('E_CSV_COLUMN', `${file} is empty: it has no header row; nothing was written`);
    await flush();
    await output.datasync();
    await output.close();
    output = undefined;
    await publish(temp, out);
    return counts;
  } catch (error) {
    await output?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  } finally {
    await input.close().catch(() => {});
  }
}

/** Gives the whole file its name, unless something took that name meanwhile (a link does not replace). */
async function publish(temp: string, out: string): Promise<void> {
  try {
    await link(temp, out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting(out);
    // A file system without hard links: a rename, which would replace a file, after one more look.
    refuseExisting(out);
    await rename(temp, out);
    return;
  }
  await unlink(temp);
}
