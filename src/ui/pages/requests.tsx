/**
 * People's requests: every request (the open ones first, the most urgent on top, then the last
 * closed ones), a form to open one on a person's behalf, and one screen per request with its
 * facts and the steps its status allows (verify, send a new code, run after a preview, extend,
 * refuse, lift a restriction) and, once an access or portability request is done, its package.
 */
import { newPackageFolder } from '../../app/requests/packages.js';
import type { RequestView, RunResult } from '../../app/requests/shared.js';
import { type ErrorCode, RegistreError } from '../../core/errors.js';
import { REQUEST_TYPES, type RequestType } from '../../core/requests/requests.js';
import { localise } from '../../core/text.js';
import { sendFile } from '../../http/shared.js';
import {
  COMMON,
  day,
  type Lang,
  moment,
  number,
  REQUEST_STATUS_TEXT,
  REQUEST_TYPE_TEXT,
  REQUEST_WORDS,
  type Text,
} from '../i18n.js';
import { Csrf, type Notice } from '../layout.js';
import {
  backTo,
  type ConsolePages,
  doneNotice,
  formOf,
  langOf,
  need,
  refusalIn,
  render,
  statusOf,
  type UiContext,
  use,
} from '../render.js';
import { Table } from '../table.js';

/** How many closed requests the list shows (the most recent). */
const CLOSED_SHOWN = 50;

const TEXT = {
  fr: {
    ...REQUEST_WORDS.fr,
    title: 'Demandes des personnes',
    open: 'Demandes ouvertes, les plus urgentes d’abord',
    noOpen: 'Aucune demande ouverte.',
    closed: 'Demandes closes, les plus récentes d’abord',
    noClosed: 'Aucune demande close.',
    closedSome: (shown: string, all: string) => `Les ${shown} plus récentes sur ${all}.`,
    askedBy: 'Demandée par',
    newTitle: 'Ouvrir une demande pour le compte d’une personne',
    newIntro:
      'Un code de vérification part aussitôt à l’adresse de la personne : elle vous le communique, ou vous vérifiez son identité autrement.',
    email: 'Adresse électronique de la personne',
    lang: 'Langue de la personne',
    langAll: 'toutes les langues du registre',
    french: 'français',
    english: 'anglais',
    receivedField: 'Reçue le (vide : aujourd’hui)',
    purpose: 'Finalité visée (opposition ; facultative pour un effacement ou une limitation)',
    purposeNone: '— aucune —',
    set: 'Corrections d’une rectification : un champ=valeur par ligne',
    setHint: 'Par exemple : last_name=Martin',
    setLine: (line: string) => `« ${line} » : chaque ligne s’écrit champ=valeur.`,
    openIt: 'Ouvrir la demande',
    screen: (id: number) => `Demande n° ${id}`,
    back: 'Toutes les demandes',
    facts: 'La demande',
    hash: 'empreinte de la personne : la demande est close ou la personne effacée',
    personLang: 'Langue',
    extended: 'Prolongation',
    extendedBy: (m: number, reason: string) => `${m} mois — ${reason}`,
    refused: 'Motif du refus',
    lifted: 'Limitation levée le',
    code: 'Code d’identité',
    codeSent: (n: number, via: string) => `${n} envoyé(s), ${via}`,
    via: { smtp: 'par courrier électronique', outbox: 'dans la boîte d’envoi', failed: 'envoi échoué' },
    letters: 'Courriers à la personne',
    letterKind: { refusal: 'refus', extension: 'prolongation', completion: 'réponse' },
    letterVia: {
      smtp: 'envoyé',
      outbox: 'déposé dans la boîte d’envoi',
      failed: 'échec',
      none: 'aucun (réponse par un autre moyen)',
    },
    owed: 'Courriers dus et non remis',
    outcome: 'Résultat',
    preview: 'Aperçu : ce que le traitement ferait (rien n’a changé)',
    found: 'Enregistrements trouvés',
    files: 'Fichiers du dossier',
    erased: 'Effacés ou anonymisés',
    kept: 'Conservés (art. 17(3) ou gel)',
    forwarded: 'Transmis au responsable',
    rectified: 'Rectifiés',
    unchanged: 'Laissés en l’état',
    restricted: 'Limités',
    skipped: 'Écartés',
    hold: 'Gel',
    suppressed: 'Inscrite sur la liste d’opposition',
    objection: 'Opposition à la finalité',
    delivery: 'Remise de la réponse',
    deliveries: {
      mail: 'par courrier électronique, dossier joint',
      letter: 'courrier seul (dossier remis à part)',
      none: 'aucun courrier (réponse par un autre moyen)',
    },
    letter: 'Courrier de réponse',
    noData: 'Aucune donnée sur cette personne.',
    actions: 'Actions',
    noActions: 'Aucune action possible : la demande est close.',
    readOnly: (scope: string) =>
      `Le jeton de la session a les droits « ${scope} » : il lit cette demande mais ne peut pas la faire avancer.`,
    verify: 'Vérifier l’identité',
    codeField: 'Code reçu par la personne (6 chiffres)',
    verifyIt: 'Vérifier',
    resend: 'Envoyer un nouveau code',
    resendHint: 'Un code par minute, trois par demande au plus ; l’ancien code ne vaut plus.',
    resendIt: 'Envoyer un nouveau code',
    manual: 'Vérifier l’identité autrement',
    manualReason: 'Comment l’identité a été vérifiée',
    manualIt: 'Enregistrer la vérification',
    run: 'Traiter la demande',
    runHint: 'L’aperçu montre ce que le traitement ferait, sans rien changer.',
    deliveryField: 'Remise de la réponse',
    grounds: 'Motifs légitimes impérieux de poursuivre le traitement (facultatif, art. 21(1))',
    previewIt: 'Aperçu',
    runIt: 'Traiter maintenant',
    extend: 'Prolonger le délai',
    months: 'De combien de mois (art. 12(3))',
    month1: '1 mois',
    month2: '2 mois',
    reason: 'Motif, dit à la personne',
    extendIt: 'Prolonger',
    refuse: 'Refuser la demande',
    refuseHint: 'Demande manifestement infondée ou excessive (art. 12(5)) ; le motif est dit à la personne.',
    refuseIt: 'Refuser',
    lift: 'Lever la limitation',
    liftHint: 'Les enregistrements retrouvent leurs règles de conservation.',
    liftIt: 'Lever la limitation',
    package: 'Dossier remis à la personne',
    noPackage: 'Aucun dossier n’a été écrit pour cette demande.',
    file: 'Fichier',
    size: 'Taille',
    bytes: (n: string) => `${n} octets`,
    download: 'Télécharger',
    done: {
      opened: 'La demande est ouverte et le code envoyé à la personne.',
      openedNoMail:
        'La demande est ouverte, mais le code n’a pas pu être envoyé : envoyez-en un nouveau plus tard.',
      verified: 'L’identité est vérifiée : la demande peut être traitée.',
      codeSent: 'Un nouveau code est envoyé à la personne.',
      run: 'La demande est traitée.',
      runLetterFailed: 'La demande est traitée, mais le courrier de réponse n’a pas pu être envoyé.',
      extended: 'Le délai est prolongé et la personne prévenue.',
      refused: 'La demande est refusée et la personne prévenue.',
      letterFailed: 'C’est fait, mais le courrier à la personne n’a pas pu être envoyé.',
      lifted: 'La limitation est levée.',
    } as Record<string, string>,
  },
  en: {
    ...REQUEST_WORDS.en,
    title: "People's requests",
    open: 'Open requests, the most urgent first',
    noOpen: 'No open request.',
    closed: 'Closed requests, the most recent first',
    noClosed: 'No closed request.',
    closedSome: (shown: string, all: string) => `The ${shown} most recent of ${all}.`,
    askedBy: 'Asked by',
    newTitle: "Open a request on a person's behalf",
    newIntro:
      "A verification code goes to the person's address at once: they tell it to you, or you check their identity by other means.",
    email: "The person's e-mail address",
    lang: "The person's language",
    langAll: "every language of the register's",
    french: 'French',
    english: 'English',
    receivedField: 'Received on (empty: today)',
    purpose: 'Purpose concerned (an objection; optional for an erasure or a restriction)',
    purposeNone: '— none —',
    set: "A rectification's corrections: one field=value a line",
    setHint: 'For example: last_name=Martin',
    setLine: (line: string) => `"${line}": each line is field=value.`,
    openIt: 'Open the request',
    screen: (id: number) => `Request #${id}`,
    back: 'Every request',
    facts: 'The request',
    hash: "the person's keyed hash: the request is closed or the person erased",
    personLang: 'Language',
    extended: 'Extension',
    extendedBy: (m: number, reason: string) => `${m} month(s) — ${reason}`,
    refused: 'Reason of the refusal',
    lifted: 'Restriction lifted on',
    code: 'Identity code',
    codeSent: (n: number, via: string) => `${n} sent, ${via}`,
    via: { smtp: 'by e-mail', outbox: 'to the outbox', failed: 'sending failed' },
    letters: 'Letters to the person',
    letterKind: { refusal: 'refusal', extension: 'extension', completion: 'answer' },
    letterVia: {
      smtp: 'sent',
      outbox: 'written to the outbox',
      failed: 'failed',
      none: 'none (answered by other means)',
    },
    owed: 'Letters owed and not delivered',
    outcome: 'Outcome',
    preview: 'Preview: what running it would do (nothing has changed)',
    found: 'Records found',
    files: "The package's files",
    erased: 'Erased or anonymised',
    kept: 'Kept (art. 17(3) or a hold)',
    forwarded: 'Forwarded to their controller',
    rectified: 'Rectified',
    unchanged: 'Left as they are',
    restricted: 'Restricted',
    skipped: 'Left alone',
    hold: 'Hold',
    suppressed: 'Put on the suppression list',
    objection: 'Objection to the purpose',
    delivery: 'Delivery of the answer',
    deliveries: {
      mail: 'by e-mail, the package attached',
      letter: 'the letter only (the package handed over apart)',
      none: 'no letter (answered by other means)',
    },
    letter: 'Answer letter',
    noData: 'No data about this person.',
    actions: 'Actions',
    noActions: 'No action is possible: the request is closed.',
    readOnly: (scope: string) =>
      `The session's token has the scope "${scope}": it reads this request but cannot move it on.`,
    verify: 'Verify the identity',
    codeField: 'The code the person received (6 digits)',
    verifyIt: 'Verify',
    resend: 'Send a new code',
    resendHint: 'One code a minute, three a request at most; the old code no longer works.',
    resendIt: 'Send a new code',
    manual: 'Verify the identity by other means',
    manualReason: 'How the identity was checked',
    manualIt: 'Record the verification',
    run: 'Run the request',
    runHint: 'The preview shows what running it would do, and changes nothing.',
    deliveryField: 'Delivery of the answer',
    grounds: 'Compelling legitimate grounds to go on processing (optional, art. 21(1))',
    previewIt: 'Preview',
    runIt: 'Run now',
    extend: 'Extend the deadline',
    months: 'By how many months (art. 12(3))',
    month1: '1 month',
    month2: '2 months',
    reason: 'Reason, told to the person',
    extendIt: 'Extend',
    refuse: 'Refuse the request',
    refuseHint: 'Manifestly unfounded or excessive (art. 12(5)); the reason is told to the person.',
    refuseIt: 'Refuse',
    lift: 'Lift the restriction',
    liftHint: 'The records are open to their retention rules again.',
    liftIt: 'Lift the restriction',
    package: 'The package handed to the person',
    noPackage: 'No package was written for this request.',
    file: 'File',
    size: 'Size',
    bytes: (n: string) => `${n} bytes`,
    download: 'Download',
    done: {
      opened: 'The request is open and the code sent to the person.',
      openedNoMail: 'The request is open, but the code could not be sent: send a new one later.',
      verified: 'The identity is verified: the request can be run.',
      codeSent: 'A new code is sent to the person.',
      run: 'The request is done.',
      runLetterFailed: 'The request is done, but the answer letter could not be sent.',
      extended: 'The deadline is extended and the person told.',
      refused: 'The request is refused and the person told.',
      letterFailed: 'Done, but the letter to the person could not be sent.',
      lifted: 'The restriction is lifted.',
    } as Record<string, string>,
  },
} as const;

type T = (typeof TEXT)[Lang];

/** What the DPO is told, in the page's language, when a step of a request is refused. */
const REFUSALS: Partial<Record<ErrorCode, Text>> = {
  E_WRONG_CODE: {
    fr: 'Ce code ne correspond pas au dernier code envoyé à la personne.',
    en: 'This code does not match the last code sent to the person.',
  },
  E_CODE_EXPIRED: {
    fr: 'Ce code a expiré : envoyez-en un nouveau.',
    en: 'This code has expired: send a new one.',
  },
  E_REQUEST_LOCKED: {
    fr: 'Cinq codes erronés : la demande est verrouillée ; vérifiez l’identité autrement.',
    en: 'Five wrong codes: the request is locked; verify the identity by other means.',
  },
  E_CODE_TOO_SOON: {
    fr: 'Un code a été envoyé il y a moins d’une minute.',
    en: 'A code was sent less than a minute ago.',
  },
  E_CODE_LIMIT: {
    fr: 'Trois codes ont déjà été envoyés : vérifiez l’identité autrement.',
    en: 'Three codes were sent already: verify the identity by other means.',
  },
  E_NOT_VERIFIED: {
    fr: 'L’identité de la personne n’est pas vérifiée : rien n’est fait avant.',
    en: "The person's identity is not verified: nothing is done before it is.",
  },
  E_REQUEST_CLOSED: { fr: 'La demande est déjà close.', en: 'The request is closed already.' },
  E_REQUEST_STATE: {
    fr: 'L’état de la demande ne permet pas cette étape.',
    en: "The request's status does not allow this step.",
  },
  E_DUPLICATE: {
    fr: 'Cette personne a déjà une demande de ce type en cours.',
    en: 'This person already has an open request of this type.',
  },
  E_NO_PACKAGE: { fr: 'Ce fichier n’existe pas dans le dossier.', en: 'The package has no such file.' },
  E_REQUEST_NOT_FOUND: { fr: 'Cette demande n’existe pas.', en: 'There is no such request.' },
};

const refusal = (c: UiContext, error: unknown): Notice => refusalIn(c, error, REFUSALS);

const screenPath = (id: number) => `/console/requests/${id}`;

const daysCell = (r: RequestView, t: T, lang: Lang) =>
  r.overdue ? <strong>{t.late(-r.daysLeft)}</strong> : number(r.daysLeft, lang);

// ---------------------------------------------------------------------------------------------
// The list and the form

interface Typed {
  readonly [field: string]: string | undefined;
}

async function purposesOf(c: UiContext, engine: Parameters<ConsolePages>[1], lang: Lang) {
  const { register } = await use(c, engine, 'showRegister', {});
  return (register?.activities ?? []).map((a) => ({
    name: localise(a.name, lang),
    purposes: a.purposes.map((p) => ({ id: p.id, name: localise(p.name, lang) })),
  }));
}

function OpenForm(props: {
  t: T;
  lang: Lang;
  csrf: string;
  typed: Typed;
  activities: Awaited<ReturnType<typeof purposesOf>>;
}) {
  const { t, lang, typed } = props;
  const selected = (field: string, value: string) => (typed[field] === value ? { selected: true } : {});
  return (
    <form class="stack" method="post" action="/console/requests">
      <Csrf csrf={props.csrf} />
      <label for="new-type">{t.type}</label>
      <select id="new-type" name="type" required>
        {REQUEST_TYPES.map((type) => (
          <option value={type} {...selected('type', type)}>
            {REQUEST_TYPE_TEXT[type][lang]}
          </option>
        ))}
      </select>
      <label for="new-email">{t.email}</label>
      <input
        id="new-email"
        name="email"
        type="email"
        required
        maxlength={320}
        autocomplete="off"
        value={typed.email ?? ''}
      />
      <label for="new-lang">{t.lang}</label>
      <select id="new-lang" name="lang">
        <option value="">{t.langAll}</option>
        <option value="fr" {...selected('lang', 'fr')}>
          {t.french}
        </option>
        <option value="en" {...selected('lang', 'en')}>
          {t.english}
        </option>
      </select>
      <label for="new-received">{t.receivedField}</label>
      <input id="new-received" name="received" type="date" value={typed.received ?? ''} />
      <label for="new-purpose">{t.purpose}</label>
      <select id="new-purpose" name="purpose">
        <option value="">{t.purposeNone}</option>
        {props.activities.map((a) => (
          <optgroup label={a.name}>
            {a.purposes.map((p) => (
              <option value={p.id} {...selected('purpose', p.id)}>
                {`${p.name} (${p.id})`}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <label for="new-set">{t.set}</label>
      <textarea id="new-set" name="set" rows={3} aria-describedby="new-set-hint">
        {typed.set ?? ''}
      </textarea>
      <p class="hint" id="new-set-hint">
        {t.setHint}
      </p>
      <div>
        <button type="submit">{t.openIt}</button>
      </div>
    </form>
  );
}

function RequestList(props: { views: readonly RequestView[]; lang: Lang }) {
  const { lang } = props;
  const t = TEXT[lang];
  const open = props.views.filter((v) => v.status !== 'done' && v.status !== 'refused');
  const closedAll = props.views
    .filter((v) => v.status === 'done' || v.status === 'refused')
    .sort((a, b) => b.id - a.id);
  const closed = closedAll.slice(0, CLOSED_SHOWN);
  const link = (r: RequestView) => <a href={screenPath(r.id)} aria-label={t.screen(r.id)}>{`#${r.id}`}</a>;
  return (
    <>
      <h2>{t.open}</h2>
      {open.length === 0 ? (
        <p>{t.noOpen}</p>
      ) : (
        <Table
          id="open-requests"
          columns={[
            { label: t.number },
            { label: t.type },
            { label: t.askedBy },
            { label: t.received },
            { label: t.due },
            { label: t.daysLeft, numeric: true },
            { label: t.status },
          ]}
          rowClass={(i) => (open[i]?.overdue ? 'bad' : undefined)}
          rows={open.map((r) => [
            link(r),
            REQUEST_TYPE_TEXT[r.type][lang],
            r.askedBy,
            day(r.received, lang),
            day(r.due, lang),
            daysCell(r, t, lang),
            REQUEST_STATUS_TEXT[r.status][lang],
          ])}
        />
      )}
      <h2>{t.closed}</h2>
      {closed.length === 0 ? (
        <p>{t.noClosed}</p>
      ) : (
        <>
          {closedAll.length > closed.length ? (
            <p class="hint">{t.closedSome(number(closed.length, lang), number(closedAll.length, lang))}</p>
          ) : null}
          <Table
            id="closed-requests"
            columns={[{ label: t.number }, { label: t.type }, { label: t.received }, { label: t.status }]}
            rows={closed.map((r) => [
              link(r),
              REQUEST_TYPE_TEXT[r.type][lang],
              day(r.received, lang),
              REQUEST_STATUS_TEXT[r.status][lang],
            ])}
          />
        </>
      )}
    </>
  );
}

/** A rectification's `field=value` lines. */
function correctionsOf(text: string | undefined, t: T): Record<string, string> | undefined {
  const lines = (text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return undefined;
  const set: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf('=');
    if (at <= 0) throw new RegistreError('E_USAGE', t.setLine(line), { path: ['set'] });
    set[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// One request

/** A run's result, or a request's outcome, as facts. */
function Summary(props: { result: Partial<RunResult> & Record<string, unknown>; t: T; lang: Lang }) {
  const { result: r, t, lang } = props;
  const count = (list: unknown) => (Array.isArray(list) ? number(list.length, lang) : undefined);
  const rows: [string, string][] = [];
  if (typeof r.found === 'number') rows.push([t.found, number(r.found, lang)]);
  if (r.message) rows.push([t.found, t.noData]);
  const lists: [keyof T & string, unknown][] = [
    ['files', r.files],
    ['erased', r.erased],
    ['kept', r.kept],
    ['forwarded', r.forwarded],
    ['rectified', r.rectified],
    ['unchanged', r.unchanged],
    ['restricted', r.restricted],
    ['skipped', r.skipped],
  ];
  for (const [key, list] of lists) {
    const n = count(list);
    if (n !== undefined && (list as unknown[]).length > 0) rows.push([t[key] as string, n]);
  }
  if (typeof r.hold === 'number') rows.push([t.hold, `#${r.hold}`]);
  if (r.suppressed) rows.push([t.suppressed, COMMON[lang].yes]);
  if (r.objection) rows.push([t.objection, r.objection.purpose]);
  if (r.delivery) rows.push([t.delivery, t.deliveries[r.delivery]]);
  if (r.letter)
    rows.push([t.letter, `${t.letterVia[r.letter.via]}${r.letter.error ? ` (${r.letter.error})` : ''}`]);
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </>
      ))}
    </dl>
  );
}

function Facts({ v, t, lang }: { v: RequestView; t: T; lang: Lang }) {
  const open = v.status !== 'done' && v.status !== 'refused';
  return (
    <dl class="facts" id="request-facts">
      <dt>{t.type}</dt>
      <dd>{REQUEST_TYPE_TEXT[v.type][lang]}</dd>
      <dt>{t.status}</dt>
      <dd data-status={v.status}>{REQUEST_STATUS_TEXT[v.status][lang]}</dd>
      <dt>{t.received}</dt>
      <dd>{day(v.received, lang)}</dd>
      <dt>{t.due}</dt>
      <dd>{day(v.due, lang)}</dd>
      {open ? (
        <>
          <dt>{t.daysLeft}</dt>
          <dd class={v.overdue ? 'bad' : ''}>{daysCell(v, t, lang)}</dd>
        </>
      ) : null}
      <dt>{t.askedBy}</dt>
      <dd>
        {v.askedBy === v.person ? (
          <>
            <code class="hash">{v.person}</code>
            <span class="hint">{` (${t.hash})`}</span>
          </>
        ) : (
          v.askedBy
        )}
      </dd>
      {v.lang ? (
        <>
          <dt>{t.personLang}</dt>
          <dd>{v.lang === 'fr' ? t.french : t.english}</dd>
        </>
      ) : null}
      {v.purpose ? (
        <>
          <dt>{t.objection}</dt>
          <dd>
            <code>{v.purpose}</code>
          </dd>
        </>
      ) : null}
      {v.code ? (
        <>
          <dt>{t.code}</dt>
          <dd>{t.codeSent(v.code.sent, t.via[v.code.via])}</dd>
        </>
      ) : null}
      {v.extended ? (
        <>
          <dt>{t.extended}</dt>
          <dd data-fact="extended">{t.extendedBy(v.extended.months, v.extended.reason)}</dd>
        </>
      ) : null}
      {v.refused ? (
        <>
          <dt>{t.refused}</dt>
          <dd data-fact="refused">{v.refused}</dd>
        </>
      ) : null}
      {v.lifted ? (
        <>
          <dt>{t.lifted}</dt>
          <dd>{moment(v.lifted, lang)}</dd>
        </>
      ) : null}
      {v.letters?.length ? (
        <>
          <dt>{t.letters}</dt>
          <dd>
            {v.letters
              .map((l) => `${t.letterKind[l.kind]} — ${t.letterVia[l.via]}, ${moment(l.at, lang)}`)
              .join(' ; ')}
          </dd>
        </>
      ) : null}
      {v.lettersOwed?.length ? (
        <>
          <dt>{t.owed}</dt>
          <dd class="bad">{v.lettersOwed.map((k) => t.letterKind[k]).join(', ')}</dd>
        </>
      ) : null}
    </dl>
  );
}

/** A small form of one step, posted to the request's `action`, sent by its button (or `buttons`). */
function Step(props: {
  id: number;
  action: string;
  title: string;
  csrf: string;
  submit?: string;
  look?: 'secondary' | 'danger';
  buttons?: unknown;
  children?: unknown;
  hint?: string;
}) {
  const h = `${props.action}-h`;
  return (
    <section aria-labelledby={h}>
      <h3 id={h}>{props.title}</h3>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      <form class="stack" method="post" action={`${screenPath(props.id)}/${props.action}`}>
        <Csrf csrf={props.csrf} />
        {props.children as never}
        <div class="actions">
          {(props.buttons as never) ?? (
            <button type="submit" {...(props.look ? { class: props.look } : {})}>
              {props.submit}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

/** A reason typed in a step's form, kept when the step was refused. */
const Reason = (props: { action: string; label: string; value: string }) => (
  <>
    <label for={`${props.action}-reason`}>{props.label}</label>
    <textarea id={`${props.action}-reason`} name="reason" required maxlength={2000}>
      {props.value}
    </textarea>
  </>
);

interface ScreenState {
  readonly notice?: Notice;
  /** What was typed in the form of `action`, kept when it was refused. */
  readonly action?: string;
  readonly typed?: Typed;
  readonly preview?: RunResult;
}

function Actions(props: { v: RequestView; t: T; csrf: string; state: ScreenState }) {
  const { v, t, csrf, state } = props;
  const id = v.id;
  const kept = (action: string, field: string) =>
    state.action === action ? (state.typed?.[field] ?? '') : '';
  const step = { id, csrf };
  const open = v.status !== 'done' && v.status !== 'refused';
  const steps = [];
  if (v.status === 'received')
    steps.push(
      <Step {...step} action="verify" title={t.verify} submit={t.verifyIt}>
        <label for="verify-code">{t.codeField}</label>
        <input
          id="verify-code"
          name="code"
          inputmode="numeric"
          autocomplete="one-time-code"
          pattern="[0-9]{6}"
          maxlength={6}
          required
          value={kept('verify', 'code')}
          {...(state.action === 'verify' && state.notice ? { 'aria-invalid': 'true' } : {})}
        />
      </Step>,
      <Step
        {...step}
        action="code"
        title={t.resend}
        hint={t.resendHint}
        submit={t.resendIt}
        look="secondary"
      />,
    );
  if (v.status === 'received' || v.status === 'locked')
    steps.push(
      <Step {...step} action="manual" title={t.manual} submit={t.manualIt} look="secondary">
        <Reason action="manual" label={t.manualReason} value={kept('manual', 'reason')} />
      </Step>,
    );
  if (v.status === 'verified' || v.status === 'running') {
    const delivery = kept('run', 'delivery') || 'mail';
    steps.push(
      <Step
        {...step}
        action="run"
        title={t.run}
        hint={t.runHint}
        buttons={
          <>
            <button type="submit" name="mode" value="preview" class="secondary">
              {t.previewIt}
            </button>
            <button type="submit" name="mode" value="run">
              {t.runIt}
            </button>
          </>
        }
      >
        <label for="run-delivery">{t.deliveryField}</label>
        <select id="run-delivery" name="delivery">
          {(['mail', 'letter', 'none'] as const).map((d) => (
            <option value={d} {...(delivery === d ? { selected: true } : {})}>
              {t.deliveries[d]}
            </option>
          ))}
        </select>
        {v.type === 'objection' ? (
          <>
            <label for="run-grounds">{t.grounds}</label>
            <textarea id="run-grounds" name="grounds" maxlength={2000}>
              {kept('run', 'grounds')}
            </textarea>
          </>
        ) : null}
      </Step>,
    );
  }
  if (open && !v.extended && v.status !== 'running')
    steps.push(
      <Step {...step} action="extend" title={t.extend} submit={t.extendIt} look="secondary">
        <label for="extend-months">{t.months}</label>
        <select id="extend-months" name="months">
          <option value="1">{t.month1}</option>
          <option value="2" {...(kept('extend', 'months') === '2' ? { selected: true } : {})}>
            {t.month2}
          </option>
        </select>
        <Reason action="extend" label={t.reason} value={kept('extend', 'reason')} />
      </Step>,
    );
  if (open && v.status !== 'running')
    steps.push(
      <Step {...step} action="refuse" title={t.refuse} hint={t.refuseHint} submit={t.refuseIt} look="danger">
        <Reason action="refuse" label={t.reason} value={kept('refuse', 'reason')} />
      </Step>,
    );
  const hold = (v.outcome as { hold?: unknown } | undefined)?.hold;
  if (v.type === 'restriction' && v.status === 'done' && typeof hold === 'number' && !v.lifted)
    steps.push(
      <Step {...step} action="lift" title={t.lift} hint={t.liftHint} submit={t.liftIt} look="secondary" />,
    );
  if (steps.length === 0) return <p>{t.noActions}</p>;
  return <div class="actions">{steps}</div>;
}

function Package(props: { id: number; files: readonly { name: string; bytes: number }[]; t: T; lang: Lang }) {
  const { id, files, t, lang } = props;
  if (files.length === 0) return <p>{t.noPackage}</p>;
  return (
    <Table
      id="package"
      columns={[{ label: t.file }, { label: t.size, numeric: true }]}
      rows={files.map((f) => [
        <a
          href={`${screenPath(id)}/package/${f.name.split('/').map(encodeURIComponent).join('/')}`}
          download={f.name.split('/').pop()}
          aria-label={`${t.download} ${f.name}`}
        >
          {f.name}
        </a>,
        t.bytes(number(f.bytes, lang)),
      ])}
    />
  );
}

export const requestsPages: ConsolePages = (ui, engine) => {
  async function listPage(c: UiContext, typed: Typed = {}, notice?: Notice, status = 200) {
    const lang = langOf(c);
    const t = TEXT[lang];
    const views = await use(c, engine, 'listRequests', {});
    const activities = await purposesOf(c, engine, lang);
    return render(
      c,
      {
        title: t.title,
        current: 'requests',
        notice: notice ?? doneNotice(c, t.done),
        children: (
          <>
            <RequestList views={views} lang={lang} />
            <h2 id="new-h">{t.newTitle}</h2>
            <p>{t.newIntro}</p>
            <OpenForm t={t} lang={lang} csrf={c.get('session').csrf} typed={typed} activities={activities} />
          </>
        ),
      },
      status as 200,
    );
  }

  async function screen(c: UiContext, id: number, state: ScreenState = {}, status = 200) {
    const lang = langOf(c);
    const t = TEXT[lang];
    let v: RequestView;
    try {
      v = await use(c, engine, 'showRequest', { id });
    } catch (error) {
      if (!(error instanceof RegistreError)) throw error;
      return render(
        c,
        { title: t.screen(id), current: 'requests', notice: refusal(c, error) },
        statusOf(error),
      );
    }
    const session = c.get('session');
    const packaged = (v.type === 'access' || v.type === 'portability') && v.status === 'done';
    let files: { name: string; bytes: number }[] = [];
    if (packaged)
      try {
        files = (await use(c, engine, 'listPackage', { id })).files;
      } catch (error) {
        if (!(error instanceof RegistreError) || error.code !== 'E_NO_PACKAGE') throw error;
      }
    const notice = state.notice ?? doneNotice(c, t.done);
    return render(
      c,
      {
        title: t.screen(id),
        current: 'requests',
        notice,
        children: (
          <>
            <p>
              <a href="/console/requests">{t.back}</a>
            </p>
            <h2>{t.facts}</h2>
            <Facts v={v} t={t} lang={lang} />
            {v.outcome ? (
              <>
                <h2>{t.outcome}</h2>
                <Summary result={v.outcome} t={t} lang={lang} />
              </>
            ) : null}
            {state.preview ? (
              <section class="notice warn" role="status" aria-labelledby="preview-h">
                <h2 id="preview-h">{t.preview}</h2>
                <Summary result={state.preview as RunResult & Record<string, unknown>} t={t} lang={lang} />
              </section>
            ) : null}
            {packaged ? (
              <>
                <h2>{t.package}</h2>
                <Package id={id} files={files} t={t} lang={lang} />
              </>
            ) : null}
            <h2>{t.actions}</h2>
            {session.caller.scope === 'read' ? <p class="hint">{t.readOnly(session.caller.scope)}</p> : null}
            <Actions v={v} t={t} csrf={session.csrf} state={state} />
          </>
        ),
      },
      status as 200,
    );
  }

  ui.get('/requests', (c) => listPage(c));

  ui.post('/requests', async (c) => {
    const form = await formOf(c);
    const t = TEXT[langOf(c)];
    try {
      const set = correctionsOf(form.set, t);
      const type = form.type as RequestType;
      const opened = await use(c, engine, 'openRequest', {
        type,
        email: form.email ?? '',
        ...(form.lang === 'fr' || form.lang === 'en' ? { lang: form.lang } : {}),
        ...(form.received ? { received: form.received } : {}),
        ...(form.purpose ? { purpose: form.purpose } : {}),
        ...(set ? { set } : {}),
      });
      return backTo(c, screenPath(opened.id), opened.mailError ? 'openedNoMail' : 'opened');
    } catch (error) {
      if (!(error instanceof RegistreError)) throw error;
      return listPage(c, form, refusal(c, error), statusOf(error));
    }
  });

  ui.get('/requests/:id{[0-9]{1,15}}', (c) => screen(c, Number(c.req.param('id'))));

  /** A step of a request: done, then back to its screen; refused, its screen with the reason and what was typed. */
  const act = (action: string, run: (c: UiContext, id: number, form: Typed) => Promise<string | Response>) =>
    ui.post(`/requests/:id{[0-9]{1,15}}/${action}`, async (c) => {
      const id = Number(c.req.param('id'));
      const form = await formOf(c);
      try {
        const done = await run(c, id, form);
        return typeof done === 'string' ? backTo(c, screenPath(id), done) : done;
      } catch (error) {
        if (!(error instanceof RegistreError)) throw error;
        return screen(c, id, { notice: refusal(c, error), action, typed: form }, statusOf(error));
      }
    });

  act('verify', async (c, id, form) => {
    await use(c, engine, 'verifyRequest', { id, code: form.code ?? '' });
    return 'verified';
  });
  act('code', async (c, id) => {
    await use(c, engine, 'resendCode', { id });
    return 'codeSent';
  });
  act('manual', async (c, id, form) => {
    await use(c, engine, 'verifyRequest', { id, manual: true, reason: form.reason ?? '' });
    return 'verified';
  });
  act('run', async (c, id, form) => {
    need(c, 'operate');
    const dryRun = form.mode === 'preview';
    const shown = await use(c, engine, 'showRequest', { id });
    const input = {
      id,
      dryRun,
      delivery: (form.delivery ?? 'mail') as 'mail',
      ...(form.grounds?.trim() ? { grounds: form.grounds } : {}),
      // As the API does: a package goes to a new folder of the service's, never one a form names.
      ...(shown.type === 'access' || shown.type === 'portability'
        ? { out: await newPackageFolder(engine, id) }
        : {}),
    };
    const result = await use(c, engine, 'runRequest', input);
    if (dryRun) return screen(c, id, { preview: result, action: 'run', typed: form });
    return result.letter?.via === 'failed' ? 'runLetterFailed' : 'run';
  });
  act('extend', async (c, id, form) => {
    const view = await use(c, engine, 'extendRequest', {
      id,
      months: Number(form.months ?? '1'),
      reason: form.reason ?? '',
    });
    return view.letterError ? 'letterFailed' : 'extended';
  });
  act('refuse', async (c, id, form) => {
    const view = await use(c, engine, 'refuseRequest', { id, reason: form.reason ?? '' });
    return view.letterError ? 'letterFailed' : 'refused';
  });
  act('lift', async (c, id) => {
    await use(c, engine, 'liftRestriction', { id });
    return 'lifted';
  });

  // One file of the package, downloaded.
  ui.get('/requests/:id{[0-9]{1,15}}/package/:name{.+}', async (c) => {
    const file = await use(c, engine, 'readPackageFile', {
      id: Number(c.req.param('id')),
      name: c.req.param('name'),
    });
    return sendFile(c, file, 'attachment');
  });
};
