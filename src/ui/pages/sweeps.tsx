/**
 * Sweeps and audit: the sweep runs (each with its day, status, times and what it changed by rule),
 * the scheduled runs, the preview of the next sweep by rule (today's kept plan figures: a dry run
 * would count the whole shop), and the audit log: verified now (the dashboard's route) or exported
 * as NDJSON. The inspection report is one link away.
 */
import type { SweepAction, SweepRun } from '../../core/retention/results.js';
import { day, type Lang, moment, number, type Text } from '../i18n.js';
import { Csrf } from '../layout.js';
import { type ConsolePages, langOf, render, use } from '../render.js';
import { Table } from '../table.js';

/** How many sweep runs the page lists (newest first). */
const RUNS_SHOWN = 20;
const SCHEDULED_SHOWN = 15;

/** What each sweep action is called. */
const ACTION_TEXT: Readonly<Record<SweepAction, Text>> = {
  delete: { fr: 'supprimés', en: 'deleted' },
  anonymise: { fr: 'anonymisés', en: 'anonymised' },
  archive: { fr: 'archivés', en: 'archived' },
  'archive-delete': { fr: 'supprimés de l’archive', en: 'deleted from the archive' },
};

/** What each status of a run (a sweep's, a scheduled job's) is called. */
const RUN_STATUS_TEXT: Readonly<Record<string, Text>> = {
  done: { fr: 'terminée', en: 'done' },
  failed: { fr: 'échouée', en: 'failed' },
  running: { fr: 'en cours', en: 'running' },
  died: { fr: 'interrompue', en: 'interrupted' },
  claimed: { fr: 'réservée', en: 'claimed' },
};

export const runStatus = (status: string, lang: Lang) => RUN_STATUS_TEXT[status]?.[lang] ?? status;

const JOB_TEXT: Readonly<Record<string, Text>> = {
  sweep: { fr: 'purge', en: 'sweep' },
  check: { fr: 'vérification', en: 'check' },
  reminders: { fr: 'relances', en: 'reminders' },
};

const TEXT = {
  fr: {
    title: 'Purges et journal',
    runs: 'Purges effectuées',
    runsHint: (n: string) => `Les ${n} dernières, les plus récentes d’abord.`,
    noRuns: 'Aucune purge n’a encore eu lieu.',
    run: 'Purge',
    day: 'Jour appliqué',
    status: 'État',
    started: 'Début',
    finished: 'Fin',
    changed: 'Enregistrements traités',
    detail: 'Par règle',
    nothing: 'rien à traiter',
    line: (rule: string, table: string, n: string, action: string) => `${rule} (${table}) : ${n} ${action}`,
    scheduled: 'Tâches planifiées',
    noScheduled: 'Aucune tâche planifiée n’a encore tourné.',
    job: 'Tâche',
    attempts: 'Essais',
    preview: 'Aperçu de la prochaine purge',
    previewHint: (at: string) =>
      `Ce que chaque règle rendrait échu aujourd’hui, selon les chiffres comptés le ${at} (les enregistrements gelés ou limités restent).`,
    rule: 'Règle',
    table: 'Table',
    due: 'À traiter',
    held: 'Gelés',
    restricted: 'Limités (art. 18)',
    total: 'Total',
    audit: 'Journal d’audit',
    auditHint:
      'Chaque action de registre y est chaînée et scellée. La vérification relit tout le journal et le compare à son point de contrôle.',
    verifyNow: 'Vérifier maintenant',
    export: 'Exporter le journal (NDJSON)',
    report: 'Rapport d’inspection',
    reportHint: 'Pour une période choisie, un document imprimable à remettre à la CNIL.',
    openReport: 'Ouvrir le rapport d’inspection',
  },
  en: {
    title: 'Sweeps and audit',
    runs: 'Sweep runs',
    runsHint: (n: string) => `The last ${n}, newest first.`,
    noRuns: 'No sweep has run yet.',
    run: 'Sweep',
    day: 'Day applied',
    status: 'Status',
    started: 'Started',
    finished: 'Finished',
    changed: 'Records changed',
    detail: 'By rule',
    nothing: 'nothing to change',
    line: (rule: string, table: string, n: string, action: string) => `${rule} (${table}): ${n} ${action}`,
    scheduled: 'Scheduled runs',
    noScheduled: 'No scheduled job has run yet.',
    job: 'Job',
    attempts: 'Attempts',
    preview: 'Preview of the next sweep',
    previewHint: (at: string) =>
      `What each rule would make due today, by the figures counted on ${at} (held or restricted records stay).`,
    rule: 'Rule',
    table: 'Table',
    due: 'To change',
    held: 'Held',
    restricted: 'Restricted (art. 18)',
    total: 'Total',
    audit: 'Audit log',
    auditHint:
      'Every action of registre is chained and sealed in it. Verifying reads the whole log again and compares it with its checkpoint.',
    verifyNow: 'Verify now',
    export: 'Export the log (NDJSON)',
    report: 'Inspection report',
    reportHint: 'For a chosen period, a printable document to hand to the supervisory authority.',
    openReport: 'Open the inspection report',
  },
} as const;

/** A run's lines (what it changed by rule) from its summary. */
function linesOf(run: SweepRun): { rule: string; table: string; action: SweepAction; count: number }[] {
  const lines = run.summary?.lines;
  return Array.isArray(lines)
    ? (lines as { rule: string; table: string; action: SweepAction; count: number }[])
    : [];
}

export const sweepsPages: ConsolePages = (ui, engine) => {
  ui.get('/sweeps', async (c) => {
    const lang = langOf(c);
    const t = TEXT[lang];
    const [status, scheduled, plan] = [
      await use(c, engine, 'status', { runs: RUNS_SHOWN }),
      await use(c, engine, 'listScheduledRuns', { limit: SCHEDULED_SHOWN }),
      await use(c, engine, 'planFigures', {}),
    ];
    const due = plan.rules.filter((r) => r.due > 0 || r.held > 0 || r.restricted > 0);
    return render(c, {
      title: t.title,
      current: 'sweeps',
      children: (
        <>
          <h2>{t.runs}</h2>
          {status.runs.length === 0 ? (
            <p>{t.noRuns}</p>
          ) : (
            <>
              <p class="hint">{t.runsHint(number(RUNS_SHOWN, lang))}</p>
              <Table
                id="runs"
                columns={[
                  { label: t.run },
                  { label: t.day },
                  { label: t.status },
                  { label: t.started },
                  { label: t.finished },
                  { label: t.changed, numeric: true },
                  { label: t.detail },
                ]}
                rowClass={(i) => (status.runs[i]?.status === 'failed' ? 'bad' : undefined)}
                rows={status.runs.map((r) => {
                  const lines = linesOf(r).filter((l) => l.count > 0);
                  return [
                    `#${r.id}`,
                    day(r.at, lang),
                    runStatus(r.status, lang),
                    moment(r.startedAt, lang),
                    r.finishedAt ? moment(r.finishedAt, lang) : '—',
                    <span data-run-total={r.id}>{number(Number(r.summary?.total ?? 0), lang)}</span>,
                    lines.length === 0 ? (
                      <span class="muted">{t.nothing}</span>
                    ) : (
                      <ul class="plain">
                        {lines.map((l) => (
                          <li>
                            {t.line(
                              l.rule,
                              l.table,
                              number(l.count, lang),
                              ACTION_TEXT[l.action]?.[lang] ?? l.action,
                            )}
                          </li>
                        ))}
                      </ul>
                    ),
                  ];
                })}
              />
            </>
          )}

          <h2>{t.preview}</h2>
          <p class="hint">{t.previewHint(moment(plan.figures.computedAt, lang))}</p>
          <Table
            id="preview"
            columns={[
              { label: t.rule },
              { label: t.table },
              { label: t.due, numeric: true },
              { label: t.held, numeric: true },
              { label: t.restricted, numeric: true },
            ]}
            rows={[
              ...due.map((r) => [
                r.rule,
                r.table,
                number(r.due, lang),
                number(r.held, lang),
                number(r.restricted, lang),
              ]),
              [
                <strong>{t.total}</strong>,
                '',
                <strong data-figure="preview-due">{number(plan.totals.due, lang)}</strong>,
                number(plan.totals.held, lang),
                number(plan.totals.restricted, lang),
              ],
            ]}
          />

          <h2>{t.scheduled}</h2>
          {scheduled.length === 0 ? (
            <p>{t.noScheduled}</p>
          ) : (
            <Table
              id="scheduled"
              columns={[
                { label: t.job },
                { label: t.day },
                { label: t.status },
                { label: t.started },
                { label: t.finished },
                { label: t.attempts, numeric: true },
              ]}
              rows={scheduled.map((s) => [
                JOB_TEXT[s.job]?.[lang] ?? s.job,
                day(s.day, lang),
                runStatus(s.status, lang),
                moment(s.startedAt ?? s.claimedAt, lang),
                s.finishedAt ? moment(s.finishedAt, lang) : '—',
                number(s.attempts, lang),
              ])}
            />
          )}

          <h2>{t.audit}</h2>
          <p>{t.auditHint}</p>
          <div class="actions">
            <form
              method="post"
              action="/console/audit/verify"
              hx-post="/console/audit/verify"
              hx-target="#verify-now"
            >
              <Csrf csrf={c.get('session').csrf} />
              <button type="submit">{t.verifyNow}</button>
            </form>
            <a class="button secondary" href="/console/audit/export" download>
              {t.export}
            </a>
          </div>
          <div id="verify-now" aria-live="polite"></div>

          <h2>{t.report}</h2>
          <p>{t.reportHint}</p>
          <p>
            <a href="/console/report">{t.openReport}</a>
          </p>
        </>
      ),
    });
  });

  // The whole audit log as a download, one JSON entry per line.
  ui.get('/audit/export', async (c) => {
    const text = await use(c, engine, 'exportAudit', {});
    return c.body(text, 200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="registre-audit-${engine.today()}.ndjson"`,
      'cache-control': 'no-store',
    });
  });
};
