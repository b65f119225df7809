/** The art. 30 record as an XLSX workbook in the CNIL template's shape (exceljs). */
import ExcelJS from 'exceljs';
import { type Art30Record, type Art30Sheet, art30Labels, type Pair } from '../../core/documents/art30.js';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF2C4A7D' } };
const LABEL_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EDF5' } };

function sheetName(ref: string, name: string, used: Set<string>): string {
  const base = `${ref} ${name}`
    .replace(/[\\/?*[\]:]/g, ' ')
    .slice(0, 31)
    .trim();
  let candidate = base;
  for (let i = 2; used.has(candidate.toLowerCase()); i++) candidate = `${base.slice(0, 28)} ${i}`;
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

function writeActivity(w: SheetWriter, sheet: Art30Sheet, record: Art30Record): void {
  const t = art30Labels(record.lang);
  w.title(`${sheet.ref} — ${sheet.name}`);
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
        );
      }
    }
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
