/** What validate, docs and import-notice print. */
import type { DocumentsResult } from '../../app/register.js';
import type { Issue } from '../../core/issues.js';
import type { NoticeDraft } from '../../core/register/notice-draft.js';
import { jsonText, type Output } from '../shared.js';
import { errorCount, printIssues, summary } from './issues.js';

/** `shown`: the register as the command names it (the path given, else the one found). */
export function printValidation(
  io: Output,
  v: { register: string; shown: string; issues: readonly Issue[]; failed: boolean },
  json: boolean,
): void {
  const errors = errorCount(v.issues);
  if (json) {
    io.out(
      jsonText({
        register: v.register,
        valid: errors === 0,
        errors,
        warnings: v.issues.length - errors,
        issues: v.issues,
      }),
    );
  } else {
    printIssues(io, v.issues);
    io.err(`${v.shown}: ${summary(v.issues)}${v.failed ? '' : ' — valid'}\n`);
  }
}

/** The register has errors, or `--strict` found drafts: why, and that nothing was written. */
export function printDocumentsRefused(
  io: Output,
  shown: string,
  { issues, drafts }: Pick<DocumentsResult, 'issues' | 'drafts'>,
): void {
  if (drafts.length) {
    printIssues(
      io,
      issues.filter((i) => i.code === 'W_PLACEHOLDER'),
    );
    io.err(
      `${shown}: ${drafts.length} documents still hold placeholders (${drafts.join(', ')}); --strict writes no document until the placeholders above are replaced\n`,
    );
    return;
  }
  printIssues(
    io,
    issues.filter((i) => i.severity === 'error'),
  );
  io.err(`${shown}: ${summary(issues)}; no document written\n`);
}

export function printDocuments(
  io: Output,
  out: string,
  { written, issues, missing, drafts }: DocumentsResult & { readonly written: readonly string[] },
): void {
  for (const { lang, texts } of missing) {
    const other = lang === 'fr' ? 'English' : 'French';
    for (const m of texts)
      io.err(
        `${m.file ?? ''}${m.line !== undefined ? `:${m.line}:${m.column}` : ''} warning: ${m.path} has no ${lang === 'fr' ? 'French' : 'English'} text; the ${lang} documents print it in ${other}\n`,
      );
  }
  for (const file of written) io.out(`${file}\n`);
  io.err(`${written.length} documents written to ${out} (${summary(issues)} in the register)\n`);
  if (drafts.length)
    io.err(
      `${drafts.length} of them still hold placeholders and carry a DRAFT banner (${drafts.join(', ')}): replace what \`registre validate\` reports as W_PLACEHOLDER before publishing\n`,
    );
}

export function formatDraftWritten(out: string, draft: NoticeDraft): string {
  return `draft register written to ${out}: ${draft.activities} activities, ${draft.retention} retention sentences (${draft.todos} left as todo)\n`;
}
