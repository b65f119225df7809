/**
 * The page where a person opens a request and enters the code e-mailed to them: plain HTML forms
 * (no script), French or English (`?lang=`, else the browser's Accept-Language), its own small
 * style sheet (the CSP lets in nothing else). A company links to it from its notice. The person
 * needs no request number: the code page carries the address and the type, and asks for the code
 * or a new one; a refusal is a fixed sentence in the page's language (public-messages.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context as HonoContext } from 'hono';
import type { Engine } from '../app/engine.js';
import { hitRateLimit } from '../app/tokens.js';
import { escapeHtml } from '../core/documents/html.js';
import { RegistreError } from '../core/errors.js';
import { longDate } from '../core/requests/letters.js';
import { CODE_TTL_MINUTES, REQUEST_TYPES, type RequestType } from '../core/requests/requests.js';
import { codePublic, openPublic, verifyPublic } from './public.js';
import { type Lang, langOf, publicMessage } from './public-messages.js';
import type { Env, ServiceSettings } from './shared.js';
import { httpStatusOf } from './status.js';

export { langOf };

const TEXT = {
  fr: {
    title: 'Exercer vos droits sur vos données personnelles',
    intro:
      "Indiquez votre demande et l'adresse électronique que vous utilisez avec nous. Nous vous envoyons un code pour vérifier qu'elle est bien la vôtre.",
    type: 'Votre demande',
    email: 'Votre adresse électronique',
    send: 'Envoyer le code',
    codeTitle: 'Saisissez le code reçu',
    codeIntro: `Nous avons envoyé un code à l’adresse indiquée : saisissez-le ci-dessous. Il est valable ${CODE_TTL_MINUTES} minutes.`,
    resent:
      'Si une demande attend sa vérification pour cette adresse, un nouveau code vient d’y être envoyé.',
    again: 'M’envoyer un nouveau code',
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
    codeIntro: `We sent a code to the address you gave: enter it below. It is valid for ${CODE_TTL_MINUTES} minutes.`,
    resent: 'If a request awaits verification for this address, a new code was just sent to it.',
    again: 'Send me a new code',
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

/** What the code page carries from the open form: the address and the type, never a request number. */
interface Asked {
  readonly email: string;
  readonly type: string;
}

function hidden(asked: Asked): string {
  const type = (REQUEST_TYPES as readonly string[]).includes(asked.type) ? asked.type : '';
  return `<input type="hidden" name="email" value="${escapeHtml(asked.email)}">${
    type ? `\n<input type="hidden" name="type" value="${type}">` : ''
  }`;
}

function codeForm(lang: Lang, asked: Asked, intro: string): string {
  const t = TEXT[lang];
  return `<p role="status">${escapeHtml(intro)}</p>
<form method="post" action="/request/verify?lang=${lang}">
${hidden(asked)}
<label for="code">${t.code}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="16">
<button type="submit">${t.verify}</button>
</form>
<form method="post" action="/request/code?lang=${lang}" class="again">
${hidden(asked)}
<button type="submit">${t.again}</button>
</form>`;
}

function errorBlock(lang: Lang, error: RegistreError): string {
  return `<div role="alert" class="error"><p><strong>${TEXT[lang].error}</strong></p><p>${escapeHtml(
    publicMessage(error, lang),
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
a{color:#0b4f8a}
.again button{background:#fff;color:#0b4f8a;border:1px solid #0b4f8a}`;

const CSP =
  "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function html(c: HonoContext, body: string, status = 200) {
  c.header('Content-Security-Policy', CSP);
  c.header('Cache-Control', 'no-store');
  return c.html(body, status as 200);
}

/** Whether a call is one of the page's forms. */
export const isRequestPage = (c: HonoContext) =>
  c.req.path === '/request' || c.req.path.startsWith('/request/');

/** A refusal before the page's handler ran (a body over the limit): the open form, with the reason. */
export function requestPageFailure(c: HonoContext, error: RegistreError, lang: Lang) {
  return html(c, page(lang, TEXT[lang].title, errorBlock(lang, error) + openForm(lang)), httpStatusOf(error));
}

export function requestPage(app: OpenAPIHono<Env>, engine: Engine, settings: ServiceSettings): void {
  const fields = async (c: HonoContext) => {
    const body = await c.req.parseBody();
    return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >;
  };
  const failed = (c: HonoContext, error: unknown) => {
    if (!(error instanceof RegistreError)) throw error;
    if (error.retryAfter !== undefined) c.header('Retry-After', String(error.retryAfter));
    return error;
  };
  const asked = (form: Record<string, string>): Asked => ({ email: form.email ?? '', type: form.type ?? '' });
  /** The type the code page carries, when it is one (an empty one asks about every type). */
  const typeOf = (form: Record<string, string>) => (form.type ? { type: form.type } : {});

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
      await openPublic(engine, settings, { type: form.type, email: form.email, lang });
      return html(c, page(lang, TEXT[lang].codeTitle, codeForm(lang, asked(form), TEXT[lang].codeIntro)));
    } catch (error) {
      const e = failed(c, error);
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
  /** A step of the code page: the page it answers, or the code page again with the reason. */
  const codeStep = (path: string, answer: (lang: Lang, form: Record<string, string>) => Promise<string>) =>
    app.post(path, async (c) => {
      const lang = langOf(c);
      const form = await fields(c);
      try {
        await hitRateLimit(engine, 'client', c.get('client'), settings.perClient, 60_000);
        return html(c, await answer(lang, form));
      } catch (error) {
        const e = failed(c, error);
        const again = codeForm(lang, asked(form), TEXT[lang].codeIntro);
        return html(c, page(lang, TEXT[lang].codeTitle, errorBlock(lang, e) + again), httpStatusOf(e));
      }
    });
  codeStep('/request/code', async (lang, form) => {
    await codePublic(engine, settings, { email: form.email, ...typeOf(form) });
    return page(lang, TEXT[lang].codeTitle, codeForm(lang, asked(form), TEXT[lang].resent));
  });
  codeStep('/request/verify', async (lang, form) => {
    const verified = await verifyPublic(engine, settings, {
      email: form.email,
      code: (form.code ?? '').trim(),
      ...typeOf(form),
    });
    const done = TEXT[lang].done(verified.id, verified.due);
    return page(lang, TEXT[lang].doneTitle, `<p role="status">${escapeHtml(done)}</p>`);
  });
}
