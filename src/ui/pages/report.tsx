/**
 * The inspection report: a printable page for a chosen period, written for an inspector who has
 * never seen registre. Who the controller is, what registre is, then the sweeps and what each
 * changed by rule, the requests with their dates and outcomes, the holds, the key rotations, the
 * tokens and sign-ins, and the audit log's state with the checkpoint it was verified against. The
 * form (period, language) is not printed; the header and the menu neither (style.ts).
 */
import type { InspectionReport, ReportSweepLine } from '../../app/report.js';
import { RegistreError } from '../../core/errors.js';
import { localise } from '../../core/text.js';
import { day, type Lang, moment, number, REQUEST_STATUS_TEXT, REQUEST_TYPE_TEXT } from '../i18n.js';
import { type ConsolePages, failure, langOf, render, statusOf, use } from '../render.js';
import { Table } from '../table.js';
import { runStatus } from './sweeps.js';

const TEXT = {
  fr: {
    title: 'Rapport d’inspection',
    period: 'Période',
    from: 'Du',
    to: 'Au',
    lang: 'Langue du rapport',
    show: 'Afficher le rapport',
    badPeriod:
      'Période refusée : indiquez deux jours réels (AAAA-MM-JJ), le premier au plus tard le jour du second.',
    printHint: 'Pour l’imprimer ou l’enregistrer en PDF, utilisez l’impression du navigateur (Ctrl+P).',
    intro: (org: string, from: string, to: string, at: string) =>
      `Ce rapport est établi par registre, le logiciel avec lequel ${org} applique les durées de conservation de son registre des activités de traitement (art. 30 du RGPD), traite les demandes d’exercice des droits (art. 15 à 22) et tient un journal d’audit infalsifiable. Il couvre la période du ${from} au ${to} et a été produit le ${at}.`,
    theController: 'le responsable du traitement',
    reading: 'Comment lire ce rapport',
    readSweep: 'Purge',
    readSweepText:
      'Passage automatique qui supprime, anonymise ou archive les données arrivées au terme de leur durée de conservation, règle par règle.',
    readHold: 'Gel',
    readHoldText:
      'Conservation exceptionnelle de données au-delà de leur durée (contentieux, limitation art. 18) : la purge n’y touche pas tant que le gel est en vigueur.',
    readHash: 'Empreinte',
    readHashText:
      'Une personne n’apparaît que par l’empreinte (HMAC) de son adresse : ce rapport ne contient aucune donnée personnelle.',
    readChain: 'Journal d’audit',
    readChainText:
      'Chaque action y est enregistrée, chaînée à la précédente et scellée par une clé ; un point de contrôle conservé dans une autre base permet de détecter une entrée modifiée, supprimée ou un journal tronqué.',
    controller: 'Responsable du traitement',
    name: 'Nom',
    legalForm: 'Forme juridique',
    registration: 'Immatriculation',
    address: 'Adresse',
    authority: 'Autorité de contrôle',
    noController: 'Le registre ne nomme pas l’organisation.',
    sweeps: 'Purges de la période',
    noSweeps: 'Aucune purge pendant la période.',
    run: 'Purge',
    dayApplied: 'Jour appliqué',
    status: 'État',
    started: 'Début',
    finished: 'Fin',
    by: 'Par',
    changed: 'Enregistrements traités',
    skipped: 'Non traités',
    sweptByRule: 'Ce que les purges ont changé, par règle (toute la période)',
    whatChanged: (run: string) => `Ce qu’a changé la purge ${run}`,
    rule: 'Règle',
    table: 'Table',
    action: 'Action',
    records: 'Enregistrements',
    nothingChanged: 'Aucune donnée n’était à traiter.',
    requests: 'Demandes d’exercice des droits',
    noRequests: 'Aucune demande pendant la période.',
    number: 'N°',
    type: 'Type',
    person: 'Personne (empreinte)',
    received: 'Reçue le',
    due: 'Échéance',
    closed: 'Close le',
    outcome: 'Issue',
    extended: (n: string) => `prolongée de ${n} mois`,
    late: 'hors délai',
    inTime: 'dans les délais',
    open: '—',
    holds: 'Gels posés et levés',
    noHolds: 'Aucun gel en vigueur pendant la période.',
    hold: 'Gel',
    reason: 'Motif',
    placed: 'Posé le',
    released: 'Levé le',
    until: 'Jusqu’au',
    notReleased: 'en vigueur',
    noEnd: 'levée manuelle',
    tables: 'Tables',
    keys: 'Rotations de la clé du journal',
    noKeys: 'Aucune rotation de clé pendant la période.',
    entry: 'Entrée',
    date: 'Date',
    fromKey: 'Ancienne clé',
    toKey: 'Nouvelle clé',
    linkedAt: 'Liée à l’entrée',
    accepted: 'Journal accepté en l’état par le DPO',
    acceptedText: (n: string) => `${n} anomalie(s) constatée(s) et consignée(s)`,
    access: 'Jetons d’accès et connexions à la console',
    noAccess: 'Aucun jeton créé ou révoqué, aucune connexion à la console pendant la période.',
    event: 'Événement',
    tokenName: 'Jeton',
    scope: 'Droits',
    created: 'création',
    revoked: 'révocation',
    signIns: 'Connexions à la console',
    count: 'Nombre',
    first: 'Première',
    last: 'Dernière',
    chain: 'État du journal d’audit',
    whole: 'Le journal est intègre : chaque entrée est chaînée, scellée et conforme au point de contrôle.',
    broken: (n: string) => `Le journal ne se vérifie pas : ${n} anomalie(s).`,
    verifiedAt: 'Vérifié le',
    entries: 'Entrées',
    checkpoint: 'Point de contrôle',
    checkpointText: (seq: string) => `entrée n° ${seq}`,
    checkpointHash: 'Empreinte de l’entrée',
    signature: 'Signature du point de contrôle',
    valid: 'valide',
    invalid: 'invalide',
    unknownKey: 'clé non disponible ici',
    noCheckpoint: 'aucun point de contrôle',
    problems: 'Anomalies',
    warnings: 'Réserves',
    actions: {
      delete: 'suppression',
      anonymise: 'anonymisation',
      archive: 'archivage',
      'archive-delete': 'suppression de l’archive',
    },
  },
  en: {
    title: 'Inspection report',
    period: 'Period',
    from: 'From',
    to: 'To',
    lang: "The report's language",
    show: 'Show the report',
    badPeriod: 'The period is refused: give two real days (YYYY-MM-DD), the first on or before the second.',
    printHint: "To print it or save it as PDF, use the browser's print (Ctrl+P).",
    intro: (org: string, from: string, to: string, at: string) =>
      `This report is made by registre, the software with which ${org} enforces the retention periods of its record of processing activities (GDPR art. 30), handles people's requests to exercise their rights (art. 15 to 22) and keeps a tamper-evident audit log. It covers ${from} to ${to} and was produced on ${at}.`,
    theController: 'the controller',
    reading: 'How to read this report',
    readSweep: 'Sweep',
    readSweepText:
      'An automatic pass that deletes, anonymises or archives the data whose retention period has ended, rule by rule.',
    readHold: 'Hold',
    readHoldText:
      'Data kept beyond its period for a reason (litigation, a restriction under art. 18): no sweep touches it while the hold is in force.',
    readHash: 'Keyed hash',
    readHashText:
      'A person appears only as the keyed hash (HMAC) of their address: this report holds no personal data.',
    readChain: 'Audit log',
    readChainText:
      'Every action is written to it, chained to the one before and sealed with a key; a checkpoint kept in another database reveals an entry edited or deleted, or a log cut short.',
    controller: 'The controller',
    name: 'Name',
    legalForm: 'Legal form',
    registration: 'Registration',
    address: 'Address',
    authority: 'Supervisory authority',
    noController: 'The register does not name the organisation.',
    sweeps: 'Sweeps of the period',
    noSweeps: 'No sweep ran during the period.',
    run: 'Sweep',
    dayApplied: 'Day applied',
    status: 'Status',
    started: 'Started',
    finished: 'Finished',
    by: 'By',
    changed: 'Records changed',
    skipped: 'Left',
    sweptByRule: 'What the sweeps changed, by rule (the whole period)',
    whatChanged: (run: string) => `What sweep ${run} changed`,
    rule: 'Rule',
    table: 'Table',
    action: 'Action',
    records: 'Records',
    nothingChanged: 'No data was due.',
    requests: "People's requests",
    noRequests: 'No request during the period.',
    number: 'No.',
    type: 'Type',
    person: 'Person (keyed hash)',
    received: 'Received',
    due: 'Due',
    closed: 'Closed',
    outcome: 'Outcome',
    extended: (n: string) => `extended by ${n} month(s)`,
    late: 'late',
    inTime: 'in time',
    open: '—',
    holds: 'Holds placed and released',
    noHolds: 'No hold was in force during the period.',
    hold: 'Hold',
    reason: 'Reason',
    placed: 'Placed',
    released: 'Released',
    until: 'Until',
    notReleased: 'in force',
    noEnd: 'released by hand',
    tables: 'Tables',
    keys: "Rotations of the log's key",
    noKeys: 'No key rotation during the period.',
    entry: 'Entry',
    date: 'Date',
    fromKey: 'Old key',
    toKey: 'New key',
    linkedAt: 'Linked to entry',
    accepted: 'Log accepted as it was by the DPO',
    acceptedText: (n: string) => `${n} problem(s) found and recorded`,
    access: 'Access tokens and console sign-ins',
    noAccess: 'No token created or revoked, no console sign-in during the period.',
    event: 'Event',
    tokenName: 'Token',
    scope: 'Scope',
    created: 'created',
    revoked: 'revoked',
    signIns: 'Console sign-ins',
    count: 'Count',
    first: 'First',
    last: 'Last',
    chain: "The audit log's state",
    whole: 'The log is whole: every entry is chained, sealed and matches the checkpoint.',
    broken: (n: string) => `The log does not verify: ${n} problem(s).`,
    verifiedAt: 'Verified on',
    entries: 'Entries',
    checkpoint: 'Checkpoint',
    checkpointText: (seq: string) => `entry no. ${seq}`,
    checkpointHash: "The entry's hash",
    signature: "The checkpoint's signature",
    valid: 'valid',
    invalid: 'invalid',
    unknownKey: 'key not available here',
    noCheckpoint: 'no checkpoint',
    problems: 'Problems',
    warnings: 'Reservations',
    actions: {
      delete: 'deletion',
      anonymise: 'anonymisation',
      archive: 'archiving',
      'archive-delete': 'deletion from the archive',
    },
  },
} as const;

type T = (typeof TEXT)[Lang];

/** The first characters of a hash: enough to find it in the log, short enough to read. */
const short = (hash: string) => (hash.length > 16 ? `${hash.slice(0, 16)}…` : hash);

function LinesTable({
  lines,
  t,
  lang,
  caption,
}: {
  lines: readonly ReportSweepLine[];
  t: T;
  lang: Lang;
  caption?: string;
}) {
  return (
    <Table
      {...(caption ? { caption } : {})}
      columns={[
        { label: t.rule },
        { label: t.table },
        { label: t.action },
        { label: t.records, numeric: true },
      ]}
      rows={lines.map((l) => [l.rule, l.table, t.actions[l.action] ?? l.action, number(l.count, lang)])}
    />
  );
}

function Report({ r, lang }: { r: InspectionReport; lang: Lang }) {
  const t = TEXT[lang];
  const org = r.controller;
  const when = (iso: string | null) => (iso ? moment(iso, lang) : t.open);
  const changed = r.sweeps.filter((s) => s.lines.some((l) => l.count > 0));
  return (
    <article class="report" id="report">
      <p>
        {t.intro(
          org?.name ?? t.theController,
          day(r.period.from, lang),
          day(r.period.to, lang),
          moment(r.generatedAt, lang),
        )}
      </p>

      <h2>{t.controller}</h2>
      {org ? (
        <dl class="facts">
          <dt>{t.name}</dt>
          <dd>{org.name}</dd>
          {org.legalForm ? (
            <>
              <dt>{t.legalForm}</dt>
              <dd>{org.legalForm}</dd>
            </>
          ) : null}
          {org.registration ? (
            <>
              <dt>{t.registration}</dt>
              <dd>{localise(org.registration, lang)}</dd>
            </>
          ) : null}
          {org.address ? (
            <>
              <dt>{t.address}</dt>
              <dd>{localise(org.address, lang)}</dd>
            </>
          ) : null}
          {org.supervisoryAuthority ? (
            <>
              <dt>{t.authority}</dt>
              <dd>{org.supervisoryAuthority}</dd>
            </>
          ) : null}
          <dt>{t.period}</dt>
          <dd>{`${day(r.period.from, lang)} — ${day(r.period.to, lang)}`}</dd>
        </dl>
      ) : (
        <p>{t.noController}</p>
      )}

      <h2>{t.reading}</h2>
      <dl class="facts">
        <dt>{t.readSweep}</dt>
        <dd>{t.readSweepText}</dd>
        <dt>{t.readHold}</dt>
        <dd>{t.readHoldText}</dd>
        <dt>{t.readHash}</dt>
        <dd>{t.readHashText}</dd>
        <dt>{t.readChain}</dt>
        <dd>{t.readChainText}</dd>
      </dl>

      <h2 id="sweeps-h">{t.sweeps}</h2>
      {r.sweeps.length === 0 ? (
        <p>{t.noSweeps}</p>
      ) : (
        <>
          <Table
            id="report-sweeps"
            columns={[
              { label: t.run },
              { label: t.dayApplied },
              { label: t.status },
              { label: t.started },
              { label: t.finished },
              { label: t.by },
              { label: t.changed, numeric: true },
              { label: t.skipped, numeric: true },
            ]}
            rowClass={(i) => (r.sweeps[i]?.status === 'failed' ? 'bad' : undefined)}
            rows={r.sweeps.map((s) => [
              `#${s.run}`,
              day(s.at, lang),
              s.code ? `${runStatus(s.status, lang)} (${s.code})` : runStatus(s.status, lang),
              moment(s.startedAt, lang),
              when(s.finishedAt),
              s.actor ?? '—',
              number(s.total, lang),
              number(s.skipped, lang),
            ])}
          />
          {changed.length === 0 ? <p>{t.nothingChanged}</p> : null}
          {changed.length > 1 ? (
            <LinesTable lines={r.sweptByRule} t={t} lang={lang} caption={t.sweptByRule} />
          ) : null}
          {changed.map((s) => (
            <section class="sweep" data-run={s.run} aria-label={t.whatChanged(`#${s.run}`)}>
              <h3>{`${t.whatChanged(`#${s.run}`)} — ${day(s.at, lang)}`}</h3>
              <LinesTable lines={s.lines.filter((l) => l.count > 0)} t={t} lang={lang} />
            </section>
          ))}
        </>
      )}

      <h2>{t.requests}</h2>
      {r.requests.length === 0 ? (
        <p>{t.noRequests}</p>
      ) : (
        <Table
          id="report-requests"
          columns={[
            { label: t.number },
            { label: t.type },
            { label: t.person },
            { label: t.received },
            { label: t.due },
            { label: t.closed },
            { label: t.outcome },
          ]}
          rowClass={(i) => (r.requests[i]?.late ? 'bad' : undefined)}
          rows={r.requests.map((q) => [
            `#${q.id}`,
            REQUEST_TYPE_TEXT[q.type][lang],
            <code title={q.person}>{short(q.person)}</code>,
            day(q.received, lang),
            q.extendedMonths
              ? `${day(q.due, lang)} (${t.extended(number(q.extendedMonths, lang))})`
              : day(q.due, lang),
            q.closed ? day(q.closed, lang) : t.open,
            `${REQUEST_STATUS_TEXT[q.status][lang]}, ${q.late ? t.late : t.inTime}`,
          ])}
        />
      )}

      <h2>{t.holds}</h2>
      {r.holds.length === 0 ? (
        <p>{t.noHolds}</p>
      ) : (
        <Table
          id="report-holds"
          columns={[
            { label: t.hold },
            { label: t.reason },
            { label: t.placed },
            { label: t.released },
            { label: t.until },
            { label: t.records, numeric: true },
            { label: t.tables },
            { label: t.by },
          ]}
          rows={r.holds.map((h) => [
            `#${h.id}`,
            h.reason,
            moment(h.placed, lang),
            h.released ? moment(h.released, lang) : t.notReleased,
            h.until ? day(h.until, lang) : t.noEnd,
            number(h.records, lang),
            h.tables.join(', '),
            h.actor ?? '—',
          ])}
        />
      )}

      <h2>{t.keys}</h2>
      {r.keyRotations.length === 0 ? (
        <p>{t.noKeys}</p>
      ) : (
        <Table
          id="report-keys"
          columns={[
            { label: t.entry },
            { label: t.date },
            { label: t.fromKey },
            { label: t.toKey },
            { label: t.linkedAt },
            { label: t.by },
          ]}
          rows={r.keyRotations.map((k) => [
            `#${k.seq}`,
            moment(k.at, lang),
            <code>{k.from}</code>,
            <code>{k.to}</code>,
            k.head ? `#${k.head.seq}` : '—',
            k.actor ?? '—',
          ])}
        />
      )}
      {r.acceptedHeads.length ? (
        <Table
          caption={t.accepted}
          columns={[{ label: t.entry }, { label: t.date }, { label: t.problems }, { label: t.by }]}
          rows={r.acceptedHeads.map((a) => [
            `#${a.seq}`,
            moment(a.at, lang),
            t.acceptedText(number(a.problems, lang)),
            a.actor ?? '—',
          ])}
        />
      ) : null}

      <h2>{t.access}</h2>
      {r.tokens.length === 0 && r.signIns.length === 0 ? <p>{t.noAccess}</p> : null}
      {r.tokens.length ? (
        <Table
          id="report-tokens"
          columns={[
            { label: t.entry },
            { label: t.date },
            { label: t.event },
            { label: t.tokenName },
            { label: t.scope },
            { label: t.by },
          ]}
          rows={r.tokens.map((e) => [
            `#${e.seq}`,
            moment(e.at, lang),
            e.kind === 'token.create' ? t.created : t.revoked,
            e.name,
            e.scope ?? '—',
            e.actor ?? '—',
          ])}
        />
      ) : null}
      {r.signIns.length ? (
        <Table
          id="report-signins"
          caption={t.signIns}
          columns={[
            { label: t.tokenName },
            { label: t.count, numeric: true },
            { label: t.first },
            { label: t.last },
          ]}
          rows={r.signIns.map((s) => [
            s.actor,
            number(s.count, lang),
            moment(s.first, lang),
            moment(s.last, lang),
          ])}
        />
      ) : null}

      <h2>{t.chain}</h2>
      <div class={`notice ${r.chain.whole ? 'done' : 'error'}`} id="report-chain">
        <p>
          <strong>{r.chain.whole ? t.whole : t.broken(number(r.chain.problems.length, lang))}</strong>
        </p>
      </div>
      <dl class="facts">
        <dt>{t.verifiedAt}</dt>
        <dd>{moment(r.chain.verifiedAt, lang)}</dd>
        <dt>{t.entries}</dt>
        <dd data-figure="entries">{number(r.chain.entries, lang)}</dd>
        <dt>{t.checkpoint}</dt>
        <dd data-figure="checkpoint-seq">
          {r.chain.checkpoint ? t.checkpointText(number(r.chain.checkpoint.seq, lang)) : t.noCheckpoint}
        </dd>
        {r.chain.checkpoint ? (
          <>
            <dt>{t.checkpointHash}</dt>
            <dd>
              <code class="hash" data-figure="checkpoint-hash">
                {r.chain.checkpoint.hash}
              </code>
            </dd>
            <dt>{t.signature}</dt>
            <dd>
              {r.chain.checkpoint.valid === null
                ? t.unknownKey
                : r.chain.checkpoint.valid
                  ? t.valid
                  : t.invalid}
            </dd>
          </>
        ) : null}
      </dl>
      {r.chain.problems.length ? (
        <>
          <h3>{t.problems}</h3>
          <ul>
            {r.chain.problems.map((p) => (
              <li>{`#${p.seq} (${p.problem}) ${p.message}`}</li>
            ))}
          </ul>
        </>
      ) : null}
      {r.chain.warnings.length ? (
        <>
          <h3>{t.warnings}</h3>
          <ul>
            {r.chain.warnings.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </>
      ) : null}
    </article>
  );
}

/** The period's form: the two days and the language; sent by GET (nothing personal in it). */
function PeriodForm(props: { from: string; to: string; lang: Lang }) {
  const t = TEXT[props.lang];
  return (
    <form class="row no-print" method="get" action="/console/report">
      <div>
        <label for="from">{t.from}</label>
        <br />
        <input id="from" name="from" type="date" value={props.from} required />
      </div>
      <div>
        <label for="to">{t.to}</label>
        <br />
        <input id="to" name="to" type="date" value={props.to} required />
      </div>
      <div>
        <label for="report-lang">{t.lang}</label>
        <br />
        <select id="report-lang" name="lang">
          <option value="fr" lang="fr" {...(props.lang === 'fr' ? { selected: true } : {})}>
            Français
          </option>
          <option value="en" lang="en" {...(props.lang === 'en' ? { selected: true } : {})}>
            English
          </option>
        </select>
      </div>
      <button type="submit">{t.show}</button>
    </form>
  );
}

export const reportPages: ConsolePages = (ui, engine) => {
  ui.get('/report', async (c) => {
    const lang = langOf(c);
    const t = TEXT[lang];
    const asked = { from: c.req.query('from') ?? '', to: c.req.query('to') ?? '' };
    const input = {
      ...(asked.from ? { from: asked.from } : {}),
      ...(asked.to ? { to: asked.to } : {}),
    };
    try {
      const report = await use(c, engine, 'inspectionReport', input);
      return render(c, {
        title: t.title,
        current: 'sweeps',
        children: (
          <>
            <PeriodForm from={report.period.from} to={report.period.to} lang={lang} />
            <p class="hint no-print">{t.printHint}</p>
            <Report r={report} lang={lang} />
          </>
        ),
      });
    } catch (error) {
      if (!(error instanceof RegistreError)) throw error;
      return render(
        c,
        {
          title: t.title,
          current: 'sweeps',
          notice:
            error.code === 'E_USAGE'
              ? { kind: 'error', title: t.badPeriod, detail: `${error.message} (${error.code})` }
              : failure(c, error),
          children: <PeriodForm from={asked.from} to={asked.to} lang={lang} />,
        },
        statusOf(error),
      );
    }
  });
};
