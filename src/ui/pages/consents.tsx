/**
 * Consents and suppression: a person's consent history and its proof (every event with the
 * notice it was given under, and each purpose's state today), by e-mail address or a visitor's
 * id, sent in a POST; an address checked against the suppression list (through htmx, or a plain
 * form), and put on it. Addresses never go in a URL.
 */
import type { ConsentProof } from '../../app/consent.js';
import type { Engine } from '../../app/engine.js';
import { SUPPRESSION_REASONS, type SuppressionChecked } from '../../app/suppression.js';
import {
  CONSENT_SOURCE_WORDS,
  CONSENT_STATE_WORDS,
  consentProofHtml,
} from '../../core/consent/consent-proof-html.js';
import { RegistreError } from '../../core/errors.js';
import { localise } from '../../core/text.js';
import { sendFile } from '../../http/shared.js';
import { AddressField, refusal } from '../fields.js';
import { day, type Lang, moment, number, type Text } from '../i18n.js';
import { Csrf, type Notice, NoticeBox } from '../layout.js';
import {
  backTo,
  type ConsolePages,
  doneNotice,
  formOf,
  langOf,
  render,
  type UiContext,
  use,
} from '../render.js';
import { Table } from '../table.js';

const REASON_TEXT: Readonly<Record<string, Text>> = {
  unsubscribe: { fr: 'désinscription', en: 'unsubscribed' },
  objection: { fr: 'opposition', en: 'objection' },
  erasure: { fr: 'effacement', en: 'erasure' },
};

const TEXT = {
  fr: {
    title: 'Consentements et liste d’opposition',
    history: 'Historique des consentements d’une personne',
    historyIntro:
      'Chaque choix enregistré (donné, refusé, retiré), avec le texte présenté et sa preuve, et l’état de chaque finalité aujourd’hui.',
    subjectKind: 'Personne désignée par',
    byEmail: 'son adresse e-mail',
    byVisitor: 'l’identifiant de visiteur posé par le site',
    subject: 'Adresse e-mail ou identifiant de visiteur',
    subjectHint:
      'Envoyé dans le corps du formulaire : ni dans l’adresse de la page, ni dans les journaux du service.',
    show: 'Afficher l’historique',
    subjectIs: (kind: string, id: string) =>
      kind === 'email' ? `Enregistrée sous l’empreinte à clé (HMAC) ${id}.` : `Visiteur ${id}.`,
    drawn: (at: string) => `Preuve établie le ${at}.`,
    statesToday: (on: string) => `État de chaque finalité au ${on}`,
    purpose: 'Finalité',
    state: 'État',
    since: 'Depuis le',
    expires: 'Expire le',
    never: 'sans expiration',
    events: 'Événements enregistrés',
    noEvent: 'Aucun choix n’est enregistré pour cette personne.',
    eventNo: 'N°',
    decision: 'Choix',
    when: 'Quand',
    source: 'Source',
    proof: 'Texte présenté (version, SHA-256)',
    consentId: 'Identifiant du consentement',
    language: 'Langue',
    recorded: 'Enregistré le, par',
    suppression: 'Liste d’opposition',
    suppressionIntro:
      'Les adresses qui ne doivent plus recevoir de message : la liste ne garde que leur empreinte, jamais l’adresse.',
    check: 'Vérifier une adresse',
    address: 'Adresse e-mail',
    checkButton: 'Vérifier',
    listed: (on: string, reason: string) =>
      `Cette adresse est sur la liste d’opposition depuis le ${on} (${reason}).`,
    listedNoDate: (reason: string) => `Cette adresse est sur la liste d’opposition (${reason}).`,
    previousKey:
      'Elle y est sous une clé antérieure à la dernière rotation ; l’ajouter à nouveau la met à jour.',
    notListed: 'Cette adresse n’est pas sur la liste d’opposition.',
    add: 'Ajouter une adresse à la liste',
    reason: 'Motif',
    addButton: 'Ajouter à la liste',
    readOnly: 'Le jeton de la session ne peut que lire : ajouter une adresse demande les droits « operate ».',
    done: {
      suppressed: 'L’adresse est ajoutée à la liste d’opposition.',
      suppressedAgain: 'L’adresse était déjà sur la liste d’opposition : son inscription est renouvelée.',
    } as Record<string, string>,
    unknown: 'inconnu',
    download: 'Télécharger la preuve (HTML, à remettre à une autorité)',
  },
  en: {
    title: 'Consents and suppression',
    history: "A person's consent history",
    historyIntro:
      "Every choice recorded (given, refused, withdrawn), with the text shown and its proof, and each purpose's state today.",
    subjectKind: 'Person named by',
    byEmail: 'their e-mail address',
    byVisitor: 'the visitor id the site set',
    subject: 'E-mail address or visitor id',
    subjectHint: "Sent in the form's body: neither in the page's address nor in the service's logs.",
    show: 'Show the history',
    subjectIs: (kind: string, id: string) =>
      kind === 'email' ? `Recorded under the keyed hash (HMAC) ${id}.` : `Visitor ${id}.`,
    drawn: (at: string) => `Proof drawn on ${at}.`,
    statesToday: (on: string) => `Each purpose's state on ${on}`,
    purpose: 'Purpose',
    state: 'State',
    since: 'Since',
    expires: 'Expires on',
    never: 'does not expire',
    events: 'Events recorded',
    noEvent: 'No choice is recorded for this person.',
    eventNo: 'No.',
    decision: 'Decision',
    when: 'When',
    source: 'Source',
    proof: 'Text shown (version, SHA-256)',
    consentId: 'Consent id',
    language: 'Language',
    recorded: 'Recorded on, by',
    suppression: 'Suppression list',
    suppressionIntro:
      'The addresses that must receive no more messages: the list keeps only their keyed hash, never the address.',
    check: 'Check an address',
    address: 'E-mail address',
    checkButton: 'Check',
    listed: (on: string, reason: string) =>
      `This address is on the suppression list since ${on} (${reason}).`,
    listedNoDate: (reason: string) => `This address is on the suppression list (${reason}).`,
    previousKey: 'It is listed under a key of before the last rotation; adding it again updates it.',
    notListed: 'This address is not on the suppression list.',
    add: 'Add an address to the list',
    reason: 'Reason',
    addButton: 'Add to the list',
    readOnly: "This session's token may only read: adding an address needs the operate scope.",
    done: {
      suppressed: 'The address is added to the suppression list.',
      suppressedAgain: 'The address was already on the suppression list: its entry is renewed.',
    } as Record<string, string>,
    unknown: 'unknown',
    download: 'Download the proof (HTML, to hand to an authority)',
  },
} as const;

/** The register's purposes by id, named in the page's language (the id when the register cannot be read). */
export async function purposeNames(c: UiContext, engine: Engine): Promise<(id: string) => string> {
  const lang = langOf(c);
  const { register } = await use(c, engine, 'showRegister', {});
  const names = new Map<string, string>();
  for (const a of register?.activities ?? [])
    for (const p of a.purposes) names.set(p.id, localise(p.name, lang));
  return (id) => names.get(id) ?? id;
}

function CheckResult({ result, lang }: { result: SuppressionChecked; lang: Lang }) {
  const t = TEXT[lang];
  const reason = result.reason ? (REASON_TEXT[result.reason]?.[lang] ?? result.reason) : t.unknown;
  if (!result.listed) return <NoticeBox notice={{ kind: 'done', title: t.notListed }} />;
  const notice: Notice = {
    kind: 'warn',
    title: result.addedAt ? t.listed(day(result.addedAt, lang), reason) : t.listedNoDate(reason),
    ...(result.underPreviousKey ? { detail: t.previousKey } : {}),
  };
  return <NoticeBox notice={notice} />;
}

function Proof(props: {
  proof: ConsentProof;
  lang: Lang;
  name: (id: string) => string;
  subject: { kind: string; value: string };
  csrf: string;
}) {
  const { proof, lang, name } = props;
  const t = TEXT[lang];
  return (
    <>
      <p id="consent-subject">
        {t.subjectIs(proof.subject.kind, proof.subject.id)} {t.drawn(moment(proof.drawnAt, lang))}
      </p>
      <form method="post" action="/console/consents/proof">
        <Csrf csrf={props.csrf} />
        <input type="hidden" name="kind" value={props.subject.kind} />
        <input type="hidden" name="subject" value={props.subject.value} />
        <button type="submit" class="secondary">
          {t.download}
        </button>
      </form>
      <h3>{t.statesToday(day(proof.on, lang))}</h3>
      <Table
        id="consent-states"
        columns={[{ label: t.purpose }, { label: t.state }, { label: t.since }, { label: t.expires }]}
        rows={proof.status.map((s) => [
          name(s.purpose),
          <span data-state={s.state}>{CONSENT_STATE_WORDS[s.state][lang]}</span>,
          s.since ? day(s.since, lang) : '—',
          s.expires ? day(s.expires, lang) : s.state === 'given' ? t.never : '—',
        ])}
      />
      <h3>{t.events}</h3>
      {proof.events.length === 0 ? (
        <p id="consent-none">{t.noEvent}</p>
      ) : (
        <Table
          id="consent-events"
          columns={[
            { label: t.eventNo, numeric: true },
            { label: t.purpose },
            { label: t.decision },
            { label: t.when },
            { label: t.source },
            { label: t.proof },
            { label: t.consentId },
            { label: t.language },
            { label: t.recorded },
          ]}
          rows={proof.events.map((e) => [
            number(e.event, lang),
            name(e.purpose),
            <span data-choice={e.choice}>{CONSENT_STATE_WORDS[e.choice][lang]}</span>,
            moment(e.at, lang),
            CONSENT_SOURCE_WORDS[e.source][lang],
            <>
              {e.notice.version}
              <br />
              <code class="hash">{e.notice.sha256}</code>
            </>,
            <code>{e.consentId}</code>,
            e.language ?? '—',
            `${moment(e.recordedAt, lang)}, ${e.actor}`,
          ])}
        />
      )}
    </>
  );
}

interface ConsentsView {
  readonly subject?: { readonly kind: string; readonly value: string };
  readonly proof?: ConsentProof;
  readonly names?: (id: string) => string;
  readonly checked?: SuppressionChecked;
  readonly checkEmail?: string;
  readonly add?: { readonly email: string; readonly reason: string };
}

function ConsentsPage({
  v,
  lang,
  csrf,
  canWrite,
}: {
  v: ConsentsView;
  lang: Lang;
  csrf: string;
  canWrite: boolean;
}) {
  const t = TEXT[lang];
  const kind = v.subject?.kind === 'visitor' ? 'visitor' : 'email';
  return (
    <>
      <h2>{t.history}</h2>
      <p>{t.historyIntro}</p>
      <form class="stack" method="post" action="/console/consents">
        <Csrf csrf={csrf} />
        <fieldset>
          <legend>{t.subjectKind}</legend>
          <label class="choice">
            <input type="radio" name="kind" value="email" {...(kind === 'email' ? { checked: true } : {})} />{' '}
            {t.byEmail}
          </label>
          <label class="choice">
            <input
              type="radio"
              name="kind"
              value="visitor"
              {...(kind === 'visitor' ? { checked: true } : {})}
            />{' '}
            {t.byVisitor}
          </label>
        </fieldset>
        <label for="consent-subject-input">{t.subject}</label>
        <input
          id="consent-subject-input"
          name="subject"
          type="text"
          required
          autocomplete="off"
          value={v.subject?.value ?? ''}
          aria-describedby="consent-subject-hint"
        />
        <p class="hint" id="consent-subject-hint">
          {t.subjectHint}
        </p>
        <div>
          <button type="submit">{t.show}</button>
        </div>
      </form>
      {v.proof && v.names && v.subject ? (
        <Proof proof={v.proof} lang={lang} name={v.names} subject={v.subject} csrf={csrf} />
      ) : null}

      <h2>{t.suppression}</h2>
      <p>{t.suppressionIntro}</p>
      <div class="actions">
        <section aria-labelledby="check-h">
          <h3 id="check-h">{t.check}</h3>
          <form
            class="stack"
            method="post"
            action="/console/consents/suppression/check"
            hx-post="/console/consents/suppression/check"
            hx-target="#suppression-result"
          >
            <Csrf csrf={csrf} />
            <AddressField id="check-email" label={t.address} value={v.checkEmail ?? ''} />
            <div>
              <button type="submit">{t.checkButton}</button>
            </div>
          </form>
          <div id="suppression-result" aria-live="polite">
            {v.checked ? <CheckResult result={v.checked} lang={lang} /> : null}
          </div>
        </section>
        <section aria-labelledby="add-h">
          <h3 id="add-h">{t.add}</h3>
          {canWrite ? null : <p class="hint">{t.readOnly}</p>}
          <form class="stack" method="post" action="/console/consents/suppression/add">
            <Csrf csrf={csrf} />
            <AddressField id="add-email" label={t.address} value={v.add?.email ?? ''} />
            <label for="add-reason">{t.reason}</label>
            <select id="add-reason" name="reason">
              {SUPPRESSION_REASONS.map((r) => (
                <option value={r} {...((v.add?.reason ?? 'objection') === r ? { selected: true } : {})}>
                  {REASON_TEXT[r]?.[lang] ?? r}
                </option>
              ))}
            </select>
            <div>
              <button type="submit">{t.addButton}</button>
            </div>
          </form>
        </section>
      </div>
    </>
  );
}

export const consentsPages: ConsolePages = (ui, engine) => {
  const page = (
    c: UiContext,
    v: ConsentsView,
    extra: { notice?: Notice | undefined; status?: 200 | 400 | 403 | 404 | 409 | 500 } = {},
  ) => {
    const lang = langOf(c);
    const session = c.get('session');
    return render(
      c,
      {
        title: TEXT[lang].title,
        current: 'consents',
        notice: extra.notice,
        children: (
          <ConsentsPage v={v} lang={lang} csrf={session.csrf} canWrite={session.caller.scope !== 'read'} />
        ),
      },
      extra.status ?? 200,
    );
  };

  ui.get('/consents', (c) => page(c, {}, { notice: doneNotice(c, TEXT[langOf(c)].done) }));

  const subjectOf = async (c: UiContext) => {
    const form = await formOf(c);
    return { kind: form.kind === 'visitor' ? 'visitor' : 'email', value: (form.subject ?? '').trim() };
  };
  const proofOf = (c: UiContext, subject: { kind: string; value: string }) =>
    use(
      c,
      engine,
      'consentProof',
      subject.kind === 'visitor' ? { visitor: subject.value } : { email: subject.value },
    );

  ui.post('/consents', async (c) => {
    const subject = await subjectOf(c);
    try {
      const proof = await proofOf(c, subject);
      return page(c, { subject, proof, names: await purposeNames(c, engine) });
    } catch (error) {
      return page(c, { subject }, refusal(c, error));
    }
  });

  // The proof as the page `registre consent proof --html` writes, downloaded.
  ui.post('/consents/proof', async (c) => {
    const subject = await subjectOf(c);
    try {
      const proof = await proofOf(c, subject);
      const { register } = await use(c, engine, 'showRegister', {});
      if (!register) throw new RegistreError('E_REGISTER_INVALID', 'the register cannot be read');
      return sendFile(c, { name: 'consent-proof.html', content: consentProofHtml(register, proof) });
    } catch (error) {
      return page(c, { subject }, refusal(c, error));
    }
  });

  // A check: the fragment for htmx (shown in place, an error too), or the page with its answer.
  ui.post('/consents/suppression/check', async (c) => {
    const { email = '' } = await formOf(c);
    const lang = langOf(c);
    const htmx = c.req.header('hx-request') !== undefined;
    try {
      const checked = await use(c, engine, 'checkSuppression', { email: email.trim() });
      if (htmx) return c.html(String(<CheckResult result={checked} lang={lang} />));
      return page(c, { checked, checkEmail: email });
    } catch (error) {
      const refused = refusal(c, error);
      // htmx swaps only a 2xx answer: the refusal is shown in place, as an alert.
      if (htmx) return c.html(String(<NoticeBox notice={refused.notice} />));
      return page(c, { checkEmail: email }, refused);
    }
  });

  ui.post('/consents/suppression/add', async (c) => {
    const form = await formOf(c);
    const email = (form.email ?? '').trim();
    const reason = form.reason ?? 'objection';
    try {
      const added = await use(c, engine, 'addSuppression', {
        email,
        reason: reason as (typeof SUPPRESSION_REASONS)[number],
      });
      return backTo(c, '/console/consents', added.added ? 'suppressed' : 'suppressedAgain');
    } catch (error) {
      return page(c, { add: { email, reason } }, refusal(c, error));
    }
  });
};
