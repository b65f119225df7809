/**
 * The dashboard: whether the company keeps its promises, at a glance. Records past their deadline
 * (0, or red), the deletions of the coming months as a chart and a table, the open requests
 * overdue first, the last sweep and the next, the audit log's last verification (and one now,
 * through htmx), the holds in force. One use case (overview) reads it all from what is kept.
 */
import type { AuditVerification } from '../../app/audit.js';
import type { Overview } from '../../app/overview.js';
import { BarChart } from '../chart.js';
import {
  day,
  type Lang,
  moment,
  month,
  monthName,
  number,
  REQUEST_STATUS_TEXT,
  REQUEST_TYPE_TEXT,
  REQUEST_WORDS,
} from '../i18n.js';
import { Csrf, NoticeBox } from '../layout.js';
import { type ConsolePages, langOf, render, type UiContext, use } from '../render.js';
import { Table } from '../table.js';

const TEXT = {
  fr: {
    ...REQUEST_WORDS.fr,
    title: 'Tableau de bord',
    pastDeadline: 'Données au-delà de leur durée de conservation',
    pastNone: 'Aucune : chaque durée promise est tenue.',
    pastSome: (n: string) =>
      `${n} enregistrement(s) auraient dû être supprimés ou anonymisés : la prochaine purge les traite.`,
    computedAt: (at: string) => `Compté le ${at}.`,
    byRule: 'Par règle',
    rule: 'Règle',
    table: 'Table',
    records: 'Enregistrements',
    openRequests: 'Demandes ouvertes',
    overdue: (n: string) => `dont ${n} en retard`,
    noneOverdue: 'aucune en retard',
    lastSweep: 'Dernière purge',
    noSweep: 'Aucune purge n’a encore eu lieu.',
    sweepLine: (at: string, status: string, n: string) => `${at} — ${status}, ${n} enregistrement(s) traités`,
    nextSweep: (at: string, tz: string) => `Prochaine purge planifiée : ${at} (fuseau ${tz}).`,
    noSchedule: 'Aucune purge n’est planifiée (schedule.enabled vaut false).',
    chain: 'Journal d’audit',
    chainOk: (n: string, at: string) => `Intègre : ${n} entrées vérifiées le ${at}.`,
    chainBad: (n: string, at: string) => `${n} anomalie(s) trouvée(s) le ${at} : voir Purges et journal.`,
    chainFailed: (at: string) => `La vérification du ${at} n’a pas pu aboutir.`,
    chainNever: 'Aucune vérification planifiée n’a encore eu lieu.',
    verifyNow: 'Vérifier maintenant',
    verified: (n: string) =>
      `Le journal est intègre : ${n} entrées, chaînées et conformes à leur point de contrôle.`,
    problems: (n: string) => `Le journal ne se vérifie pas : ${n} anomalie(s).`,
    holds: 'Gels en vigueur',
    breaches: 'Violations de données à décider',
    breachesOverdue: (n: string) => `dont ${n} hors du délai de 72 heures`,
    breachesOnTime: 'aucune hors délai',
    breachesLink: 'Registre des violations',
    forecast: 'Suppressions à venir, mois par mois',
    forecastDesc: (total: string) =>
      `Enregistrements atteignant leur échéance de conservation au cours des douze prochains mois, toutes règles confondues : ${total} au total.`,
    month: 'Mois',
    requestsTitle: 'Demandes ouvertes, les plus urgentes d’abord',
    noRequests: 'Aucune demande ouverte.',
    holdsTitle: 'Gels en vigueur',
    noHolds: 'Aucun gel en vigueur.',
    reason: 'Motif',
    until: 'Jusqu’au',
    untilLifted: 'levée manuelle',
    hold: 'Gel',
    done: 'terminée',
    failed: 'échouée',
    running: 'en cours',
  },
  en: {
    ...REQUEST_WORDS.en,
    title: 'Dashboard',
    pastDeadline: 'Records past their retention deadline',
    pastNone: 'None: every promised period is kept.',
    pastSome: (n: string) =>
      `${n} record(s) should have been deleted or anonymised: the next sweep handles them.`,
    computedAt: (at: string) => `Counted on ${at}.`,
    byRule: 'By rule',
    rule: 'Rule',
    table: 'Table',
    records: 'Records',
    openRequests: 'Open requests',
    overdue: (n: string) => `${n} of them overdue`,
    noneOverdue: 'none overdue',
    lastSweep: 'Last sweep',
    noSweep: 'No sweep has run yet.',
    sweepLine: (at: string, status: string, n: string) => `${at} — ${status}, ${n} record(s) changed`,
    nextSweep: (at: string, tz: string) => `Next scheduled sweep: ${at} (time zone ${tz}).`,
    noSchedule: 'No sweep is scheduled (schedule.enabled is false).',
    chain: 'Audit log',
    chainOk: (n: string, at: string) => `Whole: ${n} entries verified on ${at}.`,
    chainBad: (n: string, at: string) => `${n} problem(s) found on ${at}: see Sweeps and audit.`,
    chainFailed: (at: string) => `The verification of ${at} could not finish.`,
    chainNever: 'No scheduled verification has run yet.',
    verifyNow: 'Verify now',
    verified: (n: string) => `The log is whole: ${n} entries, chained and matching their checkpoint.`,
    problems: (n: string) => `The log does not verify: ${n} problem(s).`,
    holds: 'Holds in force',
    breaches: 'Data breaches to decide',
    breachesOverdue: (n: string) => `${n} of them past their 72 hours`,
    breachesOnTime: 'none past its deadline',
    breachesLink: 'The register of breaches',
    forecast: 'Deletions to come, month by month',
    forecastDesc: (total: string) =>
      `Records reaching the end of their retention period in each of the next twelve months, all rules together: ${total} in all.`,
    month: 'Month',
    requestsTitle: 'Open requests, the most urgent first',
    noRequests: 'No open request.',
    holdsTitle: 'Holds in force',
    noHolds: 'No hold in force.',
    reason: 'Reason',
    until: 'Until',
    untilLifted: 'released by hand',
    hold: 'Hold',
    done: 'done',
    failed: 'failed',
    running: 'running',
  },
} as const;

type T = (typeof TEXT)[Lang];

const runStatus = (t: T, status: string) =>
  status === 'done' ? t.done : status === 'failed' ? t.failed : status === 'running' ? t.running : status;

/** The audit log's last scheduled verification, in a sentence. */
function chainLine(o: Overview, t: T, lang: Lang): { text: string; bad: boolean } {
  const check = o.lastCheck;
  if (!check) return { text: t.chainNever, bad: false };
  const at = moment(check.finishedAt ?? check.claimedAt, lang);
  const audit = (check.summary?.audit ?? {}) as { entries?: number; problems?: number; code?: string };
  if (audit.code !== undefined || audit.problems === undefined) return { text: t.chainFailed(at), bad: true };
  if (audit.problems > 0) return { text: t.chainBad(number(audit.problems, lang), at), bad: true };
  return { text: t.chainOk(number(audit.entries ?? 0, lang), at), bad: false };
}

/** What a verification found, as the notice the dashboard and the audit page show. */
export function VerifyResult(props: { result: AuditVerification; lang: Lang }) {
  const t = TEXT[props.lang];
  const { result, lang } = props;
  if (result.problems.length === 0)
    return <NoticeBox notice={{ kind: 'done', title: t.verified(number(result.entries, lang)) }} />;
  return (
    <div class="notice error" role="alert">
      <p>
        <strong>{t.problems(number(result.problems.length, lang))}</strong>
      </p>
      <ul>
        {result.problems.slice(0, 20).map((p) => (
          <li>{`#${p.seq} (${p.problem}) ${p.message}`}</li>
        ))}
      </ul>
    </div>
  );
}

function Dashboard({ o, lang, csrf }: { o: Overview; lang: Lang; csrf: string }) {
  const t = TEXT[lang];
  const overdue = o.requests.filter((r) => r.overdue).length;
  const chain = chainLine(o, t, lang);
  const last = o.sweeps.last;
  const total = o.forecast.months.reduce((s, m) => s + m.records, 0);
  return (
    <>
      <div class="cards">
        <section class={`card ${o.pastDeadline.total > 0 ? 'bad' : 'good'}`} aria-labelledby="past-h">
          <h2 id="past-h">{t.pastDeadline}</h2>
          <p class="big" data-figure="past-deadline">
            {number(o.pastDeadline.total, lang)}
          </p>
          <p>{o.pastDeadline.total > 0 ? t.pastSome(number(o.pastDeadline.total, lang)) : t.pastNone}</p>
          <p class="hint">{t.computedAt(moment(o.pastDeadline.computedAt, lang))}</p>
        </section>
        <section class={`card ${overdue > 0 ? 'bad' : ''}`} aria-labelledby="req-h">
          <h2 id="req-h">{t.openRequests}</h2>
          <p class="big" data-figure="open-requests">
            {number(o.requests.length, lang)}
          </p>
          <p class={overdue > 0 ? 'bad' : ''}>
            {overdue > 0 ? t.overdue(number(overdue, lang)) : t.noneOverdue}
          </p>
        </section>
        <section class={`card ${last?.status === 'failed' ? 'bad' : ''}`} aria-labelledby="sweep-h">
          <h2 id="sweep-h">{t.lastSweep}</h2>
          <p>
            {last
              ? t.sweepLine(
                  moment(last.finishedAt ?? last.startedAt, lang),
                  runStatus(t, last.status),
                  number(Number(last.summary?.total ?? last.summary?.changed ?? 0), lang),
                )
              : t.noSweep}
          </p>
          <p class="hint">
            {o.sweeps.next ? t.nextSweep(moment(o.sweeps.next, lang), o.sweeps.timeZone) : t.noSchedule}
          </p>
        </section>
        <section class={`card ${chain.bad ? 'bad' : o.lastCheck ? 'good' : ''}`} aria-labelledby="chain-h">
          <h2 id="chain-h">{t.chain}</h2>
          <p>{chain.text}</p>
          <form
            method="post"
            action="/console/audit/verify"
            hx-post="/console/audit/verify"
            hx-target="#chain-now"
          >
            <Csrf csrf={csrf} />
            <button type="submit" class="secondary">
              {t.verifyNow}
            </button>
          </form>
          <div id="chain-now" aria-live="polite"></div>
        </section>
        <section class={`card ${o.breaches.overdue > 0 ? 'bad' : ''}`} aria-labelledby="breaches-h">
          <h2 id="breaches-h">{t.breaches}</h2>
          <p class="big" data-figure="breaches-to-decide">
            {number(o.breaches.toDecide, lang)}
          </p>
          <p class={o.breaches.overdue > 0 ? 'bad' : ''}>
            {o.breaches.overdue > 0 ? t.breachesOverdue(number(o.breaches.overdue, lang)) : t.breachesOnTime}
          </p>
          <p>
            <a href="/console/breaches">{t.breachesLink}</a>
          </p>
        </section>
        <section class="card" aria-labelledby="holds-h">
          <h2 id="holds-h">{t.holds}</h2>
          <p class="big" data-figure="holds">
            {number(o.holds.length, lang)}
          </p>
        </section>
      </div>

      <h2>{t.forecast}</h2>
      <BarChart
        id="forecast"
        lang={lang}
        title={t.forecast}
        description={t.forecastDesc(number(total, lang))}
        labelHeader={t.month}
        valueHeader={t.records}
        bars={o.forecast.months.map((m, i) => ({
          label: monthName(m.month, lang),
          ...(i === 0 || m.month.endsWith('-01') ? { sub: m.month.slice(0, 4) } : {}),
          long: month(m.month, lang),
          value: m.records,
        }))}
      />
      <p class="hint">{t.computedAt(moment(o.forecast.computedAt, lang))}</p>

      <h2>{t.requestsTitle}</h2>
      {o.requests.length === 0 ? (
        <p>{t.noRequests}</p>
      ) : (
        <Table
          columns={[
            { label: t.number },
            { label: t.type },
            { label: t.received },
            { label: t.due },
            { label: t.daysLeft, numeric: true },
            { label: t.status },
          ]}
          rowClass={(i) => (o.requests[i]?.overdue ? 'bad' : undefined)}
          rows={o.requests.map((r) => [
            <a href={`/console/requests/${r.id}`}>{`#${r.id}`}</a>,
            REQUEST_TYPE_TEXT[r.type][lang],
            day(r.received, lang),
            day(r.due, lang),
            r.overdue ? <strong>{t.late(-r.daysLeft)}</strong> : number(r.daysLeft, lang),
            REQUEST_STATUS_TEXT[r.status][lang],
          ])}
        />
      )}

      {o.pastDeadline.rules.length > 0 ? (
        <>
          <h2>{`${t.pastDeadline} — ${t.byRule}`}</h2>
          <Table
            columns={[{ label: t.rule }, { label: t.table }, { label: t.records, numeric: true }]}
            rows={o.pastDeadline.rules.map((r) => [r.rule, r.table, number(r.due, lang)])}
          />
        </>
      ) : null}

      <h2>{t.holdsTitle}</h2>
      {o.holds.length === 0 ? (
        <p>{t.noHolds}</p>
      ) : (
        <Table
          columns={[
            { label: t.hold },
            { label: t.reason },
            { label: t.until },
            { label: t.records, numeric: true },
          ]}
          rows={o.holds.map((h) => [
            `#${h.id}`,
            h.reason,
            h.until ? day(h.until, lang) : t.untilLifted,
            number(h.records.length, lang),
          ])}
        />
      )}
    </>
  );
}

export const dashboardPages: ConsolePages = (ui, engine) => {
  ui.get('/', async (c) => {
    const o = await use(c, engine, 'overview', {});
    const lang = langOf(c);
    return render(c, {
      title: TEXT[lang].title,
      current: 'dashboard',
      children: <Dashboard o={o} lang={lang} csrf={c.get('session').csrf} />,
    });
  });

  // Verifies the audit log now: a fragment for htmx, or the dashboard with the result.
  ui.post('/audit/verify', async (c: UiContext) => {
    const result = await use(c, engine, 'verifyAudit', {});
    const lang = langOf(c);
    const fragment = <VerifyResult result={result} lang={lang} />;
    if (c.req.header('hx-request')) return c.html(String(fragment));
    const o = await use(c, engine, 'overview', {});
    return render(c, {
      title: TEXT[lang].title,
      current: 'dashboard',
      children: (
        <>
          {fragment}
          <Dashboard o={o} lang={lang} csrf={c.get('session').csrf} />
        </>
      ),
    });
  });
};
