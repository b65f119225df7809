/**
 * CSV as spreadsheets open it. French Excel (the DPO's) reads a file as UTF-8 only with a byte
 * order mark, and splits columns on ";": without them accents turn to mojibake and every row
 * lands in one column.
 */

/** A cell: quoted when needed; one a spreadsheet would run as a formula is written as text. */
export function csvCell(value: unknown): string {
  let text =
    value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r;]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A UTF-8 byte order mark, ";" between cells, CRLF between rows. */
export function spreadsheetCsv(rows: readonly (readonly unknown[])[]): string {
  return `\uFEFF${rows.map((r) => r.map(csvCell).join(';')).join('\r\n')}\r\n`;
}

/** Rows of named values (a table's rows), in that format: a header of every column a row has. */
export function recordsCsv(records: readonly Readonly<Record<string, unknown>>[]): string {
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return spreadsheetCsv([columns, ...records.map((r) => columns.map((c) => r[c]))]);
}
