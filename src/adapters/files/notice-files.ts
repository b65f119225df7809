/**
 * Reads a published privacy table into rows for `importNotice`: tab-separated text, an HTML page
 * (its tables, headings and paragraphs, in page order) or an XLSX workbook (its first sheet).
 */
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { type HTMLElement, parse } from 'node-html-parser';
import { RegistreError } from '../../core/errors.js';
import { type NoticeTableRow, rowsOfText } from '../../core/register/import-notice.js';

export type NoticeFormat = 'text' | 'html' | 'xlsx';

const ZIP = Buffer.from('PK\u0003\u0004', 'latin1');

/** The format, from the content (an XLSX is a zip; HTML starts with a tag), not the name alone. */
export function noticeFormatOf(bytes: Buffer): NoticeFormat {
  if (bytes.subarray(0, 4).equals(ZIP)) return 'xlsx';
  const head = bytes
    .subarray(0, 2048)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^<(!doctype html|html|head|body|table|meta|div|section|main|h[1-6]|p)\b/.test(head)) return 'html';
  return 'text';
}

/** A cell's text with its list items as " - item" (how the text form marks purposes) and lines as spaces. */
function cellText(cell: HTMLElement): string {
  const html = cell.innerHTML
    .replace(/<li\b[^>]*>/gi, ' - ')
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<\/(p|div|li)>/gi, ' ');
  return parse(html).text.replace(/\s+/g, ' ').trim();
}

export function rowsOfHtml(html: string): NoticeTableRow[] {
  const root = parse(html);
  const rows: NoticeTableRow[] = [];
  for (const el of root.querySelectorAll('h2, h3, h4, p, tr')) {
    const tag = el.tagName.toLowerCase();
    if (tag !== 'tr') {
      // A paragraph inside a cell belongs to the cell.
      if (el.closest('td, th')) continue;
      const text = cellText(el);
      if (text) rows.push({ cells: [text], kind: tag === 'p' ? 'text' : 'title' });
      continue;
    }
    const cells = el.querySelectorAll('td, th').filter((c) => c.closest('tr') === el);
    const texts = cells.map(cellText);
    const spans = Number(cells[0]?.getAttribute('colspan') ?? 1);
    if (texts.length === 1 && spans > 1) rows.push({ cells: texts, kind: 'title' });
    else rows.push({ cells: texts });
  }
  return rows;
}

export async function rowsOfXlsx(bytes: Buffer): Promise<NoticeTableRow[]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  if (!sheet) return [];
  const rows: NoticeTableRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) {
      const cell = row.getCell(c);
      // A merged range keeps its text in its first cell only: a title spans the table.
      cells.push(cell.isMerged && cell.master !== cell ? '' : cell.text.replace(/\s+/g, ' ').trim());
    }
    const merged = row.cellCount > 1 && row.getCell(2).isMerged && row.getCell(2).master === row.getCell(1);
    rows.push(merged ? { cells: [cells[0] ?? ''], kind: 'title' } : { cells });
  });
  return rows;
}

export async function readNoticeTable(
  file: string,
): Promise<{ rows: NoticeTableRow[]; format: NoticeFormat }> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new RegistreError(
      'E_NOTICE_UNREADABLE',
      `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause,
      },
    );
  }
  const format = noticeFormatOf(bytes);
  try {
    if (format === 'xlsx') return { rows: await rowsOfXlsx(bytes), format };
  } catch (cause) {
    throw new RegistreError(
      'E_NOTICE_FORMAT',
      `${file} looks like an XLSX workbook but cannot be read: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  return format === 'html' ? { rows: rowsOfHtml(text), format } : { rows: rowsOfText(text), format };
}
