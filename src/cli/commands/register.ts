/** The register as code: validate, docs, import-notice (schema has its own module, last in --help). */
import { writeFileSync } from 'node:fs';
import { Option } from 'commander';
import { DOCUMENT_KINDS, type DocumentKind } from '../../core/documents/kinds.js';
import type { Language } from '../../core/text.js';
import type { Cli } from '../shared.js';

const formatting = () => import('../format/register.js');

const registerUseCases = () => import('../../app/register.js');

export function registerRegisterCommands({ program, io, setExit }: Cli): void {
  const registerPath = async (given: string | undefined) => {
    const { registerPath: pathOf } = await registerUseCases();
    return pathOf(given, program.opts().config);
  };

  program
    .command('validate')
    .description('check a register (a YAML file or a folder of them): errors, and warnings on doctrine')
    .argument('[path]', 'register file or folder (default: the configured register, else the bundled one)')
    .option('--strict', 'fail on warnings too')
    .option('--json', 'print the issues as JSON')
    .action(async (path: string | undefined, opts: { strict?: boolean; json?: boolean }) => {
      const { printValidation } = await formatting();
      const target = await registerPath(path);
      const { validateRegister } = await registerUseCases();
      const { issues } = await validateRegister(target);
      const errors = issues.filter((i) => i.severity === 'error').length;
      const failed = errors > 0 || (opts.strict === true && issues.length > 0);
      printValidation(io, { register: target, shown: path ?? target, issues, failed }, opts.json === true);
      setExit(failed ? 1 : 0);
    });

  program
    .command('docs')
    .description('generate the privacy notice (fr, en), the art. 30 records and the DPV export')
    .argument('[path]', 'register file or folder (default: the configured register, else the bundled one)')
    .requiredOption('--out <dir>', 'folder to write the documents to')
    .addOption(new Option('--only <kind>', 'one document kind').choices([...DOCUMENT_KINDS]))
    .addOption(new Option('--lang <lang>', 'one language').choices(['fr', 'en']))
    .option('--strict', 'write no document while one still holds a placeholder')
    .action(
      async (
        path: string | undefined,
        opts: { out: string; only?: DocumentKind; lang?: Language; strict?: boolean },
      ) => {
        const { printDocuments, printDocumentsRefused } = await formatting();
        const target = await registerPath(path);
        const { generateDocuments } = await registerUseCases();
        const result = await generateDocuments(target, opts.out, {
          ...(opts.only ? { only: opts.only } : {}),
          ...(opts.lang ? { lang: opts.lang } : {}),
          strict: opts.strict === true,
        });
        const { written } = result;
        if (!written) {
          printDocumentsRefused(io, path ?? target, result);
          return setExit(1);
        }
        printDocuments(io, opts.out, { ...result, written });
        setExit(0);
      },
    );

  program
    .command('import-notice')
    .description(
      'turn a published privacy table (tab-separated text, an HTML page or an XLSX sheet; French or English) into a draft register',
    )
    .argument('<file>', 'the privacy table: .txt (tab-separated), .html or .xlsx (read from its content)')
    .option('--out <file>', 'write the draft register here instead of standard output')
    .action(async (file: string, opts: { out?: string }) => {
      const { formatDraftWritten } = await formatting();
      const { importNoticeFile } = await registerUseCases();
      const { noticeDraftYaml } = await import('../../core/register/notice-draft.js');
      const { draft, format } = await importNoticeFile(file);
      const yaml = noticeDraftYaml(draft, { file, format, out: opts.out });
      if (opts.out) {
        writeFileSync(opts.out, yaml.text);
        io.err(formatDraftWritten(opts.out, yaml));
      } else io.out(yaml.text);
      setExit(0);
    });
}
