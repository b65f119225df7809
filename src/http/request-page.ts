/**
 * The page where a person opens a request and enters the code e-mailed to them: plain HTML forms
 * (no script), French or English (`?lang=`, else the browser's Accept-Language), its own small
 * style sheet (the CSP lets in nothing else). A company links to it from its notice.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context as HonoContext } from 'hono';
import type { Engine } from '../app/engine.js';
import { hitRateLimit } from '../app/tokens.js';
import { escapeHtml } from '../core/documents/html.js';
import { fieldsAs, RegistreError } from '../core/errors.js';
import { longDate } from '../core/requests/letters.js';
import { REQUEST_TYPES, type RequestType } from '../core/requests/requests.js';
import { openPublic, verifyPublic } from './public.js';
import type { Env, ServiceSettings } from './shared.js';
import { httpStatusOf } from './status.js';

type Lang = 'fr' | 'en';

const TEXT = {
  fr: {
    title: 'Exercer vos droits sur vos données personnelles',
    intro:
      "Indiquez votre demande et l'adresse électronique que vous utilisez avec nous. Nous vous envoyons un code pour vérifier qu'elle est bien la vôtre.",
    type: 'Votre demande',
    email: 'Votre adresse électronique',
    send: 'Envoyer le code',
    codeTitle: 'Saisissez le code reçu',
    codeIntro: (n: number) =>
      `Votre demande n° ${n} est enregistrée. Nous avons envoyé un code à votre adresse : saisissez-le ci-dessous. Il est valable une heure.`,
    code: 'Code reçu par courriel',
    verify: 'Vérifier',
    doneTitle: 'Demande vérifiée',
    done: (n: number, due: string) =>
      `Votre demande n° ${n} est vérifiée. Nous y répondrons au plus tard le ${longDate(due, 'fr')}.`,
    error: 'Votre demande n’a pas pu être traitée',
    other: 'English',
    types: {
      access: 'Accéder à mes données (art. 15)',
      erasure: 'Effacer mes données (art. 17)',
      rectification: 'Rectifier mes données (art. 16)',
      restriction: 'Limiter le traitement (art. 18)',
      portability: 'Recevoir mes données dans un format lisible par machine (art. 20)',
      objection: 'M’opposer au traitement (art. 21)',
    } satisfies Record<RequestType, string>,
  },
  en: {
    title: 'Exercise your rights over your personal data',
    intro:
      'Tell us what you ask and the e-mail address you use with us. We send you a code to check that it is yours.',
    type: 'Your request',
    email: 'Your e-mail address',
    send: 'Send the code',
    codeTitle: 'Enter the code you received',
    codeIntro: (n: number) =>
      `Your request no. ${n} is recorded. We sent a code to your address: enter it below. It is valid for one hour.`,
    code: 'Code received by e-mail',
    verify: 'Verify',
    doneTitle: 'Request verified',
    done: (n: number, due: string) =>
      `Your request no. ${n} is verified. We will answer it by ${longDate(due, 'en')} at the latest.`,
    error: 'Your request could not be handled',
    other: 'Français',
    types: {
      access: 'Access my data (art. 15)',
      erasure: 'Erase my data (art. 17)',
      rectification: 'Rectify my data (art. 16)',
      restriction: 'Restrict the processing (art. 18)',
      portability: 'Receive my data in a machine-readable format (art. 20)',
      objection: 'Object to the processing (art. 21)',
    } satisfies Record<RequestType, string>,
  },
} as const;

/** The page's language: `?lang=`, else the first of Accept-Language that is French or English; French by default. */
export function langOf(c: HonoContext): Lang {
  const asked = c.req.query('lang');
  if (asked === 'fr' || asked === 'en') return asked;
  for (const part of (c.req.header('accept-language') ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (tag === 'fr' || tag === 'en') return tag;
  }
  return 'fr';
}

function page(lang: Lang, title: string, body: string): string {
  const t = TEXT[lang];
  const other: Lang = lang === 'fr' ? 'en' : 'fr';
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/request.css">
</head>
<body>
<main>
<p class="lang"><a href="/request?lang=${other}" hreflang="${other}" lang="${other}">${t.other}</a></p>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function openForm(lang: Lang, values: { type?: string; email?: string } = {}): string {
  const t = TEXT[lang];
  const options = REQUEST_TYPES.map(
    (type) =>
      `<option value="${type}"${values.type === type ? ' selected' : ''}>${escapeHtml(t.types[type])}</option>`,
  ).join('\n');
  return `<p>${escapeHtml(t.intro)}</p>
<form method="post" action="/request?lang=${lang}">
<label for="type">${t.type}</label>
<select id="type" name="type" required>
${options}
</select>
<label for="email">${t.email}</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(values.email ?? '')}">
<button type="submit">${t.send}</button>
</form>`;
}

function codeForm(lang: Lang, id: number, email: string): string {
  const t = TEXT[lang];
  return `<p>${escapeHtml(t.codeIntro(id))}</p>
<form method="post" action="/request/verify?lang=${lang}">
<input type="hidden" name="id" value="${id}">
<input type="hidden" name="email" value="${escapeHtml(email)}">
<label for="code">${t.code}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="16">
<button type="submit">${t.verify}</button>
</form>`;
}

function errorBlock(lang: Lang, error: RegistreError): string {
  return `<div role="alert" class="error"><p><strong>${TEXT[lang].error}</strong></p><p>${escapeHtml(
    fieldsAs(error.message, (name) => name),
  )}</p></div>`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#fff;color:#1a1a1a;line-height:1.5}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin-top:1rem;font-weight:600}
input,select{display:block;width:100%;padding:.5rem;font-size:1rem;border:1px solid #555;border-radius:4px;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#0b4f8a;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus,input:focus,select:focus,a:focus{outline:3px solid #e8a200;outline-offset:2px}
.error{border-left:4px solid #b00020;padding:.25rem 1rem;background:#fdecee}
.lang{text-align:right}
a{color:#0b4f8a}`;

export function requestPage(app: OpenAPIHono<Env>, engine: Engine, settings: ServiceSettings): void {
  const html = (c: HonoContext, body: string, status = 200) => {
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    c.header('Cache-Control', 'no-store');
    return c.html(body, status as 200);
  };
  const fields = async (c: HonoContext) => {
    const body = await c.req.parseBody();
    return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >;
  };
  const failed = (error: unknown) => {
    if (!(error instanceof RegistreError)) throw error;
    return error;
  };

  app.get('/request.css', (c) =>
    c.body(CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=3600' }),
  );
  app.get('/request', (c) => {
    const lang = langOf(c);
    return html(c, page(lang, TEXT[lang].title, openForm(lang)));
  });
  app.post('/request', async (c) => {
    const lang = langOf(c);
    const form = await fields(c);
    try {
      await hitRateLimit(engine, 'client', c.get('client'), settings.perClient, 60_000);
      const opened = await openPublic(engine, settings, { type: form.type, email: form.email, lang });
      return html(c, page(lang, TEXT[lang].codeTitle, codeForm(lang, opened.id, form.email ?? '')));
    } catch (error) {
      const e = failed(error);
      return html(
        c,
        page(
          lang,
          TEXT[lang].title,
          errorBlock(lang, e) + openForm(lang, { type: form.type ?? '', email: form.email ?? '' }),
        ),
        httpStatusOf(e),
      );
    }
  });
  app.post('/request/verify', async (c) => {
    const lang = langOf(c);
    const form = await fields(c);
    const id = /^\d{1,15}$/.test(form.id ?? '') ? Number(form.id) : 0;
    try {
      await hitRateLimit(engine, 'client', c.get('client'), settings.perClient, 60_000);
      const verified = await verifyPublic(engine, settings, {
        id,
        email: form.email,
        code: (form.code ?? '').trim(),
      });
      return html(
        c,
        page(
          lang,
          TEXT[lang].doneTitle,
          `<p role="status">${escapeHtml(TEXT[lang].done(verified.id, verified.due))}</p>`,
        ),
      );
    } catch (error) {
      const e = failed(error);
      return html(
        c,
        page(lang, TEXT[lang].codeTitle, errorBlock(lang, e) + codeForm(lang, id, form.email ?? '')),
        httpStatusOf(e),
      );
    }
  });
}
