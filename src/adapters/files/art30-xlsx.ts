/** The art. 30 record as an XLSX workbook in the CNIL template's shape (exceljs). */
import ExcelJS from 'exceljs';
import { type Art30Record, type Art30Sheet, art30Labels, type Pair } from '../../core/documents/art30.js';
import { DRAFT_BANNER } from '../../core/documents/typography.js';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF2C4A7D' } };
const DRAFT_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' } };
const LABEL_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EDF5' } };

/** Excel's limit on a sheet's name. */
const SHEET_NAME_MAX = 31;

/** Words a cut name must not end on ("Inscription à la…"). */
const DANGLING =
  /\s+(?:à|au|aux|de|des|du|d’|en|et|l’|la|le|les|ou|par|pour|sur|a|an|and|by|for|in|of|on|or|the|to)$/iu;

/** A name cut to `max` characters on a word boundary, with "…" where it was cut. */
function fitName(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - 1;
  const space = text.slice(0, room + 1).lastIndexOf(' ');
  let head = space > 0 ? text.slice(0, space) : text.slice(0, room);
  while (DANGLING.test(head)) head = head.replace(DANGLING, '');
  return `${head.replace(/[\s,;:.—–-]+$/u, '')}…`;
}

/**
 * A sheet's name: Excel allows 31 characters, none of \ / ? * [ ] :, and no two alike (whatever
 * the case). Cut on a word, never mid-word; "(2)" after a name already taken. The full title is
 * the sheet's first row.
 */
export function sheetName(ref: string, name: string, used: Set<string>): string {
  const base = `${ref} ${name}`
    .replace(/[\\/?*[\]:]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^'+|'+$/g, '')
    .trim();
  let candidate = fitName(base, SHEET_NAME_MAX);
  for (let i = 2; used.has(candidate.toLowerCase()); i++) {
    const suffix = ` (${i})`;
    candidate = `${fitName(base, SHEET_NAME_MAX - suffix.length)}${suffix}`;
  }
  used.add(candidate.toLowerCase());
  return candidate;
}

const WIDTHS = [34, 48, 60, 30];

/** LibreOffice does not grow wrapped rows by itself: give each row the height its text needs. */
function fitHeight(row: ExcelJS.Row, values: readonly string[]): void {
  const lines = values.map((v, i) =>
    String(v)
      .split('\n')
      .reduce((n, part) => n + Math.max(1, Math.ceil(part.length / ((WIDTHS[i] ?? 30) * 1.1))), 0),
  );
  row.height = 15 * Math.max(1, ...lines);
}

class SheetWriter {
  constructor(private readonly ws: ExcelJS.Worksheet) {
    ws.columns = WIDTHS.map((width) => ({ width }));
    ws.pageSetup = { orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0, paperSize: 9 };
  }
  /** A draft says so on the first row of every sheet, above the title. */
  banner(text: string): void {
    const row = this.ws.addRow([text]);
    row.font = { bold: true, color: { argb: 'FF9C0006' } };
    row.getCell(1).fill = DRAFT_FILL;
    row.alignment = { wrapText: true, vertical: 'top' };
    this.ws.mergeCells(row.number, 1, row.number, 4);
    row.height = 30;
  }
  title(text: string): void {
    const row = this.ws.addRow([text]);
    row.font = { bold: true, size: 14, color: { argb: 'FFFFFFFF' } };
    row.getCell(1).fill = HEADER_FILL;
    this.ws.mergeCells(row.number, 1, row.number, 4);
    this.ws.addRow([]);
  }
  heading(text: string): void {
    this.ws.addRow([]);
    const row = this.ws.addRow([text]);
    row.font = { bold: true, size: 12, color: { argb: 'FF2C4A7D' } };
  }
  pairs(pairs: readonly Pair[]): void {
    for (const [k, v] of pairs) {
      const row = this.ws.addRow([k, v]);
      fitHeight(row, [k, v]);
      row.getCell(1).font = { bold: true };
      row.getCell(1).fill = LABEL_FILL;
      row.alignment = { wrapText: true, vertical: 'top' };
    }
  }
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void {
    const head = this.ws.addRow([...headers]);
    head.font = { bold: true };
    head.eachCell((c) => {
      c.fill = LABEL_FILL;
      c.border = { bottom: { style: 'thin' } };
    });
    for (const r of rows) {
      const row = this.ws.addRow([...r]);
      row.alignment = { wrapText: true, vertical: 'top' };
      fitHeight(row, r);
    }
  }
}

function writeActivity(w: SheetWriter, sheet: Art30Sheet, record: Art30Record, actingFor: string): void {
  const t = art30Labels(record.lang);
  if (record.draft) w.banner(DRAFT_BANNER[record.lang]);
  w.title(`${sheet.ref} — ${sheet.name}${actingFor ? ` — ${actingFor}` : ''}`);
  w.heading(t.description);
  w.pairs(sheet.description);
  w.heading(t.actors);
  w.pairs(sheet.actors);
  w.heading(t.purposes);
  w.table(
    [t.purposes, t.basis],
    sheet.purposes.map((p) => [p.purpose, p.basis]),
  );
  w.heading(t.categories);
  w.table(
    [t.category, t.categoryDescription, t.retention],
    sheet.categories.map((c) => [c.category, c.description, c.retention]),
  );
  w.heading(t.sensitive);
  w.pairs([[t.sensitive, sheet.sensitive]]);
  w.heading(t.subjects);
  w.table(
    [t.subjects],
    sheet.subjects.map((s) => [s]),
  );
  w.heading(t.recipients);
  w.pairs(sheet.recipients);
  w.heading(t.transfers);
  if (sheet.transfers.length)
    w.table(
      [t.recipient, t.country, t.safeguard, t.documentation],
      sheet.transfers.map((x) => [x.recipient, x.country, x.safeguard, x.documentation]),
    );
  else w.pairs([[t.transfers, t.noTransfer]]);
  w.heading(t.security);
  w.table(
    [t.security, t.description],
    sheet.security.map(([k, v]) => [k, v]),
  );
}

export async function renderArt30Xlsx(records: readonly Art30Record[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'registre';
  workbook.created = new Date(0);
  const used = new Set<string>();
  for (const record of records) {
    const t = art30Labels(record.lang);
    const common = new SheetWriter(
      workbook.addWorksheet(sheetName(record.kind === 'controller' ? 'RT' : 'ST', t.common, used)),
    );
    if (record.draft) common.banner(DRAFT_BANNER[record.lang]);
    common.title(record.title);
    common.pairs(record.common);
    common.heading(t.activities);
    common.table(
      [t.ref, t.name, t.created, t.updated],
      record.activities.map((a) => [a.ref, a.name, a.created, a.updated]),
    );
    for (const section of record.sections) {
      if (section.title) {
        common.heading(`${t.actingFor}${t.colon}${section.title}`);
        common.pairs(section.details);
      }
      for (const sheet of section.sheets) {
        writeActivity(
          new SheetWriter(workbook.addWorksheet(sheetName(sheet.ref, sheet.name, used))),
          sheet,
          record,
          section.title,
        );
      }
    }
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
