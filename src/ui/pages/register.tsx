/**
 * The register: the organisation, each activity with its purposes (legal basis) and the retention
 * rules of its records in words, the register's validation issues, and the documents made from
 * it (the notice, the art. 30 records, the DPV export), each viewable or downloadable.
 */

import { describeRule } from '../../core/documents/describe-rule.js';
import { LEGAL_BASIS_LABELS, label } from '../../core/documents/labels.js';
import type { Issue } from '../../core/issues.js';
import type { Register } from '../../core/register/register-load.js';
import { localise } from '../../core/text.js';
import { sendFile } from '../../http/shared.js';
import type { Lang } from '../i18n.js';
import { type ConsolePages, langOf, render, use } from '../render.js';
import { Table } from '../table.js';

const TEXT = {
  fr: {
    title: 'Registre des traitements',
    organisation: 'Responsable du traitement',
    dpo: 'Délégué à la protection des données',
    issues: 'Contrôle du registre',
    valid: 'Le registre est valide : aucune erreur, aucun avertissement.',
    issueCount: (e: number, w: number) => `${e} erreur(s), ${w} avertissement(s).`,
    severity: 'Gravité',
    code: 'Code',
    message: 'Message',
    where: 'Où',
    error: 'erreur',
    warning: 'avertissement',
    activities: 'Activités de traitement',
    role: 'Rôle : ',
    controller: 'responsable du traitement',
    processor: 'sous-traitant',
    purpose: 'Finalité',
    basis: 'Base légale',
    rules: 'Durées de conservation',
    rule: 'Règle',
    retention: 'Conservation',
    noRules: 'Aucune règle de conservation ne porte sur les finalités de cette activité.',
    documents: 'Documents produits à partir du registre',
    document: 'Document',
    view: 'Afficher',
    download: 'Télécharger',
    state: 'État',
    draft: 'Brouillon : des éléments restent à compléter',
    ready: 'Prêt à publier',
    noDocuments: 'Aucun document ne peut être produit tant que le registre a des erreurs.',
  },
  en: {
    title: 'Register of processing activities',
    organisation: 'Controller',
    dpo: 'Data protection officer',
    issues: "The register's check",
    valid: 'The register is valid: no error, no warning.',
    issueCount: (e: number, w: number) => `${e} error(s), ${w} warning(s).`,
    severity: 'Severity',
    code: 'Code',
    message: 'Message',
    where: 'Where',
    error: 'error',
    warning: 'warning',
    activities: 'Processing activities',
    role: 'Role: ',
    controller: 'controller',
    processor: 'processor',
    purpose: 'Purpose',
    basis: 'Legal basis',
    rules: 'Retention periods',
    rule: 'Rule',
    retention: 'Retention',
    noRules: "No retention rule bears on this activity's purposes.",
    documents: 'Documents made from the register',
    document: 'Document',
    view: 'View',
    download: 'Download',
    state: 'State',
    draft: 'Draft: placeholders left to fill in',
    ready: 'Ready to publish',
    noDocuments: 'No document can be made while the register has errors.',
  },
} as const;

/** What a document is, by its file name. */
function documentTitle(name: string, lang: Lang): string {
  const fr = lang === 'fr';
  const docLang = /\.(fr|en)\./.exec(name)?.[1];
  const inLang = docLang
    ? fr
      ? ` (${docLang === 'fr' ? 'français' : 'anglais'})`
      : ` (${docLang === 'fr' ? 'French' : 'English'})`
    : '';
  const kind = name.split('.').pop()?.toUpperCase() ?? '';
  if (name.startsWith('privacy-notice'))
    return `${fr ? 'Politique de confidentialité' : 'Privacy notice'}${inLang}, ${kind}`;
  if (name.startsWith('art30-controller'))
    return `${fr ? 'Registre art. 30 — responsable du traitement' : 'Art. 30 record — controller'}${inLang}, ${kind}`;
  if (name.startsWith('art30-processor'))
    return `${fr ? 'Registre art. 30 — sous-traitant' : 'Art. 30 record — processor'}${inLang}, ${kind}`;
  if (name.startsWith('art30.')) return `${fr ? 'Registres art. 30' : 'Art. 30 records'}${inLang}, ${kind}`;
  if (name.endsWith('.jsonld')) return fr ? 'Export W3C DPV (JSON-LD)' : 'W3C DPV export (JSON-LD)';
  return name;
}

function Issues({ issues, lang }: { issues: readonly Issue[]; lang: Lang }) {
  const t = TEXT[lang];
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (issues.length === 0) return <p class="good">{t.valid}</p>;
  return (
    <>
      <p class={errors > 0 ? 'bad' : ''}>{t.issueCount(errors, issues.length - errors)}</p>
      <Table
        columns={[{ label: t.severity }, { label: t.code }, { label: t.message }, { label: t.where }]}
        rowClass={(i) => (issues[i]?.severity === 'error' ? 'bad' : undefined)}
        rows={issues.map((i) => [
          i.severity === 'error' ? t.error : t.warning,
          <code>{i.code}</code>,
          i.message,
          [i.file, i.path.join('.')].filter(Boolean).join(' '),
        ])}
      />
    </>
  );
}

function Activities({ register, lang }: { register: Register; lang: Lang }) {
  const t = TEXT[lang];
  return (
    <>
      {register.activities.map((a) => {
        const purposes = new Set(a.purposes.map((p) => p.id));
        const rules = register.retention.filter((r) => r.purposes.some((p) => purposes.has(p)));
        return (
          <section aria-labelledby={`activity-${a.id}`}>
            <h3 id={`activity-${a.id}`}>{`${a.ref ? `${a.ref} — ` : ''}${localise(a.name, lang)}`}</h3>
            <p>
              {t.role}
              {a.role === 'controller' ? t.controller : t.processor}
              {a.description ? ` — ${localise(a.description, lang)}` : ''}
            </p>
            <Table
              columns={[{ label: t.purpose }, { label: t.basis }]}
              rows={a.purposes.map((p) => [
                localise(p.name, lang),
                label(LEGAL_BASIS_LABELS, p.legalBasis, lang),
              ])}
            />
            {rules.length === 0 ? (
              <p class="muted">{t.noRules}</p>
            ) : (
              <Table
                caption={t.rules}
                columns={[{ label: t.rule }, { label: t.retention }]}
                rows={rules.map((r) => [<code>{r.id}</code>, describeRule(register, r, lang)])}
              />
            )}
          </section>
        );
      })}
    </>
  );
}

export const registerPages: ConsolePages = (ui, engine) => {
  ui.get('/register', async (c) => {
    const lang = langOf(c);
    const t = TEXT[lang];
    const { register, issues } = await use(c, engine, 'showRegister', {});
    const errors = issues.some((i) => i.severity === 'error');
    const { names, drafts } = errors ? { names: [], drafts: [] } : await use(c, engine, 'listDocuments', {});
    const org = register?.organisation;
    return render(c, {
      title: t.title,
      current: 'register',
      children: (
        <>
          {org ? (
            <dl class="facts">
              <dt>{t.organisation}</dt>
              <dd>{org.name}</dd>
              {org.dpo ? (
                <>
                  <dt>{t.dpo}</dt>
                  <dd>{[localise(org.dpo.name, lang), org.dpo.email].filter(Boolean).join(', ')}</dd>
                </>
              ) : null}
            </dl>
          ) : null}
          <h2>{t.documents}</h2>
          {names.length === 0 ? (
            <p>{t.noDocuments}</p>
          ) : (
            <Table
              columns={[{ label: t.document }, { label: t.state }, { label: t.view }, { label: t.download }]}
              rows={names.map((name) => [
                documentTitle(name, lang),
                drafts.includes(name) ? <strong class="draft">{t.draft}</strong> : t.ready,
                name.endsWith('.html') ? (
                  <a
                    href={`/console/documents/${encodeURIComponent(name)}?view=1`}
                    aria-label={`${t.view} — ${documentTitle(name, lang)}`}
                  >
                    {t.view}
                  </a>
                ) : (
                  ''
                ),
                <a
                  href={`/console/documents/${encodeURIComponent(name)}`}
                  download={name}
                  aria-label={`${t.download} — ${documentTitle(name, lang)}`}
                >
                  {name}
                </a>,
              ])}
            />
          )}
          <h2>{t.issues}</h2>
          <Issues issues={issues} lang={lang} />
          {register ? (
            <>
              <h2>{t.activities}</h2>
              <Activities register={register} lang={lang} />
            </>
          ) : null}
        </>
      ),
    });
  });

  // A document made now: shown in the browser (?view=1, an HTML one) or downloaded.
  ui.get('/documents/:name', async (c) => {
    const made = await use(c, engine, 'makeDocument', { name: c.req.param('name') });
    return sendFile(
      c,
      made,
      c.req.query('view') === '1' && made.name.endsWith('.html') ? 'inline' : 'attachment',
    );
  });
};
