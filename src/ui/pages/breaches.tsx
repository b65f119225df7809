/**
 * The register of personal data breaches (art. 33(5)): every breach, overdue first, with its
 * deadline to notify the CNIL (72 hours after the discovery); the register exported (HTML, CSV,
 * XLSX); a form to record one; and one screen per breach: where it stands, what the data map
 * counted, the decision to notify the CNIL or not, whether the people are told (art. 34), and the
 * letter to them in French and English. Every step is a use case, as the CLI and the API call it.
 */
import type { BreachShown, BreachView } from '../../app/breaches.js';
import { BREACH_KINDS, type BreachKind, type BreachText, textIn } from '../../core/breaches/breach.js';
import { CNIL_CATEGORY_LABELS } from '../../core/documents/labels.js';
import { type ErrorCode, RegistreError } from '../../core/errors.js';
import type { Register } from '../../core/register/register-load.js';
import { localise } from '../../core/text.js';
import { sendFile } from '../../http/shared.js';
import { type Lang, moment, number, type Text } from '../i18n.js';
import { Csrf, type Notice } from '../layout.js';
import {
  backTo,
  type ConsolePages,
  doneNotice,
  formOf,
  langOf,
  refusalIn,
  render,
  statusOf,
  type UiContext,
  use,
} from '../render.js';
import { Table } from '../table.js';

type Engine = Parameters<ConsolePages>[1];

const TEXT = {
  fr: {
    title: 'Registre des violations de données',
    intro:
      'Toute violation de données personnelles est inscrite au registre, notifiée à la CNIL ou non (art. 33(5)). La CNIL doit être notifiée dans les 72 heures suivant la découverte, sauf si la violation n’engendre pas de risque pour les personnes.',
    list: 'Violations, les délais dépassés d’abord',
    none: 'Aucune violation n’est inscrite au registre.',
    number: 'N°',
    discovered: 'Découverte le',
    occurred: 'Survenue le',
    kinds: 'Nature',
    deadline: 'Échéance de notification à la CNIL',
    timeLeft: 'Temps restant',
    status: 'État',
    people: 'Personnes',
    records: 'Enregistrements',
    hoursLeft: (n: string) => `${n} restantes`,
    overdueBy: (n: string) => `délai dépassé de ${n}`,
    lessThanAMinute: 'moins d’une minute',
    decided: 'décidé',
    atMost: (n: string) => `au plus ${n}`,
    estimate: (n: string) => `${n} (estimation du DPO)`,
    unknown: 'inconnu',
    statuses: {
      'to-decide': 'à décider',
      overdue: 'délai dépassé, à décider',
      notified: 'notifiée à la CNIL',
      'notified-late': 'notifiée à la CNIL après le délai',
      'not-notified': 'non notifiée (motif consigné)',
    },
    kindNames: {
      confidentiality: 'perte de confidentialité',
      integrity: 'perte d’intégrité',
      availability: 'perte de disponibilité',
    } as Record<BreachKind, string>,
    export: 'Exporter le registre',
    exportHint:
      'Le registre aux colonnes du modèle de la CNIL, pour une inspection ; chaque export est inscrit au journal d’audit.',
    format: 'Format',
    french: 'Français',
    english: 'Anglais',
    download: (format: string, lang: string) => `Télécharger le registre, ${format}, ${lang}`,
    newTitle: 'Inscrire une violation au registre',
    newIntro:
      'Ce qu’elle a touché est compté aussitôt dans les bases à partir de la cartographie des données : enregistrements et personnes.',
    utc: 'heure UTC',
    discoveredField: 'Découverte le (heure UTC) : le délai de 72 heures court à partir d’ici',
    occurredField: 'Survenue le (heure UTC, si elle est connue)',
    kindsField: 'Nature de la violation (au moins une)',
    natureField: 'Ce qui s’est passé',
    otherLang: (what: string) =>
      `${what}, en anglais (facultatif : sinon le texte ci-dessus sert aux deux courriers)`,
    scopeField: 'Ce que la violation a touché',
    scopeHint:
      'Choisissez au moins un élément dans l’une des quatre listes ; Ctrl (ou Cmd) et un clic pour en choisir plusieurs.',
    activities: 'Traitements',
    rules: 'Règles de conservation (une règle ne compte que ses lignes)',
    recordsField: 'Enregistrements du registre',
    categories: 'Catégories de données',
    allOf: (name: string) => `${name} : toutes`,
    consequencesField: 'Conséquences probables pour les personnes',
    measuresField: 'Mesures prises ou envisagées',
    peopleField:
      'Estimation du nombre de personnes (facultative : des personnes que les bases ne tiennent pas)',
    recordIt: 'Inscrire la violation',
    readOnly: (scope: string) =>
      `Le jeton de la session a les droits « ${scope} » : il lit le registre mais ne peut rien y inscrire.`,
    screen: (id: number) => `Violation n° ${id}`,
    back: 'Toutes les violations',
    facts: 'Où en est la violation',
    nature: 'Ce qui s’est passé',
    consequences: 'Conséquences probables',
    measures: 'Mesures prises ou envisagées',
    recorded: 'Inscrite le',
    by: (at: string, who: string) => `${at}, par ${who}`,
    notification: 'Notification à la CNIL',
    notifiedOn: (at: string, ref: string | null) => `notifiée le ${at}${ref ? `, référence ${ref}` : ''}`,
    delay: 'Motif du retard',
    notNotified: (reason: string) => `non notifiée : ${reason}`,
    pending: 'à décider',
    information: 'Information des personnes (art. 34)',
    informed: (at: string | null) => (at ? `informées le ${at}` : 'informées'),
    notInformed: (reason: string) => `non informées : ${reason}`,
    count: 'Ce que la cartographie des données a compté',
    countHint: (at: string) => `Compté dans les bases le ${at}, à l’inscription de la violation.`,
    store: 'Base',
    table: 'Table',
    record: 'Enregistrement',
    columns: 'Colonnes',
    totalRecords: 'Enregistrements touchés',
    totalPeople: 'Personnes touchées',
    upperBound: 'comptées par plusieurs identités : une personne peut l’être deux fois',
    dpoEstimate: 'Estimation du DPO',
    noTable: 'Aucune table de la cartographie ne tient ces données.',
    decisions: 'Décisions',
    change: 'Une décision peut être changée : chaque changement est inscrit au journal d’audit.',
    notify: 'Notifiée à la CNIL',
    notifiedAtField: 'Notifiée le (heure UTC)',
    referenceField: 'Référence de la notification donnée par la CNIL (facultative)',
    delayField: (deadline: string) => `Motif du retard (obligatoire après le délai, le ${deadline})`,
    notifyIt: 'Enregistrer la notification',
    noNotify: 'Non notifiée à la CNIL',
    noNotifyHint: 'Seulement si la violation n’est pas susceptible d’engendrer un risque (art. 33(1)).',
    noNotifyReason: 'Pourquoi elle n’est pas notifiée',
    noNotifyIt: 'Enregistrer l’absence de notification',
    inform: 'Personnes informées',
    informHint: 'Un risque élevé pour les personnes : elles sont informées sans tarder (art. 34(1)).',
    informedAtField: 'Informées le (heure UTC, facultatif)',
    informIt: 'Enregistrer l’information',
    noInform: 'Personnes non informées',
    noInformHint:
      'Données inintelligibles pour autrui, risque élevé écarté, ou effort disproportionné (art. 34(3)).',
    noInformReason: 'Pourquoi elles ne sont pas informées',
    noInformIt: 'Enregistrer l’absence d’information',
    letters: 'Courrier aux personnes',
    lettersHint: 'Rédigé à partir du registre ; à relire avant l’envoi.',
    letterIn: { fr: 'En français', en: 'En anglais' } as Record<Lang, string>,
    subject: 'Objet : ',
    done: {
      recorded: 'La violation est inscrite au registre.',
      decided: 'La décision de notification est enregistrée.',
      informed: 'L’information des personnes est enregistrée.',
    } as Record<string, string>,
    fieldErrors: {
      discoveredAt: 'Indiquez quand la violation a été découverte : une date et une heure passées.',
      occurredAt: 'La date de la violation, si elle est connue, précède sa découverte.',
      kinds: 'Cochez au moins une nature : confidentialité, intégrité ou disponibilité.',
      nature: 'Décrivez ce qui s’est passé.',
      activities:
        'Choisissez au moins un traitement, une règle, un enregistrement ou une catégorie, que le registre connaît.',
      rules: 'Cette règle n’est pas une règle du registre.',
      records: 'Cet enregistrement n’est pas un enregistrement du registre.',
      categories: 'Aucune table de ce qui est choisi ne tient cette catégorie.',
      consequences: 'Décrivez les conséquences probables.',
      measures: 'Décrivez les mesures prises ou envisagées.',
      people: 'Un nombre entier de personnes, ou rien.',
      notifiedAt:
        'Indiquez quand la notification a été faite : une date et une heure passées, après la découverte.',
      reference: 'Une référence de 128 caractères au plus.',
      reason: 'Donnez le motif.',
      informedAt: 'Une date et une heure passées, après la découverte.',
    } as Record<string, string>,
  },
  en: {
    title: 'Register of personal data breaches',
    intro:
      'Every personal data breach is in the register, notified to the CNIL or not (art. 33(5)). The CNIL must be notified within 72 hours of the discovery, unless the breach is unlikely to result in a risk to people.',
    list: 'Breaches, the overdue first',
    none: 'No breach is in the register.',
    number: 'No.',
    discovered: 'Discovered',
    occurred: 'Happened',
    kinds: 'Nature',
    deadline: 'Deadline to notify the CNIL',
    timeLeft: 'Time left',
    status: 'Status',
    people: 'People',
    records: 'Records',
    hoursLeft: (n: string) => `${n} left`,
    overdueBy: (n: string) => `overdue by ${n}`,
    lessThanAMinute: 'less than a minute',
    decided: 'decided',
    atMost: (n: string) => `at most ${n}`,
    estimate: (n: string) => `${n} (the DPO's estimate)`,
    unknown: 'unknown',
    statuses: {
      'to-decide': 'to decide',
      overdue: 'overdue, to decide',
      notified: 'notified to the CNIL',
      'notified-late': 'notified to the CNIL after the deadline',
      'not-notified': 'not notified (reason recorded)',
    },
    kindNames: {
      confidentiality: 'loss of confidentiality',
      integrity: 'loss of integrity',
      availability: 'loss of availability',
    } as Record<BreachKind, string>,
    export: 'Export the register',
    exportHint:
      "The register in the columns of the CNIL's model, for an inspection; each export is written to the audit log.",
    format: 'Format',
    french: 'French',
    english: 'English',
    download: (format: string, lang: string) => `Download the register, ${format}, ${lang}`,
    newTitle: 'Record a breach',
    newIntro: 'What it touched is counted in the stores at once, through the data map: records and people.',
    utc: 'UTC',
    discoveredField: 'Discovered at (UTC): the 72 hours run from here',
    occurredField: 'Happened at (UTC, if known)',
    kindsField: 'Nature of the breach (at least one)',
    natureField: 'What happened',
    otherLang: (what: string) => `${what}, in French (optional: else the text above serves both letters)`,
    scopeField: 'What the breach touched',
    scopeHint:
      'Choose at least one item in one of the four lists; Ctrl (or Cmd) and a click to choose several.',
    activities: 'Processing activities',
    rules: 'Retention rules (a rule counts only its own rows)',
    recordsField: "The register's records",
    categories: 'Data categories',
    allOf: (name: string) => `${name}: all`,
    consequencesField: 'Likely consequences for the people',
    measuresField: 'Measures taken or proposed',
    peopleField: 'Estimated number of people (optional: people the stores do not hold)',
    recordIt: 'Record the breach',
    readOnly: (scope: string) =>
      `The session's token has the scope "${scope}": it reads the register but cannot write to it.`,
    screen: (id: number) => `Breach #${id}`,
    back: 'Every breach',
    facts: 'Where the breach stands',
    nature: 'What happened',
    consequences: 'Likely consequences',
    measures: 'Measures taken or proposed',
    recorded: 'Recorded',
    by: (at: string, who: string) => `${at}, by ${who}`,
    notification: 'Notification to the CNIL',
    notifiedOn: (at: string, ref: string | null) => `notified on ${at}${ref ? `, reference ${ref}` : ''}`,
    delay: 'Reasons for the delay',
    notNotified: (reason: string) => `not notified: ${reason}`,
    pending: 'to decide',
    information: 'People informed (art. 34)',
    informed: (at: string | null) => (at ? `informed on ${at}` : 'informed'),
    notInformed: (reason: string) => `not informed: ${reason}`,
    count: 'What the data map counted',
    countHint: (at: string) => `Counted in the stores on ${at}, when the breach was recorded.`,
    store: 'Store',
    table: 'Table',
    record: 'Record',
    columns: 'Columns',
    totalRecords: 'Records touched',
    totalPeople: 'People touched',
    upperBound: 'counted by more than one identity: someone may be counted twice',
    dpoEstimate: "The DPO's estimate",
    noTable: 'No table of the data map holds this data.',
    decisions: 'Decisions',
    change: 'A decision can be changed: each change is written to the audit log.',
    notify: 'Notified to the CNIL',
    notifiedAtField: 'Notified at (UTC)',
    referenceField: "The notification's reference given by the CNIL (optional)",
    delayField: (deadline: string) => `Reasons for the delay (required after the deadline, ${deadline})`,
    notifyIt: 'Record the notification',
    noNotify: 'Not notified to the CNIL',
    noNotifyHint: 'Only when the breach is unlikely to result in a risk to people (art. 33(1)).',
    noNotifyReason: 'Why it is not notified',
    noNotifyIt: 'Record that it is not notified',
    inform: 'People informed',
    informHint: 'A high risk to the people: they are told without undue delay (art. 34(1)).',
    informedAtField: 'Informed at (UTC, optional)',
    informIt: 'Record that they are informed',
    noInform: 'People not informed',
    noInformHint:
      'Data unintelligible to others, the high risk no longer likely, or a disproportionate effort (art. 34(3)).',
    noInformReason: 'Why they are not informed',
    noInformIt: 'Record that they are not informed',
    letters: 'Letter to the people',
    lettersHint: 'Drafted from the register; read it before it is sent.',
    letterIn: { fr: 'In French', en: 'In English' } as Record<Lang, string>,
    subject: 'Subject: ',
    done: {
      recorded: 'The breach is in the register.',
      decided: 'The decision on the notification is recorded.',
      informed: 'Whether the people are informed is recorded.',
    } as Record<string, string>,
    fieldErrors: {
      discoveredAt: 'Say when the breach was discovered: a date and time in the past.',
      occurredAt: 'When the breach happened, if known, comes before its discovery.',
      kinds: 'Tick at least one nature: confidentiality, integrity or availability.',
      nature: 'Say what happened.',
      activities: 'Choose at least one activity, rule, record or category the register has.',
      rules: 'This rule is none of the register.',
      records: 'This record is none of the register.',
      categories: 'No table of what is chosen holds this category.',
      consequences: 'Say what the likely consequences are.',
      measures: 'Say what measures are taken or proposed.',
      people: 'A whole number of people, or nothing.',
      notifiedAt: 'Say when it was notified: a date and time in the past, after the discovery.',
      reference: 'A reference of 128 characters at most.',
      reason: 'Give the reason.',
      informedAt: 'A date and time in the past, after the discovery.',
    } as Record<string, string>,
  },
} as const;

type T = (typeof TEXT)[Lang];

/** What the DPO is told, in the page's language, when a step is refused. */
const REFUSALS: Partial<Record<ErrorCode, Text>> = {
  E_BREACH_CHANGED: {
    fr: 'Cette violation a changé depuis l’affichage de la page (une autre décision a été enregistrée entre-temps) : rien n’a été fait. Relisez-la ci-dessous avant de décider à nouveau.',
    en: 'This breach changed since the page was shown (another decision was recorded meanwhile): nothing was done. Read it again below before deciding.',
  },
  E_BREACH_NOT_FOUND: { fr: 'Cette violation n’existe pas.', en: 'There is no such breach.' },
  E_BREACH_SCOPE: {
    fr: 'Ce que la violation a touché ne se retrouve pas dans le registre ou la cartographie.',
    en: 'What the breach touched is not found in the register or the data map.',
  },
};

const refusal = (c: UiContext, error: unknown): Notice => refusalIn(c, error, REFUSALS);

const screenPath = (id: number) => `/console/breaches/${id}`;

/** A form's values: every field as a list (a multiple select, checkboxes), the CSRF secret left out. */
async function listsOf(c: UiContext): Promise<Record<string, string[]>> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch {
    throw new RegistreError('E_USAGE', 'the form sent cannot be read: send it again from the console');
  }
  const lists: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(body))
    if (key !== '_csrf')
      lists[key] = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  return lists;
}

/** A browser's `datetime-local` value, read as UTC (the form says so); anything else left for the use case to refuse. */
function instantOf(value: string | undefined): string | undefined {
  const v = value?.trim() ?? '';
  if (v === '') return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return `${v}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v)) return `${v}Z`;
  return v;
}

/** An instant as a `datetime-local` field shows it (UTC, to the minute). */
const localInput = (iso: string) => iso.slice(0, 16);

/** A text typed in the page's language and, optionally, in the other. */
function textOf(main: string | undefined, other: string | undefined, lang: Lang): BreachText {
  const a = main?.trim() ?? '';
  const b = other?.trim() ?? '';
  if (a && b) return lang === 'fr' ? { fr: a, en: b } : { fr: b, en: a };
  return a || b;
}

/** The field a refused input names (`path[0]`), when it is one of the form's. */
const fieldOf = (error: unknown) =>
  error instanceof RegistreError && typeof error.path?.[0] === 'string' ? error.path[0] : undefined;

function peopleText(b: BreachView, t: T, lang: Lang): string {
  const counted = b.affected.people;
  if (counted !== null)
    return b.affected.peopleUpperBound ? t.atMost(number(counted, lang)) : number(counted, lang);
  return b.peopleEstimate !== null ? t.estimate(number(b.peopleEstimate, lang)) : t.unknown;
}

/** The time left to notify, in words; overdue in bold words, not by colour alone. */
function TimeLeft({ b, t, lang }: { b: BreachView; t: T; lang: Lang }) {
  if (b.minutesLeft === null) return <>{t.decided}</>;
  // Floored minutes: -1 is the first minute past the deadline, 0 the last one before it.
  const past = b.minutesLeft < 0;
  const minutes = past ? -b.minutesLeft - 1 : b.minutesLeft;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const said =
    minutes === 0
      ? t.lessThanAMinute
      : [h ? `${number(h, lang)} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
  return past ? <strong>{t.overdueBy(said)}</strong> : t.hoursLeft(said);
}

// ---------------------------------------------------------------------------------------------
// The list, the export and the form

function BreachList({ views, t, lang }: { views: readonly BreachView[]; t: T; lang: Lang }) {
  if (views.length === 0) return <p>{t.none}</p>;
  return (
    <Table
      id="breaches"
      columns={[
        { label: t.number },
        { label: t.discovered },
        { label: t.kinds },
        { label: t.deadline },
        { label: t.timeLeft },
        { label: t.status },
        { label: t.people, numeric: true },
        { label: t.records, numeric: true },
      ]}
      rowClass={(i) => (views[i]?.status === 'overdue' ? 'bad' : undefined)}
      rows={views.map((b) => [
        <a href={screenPath(b.id)} aria-label={t.screen(b.id)}>{`#${b.id}`}</a>,
        moment(b.discoveredAt, lang),
        b.kinds.map((k) => t.kindNames[k]).join(', '),
        moment(b.deadline, lang),
        <TimeLeft b={b} t={t} lang={lang} />,
        <span data-status={b.status}>{t.statuses[b.status]}</span>,
        peopleText(b, t, lang),
        number(b.affected.records, lang),
      ])}
    />
  );
}

const exportPath = (format: string, lang: Lang) => `/console/breach-register?format=${format}&lang=${lang}`;

function ExportLinks({ t }: { t: T }) {
  const langs: [Lang, string][] = [
    ['fr', t.french],
    ['en', t.english],
  ];
  return (
    <Table
      id="breach-export"
      columns={[{ label: t.format }, ...langs.map(([, name]) => ({ label: name }))]}
      rows={(['html', 'csv', 'xlsx'] as const).map((format) => [
        format.toUpperCase(),
        ...langs.map(([l, name]) => (
          <a
            href={exportPath(format, l)}
            download={`breach-register.${l}.${format}`}
            aria-label={t.download(format.toUpperCase(), name)}
          >
            {`breach-register.${l}.${format}`}
          </a>
        )),
      ])}
    />
  );
}

type Typed = Readonly<Record<string, readonly string[]>>;

/** The label, the field and, when the use case refused it, why: next to it, tied by aria-describedby. */
function FieldError(props: { id: string; name: string; wrong?: string | undefined; t: T }) {
  if (props.wrong !== props.name) return null;
  return (
    <p class="field-error bad" id={`${props.id}-error`}>
      <strong>{props.t.fieldErrors[props.name] ?? ''}</strong>
    </p>
  );
}

const invalid = (id: string, name: string, wrong: string | undefined) =>
  wrong === name ? { 'aria-invalid': 'true' as const, 'aria-describedby': `${id}-error` } : {};

function TextField(props: {
  name: string;
  label: string;
  typed: Typed;
  wrong?: string | undefined;
  t: T;
  required?: boolean;
}) {
  const id = `new-${props.name}`;
  const other = `${props.name}_other`;
  return (
    <>
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        maxlength={4000}
        {...(props.required === false ? {} : { required: true })}
        {...invalid(id, props.name, props.wrong)}
      >
        {props.typed[props.name]?.[0] ?? ''}
      </textarea>
      <FieldError id={id} name={props.name} wrong={props.wrong} t={props.t} />
      <label for={`new-${other}`}>{props.t.otherLang(props.label)}</label>
      <textarea id={`new-${other}`} name={other} maxlength={4000}>
        {props.typed[other]?.[0] ?? ''}
      </textarea>
    </>
  );
}

interface Choice {
  readonly value: string;
  readonly label: string;
}

function ScopeSelect(props: {
  name: string;
  label: string;
  groups: readonly { label?: string; choices: readonly Choice[] }[];
  typed: Typed;
  wrong?: string | undefined;
  t: T;
}) {
  const id = `new-${props.name}`;
  const chosen = new Set(props.typed[props.name] ?? []);
  const options = (choices: readonly Choice[]) =>
    choices.map((o) => (
      <option value={o.value} {...(chosen.has(o.value) ? { selected: true } : {})}>
        {o.label}
      </option>
    ));
  return (
    <>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        multiple
        size={6}
        {...(props.wrong === props.name
          ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-error new-scope-hint` }
          : { 'aria-describedby': 'new-scope-hint' })}
      >
        {props.groups.map((g) =>
          g.label ? <optgroup label={g.label}>{options(g.choices)}</optgroup> : options(g.choices),
        )}
      </select>
      <FieldError id={id} name={props.name} wrong={props.wrong} t={props.t} />
    </>
  );
}

/** The register's items a breach may name, in the page's language. */
function scopeChoices(register: Register | null, t: T, lang: Lang) {
  if (!register) return { activities: [], rules: [], records: [], categories: [] };
  const recordName = (id: string) => localise(register.records.find((r) => r.id === id)?.name, lang) || id;
  const parents = [...new Set(register.dataCategories.map((c) => c.parent))];
  return {
    activities: [
      {
        choices: register.activities.map((a) => ({
          value: a.id,
          label: `${a.ref ? `${a.ref} — ` : ''}${localise(a.name, lang)}`,
        })),
      },
    ],
    rules: [
      {
        choices: register.retention.map((r) => ({
          value: r.id,
          label: `${recordName(r.record)}${r.scope ? ` (${localise(r.scope, lang)})` : ''} — ${r.id}`,
        })),
      },
    ],
    records: [
      {
        choices: register.records.map((r) => ({ value: r.id, label: `${localise(r.name, lang)} (${r.id})` })),
      },
    ],
    categories: parents.map((p) => {
      const name = CNIL_CATEGORY_LABELS[p]?.[lang] ?? p;
      return {
        label: name,
        choices: [
          { value: p, label: t.allOf(name) },
          ...register.dataCategories
            .filter((c) => c.parent === p)
            .map((c) => ({ value: c.id, label: localise(c.name, lang) })),
        ],
      };
    }),
  };
}

function RecordForm(props: {
  t: T;
  csrf: string;
  typed: Typed;
  wrong?: string | undefined;
  choices: ReturnType<typeof scopeChoices>;
  now: string;
}) {
  const { t, typed, wrong } = props;
  const one = (name: string) => typed[name]?.[0] ?? '';
  const kinds = new Set(typed.kinds ?? []);
  const common = { typed, wrong, t };
  return (
    <form class="stack" method="post" action="/console/breaches" id="record-breach">
      <Csrf csrf={props.csrf} />
      <label for="new-discoveredAt">{t.discoveredField}</label>
      <input
        id="new-discoveredAt"
        name="discoveredAt"
        type="datetime-local"
        required
        value={one('discoveredAt') || props.now}
        {...invalid('new-discoveredAt', 'discoveredAt', wrong)}
      />
      <FieldError id="new-discoveredAt" name="discoveredAt" wrong={wrong} t={t} />
      <label for="new-occurredAt">{t.occurredField}</label>
      <input
        id="new-occurredAt"
        name="occurredAt"
        type="datetime-local"
        value={one('occurredAt')}
        {...invalid('new-occurredAt', 'occurredAt', wrong)}
      />
      <FieldError id="new-occurredAt" name="occurredAt" wrong={wrong} t={t} />
      <fieldset {...(wrong === 'kinds' ? { 'aria-describedby': 'new-kinds-error' } : {})}>
        <legend>{t.kindsField}</legend>
        {BREACH_KINDS.map((k) => (
          <label class="choice">
            <input type="checkbox" name="kinds" value={k} {...(kinds.has(k) ? { checked: true } : {})} />{' '}
            {t.kindNames[k]}
          </label>
        ))}
        <FieldError id="new-kinds" name="kinds" wrong={wrong} t={t} />
      </fieldset>
      <TextField name="nature" label={t.natureField} {...common} />
      <fieldset>
        <legend>{t.scopeField}</legend>
        <p class="hint" id="new-scope-hint">
          {t.scopeHint}
        </p>
        <div class="fields">
          <ScopeSelect name="activities" label={t.activities} groups={props.choices.activities} {...common} />
          <ScopeSelect name="rules" label={t.rules} groups={props.choices.rules} {...common} />
          <ScopeSelect name="records" label={t.recordsField} groups={props.choices.records} {...common} />
          <ScopeSelect name="categories" label={t.categories} groups={props.choices.categories} {...common} />
        </div>
      </fieldset>
      <TextField name="consequences" label={t.consequencesField} {...common} />
      <TextField name="measures" label={t.measuresField} {...common} />
      <label for="new-people">{t.peopleField}</label>
      <input
        id="new-people"
        name="people"
        type="number"
        min={0}
        step={1}
        inputmode="numeric"
        value={one('people')}
        {...invalid('new-people', 'people', wrong)}
      />
      <FieldError id="new-people" name="people" wrong={wrong} t={t} />
      <div>
        <button type="submit">{t.recordIt}</button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------
// One breach

function Facts({ b, t, lang }: { b: BreachShown; t: T; lang: Lang }) {
  const n = b.notification;
  const i = b.information;
  return (
    <dl class="facts" id="breach-facts">
      <dt>{t.status}</dt>
      <dd data-status={b.status} class={b.status === 'overdue' ? 'bad' : ''}>
        {b.status === 'overdue' ? <strong>{t.statuses[b.status]}</strong> : t.statuses[b.status]}
      </dd>
      <dt>{t.discovered}</dt>
      <dd>{moment(b.discoveredAt, lang)}</dd>
      <dt>{t.occurred}</dt>
      <dd>{b.occurredAt ? moment(b.occurredAt, lang) : t.unknown}</dd>
      <dt>{t.deadline}</dt>
      <dd>{moment(b.deadline, lang)}</dd>
      {b.minutesLeft !== null ? (
        <>
          <dt>{t.timeLeft}</dt>
          <dd data-fact="time-left" class={b.status === 'overdue' ? 'bad' : ''}>
            <TimeLeft b={b} t={t} lang={lang} />
          </dd>
        </>
      ) : null}
      <dt>{t.kinds}</dt>
      <dd>{b.kinds.map((k) => t.kindNames[k]).join(', ')}</dd>
      <dt>{t.nature}</dt>
      <dd data-fact="nature">{textIn(b.nature, lang)}</dd>
      <dt>{t.consequences}</dt>
      <dd>{textIn(b.consequences, lang)}</dd>
      <dt>{t.measures}</dt>
      <dd>{textIn(b.measures, lang)}</dd>
      <dt>{t.notification}</dt>
      <dd data-fact="notification">
        {n.decision === 'notify'
          ? t.notifiedOn(moment(n.notifiedAt, lang), n.reference)
          : n.decision === 'no-notify'
            ? t.notNotified(n.reason)
            : t.pending}
      </dd>
      {n.decision === 'notify' && n.delayReason ? (
        <>
          <dt>{t.delay}</dt>
          <dd>{n.delayReason}</dd>
        </>
      ) : null}
      <dt>{t.information}</dt>
      <dd data-fact="information">
        {i.decision === 'inform'
          ? t.informed(i.informedAt ? moment(i.informedAt, lang) : null)
          : i.decision === 'no-inform'
            ? t.notInformed(i.reason)
            : t.pending}
      </dd>
      <dt>{t.recorded}</dt>
      <dd>{t.by(moment(b.recordedAt, lang), b.recordedBy)}</dd>
    </dl>
  );
}

function Count({ b, t, lang }: { b: BreachShown; t: T; lang: Lang }) {
  const a = b.affected;
  const na = (v: number | null) => (v === null ? '—' : number(v, lang));
  return (
    <>
      <p class="hint">{t.countHint(moment(a.countedAt, lang))}</p>
      <dl class="facts" id="breach-count">
        <dt>{t.totalRecords}</dt>
        <dd data-figure="records">{number(a.records, lang)}</dd>
        <dt>{t.totalPeople}</dt>
        <dd data-figure="people">
          {a.people === null
            ? t.unknown
            : a.peopleUpperBound
              ? `${t.atMost(number(a.people, lang))} (${t.upperBound})`
              : number(a.people, lang)}
        </dd>
        {b.peopleEstimate !== null ? (
          <>
            <dt>{t.dpoEstimate}</dt>
            <dd>{number(b.peopleEstimate, lang)}</dd>
          </>
        ) : null}
      </dl>
      {a.tables.length === 0 ? (
        <p>{t.noTable}</p>
      ) : (
        <Table
          id="breach-tables"
          columns={[
            { label: t.store },
            { label: t.table },
            { label: t.record },
            { label: t.columns },
            { label: t.records, numeric: true },
            { label: t.people, numeric: true },
          ]}
          rows={a.tables.map((x) => [
            x.store,
            <code>{x.table}</code>,
            x.record,
            x.columns.join(', '),
            number(x.records, lang),
            na(x.people),
          ])}
        />
      )}
    </>
  );
}

interface ScreenState {
  readonly notice?: Notice;
  /** The form refused (`notify`, `no-notify`, `inform`, `no-inform`), what was typed in it and the field at fault. */
  readonly action?: string;
  readonly typed?: Readonly<Record<string, string>>;
  readonly wrong?: string | undefined;
}

/** One decision's form, posted to the breach's `decide` or `inform` with its choice and the version read. */
function Decision(props: {
  b: BreachShown;
  csrf: string;
  action: 'notify' | 'no-notify' | 'inform' | 'no-inform';
  title: string;
  hint?: string;
  submit: string;
  state: ScreenState;
  t: T;
  fields: readonly {
    name: string;
    label: string;
    kind: 'instant' | 'line' | 'text';
    required?: boolean;
    value?: string;
  }[];
}) {
  const { b, action, state, t } = props;
  const h = `${action}-h`;
  const [route, choice] =
    action === 'notify' || action === 'no-notify'
      ? ['decide', action === 'notify' ? 'yes' : 'no']
      : ['inform', action === 'inform' ? 'yes' : 'no'];
  const wrong = state.action === action ? state.wrong : undefined;
  return (
    <section aria-labelledby={h}>
      <h3 id={h}>{props.title}</h3>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      <form class="stack" method="post" action={`${screenPath(b.id)}/${route}`}>
        <Csrf csrf={props.csrf} />
        <input type="hidden" name="version" value={String(b.version)} />
        <input type="hidden" name={route === 'decide' ? 'notify' : 'inform'} value={choice} />
        {props.fields.map((f) => {
          const id = `${action}-${f.name}`;
          const typed = state.action === action ? state.typed?.[f.name] : undefined;
          const value = typed ?? f.value ?? '';
          const attrs = {
            id,
            name: f.name,
            ...(f.required ? { required: true } : {}),
            ...invalid(id, f.name, wrong),
          };
          return (
            <>
              <label for={id}>{f.label}</label>
              {f.kind === 'text' ? (
                <textarea {...attrs} maxlength={4000}>
                  {value}
                </textarea>
              ) : (
                <input
                  {...attrs}
                  type={f.kind === 'instant' ? 'datetime-local' : 'text'}
                  {...(f.kind === 'line' ? { maxlength: 128, autocomplete: 'off' } : {})}
                  value={value}
                />
              )}
              <FieldError id={id} name={f.name} wrong={wrong} t={t} />
            </>
          );
        })}
        <div class="actions">
          <button type="submit" {...(choice === 'no' ? { class: 'secondary' } : {})}>
            {props.submit}
          </button>
        </div>
      </form>
    </section>
  );
}

function Decisions(props: {
  b: BreachShown;
  t: T;
  lang: Lang;
  csrf: string;
  state: ScreenState;
  now: string;
}) {
  const { b, t, lang } = props;
  const common = { b, csrf: props.csrf, state: props.state, t };
  const n = b.notification;
  const i = b.information;
  return (
    <>
      {n.decision !== 'pending' || i.decision !== 'pending' ? <p class="hint">{t.change}</p> : null}
      <div class="actions">
        <Decision
          {...common}
          action="notify"
          title={t.notify}
          submit={t.notifyIt}
          fields={[
            {
              name: 'notifiedAt',
              label: t.notifiedAtField,
              kind: 'instant',
              required: true,
              value: n.decision === 'notify' ? localInput(n.notifiedAt) : props.now,
            },
            {
              name: 'reference',
              label: t.referenceField,
              kind: 'line',
              value: n.decision === 'notify' ? (n.reference ?? '') : '',
            },
            { name: 'reason', label: t.delayField(moment(b.deadline, lang)), kind: 'text' },
          ]}
        />
        <Decision
          {...common}
          action="no-notify"
          title={t.noNotify}
          hint={t.noNotifyHint}
          submit={t.noNotifyIt}
          fields={[{ name: 'reason', label: t.noNotifyReason, kind: 'text', required: true }]}
        />
      </div>
      <div class="actions">
        <Decision
          {...common}
          action="inform"
          title={t.inform}
          hint={t.informHint}
          submit={t.informIt}
          fields={[
            {
              name: 'informedAt',
              label: t.informedAtField,
              kind: 'instant',
              value: i.decision === 'inform' && i.informedAt ? localInput(i.informedAt) : '',
            },
          ]}
        />
        <Decision
          {...common}
          action="no-inform"
          title={t.noInform}
          hint={t.noInformHint}
          submit={t.noInformIt}
          fields={[{ name: 'reason', label: t.noInformReason, kind: 'text', required: true }]}
        />
      </div>
    </>
  );
}

function Letters({ b, t }: { b: BreachShown; t: T }) {
  return (
    <>
      <p class="hint">{t.lettersHint}</p>
      {(['fr', 'en'] as const).map((l) => {
        const letter = b.letters[l];
        return (
          <section aria-labelledby={`letter-${l}-h`}>
            <h3 id={`letter-${l}-h`}>{t.letterIn[l]}</h3>
            <p>
              <strong>{t.subject}</strong>
              <span lang={l}>{letter.subject}</span>
            </p>
            <pre class="letter" id={`letter-${l}`} lang={l}>
              {letter.text}
            </pre>
          </section>
        );
      })}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// The routes

export const breachesPages: ConsolePages = (ui, engine: Engine) => {
  const nowInput = () => localInput(engine.clock.now().toISOString());

  async function listPage(c: UiContext, typed: Typed = {}, wrong?: string, notice?: Notice, status = 200) {
    const lang = langOf(c);
    const t = TEXT[lang];
    const session = c.get('session');
    const views = await use(c, engine, 'listBreaches', {});
    const canWrite = session.caller.scope !== 'read';
    const { register } = canWrite ? await use(c, engine, 'showRegister', {}) : { register: null };
    return render(
      c,
      {
        title: t.title,
        current: 'breaches',
        notice: notice ?? doneNotice(c, t.done),
        children: (
          <>
            <p>{t.intro}</p>
            <h2>{t.list}</h2>
            <BreachList views={views} t={t} lang={lang} />
            <h2>{t.export}</h2>
            <p class="hint">{t.exportHint}</p>
            <ExportLinks t={t} />
            <h2 id="new-h">{t.newTitle}</h2>
            {canWrite ? (
              <>
                <p>{t.newIntro}</p>
                <RecordForm
                  t={t}
                  csrf={session.csrf}
                  typed={typed}
                  wrong={wrong}
                  choices={scopeChoices(register, t, lang)}
                  now={nowInput()}
                />
              </>
            ) : (
              <p class="hint">{t.readOnly(session.caller.scope)}</p>
            )}
          </>
        ),
      },
      status as 200,
    );
  }

  async function screen(c: UiContext, id: number, state: ScreenState = {}, status = 200) {
    const lang = langOf(c);
    const t = TEXT[lang];
    let b: BreachShown;
    try {
      b = await use(c, engine, 'showBreach', { id });
    } catch (error) {
      if (!(error instanceof RegistreError)) throw error;
      // A refused step keeps its own reason (a read token's E_SCOPE), not the screen's.
      return render(
        c,
        { title: t.screen(id), current: 'breaches', notice: state.notice ?? refusal(c, error) },
        (state.notice ? status : statusOf(error)) as 200,
      );
    }
    const session = c.get('session');
    return render(
      c,
      {
        title: t.screen(id),
        current: 'breaches',
        notice: state.notice ?? doneNotice(c, t.done),
        children: (
          <>
            <p>
              <a href="/console/breaches">{t.back}</a>
            </p>
            <h2>{t.facts}</h2>
            <Facts b={b} t={t} lang={lang} />
            <h2>{t.count}</h2>
            <Count b={b} t={t} lang={lang} />
            <h2>{t.decisions}</h2>
            {session.caller.scope === 'read' ? (
              <p class="hint">{t.readOnly(session.caller.scope)}</p>
            ) : (
              <Decisions b={b} t={t} lang={lang} csrf={session.csrf} state={state} now={nowInput()} />
            )}
            <h2>{t.letters}</h2>
            <Letters b={b} t={t} />
          </>
        ),
      },
      status as 200,
    );
  }

  ui.get('/breaches', (c) => listPage(c));

  ui.post('/breaches', async (c) => {
    const form = await listsOf(c);
    const lang = langOf(c);
    const one = (name: string) => form[name]?.[0];
    const list = (name: string) => (form[name] ?? []).filter((v) => v !== '');
    try {
      const occurredAt = instantOf(one('occurredAt'));
      const people = one('people')?.trim();
      const recorded = await use(c, engine, 'recordBreach', {
        discoveredAt: instantOf(one('discoveredAt')) ?? '',
        ...(occurredAt ? { occurredAt } : {}),
        kinds: list('kinds') as BreachKind[],
        nature: textOf(one('nature'), one('nature_other'), lang),
        activities: list('activities'),
        rules: list('rules'),
        records: list('records'),
        categories: list('categories'),
        ...(people ? { people: Number(people) } : {}),
        consequences: textOf(one('consequences'), one('consequences_other'), lang),
        measures: textOf(one('measures'), one('measures_other'), lang),
      });
      return backTo(c, screenPath(recorded.id), 'recorded');
    } catch (error) {
      if (!(error instanceof RegistreError)) throw error;
      return listPage(c, form, fieldOf(error), refusal(c, error), statusOf(error));
    }
  });

  ui.get('/breaches/:id{[0-9]{1,15}}', (c) => screen(c, Number(c.req.param('id'))));

  /** A decision: made, then back to the breach; refused, the breach with the reason next to its field. */
  const decide = (
    route: 'decide' | 'inform',
    run: (id: number, form: Record<string, string>, c: UiContext) => Promise<unknown>,
  ) =>
    ui.post(`/breaches/:id{[0-9]{1,15}}/${route}`, async (c) => {
      const id = Number(c.req.param('id'));
      const form = await formOf(c);
      try {
        await run(id, form, c);
        return backTo(c, screenPath(id), route === 'decide' ? 'decided' : 'informed');
      } catch (error) {
        if (!(error instanceof RegistreError)) throw error;
        const yes = (route === 'decide' ? form.notify : form.inform) === 'yes';
        const action = route === 'decide' ? (yes ? 'notify' : 'no-notify') : yes ? 'inform' : 'no-inform';
        // A stale form is shown the breach as it now stands, not what was typed on the old one.
        const stale = error.code === 'E_BREACH_CHANGED';
        return screen(
          c,
          id,
          { notice: refusal(c, error), ...(stale ? {} : { action, typed: form, wrong: fieldOf(error) }) },
          statusOf(error),
        );
      }
    });

  /** yes/no as the use case's boolean; anything else is passed on for it to refuse. */
  const choice = (v: string | undefined) =>
    v === 'yes' ? true : v === 'no' ? false : (v as unknown as boolean);
  const version = (v: string | undefined) => (v?.trim() ? { version: Number(v) } : {});
  const reasonOf = (v: string | undefined) => (v?.trim() ? { reason: v } : {});

  decide('decide', async (id, form, c) => {
    const notify = choice(form.notify);
    const notifiedAt = notify === true ? instantOf(form.notifiedAt) : undefined;
    await use(c, engine, 'decideBreach', {
      id,
      notify,
      ...(notify === true ? { notifiedAt: notifiedAt ?? '' } : {}),
      ...(notify === true && form.reference?.trim() ? { reference: form.reference.trim() } : {}),
      ...reasonOf(form.reason),
      ...version(form.version),
    });
  });

  decide('inform', async (id, form, c) => {
    const inform = choice(form.inform);
    const informedAt = inform === true ? instantOf(form.informedAt) : undefined;
    await use(c, engine, 'informBreach', {
      id,
      inform,
      ...(informedAt ? { informedAt } : {}),
      ...reasonOf(form.reason),
      ...version(form.version),
    });
  });

  // The register in the CNIL model's columns, downloaded (its export is in the audit log).
  ui.get('/breach-register', async (c) => {
    const file = await use(c, engine, 'exportBreachRegister', {
      format: (c.req.query('format') ?? '') as 'html',
      ...(c.req.query('lang') ? { lang: c.req.query('lang') as Lang } : {}),
    });
    return sendFile(c, file, 'attachment');
  });
};
