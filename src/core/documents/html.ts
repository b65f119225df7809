/** Small helpers to write standalone, printable HTML documents. */
import type { Language } from '../text.js';
import { DRAFT_BANNER } from './typography.js';

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

const STYLE = `
  :root { color-scheme: light; }
  body { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 15px; line-height: 1.5;
         color: #1d2433; max-width: 72rem; margin: 2rem auto; padding: 0 1.5rem; }
  h1 { font-size: 1.8rem; border-bottom: 3px solid #2c4a7d; padding-bottom: .4rem; }
  h2 { font-size: 1.35rem; color: #2c4a7d; margin-top: 2.2rem; }
  h3 { font-size: 1.1rem; margin-top: 1.6rem; }
  table { border-collapse: collapse; width: 100%; margin: .8rem 0 1.4rem; page-break-inside: auto; }
  th, td { border: 1px solid #b8c2d3; padding: .45rem .6rem; vertical-align: top; text-align: left; }
  th { background: #e8edf5; font-weight: 600; }
  tr.section td { background: #2c4a7d; color: #fff; font-weight: 600; text-transform: uppercase; letter-spacing: .02em; }
  td ul { margin: .2rem 0; padding-left: 1.1rem; }
  dl.card { display: grid; grid-template-columns: 16rem 1fr; gap: .3rem 1rem; margin: .6rem 0 1.2rem; }
  dl.card dt { font-weight: 600; color: #44506a; }
  dl.card dd { margin: 0; }
  .muted { color: #5d6880; font-size: .9em; }
  .sheet { page-break-before: always; }
  .draft { border: 3px solid #a61b1b; color: #a61b1b; background: #fff4f4; font-weight: 700; padding: .6rem .9rem; }
  footer { margin-top: 3rem; font-size: .85em; color: #5d6880; border-top: 1px solid #d4dae5; padding-top: .6rem; }
  @media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } }
`;

export function htmlPage(lang: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export function htmlList(items: readonly string[]): string {
  if (items.length === 0) return '—';
  if (items.length === 1) return escapeHtml(items[0] ?? '');
  return `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
}

/** The DRAFT banner of a document that still holds a placeholder, shown on screen and in print. */
export function draftBannerHtml(lang: Language): string {
  return `<p class="draft" role="note">${escapeHtml(DRAFT_BANNER[lang])}</p>`;
}
