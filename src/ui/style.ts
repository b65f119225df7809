/**
 * The console's one style sheet, served from /console/assets (the CSP lets in no inline style).
 * Plain and legible: system fonts, colours of at least 4.5:1 against their background, a focus
 * ring on everything that takes the keyboard, and a print layout for the inspection report.
 */
export const CONSOLE_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5360; --line: #c9ced6; --bg: #ffffff;
  --panel: #f4f6f8; --accent: #0b5cad; --bad: #a4141b; --bad-bg: #fde8e8; --good: #1d6b2f;
  --good-bg: #e4f4e7; --warn: #7a4b00; --warn-bg: #fff3d6; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg); line-height: 1.45; }
body { margin: 0; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid #e8a000; outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: var(--bg); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center;
  justify-content: space-between; padding: .6rem 1.2rem; background: #102a43; color: #fff; }
header.top a, header.top button.link { color: #fff; }
header.top .brand { font-weight: 700; text-decoration: none; }
header.top .who { display: flex; gap: 1rem; align-items: center; font-size: .9rem; }
nav.menu { background: var(--panel); border-bottom: 1px solid var(--line); }
nav.menu ul { display: flex; flex-wrap: wrap; gap: .2rem; list-style: none; margin: 0; padding: 0 .8rem; }
nav.menu a { display: block; padding: .6rem .8rem; text-decoration: none; color: var(--ink); }
nav.menu a[aria-current="page"] { border-bottom: 3px solid var(--accent); font-weight: 600; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
h1 { font-size: 1.6rem; margin: .8rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .95rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12.5rem, 1fr)); gap: .8rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; background: var(--bg); }
.card h2 { margin: 0 0 .4rem; font-size: 1rem; }
.card .big { font-size: 2rem; font-weight: 700; margin: 0; }
.bad { color: var(--bad); }
.card.bad { border-color: var(--bad); background: var(--bad-bg); }
.card.good { border-color: var(--good); background: var(--good-bg); }
.good { color: var(--good); }
.notice { padding: .6rem 1rem; border-radius: 6px; margin: .6rem 0 1rem; border: 1px solid; }
.notice.error { color: var(--bad); background: var(--bad-bg); border-color: var(--bad); }
.notice.done { color: var(--good); background: var(--good-bg); border-color: var(--good); }
.notice.warn { color: var(--warn); background: var(--warn-bg); border-color: var(--warn); }
.notice p { margin: .2rem 0; }
form.inline { display: inline; }
form.stack { display: grid; gap: .4rem; max-width: 34rem; margin: .6rem 0 1rem; }
form.stack > input, form.stack > select, form.stack > textarea { min-width: 0; max-width: 100%; }
code.hash { overflow-wrap: anywhere; }
form.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .6rem 0 1rem; }
label { font-weight: 600; }
.hint { color: var(--muted); font-size: .9rem; margin: 0; }
input, select, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid #6b7480; border-radius: 4px;
  background: #fff; color: var(--ink); }
textarea { min-height: 4rem; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.link { background: none; border: none; padding: 0; text-decoration: underline; color: var(--accent); }
.actions { display: flex; flex-wrap: wrap; gap: .8rem; align-items: start; }
.actions > section { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; flex: 1 1 16rem; }
.actions h3 { margin-top: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .4rem 0 1rem; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
.chart { margin: 0; }
.chart svg { max-width: 100%; height: auto; }
.chart .bar { fill: var(--accent); }
.chart .axis { stroke: #6b7480; }
.chart text { fill: var(--ink); font-size: 12px; }
.muted { color: var(--muted); }
ul.plain { list-style: none; margin: 0; padding: 0; }
.field { display: grid; gap: .2rem; }
fieldset { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .8rem; }
label.choice { font-weight: 400; display: block; }
code.hash { word-break: break-all; font-size: .8rem; }
.htmx-indicator { opacity: 0; }
.htmx-request .htmx-indicator, .htmx-request.htmx-indicator { opacity: 1; }
pre.letter { white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; border: 1px solid var(--line);
  background: var(--panel); padding: .8rem 1rem; max-width: 48rem; }
.field-error { margin: 0; font-size: .9rem; }
.fields { display: grid; gap: .4rem; margin-top: .4rem; }
.doc-frame { border: 1px solid var(--line); padding: 1rem; background: #fff; max-height: 40rem; overflow: auto; }
@media print {
  header.top, nav.menu, .skip, .no-print { display: none !important; }
  main { max-width: none; padding: 0; }
  a { color: var(--ink); text-decoration: none; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
}
`;
