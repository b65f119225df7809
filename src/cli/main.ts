/**
 * The `registre` command. Thin: parses arguments, calls the application layer (src/app), prints, and is the
 * only place that turns errors into exit codes (0 ok, 1 failure, 2 usage).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Command, CommanderError, Help, Option } from 'commander';
import type { HoldCase } from '../app/holds.js';
import { DOCUMENT_KINDS, type DocumentKind } from '../core/documents/kinds.js';
import { RegistreError } from '../core/errors.js';
import { formatIssue, type Issue, RegisterError } from '../core/issues.js';
import { RECORD_STATUSES } from '../core/retention/statuses.js';
import { safeMessage } from '../core/safe-message.js';
import type { Language } from '../core/text.js';

// Each command loads what it needs when it runs: `--help` and light commands do not pay for
// exceljs, faker, the database drivers or Kysely (issue 9: start-up).
const registerUseCases = () => import('../app/register.js');
const planCommands = () => import('../app/plan.js');

// The package's own package.json, two folders up from src/cli/ and dist/cli/ alike (one small read).
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);
const VERSION = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function summary(issues: readonly Issue[]): string {
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

const recordCount = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** A hold's records, one line per table: `  shop.orders 12, 15, 31`. */
function formatHoldRecords(hold: HoldCase): string {
  const byTable = new Map<string, string[]>();
  for (const r of hold.records) {
    const name = `${r.store}.${r.table}`;
    const keys = byTable.get(name);
    if (keys) keys.push(r.key);
    else byTable.set(name, [r.key]);
  }
  return [...byTable].map(([table, keys]) => `  ${table} ${keys.join(', ')}\n`).join('');
}

function printIssues(io: Output, issues: readonly Issue[]): void {
  for (const issue of issues) io.out(`${formatIssue(issue)}\n`);
}

/**
 * One example per command, printed by its `--help` and listed in the README (a test checks both).
 * Paths are relative to a folder made by `registre demo --out shop` (its configuration is
 * `shop/registre.yaml`).
 */
export const EXAMPLES: Readonly<Record<string, string>> = {
  validate: 'registre validate registers/negomarkets --strict',
  docs: 'registre docs --out out --lang en',
  'import-notice': 'registre import-notice notice.html --out draft.yaml',
  check: 'registre check --config shop/registre.yaml',
  plan: 'registre plan --config shop/registre.yaml --list web-visits --limit 20',
  forecast: 'registre forecast --config shop/registre.yaml --months 6',
  explain: 'registre explain --config shop/registre.yaml --table customers --id 5',
  sweep: 'registre sweep --config shop/registre.yaml --dry-run',
  'hold add': 'registre hold add --config shop/registre.yaml --table orders --id 12 --reason "case 2026-118"',
  'hold list': 'registre hold list --config shop/registre.yaml',
  'hold release': 'registre hold release --config shop/registre.yaml 1',
  'audit verify': 'registre audit verify --config shop/registre.yaml',
  'audit export': 'registre audit export --config shop/registre.yaml --out audit.jsonl',
  'audit accept-head':
    'registre audit accept-head --config shop/registre.yaml --reason "state store restored from the 2026-12-01 backup"',
  status: 'registre status --config shop/registre.yaml',
  'key generate': 'registre key generate --out .registre/hmac.key',
  'key rotate': 'registre key rotate --config shop/registre.yaml --to file:.registre/hmac-2027.key',
  archive: 'registre archive --config shop/registre.yaml --table customers --reason "tax audit 2026"',
  demo: 'registre demo --out shop --customers 1000',
  schema: 'registre schema --kind datamap --out datamap.schema.json',
  'request open':
    'registre request open --config shop/registre.yaml --type access --email jeanne@example.org',
  'request send-code': 'registre request send-code --config shop/registre.yaml 1',
  'request verify': 'registre request verify --config shop/registre.yaml 1 --code 123456',
  'request run': 'registre request run --config shop/registre.yaml 1 --out access-1',
  'request send-letters':
    'registre request send-letters --config shop/registre.yaml 4 --email jeanne@example.org',
  'request list': 'registre request list --config shop/registre.yaml --overdue',
  'request show': 'registre request show --config shop/registre.yaml 1',
  'request extend':
    'registre request extend --config shop/registre.yaml 1 --months 2 --reason "many records in the archive"',
  'request refuse':
    'registre request refuse --config shop/registre.yaml 1 --reason "manifestly unfounded: the same request every day"',
  'request restriction lift': 'registre request restriction lift --config shop/registre.yaml 3',
  'erasure replay': 'registre erasure replay --config shop/registre.yaml --dry-run',
};

/** Every leaf command by its path ("hold add"), for the README check and the examples. */
export function leafCommands(command: Command, prefix = ''): { path: string; command: Command }[] {
  return command.commands.flatMap((c) => {
    const path = `${prefix}${c.name()}`;
    return c.commands.length ? leafCommands(c, `${path} `) : [{ path, command: c }];
  });
}

export function buildProgram(io: Output, setExit: (code: number) => void): Command {
  const program = new Command('registre')
    .description(
      'Privacy operations as code: validate a GDPR register, generate its documents, enforce its retention.',
    )
    .version(VERSION)
    // Every command's help shows the global options (--config) and marks required options.
    .configureHelp({
      showGlobalOptions: true,
      optionDescription(this: Help, option: Option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .option('--config <file>', 'configuration file (default ./registre.yaml)')
    .option('--verbose', 'print stack traces of unexpected errors')
    .showHelpAfterError('(run registre --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  // Before a command that reads the engine's own stores: a state or archive store others can
  // read is said on standard error (the command goes on; issue 18 item 21).
  const withoutStores = new Set(['validate', 'docs', 'import-notice', 'demo', 'schema', 'key generate']);
  program.hook('preAction', async (_program, action) => {
    const path =
      action.parent && action.parent !== program ? `${action.parent.name()} ${action.name()}` : action.name();
    if (withoutStores.has(path)) return;
    const { runStoreWarnings } = await import('../app/stores.js');
    const warnings = await runStoreWarnings(program.opts().config).catch(() => []);
    for (const w of warnings) io.err(`warning: ${w}\n`);
  });

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
      const target = await registerPath(path);
      const { validateRegister } = await registerUseCases();
      const { issues } = await validateRegister(target);
      const errors = issues.filter((i) => i.severity === 'error').length;
      const failed = errors > 0 || (opts.strict === true && issues.length > 0);
      if (opts.json) {
        io.out(
          `${JSON.stringify({ register: target, valid: errors === 0, errors, warnings: issues.length - errors, issues }, null, 2)}\n`,
        );
      } else {
        printIssues(io, issues);
        io.err(`${path ?? target}: ${summary(issues)}${failed ? '' : ' — valid'}\n`);
      }
      setExit(failed ? 1 : 0);
    });

  program
    .command('docs')
    .description('generate the privacy notice (fr, en), the art. 30 records and the DPV export')
    .argument('[path]', 'register file or folder (default: the configured register, else the bundled one)')
    .requiredOption('--out <dir>', 'folder to write the documents to')
    .addOption(new Option('--only <kind>', 'one document kind').choices([...DOCUMENT_KINDS]))
    .addOption(new Option('--lang <lang>', 'one language').choices(['fr', 'en']))
    .action(async (path: string | undefined, opts: { out: string; only?: DocumentKind; lang?: Language }) => {
      const target = await registerPath(path);
      const { generateDocuments } = await registerUseCases();
      const { written, issues, missing } = await generateDocuments(target, opts.out, {
        ...(opts.only ? { only: opts.only } : {}),
        ...(opts.lang ? { lang: opts.lang } : {}),
      });
      if (!written) {
        printIssues(
          io,
          issues.filter((i) => i.severity === 'error'),
        );
        io.err(`${path ?? target}: ${summary(issues)}; no document written\n`);
        return setExit(1);
      }
      for (const { lang, texts } of missing) {
        const other = lang === 'fr' ? 'English' : 'French';
        for (const m of texts)
          io.err(
            `${m.file ?? ''}${m.line !== undefined ? `:${m.line}:${m.column}` : ''} warning: ${m.path} has no ${lang === 'fr' ? 'French' : 'English'} text; the ${lang} documents print it in ${other}\n`,
          );
      }
      for (const file of written) io.out(`${file}\n`);
      io.err(`${written.length} documents written to ${opts.out} (${summary(issues)} in the register)\n`);
      setExit(0);
    });

  program
    .command('import-notice')
    .description(
      'turn a published privacy table (tab-separated text, an HTML page or an XLSX sheet; French or English) into a draft register',
    )
    .argument('<file>', 'the privacy table: .txt (tab-separated), .html or .xlsx (read from its content)')
    .option('--out <file>', 'write the draft register here instead of standard output')
    .action(async (file: string, opts: { out?: string }) => {
      const { importNoticeFile } = await registerUseCases();
      const { stringify: stringifyYaml } = await import('yaml');
      const { draft, format } = await importNoticeFile(file);
      if (!draft.activities?.length)
        throw new RegistreError(
          'E_NOTICE_EMPTY',
          `${file} (read as ${format}) holds no table row with purposes: is it the privacy table?`,
        );
      const todos = (draft.retention ?? []).filter((r) => r.todo !== undefined).length;
      const yaml = `# Draft register imported from ${file} (${format}) by registre import-notice.\n# Review every TODO, then run: registre validate ${opts.out ?? 'this-file.yaml'}\n${stringifyYaml(draft, { lineWidth: 0 })}`;
      if (opts.out) {
        writeFileSync(opts.out, yaml);
        io.err(
          `draft register written to ${opts.out}: ${draft.activities.length} activities, ${(draft.retention ?? []).length} retention sentences (${todos} left as todo)\n`,
        );
      } else io.out(yaml);
      setExit(0);
    });

  program
    .command('check')
    .description('compare the data map with the register and with every live database it names')
    .option('--json', 'print the issues as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runCheck } = await import('../app/check.js');
      const report = await runCheck(program.opts().config);
      const errors = report.issues.filter((i) => i.severity === 'error').length;
      if (opts.json)
        io.out(
          `${JSON.stringify({ ok: errors === 0, errors, warnings: report.issues.length - errors, ...report }, null, 2)}\n`,
        );
      else {
        printIssues(io, report.issues);
        for (const s of report.stores)
          io.err(`store "${s.store}" (${s.label}): ${s.tables} tables checked\n`);
        io.err(`check: ${summary(report.issues)}${errors ? '' : ' — the data map matches the databases'}\n`);
      }
      setExit(errors ? 1 : 0);
    });

  program
    .command('plan')
    .description('count, per rule and table, the records active, in archive, due and held on a date')
    .option('--at <date>', 'the date (YYYY-MM-DD)', new Date().toISOString().slice(0, 10))
    .option('--json', 'print the plan as JSON')
    .option(
      '--list <rule>',
      'list the records of this rule instead of counting them (by key, a page at a time)',
    )
    .option('--status <status>', `with --list: ${RECORD_STATUSES.join(', ')} (comma-separated)`, 'due')
    .option('--limit <n>', 'with --list: records per page', '100')
    .option('--after <key>', 'with --list: the page after this key (the last key of the previous page)')
    .action(
      async (opts: {
        at: string;
        json?: boolean;
        list?: string;
        status: string;
        limit: string;
        after?: string;
      }) => {
        const { runPlan, runPlanList } = await planCommands();
        const { formatPlan, formatPlanList } = await import('./format.js');
        if (opts.list !== undefined) {
          const list = await runPlanList(program.opts().config, {
            at: opts.at,
            rule: opts.list,
            status: opts.status,
            limit: opts.limit,
            ...(opts.after !== undefined ? { after: opts.after } : {}),
          });
          const config: string | undefined = program.opts().config;
          io.out(
            opts.json
              ? `${JSON.stringify(list, null, 2)}\n`
              : formatPlanList(list, config !== undefined ? { config } : {}),
          );
          return setExit(0);
        }
        const plan = await runPlan(program.opts().config, opts.at);
        if (opts.json) io.out(`${JSON.stringify(plan, null, 2)}\n`);
        else io.out(formatPlan(plan));
        setExit(0);
      },
    );

  program
    .command('forecast')
    .description('how many records reach their deadline in each coming month, per rule')
    .option('--from <date>', 'the first day (YYYY-MM-DD)', new Date().toISOString().slice(0, 10))
    .option('--months <n>', 'how many months', '12')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action(async (opts: { from: string; months: string; json?: boolean; csv?: boolean }) => {
      const { runForecast } = await planCommands();
      const { forecastCsv, formatForecast } = await import('./format.js');
      const forecast = await runForecast(program.opts().config, opts.from, opts.months);
      io.out(
        opts.json
          ? `${JSON.stringify(forecast, null, 2)}\n`
          : opts.csv
            ? forecastCsv(forecast)
            : formatForecast(forecast),
      );
      setExit(0);
    });

  program
    .command('explain')
    .description('why a record is still here, or why it is due: one record, or every record of one person')
    .option('--table <table>', 'the table (or store.table)')
    .option('--id <id>', 'the primary key of the record')
    .option('--email <address>', 'every record of the person with this e-mail address')
    .option('--at <date>', 'the date (YYYY-MM-DD)', new Date().toISOString().slice(0, 10))
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; id?: string; email?: string; at: string; json?: boolean }) => {
      const { explainAll, goneText } = await import('../app/explain.js');
      const { formatExplanation } = await import('./format.js');
      const { records, gone } = await explainAll(program.opts().config, {
        at: opts.at,
        ...(opts.table !== undefined ? { table: opts.table } : {}),
        ...(opts.id !== undefined ? { id: opts.id } : {}),
        ...(opts.email !== undefined ? { email: opts.email } : {}),
      });
      if (opts.json)
        io.out(
          `${JSON.stringify(opts.email !== undefined ? { at: opts.at, records, gone } : (records[0] ?? { gone: gone[0] }), null, 2)}\n`,
        );
      else io.out(records.map(formatExplanation).join('') + gone.map((g) => `${goneText(g)}\n`).join(''));
      setExit(0);
    });

  program
    .command('sweep')
    .description('apply what plan reports as due (delete, anonymise) and move what enters its archive phase')
    .option(
      '--at <date>',
      'the date (YYYY-MM-DD); a date after today only with --dry-run (a sweep never deletes early)',
      new Date().toISOString().slice(0, 10),
    )
    .option('--dry-run', 'count what would be done, change nothing')
    .option('--batch-size <n>', 'rows examined per batch (1 to 1,000,000; default 20,000)')
    .option('--json', 'print JSON')
    .action(async (opts: { at: string; dryRun?: boolean; batchSize?: string; json?: boolean }) => {
      const given = opts.batchSize;
      const batchSize = given === undefined ? undefined : Number(given);
      if (given !== undefined && (!/^\d+$/.test(given) || Number(given) < 1 || Number(given) > 1_000_000))
        throw new RegistreError(
          'E_USAGE',
          `--batch-size must be a whole number from 1 to 1,000,000 (got ${opts.batchSize})`,
        );
      const { formatSweep } = await import('./format.js');
      const { runSweep } = await import('../app/sweep.js');
      const report = await runSweep(program.opts().config, {
        at: opts.at,
        ...(batchSize === undefined ? {} : { batchSize }),
        ...(opts.dryRun ? { dryRun: true } : {}),
        progress: process.stderr.isTTY === true && !opts.json,
      });
      io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatSweep(report));
      setExit(report.skipped.length ? 1 : 0);
    });

  const hold = program
    .command('hold')
    .description('manual legal holds: nothing held is deleted, anonymised or archived');
  hold
    .command('add')
    .description('hold one record, or every record of a person (one hold, released as one)')
    .option('--table <table>', 'the table')
    .option('--id <id>', 'the primary key')
    .option('--email <address>', 'every record of this person')
    .requiredOption('--reason <text>', 'why (a case reference, not a name)')
    .option('--until <date>', 'the hold ends on this date (YYYY-MM-DD)')
    .action(async (opts: { table?: string; id?: string; email?: string; reason: string; until?: string }) => {
      const { runHoldAdd } = await import('../app/holds.js');
      const held = await runHoldAdd(program.opts().config, opts);
      io.out(`hold ${held.id}: ${recordCount(held.records.length)} held\n${formatHoldRecords(held)}`);
      setExit(0);
    });
  hold
    .command('list')
    .description('the holds in force, each with the records it holds')
    .option('--all', 'released ones too')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const { runHoldList } = await import('../app/holds.js');
      const holds = await runHoldList(program.opts().config, opts.all === true);
      if (opts.json) io.out(`${JSON.stringify(holds, null, 2)}\n`);
      else
        io.out(
          holds.length
            ? holds
                .map(
                  (h) =>
                    `hold ${h.id}: ${h.reason}${h.until ? ` (until ${h.until})` : ''}${h.releasedAt ? `, released ${h.releasedAt}` : ''}, ${recordCount(h.records.length)}\n${formatHoldRecords(h)}`,
                )
                .join('')
            : 'no hold\n',
        );
      setExit(0);
    });
  hold
    .command('release')
    .description('end a hold: every record it holds is open to its rules again')
    .argument('<id>', 'the hold, as hold list shows it')
    .action(async (id: string) => {
      const { parseHoldId, runHoldRelease } = await import('../app/holds.js');
      const held = await runHoldRelease(program.opts().config, parseHoldId(id));
      io.out(`hold ${held.id} released: ${recordCount(held.records.length)}\n${formatHoldRecords(held)}`);
      setExit(0);
    });

  const request = program
    .command('request')
    .description("people's requests (GDPR art. 15 to 21): open, verify, run, on time and with proof");
  const requests = () => import('../app/requests/index.js');
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  request
    .command('open')
    .description('record a request and send the identity code to the address')
    .addOption(
      new Option('--type <type>', 'what the person asks')
        .choices(['access', 'erasure', 'rectification', 'restriction', 'portability', 'objection'])
        .makeOptionMandatory(),
    )
    .requiredOption('--email <address>', "the person's e-mail address")
    .option('--received <date>', 'the day the request arrived (YYYY-MM-DD, default today)')
    .option('--purpose <purpose>', 'objection: the purpose objected to')
    .option('--set <field=value>', 'rectification: a corrected value (repeat it)', collect)
    .addOption(
      new Option(
        '--lang <lang>',
        "the person's language, for the code and the letters (default: the register's)",
      ).choices(['fr', 'en']),
    )
    .option('--visitor <id>', "the visitor id of the person's browser: their web visits too")
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        type: string;
        email: string;
        received?: string;
        purpose?: string;
        set?: string[];
        lang?: string;
        visitor?: string;
        json?: boolean;
      }) => {
        const { openRequest } = await requests();
        const { formatRequest } = await import('./format.js');
        const opened = await openRequest(program.opts().config, opts);
        io.out(
          opts.json
            ? `${JSON.stringify({ id: opened.id, type: opened.type, status: opened.status, received: opened.received, due: opened.due })}\n`
            : `${formatRequest(opened)}${
                opened.code?.via === 'failed'
                  ? `the request is recorded, but its identity code could not be sent (the mail server refused it or could not be reached): send it with registre request send-code ${opened.id}`
                  : opened.code?.via === 'outbox'
                    ? 'the identity code was written to the outbox, not sent: no mail server is configured (mail.smtp) (valid 15 minutes)'
                    : 'the identity code was sent to the address (valid 15 minutes)'
              }\n`,
        );
        setExit(opened.code?.via === 'failed' ? 1 : 0);
      },
    );
  request
    .command('send-code')
    .description('send a new identity code (the last one expired)')
    .argument('<id>', 'the request')
    .action(async (id: string) => {
      const { parseRequestId, resendCode } = await requests();
      const sent = await resendCode(program.opts().config, parseRequestId(id), {});
      io.out(
        `request ${id}: a new code was ${sent.code?.via === 'outbox' ? 'written to the outbox (no mail server is configured)' : 'sent'} (${sent.code?.sent ?? 0} of 3 codes a request may be sent)\n`,
      );
      setExit(0);
    });
  request
    .command('verify')
    .description("verify the person's identity: the code they received, or the DPO's check by other means")
    .argument('<id>', 'the request')
    .option('--code <code>', 'the six-digit code')
    .option('--manual', 'verified by the DPO by other means')
    .option('--reason <text>', 'with --manual: how')
    .action(async (id: string, opts: { code?: string; manual?: boolean; reason?: string }) => {
      const { parseRequestId, verifyRequest } = await requests();
      if ((opts.code === undefined) === (opts.manual !== true))
        throw new RegistreError('E_USAGE', 'give either --code CODE or --manual --reason TEXT');
      const verified = await verifyRequest(
        program.opts().config,
        parseRequestId(id),
        opts.manual ? { manual: true, reason: opts.reason ?? '' } : { code: opts.code as string },
      );
      io.out(`request ${verified.id}: identity verified\n`);
      setExit(0);
    });
  request
    .command('run')
    .description('carry the request out (access and portability write their package to --out)')
    .argument('<id>', 'the request')
    .option('--at <date>', 'the date it is carried out on (default today)')
    .option('--out <dir>', 'access, portability: the folder of the package')
    .option('--dry-run', 'say what it would do, change nothing')
    .option(
      '--on-behalf-of <controller>',
      "erasure of processor data: on that controller's instruction (its id)",
    )
    .option('--grounds <text>', "objection: the DPO's compelling legitimate grounds to go on (art. 21(1))")
    .addOption(
      new Option(
        '--delivery <how>',
        'the completion letter: mail (sent, with an access package attached), letter (sent, the package handed over apart), none (not sent: the DPO answers otherwise)',
      )
        .choices(['mail', 'letter', 'none'])
        .default('mail'),
    )
    .option('--json', 'print JSON')
    .action(
      async (
        id: string,
        opts: {
          at?: string;
          out?: string;
          dryRun?: boolean;
          onBehalfOf?: string;
          grounds?: string;
          delivery?: string;
          json?: boolean;
        },
      ) => {
        const { parseRequestId, runRequest } = await requests();
        const { formatRun } = await import('./format.js');
        const result = await runRequest(program.opts().config, parseRequestId(id), opts);
        io.out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatRun(result));
        // Carried out, but the person was not told: the command did not do all it had to.
        setExit(result.letter?.via === 'failed' ? 1 : 0);
      },
    );
  request
    .command('list')
    .description('the requests, overdue first, with the days left')
    .option('--overdue', 'only the late ones')
    .option('--json', 'print JSON')
    .action(async (opts: { overdue?: boolean; json?: boolean }) => {
      const { listRequests } = await requests();
      const { formatRequests } = await import('./format.js');
      const list = await listRequests(program.opts().config, { overdue: opts.overdue === true });
      io.out(opts.json ? `${JSON.stringify(list, null, 2)}\n` : formatRequests(list));
      setExit(0);
    });
  request
    .command('show')
    .description('one request: its dates, status and outcome')
    .argument('<id>', 'the request')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { parseRequestId, showRequest } = await requests();
      const { formatRequestDetail } = await import('./format.js');
      const shown = await showRequest(program.opts().config, parseRequestId(id));
      io.out(opts.json ? `${JSON.stringify(shown, null, 2)}\n` : formatRequestDetail(shown));
      setExit(0);
    });
  request
    .command('extend')
    .description('extend the deadline by one or two months, with the reason the person is told (art. 12(3))')
    .argument('<id>', 'the request')
    .requiredOption('--months <n>', '1 or 2')
    .requiredOption('--reason <text>', 'why (the person is told)')
    .action(async (id: string, opts: { months: string; reason: string }) => {
      const { extendRequest, parseRequestId } = await requests();
      if (!/^[12]$/.test(opts.months)) throw new RegistreError('E_USAGE', `--months ${opts.months}: 1 or 2`);
      const extended = await extendRequest(
        program.opts().config,
        parseRequestId(id),
        Number(opts.months),
        opts.reason,
      );
      const { formatLetterOutcome } = await import('./format.js');
      io.out(
        `request ${extended.id}: now due ${extended.due}\n${formatLetterOutcome(extended, 'extension')}`,
      );
      setExit(extended.letterError === undefined ? 0 : 1);
    });
  request
    .command('refuse')
    .description('refuse the request, with its reason (art. 12(4))')
    .argument('<id>', 'the request')
    .requiredOption('--reason <text>', 'why (the person is told)')
    .action(async (id: string, opts: { reason: string }) => {
      const { parseRequestId, refuseRequest } = await requests();
      const refused = await refuseRequest(program.opts().config, parseRequestId(id), opts.reason);
      const { formatLetterOutcome } = await import('./format.js');
      io.out(`request ${refused.id}: refused\n${formatLetterOutcome(refused, 'refusal')}`);
      setExit(refused.letterError === undefined ? 0 : 1);
    });
  request
    .command('send-letters')
    .description(
      'send the letters a request owes the person (a refusal, extension or completion whose send failed)',
    )
    .argument('<id>', 'the request')
    .option(
      '--email <address>',
      "the person's address, once an erasure removed it (checked against the request)",
    )
    .action(async (id: string, opts: { email?: string }) => {
      const { parseRequestId, sendLetters } = await requests();
      const { formatLetterSent } = await import('./format.js');
      const sent = await sendLetters(program.opts().config, parseRequestId(id), opts);
      for (const letter of sent.letters) io.out(formatLetterSent(sent.request.id, letter));
      setExit(sent.letters.some((l) => l.via === 'failed') ? 1 : 0);
    });
  const restriction = request.command('restriction').description('restrictions of processing (art. 18)');
  restriction
    .command('lift')
    .description("end a restriction: the person's records are open to their rules again")
    .argument('<id>', 'the restriction request')
    .action(async (id: string) => {
      const { liftRestriction, parseRequestId } = await requests();
      const lifted = await liftRestriction(program.opts().config, parseRequestId(id));
      io.out(
        `request ${lifted.request}: restriction lifted (hold ${lifted.hold}, ${recordCount(lifted.records)})\n`,
      );
      setExit(0);
    });
  program
    .command('erasure')
    .description('past erasures')
    .command('replay')
    .description('after a database backup is restored: erase again what every past erasure removed')
    .option('--dry-run', 'say what it would redo, change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      const { replayErasures } = await requests();
      const { formatReplay } = await import('./format.js');
      const replay = await replayErasures(program.opts().config, { dryRun: opts.dryRun === true });
      if (opts.json) io.out(`${JSON.stringify(replay, null, 2)}\n`);
      else io.out(formatReplay(replay, opts.dryRun === true));
      setExit(0);
    });

  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check the hash chain: any edited, deleted, inserted or reordered entry is reported')
    .action(async () => {
      const { runAuditVerify } = await import('../app/audit.js');
      const { entries, problems, warnings } = await runAuditVerify(program.opts().config);
      for (const w of warnings) io.err(`warning: ${w}\n`);
      for (const p of problems) io.out(`entry ${p.seq}: ${p.problem}: ${p.message}\n`);
      io.err(
        problems.length
          ? `audit log: ${problems.length} problem(s) in ${entries} entries\n`
          : `audit log: ${entries} entries, chain intact\n`,
      );
      setExit(problems.length ? 1 : 0);
    });
  audit
    .command('accept-head')
    .description(
      'after investigating a log that is not whole up to its checkpoint: record it as it is now, and let writes go on',
    )
    .requiredOption('--reason <text>', 'what was found, and why the log as it is now is the truth')
    .action(async (opts: { reason: string }) => {
      const { runAuditAcceptHead } = await import('../app/audit.js');
      const accepted = await runAuditAcceptHead(program.opts().config, { reason: opts.reason });
      for (const p of accepted.problems) io.out(`accepted: ${p}\n`);
      io.err(
        `audit log: accepted as it is at entry ${accepted.seq} (${accepted.problems.length} problem(s) recorded in it); both checkpoints moved to it\n`,
      );
      setExit(0);
    });
  audit
    .command('export')
    .description('the audit log as JSON lines, for an auditor')
    .option('--out <file>', 'write to a file')
    .action(async (opts: { out?: string }) => {
      const { runAuditExport } = await import('../app/audit.js');
      const text = await runAuditExport(program.opts().config);
      if (opts.out) writeFileSync(opts.out, text);
      else io.out(text);
      setExit(0);
    });

  program
    .command('status')
    .description('the sweep lock, the last sweeps, the holds in force')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runStatus } = await import('../app/audit.js');
      const status = await runStatus(program.opts().config);
      if (opts.json) io.out(`${JSON.stringify(status, null, 2)}\n`);
      else {
        io.out(
          status.locks.length
            ? status.locks
                .map((l) =>
                  l.alive
                    ? `sweep running: ${l.holder} since ${l.acquiredAt} (last heartbeat ${l.heartbeatAt})\n`
                    : `sweep died: ${l.holder}, started ${l.acquiredAt}, silent since ${l.heartbeatAt}; the next sweep takes over and finishes its work\n`,
                )
                .join('')
            : 'no sweep running\n',
        );
        for (const r of status.runs)
          io.out(
            `run ${r.id} on ${r.at}: ${r.status}, started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}\n`,
          );
        io.out(`${status.holds} hold(s) in force\n`);
      }
      setExit(0);
    });

  const key = program.command('key').description('the HMAC key of the suppression list and the audit log');
  key
    .command('generate')
    .description('write a new random key to a file readable by its owner only (mode 0600)')
    .requiredOption('--out <file>', 'the key file (never overwritten)')
    .action(async (opts: { out: string }) => {
      const { runKeyGenerate } = await import('../app/keys.js');
      const config: string | undefined = program.opts().config;
      const key = runKeyGenerate(opts.out, config !== undefined ? { config } : {});
      io.out(`key ${key.keyId} written to ${key.path}\n`);
      io.err(
        key.config
          ? `use it with "hmacKey: ${key.reference}" in ${relative(process.cwd(), key.config) || key.config} (its paths are relative to its folder)\n`
          : `use it with "hmacKey: ${key.reference}" in a registre.yaml in this folder (no configuration found; its paths are relative to its folder: give --config to name it)\n`,
      );
      setExit(0);
    });
  key
    .command('rotate')
    .description('seal the audit log with a new key, linked to the old one by an entry the old key signs')
    .requiredOption('--to <ref>', 'the new key: file:PATH or env:VARIABLE')
    .action(async (opts: { to: string }) => {
      const { runKeyRotate } = await import('../app/keys.js');
      const r = await runKeyRotate(program.opts().config, opts.to);
      io.out(`audit log of ${r.entries} entries moved from key ${r.from} to key ${r.to}\n`);
      io.err('the configuration now names the new key in hmacKey and keeps the old one in previousKeys\n');
      setExit(0);
    });

  program
    .command('archive')
    .description('read the intermediate archive (every read is written to the audit log)')
    .requiredOption('--table <table>', 'the table')
    .option('--id <id>', 'one record')
    .requiredOption('--reason <text>', 'why the archive is consulted')
    .action(async (opts: { table: string; id?: string; reason: string }) => {
      const { runArchiveRead } = await import('../app/audit.js');
      const rows = await runArchiveRead(program.opts().config, opts.table, opts.id, opts.reason);
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      setExit(0);
    });

  program
    .command('demo')
    .description('generate the reference shop (deterministic) with a ready configuration')
    .requiredOption('--out <dir>', 'folder for registre.yaml, shop.sqlite and media/')
    .option('--customers <n>', 'number of customers (about 22 rows each)', '1000')
    .option('--seed <n>', 'random seed: the same seed gives the same data', '1')
    .option(
      '--at <date>',
      'the shop is seen from this date (YYYY-MM-DD)',
      new Date().toISOString().slice(0, 10),
    )
    .option(
      '--store <url>',
      'write the shop into this database instead (postgres://…, mysql://…, pglite:DIR)',
    )
    .option('--replace', "drop the reference shop's tables first if they exist")
    .action(
      async (opts: {
        out: string;
        customers: string;
        seed: string;
        at: string;
        store?: string;
        replace?: boolean;
      }) => {
        const { runDemo } = await import('../app/demo.js');
        const report = await runDemo({
          out: opts.out,
          customers: Number(opts.customers),
          seed: Number(opts.seed),
          at: opts.at,
          ...(opts.store ? { store: opts.store } : {}),
          ...(opts.replace ? { replace: true } : {}),
          progress: process.stderr.isTTY === true,
        });
        const rate = report.seconds > 0 ? Math.round(report.rows / report.seconds) : report.rows;
        io.err(
          `${report.rows} rows and ${report.files} files written in ${report.seconds.toFixed(1)} s (${rate} rows/s) to ${report.store}\n`,
        );
        if (report.env)
          io.err(
            `the store's URL holds a password: the configuration reads it from the environment; set ${report.env} to it\n`,
          );
        io.err(`configuration: ${report.config}\nnext: registre check --config ${report.config}\n`);
        setExit(0);
      },
    );

  program
    .command('schema')
    .description('print the JSON Schema of register, data map or configuration files (for editors)')
    .addOption(
      new Option('--kind <kind>', 'which file')
        .choices(['register', 'datamap', 'config'])
        .default('register'),
    )
    .option('--out <file>', 'write it to a file')
    .action(async (opts: { kind: 'register' | 'datamap' | 'config'; out?: string }) => {
      const { jsonSchemaOf, registerJsonSchema } = await import('../core/register/register-schema.js');
      const { DataMapFile } = await import('../core/datamap/datamap-schema.js');
      const { ConfigFile } = await import('../core/config.js');
      const schema =
        opts.kind === 'register'
          ? registerJsonSchema()
          : opts.kind === 'datamap'
            ? jsonSchemaOf(
                DataMapFile,
                'datamap',
                "The binding of a register's records to the tables of real databases.",
              )
            : jsonSchemaOf(
                ConfigFile,
                'config',
                'The registre configuration: register, data map, stores, files, state.',
              );
      const text = `${JSON.stringify(schema, null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else io.out(text);
      setExit(0);
    });

  for (const { path, command } of leafCommands(program)) {
    const example = EXAMPLES[path];
    if (example) command.addHelpText('after', `\nExample:\n  ${example}\n`);
  }
  return program;
}

export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    if (error instanceof RegisterError) {
      printIssues(io, error.issues);
      io.err('registre: the register or the data map has errors; run registre validate or registre check\n');
      return 1;
    }
    if (error instanceof RegistreError) {
      io.err(`registre: ${error.message}\n`);
      return error.code === 'E_USAGE' ? 2 : 1;
    }
    const verbose = argv.includes('--verbose');
    // A database's message can quote a value of a row (an address): its code and a fixed text.
    io.err(
      `registre: unexpected error: ${safeMessage(error)}${verbose ? '' : ' (run with --verbose for details)'}\n`,
    );
    // The stack's frames, not its first lines: they repeat the message.
    if (verbose)
      io.err(
        `${((error as Error).stack ?? '')
          .split('\n')
          .filter((line) => /^\s+at /.test(line))
          .join('\n')}\n`,
      );
    return 1;
  }
}
