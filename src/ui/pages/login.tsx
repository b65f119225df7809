/** The sign-in page: an API token, once; the browser then holds a session cookie, never the token. */
import type { RegistreError } from '../../core/errors.js';
import type { Lang } from '../i18n.js';
import { failure, render, type UiContext } from '../render.js';

const TEXT = {
  fr: {
    title: 'Connexion à la console',
    intro:
      'Saisissez un jeton d’API de registre. Chaque action de la console est inscrite au journal d’audit sous le nom de ce jeton.',
    token: 'Jeton d’API',
    hint: 'Un administrateur en crée un avec : registre token create dpo --scope operate',
    submit: 'Se connecter',
    refused: 'Connexion refusée',
  },
  en: {
    title: 'Sign in to the console',
    intro:
      "Enter a registre API token. Every action taken in the console is written to the audit log under this token's name.",
    token: 'API token',
    hint: 'An administrator creates one with: registre token create dpo --scope operate',
    submit: 'Sign in',
    refused: 'Sign-in refused',
  },
} as const satisfies Record<Lang, Record<string, string>>;

export function loginPage(
  c: UiContext,
  state: { error?: RegistreError; next?: string | undefined },
  status: 200 | 400 | 401 | 403 | 404 | 409 | 429 | 500 = 200,
): Response {
  const lang = c.get('uiLang');
  const t = TEXT[lang];
  const next = state.next ?? c.req.query('next') ?? '/console';
  const notice = state.error ? { ...failure(c, state.error), title: t.refused } : undefined;
  return render(
    c,
    {
      title: t.title,
      notice,
      children: (
        <>
          <p>{t.intro}</p>
          <form class="stack" method="post" action="/console/login">
            <input type="hidden" name="next" value={next} />
            <label for="token">{t.token}</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="off"
              required
              maxlength={128}
              aria-describedby="token-hint"
              {...(state.error ? { 'aria-invalid': 'true' } : {})}
            />
            <p class="hint" id="token-hint">
              {t.hint}
            </p>
            <button type="submit">{t.submit}</button>
          </form>
        </>
      ),
    },
    status as 200,
  );
}
