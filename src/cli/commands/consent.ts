/** The consent ledger: consent record, import, status, check, proof, withdraw. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Option } from 'commander';
import { field, RegistreError } from '../../core/errors.js';
import { NO_CURRENT_CONSENT } from '../exit-codes.js';
import { type Cli, collect, jsonText, withEngine, withOptionNames } from '../shared.js';

const formatting = () => import('../format/consent.js');

const consent = () => import('../../app/consent.js');

/** The input fields these commands spell otherwise (`purposes` is `--purpose`, given again for each). */
const OPTION_NAMES = {
  purposes: 'purpose',
  notice: 'noticeVersion',
  'notice.version': 'noticeVersion',
  'notice.sha256': 'noticeSha256',
} as const;

interface SubjectOptions {
  email?: string;
  visitor?: string;
}

/** The subject as the operator typed it: the only way an address is ever printed. */
const who = (o: SubjectOptions) =>
  o.visitor !== undefined ? `visitor ${o.visitor}` : (o.email ?? '(no subject)');

const subjectOf = (o: SubjectOptions) => ({
  ...(o.email !== undefined ? { email: o.email } : {}),
  ...(o.visitor !== undefined ? { visitor: o.visitor } : {}),
});

const subjectOptions = (command: import('commander').Command) =>
  command
    .option('--email <address>', "the person's e-mail address (the ledger keeps its keyed hash)")
    .option('--visitor <id>', 'or the visitor id the site set in the browser (the analytics cookie’s)');

/** The SHA-256 of the text shown: given, or computed from the file that holds it. */
function noticeSha256(opts: { noticeSha256?: string; noticeFile?: string }): string {
  if (opts.noticeSha256 !== undefined) return opts.noticeSha256;
  if (opts.noticeFile === undefined)
    throw new RegistreError(
      'E_USAGE',
      `give ${field('noticeSha256')} (the SHA-256 of the text shown, in hexadecimal) or ${field('noticeFile')} (the file of that text, whose SHA-256 is computed)`,
      { path: ['noticeSha256'] },
    );
  let text: Buffer;
  try {
    text = readFileSync(opts.noticeFile);
  } catch {
    throw new RegistreError(
      'E_NOTICE_UNREADABLE',
      `${opts.noticeFile}: cannot be read (no such file, or not readable)`,
    );
  }
  return createHash('sha256').update(text).digest('hex');
}

export function registerConsentCommands({ program, io, setExit }: Cli): void {
  const command = program
    .command('consent')
    .description(
      'the consent ledger: each choice with the text shown, its state per purpose, the proof, withdrawal',
    );

  subjectOptions(
    command
      .command('record')
      .description(
        'record one choice of a person or visitor for one or several purposes, with the notice they were shown',
      ),
  )
    .requiredOption('--purpose <purpose>', 'a purpose of the register based on consent (repeat it)', collect)
    .addOption(
      new Option('--choice <choice>', 'what the person chose')
        .choices(['given', 'refused', 'withdrawn'])
        .makeOptionMandatory(),
    )
    .requiredOption('--notice-version <version>', "the version of the text shown (cookieconsent's revision)")
    .option('--notice-sha256 <hex>', 'the SHA-256 of the text shown')
    .addOption(
      new Option('--notice-file <file>', 'or the file of the text shown: its SHA-256 is computed').conflicts(
        'noticeSha256',
      ),
    )
    .option('--at <time>', 'when the person chose, ISO 8601 with its offset (default now)')
    .addOption(
      new Option('--source <source>', 'where the choice was made (default api)').choices([
        'banner',
        'form',
        'import',
        'api',
      ]),
    )
    .option('--consent-id <id>', "the banner's consent id (default: one is generated)")
    .option('--language <tag>', 'the language the text was shown in (fr, en)')
    .action(
      async (opts: {
        email?: string;
        visitor?: string;
        purpose: string[];
        choice: 'given' | 'refused' | 'withdrawn';
        noticeVersion: string;
        noticeSha256?: string;
        noticeFile?: string;
        at?: string;
        source?: 'banner' | 'form' | 'import' | 'api';
        consentId?: string;
        language?: string;
      }) => {
        const { formatRecorded } = await formatting();
        const { recordConsent } = await consent();
        const recorded = await withOptionNames(OPTION_NAMES, async () => {
          const sha256 = noticeSha256(opts);
          return withEngine(program, (engine, ctx) =>
            recordConsent(
              engine,
              {
                ...subjectOf(opts),
                purposes: opts.purpose,
                choice: opts.choice,
                notice: { version: opts.noticeVersion, sha256 },
                ...(opts.at !== undefined ? { at: opts.at } : {}),
                ...(opts.source !== undefined ? { source: opts.source } : {}),
                ...(opts.consentId !== undefined ? { consentId: opts.consentId } : {}),
                ...(opts.language !== undefined ? { language: opts.language } : {}),
              },
              ctx,
            ),
          );
        });
        io.out(formatRecorded(who(opts), opts.choice, opts.purpose, recorded));
        setExit(0);
      },
    );

  command
    .command('import')
    .description(
      'record the choices of a file of JSON lines (what the banner snippets of the README post), in batches',
    )
    .addHelpText(
      'after',
      '\nExit codes:\n  0  every line was imported\n  1  some lines were refused: each is printed on standard error with its number and\n     why, and every other line was imported (importing the file again skips the\n     events already recorded); or an error stopped the import (the message says which)\n  2  a wrong call\n',
    )
    .argument(
      '<file>',
      'one JSON object per line: {visitor|email, purposes, choice, notice: {version, sha256}, at, source, consentId, language}',
    )
    .action(async (file: string) => {
      const { formatImported, formatRefusedLines } = await formatting();
      const { importConsents } = await consent();
      const imported = await withEngine(program, (engine, ctx) => importConsents(engine, { file }, ctx), {
        progress: true,
      });
      io.out(formatImported(imported));
      io.err(formatRefusedLines(file, imported));
      setExit(imported.refused.length ? 1 : 0);
    });

  subjectOptions(
    command
      .command('status')
      .description('the state of each purpose based on consent for a person or visitor'),
  )
    .option('--on <date>', 'the day (YYYY-MM-DD, default today)')
    .option('--json', 'print JSON')
    .action(async (opts: SubjectOptions & { on?: string; json?: boolean }) => {
      const { formatStatus } = await formatting();
      const { consentStatus } = await consent();
      const status = await withOptionNames(OPTION_NAMES, () =>
        withEngine(program, (engine, ctx) =>
          consentStatus(engine, { ...subjectOf(opts), ...(opts.on ? { on: opts.on } : {}) }, ctx),
        ),
      );
      io.out(opts.json ? jsonText(status) : formatStatus(who(opts), status));
      setExit(0);
    });

  subjectOptions(
    command
      .command('check')
      .description(
        'whether a consent counts (today, or on --on), for a sender or a script: see the exit codes',
      )
      .addHelpText(
        'after',
        `\nExit codes:\n  0  the consent is given and has not expired\n  ${NO_CURRENT_CONSENT}  it does not count: refused, withdrawn, expired, or no choice recorded\n  1  an error (the message says which)\n  2  a wrong call (an option missing or malformed)\n`,
      ),
  )
    .requiredOption('--purpose <purpose>', 'the purpose')
    .option('--on <date>', 'the day (YYYY-MM-DD, default today)')
    .action(async (opts: SubjectOptions & { purpose: string; on?: string }) => {
      const { formatCheck } = await formatting();
      const { checkConsent } = await consent();
      const checked = await withOptionNames(OPTION_NAMES, () =>
        withEngine(program, (engine, ctx) =>
          checkConsent(
            engine,
            { ...subjectOf(opts), purpose: opts.purpose, ...(opts.on ? { on: opts.on } : {}) },
            ctx,
          ),
        ),
      );
      io.out(formatCheck(who(opts), checked));
      setExit(checked.current ? 0 : NO_CURRENT_CONSENT);
    });

  subjectOptions(
    command
      .command('proof')
      .description(
        'every event of a person or visitor with the notice version and text hash, time, source, consent id, language, and who recorded it when; --html writes the page a DPO hands to an authority (French and English, self-contained)',
      ),
  )
    .option('--on <date>', 'the day of the states shown (YYYY-MM-DD, default today)')
    .option('--json', 'print JSON')
    .addOption(
      new Option('--html <file>', 'write the proof as an HTML page (a new file, never over one)').conflicts(
        'json',
      ),
    )
    .action(async (opts: SubjectOptions & { on?: string; json?: boolean; html?: string }) => {
      const { formatProof } = await formatting();
      const { consentProof } = await consent();
      const { proof, register } = await withOptionNames(OPTION_NAMES, () =>
        withEngine(program, async (engine, ctx) => ({
          proof: await consentProof(engine, { ...subjectOf(opts), ...(opts.on ? { on: opts.on } : {}) }, ctx),
          register: opts.html ? (await engine.project({ cached: true })).register : undefined,
        })),
      );
      if (opts.html && register) {
        const { consentProofHtml } = await import('../../core/consent/consent-proof-html.js');
        writeNew(opts.html, consentProofHtml(register, proof));
        io.out(`wrote ${opts.html}: ${proof.events.length} event(s) of ${who(opts)}\n`);
      } else io.out(opts.json ? jsonText(proof) : formatProof(who(opts), proof));
      setExit(0);
    });

  subjectOptions(
    command
      .command('withdraw')
      .description(
        "withdraw a consent in one call (art. 7(3)): every purpose it is given for, or those named; the data map's effects are applied to the address's records at once",
      ),
  )
    .option('--purpose <purpose>', 'only this purpose (repeat it; default: every purpose given)', collect)
    .option('--at <time>', 'when the person withdrew, ISO 8601 with its offset (default now)')
    .action(async (opts: SubjectOptions & { purpose?: string[]; at?: string }) => {
      const { formatWithdrawn } = await formatting();
      const { withdrawConsent } = await consent();
      const withdrawn = await withOptionNames(OPTION_NAMES, () =>
        withEngine(program, (engine, ctx) =>
          withdrawConsent(
            engine,
            {
              ...subjectOf(opts),
              ...(opts.purpose ? { purposes: opts.purpose } : {}),
              ...(opts.at ? { at: opts.at } : {}),
            },
            ctx,
          ),
        ),
      );
      io.out(formatWithdrawn(who(opts), withdrawn));
      setExit(0);
    });
}

/** A new file, readable by its owner only; never written over an existing one. */
function writeNew(path: string, text: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new RegistreError(
        'E_OUT_EXISTS',
        `${path} already exists: the proof is never written over a file`,
      );
    throw new RegistreError(
      'E_OUT_CREATE',
      `${path} cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
}
