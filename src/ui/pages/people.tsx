/**
 * People and records: a person searched by e-mail address (sent in a POST, never in a URL), every
 * record of theirs the stores and the archive hold, with its rules, status, deadline, holds and
 * consents, as `explain --email` tells them; a hold placed on the person or on one record, and
 * released. After an action the page shows the person again (the address rides in a hidden field).
 */
import type { ConsentStatus } from '../../app/consent.js';
import type { ExplainResult, GoneRecord } from '../../app/explain.js';
import { CONSENT_STATE_WORDS } from '../../core/consent/consent-proof-html.js';
import { RegistreError } from '../../core/errors.js';
import type { HoldReason } from '../../core/retention/retention.js';
import type { RecordStatus } from '../../core/retention/statuses.js';
import { AddressField, refusal } from '../fields.js';
import { day, type Lang, number, type Text } from '../i18n.js';
import { Csrf, type Notice } from '../layout.js';
import { type ConsolePages, formOf, langOf, render, type UiContext, use } from '../render.js';
import { Table } from '../table.js';
import { purposeNames } from './consents.js';

const TEXT = {
  fr: {
    title: 'Personnes et données',
    intro:
      'Recherchez une personne par son adresse e-mail : chaque donnée la concernant, sa règle de conservation, son état, sa date de suppression, ses gels et ses consentements.',
    email: 'Adresse e-mail de la personne',
    emailHint:
      'L’adresse est envoyée dans le corps du formulaire : elle n’apparaît ni dans l’adresse de la page ni dans les journaux du service.',
    search: 'Rechercher',
    noRecord: 'Aucune donnée de cette personne',
    noRecordDetail:
      'Aucun enregistrement ne correspond à cette adresse, ni dans les bases du plan de données ni dans l’archive, et aucun effacement ne la concerne.',
    found: (n: string, on: string) => `${n} enregistrement(s) trouvé(s), état au ${on}.`,
    records: 'Ses données',
    table: 'Table',
    key: 'Clé',
    rules: 'Règle(s) et finalités',
    status: 'État',
    deadline: 'Date de suppression',
    holds: 'Gels',
    noDeadline: 'aucune échéance',
    archive: 'archive intermédiaire',
    wins: 'retenue',
    noRule: 'aucune règle de conservation ne s’y applique',
    anchor: (a: string, d: string) => `à partir de ${a} (${d})`,
    consentEnded: (d: string) => `consentement terminé le ${d}`,
    then: (a: string) => (a === 'delete' ? 'puis suppression' : 'puis anonymisation'),
    archiveFrom: (d: string) => `archivée à partir du ${d}`,
    processor: 'traitée pour le compte d’un responsable',
    held: (h: string, reason: string) => `${h} : ${reason}`,
    until: (d: string) => `jusqu’au ${d}`,
    keptBy: (n: string, d: string, basis: string) =>
      `conservée par l’effacement de la demande n° ${n} du ${d} (${basis})`,
    holdName: (h: string) =>
      h.startsWith('manual-')
        ? `gel n° ${h.slice(7)}`
        : h.startsWith('restriction-')
          ? `limitation n° ${h.slice(12)} (art. 18)`
          : 'gel lié à un autre enregistrement',
    gone: 'Données qui ne sont plus là',
    goneErasure: (what: string, action: string, on: string, n: string) =>
      `${what} : ${action === 'delete' ? 'supprimée' : 'anonymisée'} le ${on} par l’effacement de la demande n° ${n} (art. 17).`,
    goneSweep: (what: string, runs: string) => `${what} : supprimée par la purge (${runs}), à échéance.`,
    run: (n: string, on: string) => `passage n° ${n} du ${on}`,
    consents: 'Ses consentements',
    noConsentPurpose: 'Aucune finalité du registre ne repose sur le consentement.',
    purpose: 'Finalité',
    since: 'Depuis le',
    expires: 'Expire le',
    notice: 'Texte présenté',
    consentUnavailable: 'Les consentements ne peuvent pas être lus :',
    placeHold: 'Geler des données',
    holdIntro:
      'Un gel suspend la suppression : tant qu’il est en vigueur, aucune purge ni aucun effacement ne touche les données gelées.',
    target: 'Données à geler',
    wholePerson: 'Toutes les données de la personne (un seul gel)',
    oneRecord: (table: string, key: string) => `Seulement ${table} ${key}`,
    reason: 'Motif',
    reasonHint: 'Un litige, une procédure, la demande d’une autorité : il est conservé avec le gel.',
    endDate: 'Dernier jour du gel (facultatif)',
    endHint: 'Laissé vide, le gel dure jusqu’à sa levée.',
    placeButton: 'Geler',
    inForce: 'Gels en vigueur sur ses données',
    hold: 'Gel',
    forRecords: 'Données gelées',
    release: (n: string) => `Lever le gel n° ${n}`,
    releaseHint:
      'Lever un gel rend les données à leurs règles : celles dont l’échéance est passée partent à la prochaine purge.',
    untilReleased: 'jusqu’à sa levée',
    noHolds: 'Aucun gel en vigueur.',
    untilHeader: 'Jusqu’au',
    readOnly:
      'Le jeton de la session ne peut que lire : geler ou lever un gel demande les droits « operate ».',
    doneHold: (n: string, r: string) => `Le gel n° ${n} est en vigueur sur ${r} enregistrement(s).`,
    doneRelease: (n: string) => `Le gel n° ${n} est levé.`,
  },
  en: {
    title: 'People and records',
    intro:
      "Search a person by e-mail address: every record of theirs, its retention rule, its status, the day it goes, its holds and the person's consents.",
    email: "The person's e-mail address",
    emailHint:
      "The address is sent in the form's body: it appears neither in the page's address nor in the service's logs.",
    search: 'Search',
    noRecord: 'No record of this person',
    noRecordDetail:
      'No record matches this address, in the stores of the data map or in the archive, and no erasure concerns it.',
    found: (n: string, on: string) => `${n} record(s) found, as things stand on ${on}.`,
    records: 'Their records',
    table: 'Table',
    key: 'Key',
    rules: 'Rule(s) and purposes',
    status: 'Status',
    deadline: 'Day it goes',
    holds: 'Holds',
    noDeadline: 'no deadline',
    archive: 'intermediate archive',
    wins: 'applies',
    noRule: 'no retention rule applies to it',
    anchor: (a: string, d: string) => `counted from ${a} (${d})`,
    consentEnded: (d: string) => `consent ended on ${d}`,
    then: (a: string) => (a === 'delete' ? 'then deleted' : 'then anonymised'),
    archiveFrom: (d: string) => `archived from ${d}`,
    processor: 'processed on behalf of a controller',
    held: (h: string, reason: string) => `${h}: ${reason}`,
    until: (d: string) => `until ${d}`,
    keptBy: (n: string, d: string, basis: string) =>
      `kept by the erasure of request no. ${n} of ${d} (${basis})`,
    holdName: (h: string) =>
      h.startsWith('manual-')
        ? `hold no. ${h.slice(7)}`
        : h.startsWith('restriction-')
          ? `restriction no. ${h.slice(12)} (art. 18)`
          : 'hold through another record',
    gone: 'Records no longer there',
    goneErasure: (what: string, action: string, on: string, n: string) =>
      `${what}: ${action === 'delete' ? 'deleted' : 'anonymised'} on ${on} by the erasure of request no. ${n} (art. 17).`,
    goneSweep: (what: string, runs: string) => `${what}: deleted by the sweep (${runs}), being due.`,
    run: (n: string, on: string) => `run no. ${n} of ${on}`,
    consents: 'Their consents',
    noConsentPurpose: 'No purpose of the register rests on consent.',
    purpose: 'Purpose',
    since: 'Since',
    expires: 'Expires on',
    notice: 'Text shown',
    consentUnavailable: 'The consents cannot be read:',
    placeHold: 'Place a hold',
    holdIntro:
      'A hold suspends deletion: while it is in force, no sweep and no erasure touches the records it holds.',
    target: 'Records to hold',
    wholePerson: 'Every record of the person (one hold)',
    oneRecord: (table: string, key: string) => `Only ${table} ${key}`,
    reason: 'Reason',
    reasonHint: "A dispute, a litigation, an authority's request: it is kept with the hold.",
    endDate: 'Last day of the hold (optional)',
    endHint: 'Left empty, the hold lasts until it is released.',
    placeButton: 'Place the hold',
    inForce: 'Holds in force on their records',
    hold: 'Hold',
    forRecords: 'Records held',
    release: (n: string) => `Release hold no. ${n}`,
    releaseHint:
      'Releasing a hold gives the records back to their rules: those past their deadline go at the next sweep.',
    untilReleased: 'until released',
    noHolds: 'No hold in force.',
    untilHeader: 'Until',
    readOnly: "This session's token may only read: placing or releasing a hold needs the operate scope.",
    doneHold: (n: string, r: string) => `Hold no. ${n} is in force on ${r} record(s).`,
    doneRelease: (n: string) => `Hold no. ${n} is released.`,
  },
} as const;

type T = (typeof TEXT)[Lang];

/** What each status of a record is called. */
export const RECORD_STATUS_TEXT: Readonly<Record<RecordStatus, Text>> = {
  active: { fr: 'conservée', en: 'kept' },
  archive: { fr: 'en archive intermédiaire', en: 'in intermediate archive' },
  due: { fr: 'échue : partira à la prochaine purge', en: 'due: goes at the next sweep' },
  held: { fr: 'gelée', en: 'held' },
  restricted: { fr: 'limitée (art. 18)', en: 'restricted (art. 18)' },
  anonymised: { fr: 'anonymisée', en: 'anonymised' },
  invalid: {
    fr: 'invalide : une date ou une durée lue n’en est pas une (jamais échue avant correction)',
    en: 'invalid: a date or duration it reads is not one (never due until corrected)',
  },
};

interface Person {
  readonly email: string;
  readonly at: string;
  readonly found?: ExplainResult;
  readonly consents?: ConsentStatus;
  readonly consentError?: string;
  readonly purposeName?: (id: string) => string;
}

/** What was typed in the hold form, kept when it is refused. */
interface HoldForm {
  readonly target?: string;
  readonly reason?: string;
  readonly until?: string;
}

/** A hold case in force on the person's records: `manual-N` holds, from what explain found. */
function manualHolds(found: ExplainResult) {
  const cases = new Map<number, { reason: string; until?: string; records: string[] }>();
  for (const r of found.records)
    for (const h of r.holds) {
      const match = /^manual-(\d+)$/.exec(h.hold);
      if (!match) continue;
      const id = Number(match[1]);
      const entry = cases.get(id) ?? {
        reason: h.reason,
        ...(h.until ? { until: h.until } : {}),
        records: [],
      };
      entry.records.push(`${r.store === 'archive' ? `${r.table} (archive)` : r.table} ${r.id}`);
      cases.set(id, entry);
    }
  return [...cases.entries()].sort(([a], [b]) => a - b);
}

function HoldLine({ h, t, lang }: { h: HoldReason; t: T; lang: Lang }) {
  return (
    <li>
      {/* A manual hold's reason is in the table of holds below; another's only here. */}
      {h.hold.startsWith('manual-') ? t.holdName(h.hold) : t.held(t.holdName(h.hold), h.reason)}
      {h.until ? `, ${t.until(day(h.until, lang))}` : ''}
    </li>
  );
}

function goneLine(g: GoneRecord, t: T, lang: Lang): string {
  const what = `${g.table} ${g.id}${g.archived ? ` (${t.archive})` : ''}`;
  if (g.by.kind === 'erasure')
    return t.goneErasure(what, g.action, day(g.by.on, lang), number(g.by.request, lang));
  return t.goneSweep(
    what,
    g.by.runs
      .slice(-3)
      .map((r) => t.run(number(r.run, lang), day(r.on, lang)))
      .join(', '),
  );
}

function Records({ found, lang }: { found: ExplainResult; lang: Lang }) {
  const t = TEXT[lang];
  return (
    <Table
      id="records"
      columns={[
        { label: t.table },
        { label: t.key },
        { label: t.rules },
        { label: t.status },
        { label: t.deadline },
        { label: t.holds },
      ]}
      rowClass={(i) => (found.records[i]?.status === 'due' ? 'bad' : undefined)}
      rows={found.records.map((r) => {
        const byRule = new Map<string, (typeof r.purposes)[number][]>();
        for (const p of r.purposes) byRule.set(p.rule, [...(byRule.get(p.rule) ?? []), p]);
        return [
          <span data-record={`${r.store === 'archive' ? 'archive:' : ''}${r.table}:${r.id}`}>
            {r.table}
            {r.store === 'archive' ? <span class="muted">{` (${t.archive})`}</span> : null}
          </span>,
          <code>{r.id}</code>,
          byRule.size === 0 ? (
            <span class="muted">{t.noRule}</span>
          ) : (
            <ul class="plain">
              {[...byRule].map(([rule, purposes]) => {
                const first = purposes[0];
                const ended = purposes.find((p) => p.consent)?.consent;
                return (
                  <li>
                    <code>{rule}</code>
                    {rule === r.rule && byRule.size > 1 ? ` (${t.wins})` : ''}
                    {` — ${purposes.map((p) => p.purpose).join(', ')}`}
                    {first?.anchor && first.anchorDate
                      ? `, ${t.anchor(first.anchor, day(first.anchorDate, lang))}`
                      : ''}
                    {ended ? `, ${t.consentEnded(day(ended.ended, lang))}` : ''}
                  </li>
                );
              })}
            </ul>
          ),
          <>
            <span data-status={r.status}>{RECORD_STATUS_TEXT[r.status][lang]}</span>
            {r.archiveFrom && r.store !== 'archive' ? (
              <span class="hint">{`; ${t.archiveFrom(day(r.archiveFrom, lang))}`}</span>
            ) : null}
            {r.processor ? <span class="hint">{`; ${t.processor}`}</span> : null}
            {r.keptBy ? (
              <span class="hint">
                {`; ${t.keptBy(number(r.keptBy.request, lang), day(r.keptBy.on, lang), r.keptBy.basis)}`}
              </span>
            ) : null}
          </>,
          r.deadline ? (
            <span data-deadline={r.deadline}>
              {day(r.deadline, lang)}
              {r.action ? <span class="hint">{`, ${t.then(r.action)}`}</span> : null}
            </span>
          ) : (
            <span class="muted">{t.noDeadline}</span>
          ),
          r.holds.length === 0 ? (
            <span class="muted">—</span>
          ) : (
            <ul class="plain">
              {r.holds.map((h) => (
                <HoldLine h={h} t={t} lang={lang} />
              ))}
            </ul>
          ),
        ];
      })}
    />
  );
}

function Consents({ person, lang }: { person: Person; lang: Lang }) {
  const t = TEXT[lang];
  if (person.consentError)
    return (
      <p>
        {t.consentUnavailable} {person.consentError}
      </p>
    );
  const lines = person.consents?.purposes ?? [];
  if (lines.length === 0) return <p>{t.noConsentPurpose}</p>;
  return (
    <Table
      id="person-consents"
      columns={[
        { label: t.purpose },
        { label: t.status },
        { label: t.since },
        { label: t.expires },
        { label: t.notice },
      ]}
      rows={lines.map((l) => [
        person.purposeName?.(l.purpose) ?? l.purpose,
        CONSENT_STATE_WORDS[l.state][lang],
        l.since ? day(l.since, lang) : '—',
        l.expires ? day(l.expires, lang) : '—',
        l.notice ? l.notice.version : '—',
      ])}
    />
  );
}

function HoldForms(props: { person: Person; form: HoldForm; lang: Lang; csrf: string; canWrite: boolean }) {
  const { person, form, lang, csrf } = props;
  const t = TEXT[lang];
  const found = person.found;
  if (!found) return null;
  const cases = manualHolds(found);
  const live = found.records.filter((r) => r.store !== 'archive');
  return (
    <>
      <h2 id="holds-h">{t.inForce}</h2>
      {cases.length === 0 ? (
        <p>{t.noHolds}</p>
      ) : (
        <>
          <p class="hint">{t.releaseHint}</p>
          <Table
            id="holds"
            columns={[
              { label: t.hold },
              { label: t.reason },
              { label: t.untilHeader },
              { label: t.forRecords },
            ]}
            rows={cases.map(([id, h]) => [
              <span data-hold={String(id)}>{`#${id}`}</span>,
              h.reason,
              h.until ? day(h.until, lang) : t.untilReleased,
              <>
                <ul class="plain">
                  {h.records.map((r) => (
                    <li>{r}</li>
                  ))}
                </ul>
                {props.canWrite ? (
                  <form method="post" action="/console/people/release">
                    <Csrf csrf={csrf} />
                    <input type="hidden" name="email" value={person.email} />
                    <input type="hidden" name="id" value={String(id)} />
                    <button type="submit" class="secondary">
                      {t.release(String(id))}
                    </button>
                  </form>
                ) : null}
              </>,
            ])}
          />
        </>
      )}
      <h2>{t.placeHold}</h2>
      {props.canWrite ? null : <p class="hint">{t.readOnly}</p>}
      <p>{t.holdIntro}</p>
      <form class="stack" method="post" action="/console/people/hold">
        <Csrf csrf={csrf} />
        <input type="hidden" name="email" value={person.email} />
        <label for="hold-target">{t.target}</label>
        <select id="hold-target" name="target">
          <option value="person" {...(!form.target || form.target === 'person' ? { selected: true } : {})}>
            {t.wholePerson}
          </option>
          {live.map((r) => {
            const value = `${r.table}:${r.id}`;
            return (
              <option value={value} {...(form.target === value ? { selected: true } : {})}>
                {t.oneRecord(r.table, r.id)}
              </option>
            );
          })}
        </select>
        <label for="hold-reason">{t.reason}</label>
        <textarea id="hold-reason" name="reason" required maxlength={500} aria-describedby="hold-reason-hint">
          {form.reason ?? ''}
        </textarea>
        <p class="hint" id="hold-reason-hint">
          {t.reasonHint}
        </p>
        <label for="hold-until">{t.endDate}</label>
        <input
          id="hold-until"
          name="until"
          type="date"
          value={form.until ?? ''}
          aria-describedby="hold-until-hint"
        />
        <p class="hint" id="hold-until-hint">
          {t.endHint}
        </p>
        <div>
          <button type="submit">{t.placeButton}</button>
        </div>
      </form>
    </>
  );
}

function SearchForm({ email, lang, csrf }: { email: string; lang: Lang; csrf: string }) {
  const t = TEXT[lang];
  return (
    <form class="row" method="post" action="/console/people">
      <Csrf csrf={csrf} />
      <div class="field">
        <AddressField id="person-email" label={t.email} value={email} />
      </div>
      <button type="submit">{t.search}</button>
      <p class="hint">{t.emailHint}</p>
    </form>
  );
}

function PersonView(props: { person: Person; form: HoldForm; lang: Lang; csrf: string; canWrite: boolean }) {
  const { person, lang } = props;
  const t = TEXT[lang];
  const found = person.found;
  if (!found) return null;
  return (
    <>
      <p id="found" data-count={String(found.records.length)}>
        {t.found(number(found.records.length, lang), day(person.at, lang))}
      </p>
      <h2>{t.records}</h2>
      {found.records.length > 0 ? <Records found={found} lang={lang} /> : <p>{TEXT[lang].noRecord}</p>}
      {found.gone.length > 0 ? (
        <>
          <h2>{t.gone}</h2>
          <ul id="gone">
            {found.gone.map((g) => (
              <li>{goneLine(g, t, lang)}</li>
            ))}
          </ul>
        </>
      ) : null}
      <h2>{t.consents}</h2>
      <Consents person={person} lang={lang} />
      <HoldForms {...props} />
    </>
  );
}

export const peoplePages: ConsolePages = (ui, engine) => {
  /** Everything the page shows of a person; an address of no one is an answer, not an error. */
  async function lookUp(c: UiContext, email: string): Promise<Person | { none: true }> {
    const at = engine.today();
    try {
      const found = await use(c, engine, 'explain', { at, email });
      let consents: ConsentStatus | undefined;
      let consentError: string | undefined;
      try {
        consents = await use(c, engine, 'consentStatus', { email });
      } catch (error) {
        if (!(error instanceof RegistreError)) throw error;
        consentError = `${error.message} (${error.code})`;
      }
      return {
        email,
        at,
        found,
        purposeName: await purposeNames(c, engine),
        ...(consents ? { consents } : {}),
        ...(consentError ? { consentError } : {}),
      };
    } catch (error) {
      if (error instanceof RegistreError && error.code === 'E_PERSON_NOT_FOUND') return { none: true };
      throw error;
    }
  }

  function page(
    c: UiContext,
    email: string,
    person: Person | { none: true } | undefined,
    extra: { notice?: Notice; form?: HoldForm; status?: 200 | 400 | 403 | 404 | 409 | 500 } = {},
  ) {
    const lang = langOf(c);
    const t = TEXT[lang];
    const session = c.get('session');
    const canWrite = session.caller.scope !== 'read';
    const none = person && 'none' in person;
    const notice: Notice | undefined =
      extra.notice ?? (none ? { kind: 'warn', title: t.noRecord, detail: t.noRecordDetail } : undefined);
    return render(
      c,
      {
        title: t.title,
        current: 'people',
        notice,
        children: (
          <>
            <p>{t.intro}</p>
            <SearchForm email={email} lang={lang} csrf={session.csrf} />
            {person && !('none' in person) ? (
              <PersonView
                person={person}
                form={extra.form ?? {}}
                lang={lang}
                csrf={session.csrf}
                canWrite={canWrite}
              />
            ) : null}
          </>
        ),
      },
      extra.status ?? 200,
    );
  }

  ui.get('/people', (c) => page(c, '', undefined));

  ui.post('/people', async (c) => {
    const { email = '' } = await formOf(c);
    try {
      return page(c, email, await lookUp(c, email.trim()));
    } catch (error) {
      return page(c, email, undefined, refusal(c, error));
    }
  });

  // Places a hold, then shows the person again (or the refusal, with what was typed).
  ui.post('/people/hold', async (c) => {
    const form = await formOf(c);
    const email = (form.email ?? '').trim();
    const t = TEXT[langOf(c)];
    const typed: HoldForm = {
      ...(form.target !== undefined ? { target: form.target } : {}),
      ...(form.reason !== undefined ? { reason: form.reason } : {}),
      ...(form.until !== undefined ? { until: form.until } : {}),
    };
    const target = form.target && form.target !== 'person' ? form.target : undefined;
    const split = target ? target.indexOf(':') : -1;
    try {
      const held = await use(c, engine, 'addHold', {
        ...(target && split > 0 ? { table: target.slice(0, split), id: target.slice(split + 1) } : { email }),
        reason: form.reason ?? '',
        ...(form.until ? { until: form.until } : {}),
      });
      const notice: Notice = {
        kind: 'done',
        title: t.doneHold(String(held.id), number(held.records.length, langOf(c))),
      };
      return page(c, email, await lookUp(c, email), { notice });
    } catch (error) {
      const refused = refusal(c, error);
      const person = await lookUp(c, email).catch(() => undefined);
      return page(c, email, person, { ...refused, form: typed });
    }
  });

  ui.post('/people/release', async (c) => {
    const form = await formOf(c);
    const email = (form.email ?? '').trim();
    const t = TEXT[langOf(c)];
    try {
      const released = await use(c, engine, 'releaseHold', { id: Number(form.id) });
      const notice: Notice = { kind: 'done', title: t.doneRelease(String(released.id)) };
      return page(c, email, await lookUp(c, email), { notice });
    } catch (error) {
      const refused = refusal(c, error);
      return page(c, email, await lookUp(c, email).catch(() => undefined), refused);
    }
  });
};
