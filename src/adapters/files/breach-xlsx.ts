/** The register of breaches as an XLSX workbook, one row per breach in the CNIL model's columns (exceljs). */
import ExcelJS from 'exceljs';
import type { BreachRegisterTable } from '../../core/breaches/breach-documents.js';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF2C4A7D' } };
const LABEL_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EDF5' } };
const WIDTH = 28;

export async function renderBreachRegisterXlsx(table: BreachRegisterTable): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'registre';
  workbook.created = new Date(0);
  const ws = workbook.addWorksheet(table.lang === 'fr' ? 'Violations' : 'Breaches');
  ws.columns = table.columns.map((_, i) => ({ width: i === 0 ? 8 : WIDTH }));
  ws.pageSetup = { orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0, paperSize: 9 };
  const title = ws.addRow([table.title]);
  title.font = { bold: true, size: 14, color: { argb: 'FFFFFFFF' } };
  title.getCell(1).fill = HEADER_FILL;
  ws.mergeCells(title.number, 1, title.number, table.columns.length);
  for (const [k, v] of table.heading) {
    const row = ws.addRow([k, v]);
    row.getCell(1).font = { bold: true };
    ws.mergeCells(row.number, 2, row.number, Math.min(6, table.columns.length));
  }
  ws.addRow([]);
  const head = ws.addRow([...table.columns]);
  head.font = { bold: true };
  head.alignment = { wrapText: true, vertical: 'top' };
  head.eachCell((c) => {
    c.fill = LABEL_FILL;
    c.border = { bottom: { style: 'thin' } };
  });
  ws.views = [{ state: 'frozen', ySplit: head.number }];
  for (const r of table.rows) {
    const row = ws.addRow([...r]);
    row.alignment = { wrapText: true, vertical: 'top' };
    // LibreOffice does not grow wrapped rows by itself.
    row.height = 15 * Math.max(1, ...r.map((v) => Math.ceil(v.length / (WIDTH * 1.1))));
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
