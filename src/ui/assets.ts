/**
 * The console's static files, served by the service itself (no CDN, no build step): its style
 * sheet and htmx 2.0.11 from the installed package. Each URL carries a digest of the file, so a
 * browser may keep it for a year and still gets a new version at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CONSOLE_CSS } from './style.js';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

const HTMX_SOURCE = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), 'utf8');

export const ASSET_FILES: Readonly<Record<string, { readonly type: string; readonly body: string }>> = {
  [`console-${digest(CONSOLE_CSS)}.css`]: { type: 'text/css; charset=utf-8', body: CONSOLE_CSS },
  [`htmx-2.0.11-${digest(HTMX_SOURCE)}.min.js`]: {
    type: 'text/javascript; charset=utf-8',
    body: HTMX_SOURCE,
  },
};

const names = Object.keys(ASSET_FILES);
export const ASSETS = {
  css: `/console/assets/${names.find((n) => n.endsWith('.css'))}`,
  htmx: `/console/assets/${names.find((n) => n.endsWith('.js'))}`,
} as const;
