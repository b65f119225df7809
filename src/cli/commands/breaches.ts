/** The register of personal data breaches: breach record, list, show, decide, inform, export. */
import { writeFileSync } from 'node:fs';
import { RegistreError } from '../../core/errors.js';
import { type Cli, collect, jsonText, numeric, withEngine, withOptionNames } from '../shared.js';

const formatting = () => import('../format/breaches.js');

/** A text in French, and in English when it is given apart (else the one text serves both letters). */
const textOf = (fr: string | undefined, en: string | undefined) =>
  fr !== undefined && en !== undefined ? { fr, en } : fr;

const RECORD_OPTIONS = {
  discoveredAt: 'discovered',
  occurredAt: 'occurred',
  kinds: 'kind',
  activities: 'activity',
  rules: 'rule',
  records: 'record',
  categories: 'category',
  nature: 'what',
};

function writeNew(file: string, content: string | Buffer): void {
  try {
    writeFileSync(file, content, { flag: 'wx' });
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST')
      throw new RegistreError('E_OUT_EXISTS', `${file} already exists: it is never written over`);
    throw error;
  }
}

export function registerBreachCommands({ program, io, setExit }: Cli): void {
  const breach = program
    .command('breach')
    .description(
      'the register of personal data breaches (art. 33(5)): the 72 hours to notify the CNIL, the people told',
    );
  breach
    .command('record')
    .description('record a breach: what it touched is counted in the stores through the data map')
    .requiredOption(
      '--discovered <time>',
      'when it was discovered (ISO 8601 with its offset): the 72 hours run from here',
    )
    .option('--occurred <time>', 'when it happened, if known')
    .option('--kind <kind>', 'confidentiality, integrity or availability (repeatable)', collect)
    .option('--activity <id>', 'a processing activity it touched (repeatable)', collect)
    .option('--rule <id>', 'a retention rule whose records it touched (repeatable)', collect)
    .option('--record <id>', 'a register record it touched (repeatable)', collect)
    .option('--category <id>', 'a data category it touched (repeatable): only those columns count', collect)
    .requiredOption('--what <text>', 'what happened (in French when --what-en is given)')
    .option('--what-en <text>', 'what happened, in English')
    .requiredOption('--consequences <text>', 'its likely consequences')
    .option('--consequences-en <text>', 'its likely consequences, in English')
    .requiredOption('--measures <text>', 'the measures taken or proposed')
    .option('--measures-en <text>', 'the measures, in English')
    .option('--people <n>', "the DPO's estimate of the people, beside the count (paper files, a processor's)")
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        discovered: string;
        occurred?: string;
        kind?: string[];
        activity?: string[];
        rule?: string[];
        record?: string[];
        category?: string[];
        what: string;
        whatEn?: string;
        consequences: string;
        consequencesEn?: string;
        measures: string;
        measuresEn?: string;
        people?: string;
        json?: boolean;
      }) => {
        const { formatBreachRecorded } = await formatting();
        const { recordBreach } = await import('../../app/breaches.js');
        const input = {
          discoveredAt: opts.discovered,
          ...(opts.occurred !== undefined ? { occurredAt: opts.occurred } : {}),
          kinds: (opts.kind ?? []) as 'confidentiality'[],
          ...(opts.activity ? { activities: opts.activity } : {}),
          ...(opts.rule ? { rules: opts.rule } : {}),
          ...(opts.record ? { records: opts.record } : {}),
          ...(opts.category ? { categories: opts.category } : {}),
          nature: textOf(opts.what, opts.whatEn) as string,
          consequences: textOf(opts.consequences, opts.consequencesEn) as string,
          measures: textOf(opts.measures, opts.measuresEn) as string,
          ...(opts.people !== undefined ? { people: numeric(opts.people) as number } : {}),
        };
        const recorded = await withOptionNames(RECORD_OPTIONS, () =>
          withEngine(program, (engine, ctx) => recordBreach(engine, input, ctx)),
        );
        io.out(opts.json ? jsonText(recorded) : formatBreachRecorded(recorded));
        setExit(0);
      },
    );
  breach
    .command('list')
    .description('every breach: overdue first, then those to decide by deadline, then the decided')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { formatBreaches } = await formatting();
      const { listBreaches } = await import('../../app/breaches.js');
      const breaches = await withEngine(program, (engine, ctx) => listBreaches(engine, {}, ctx));
      io.out(opts.json ? jsonText(breaches) : formatBreaches(breaches));
      setExit(0);
    });
  breach
    .command('show')
    .description('one breach, where it stands, and the letter to its people')
    .argument('<id>', 'the breach, as breach list shows it')
    .option('--letter <lang>', 'print the letter to the people (art. 34), fr or en')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { letter?: string; json?: boolean }) => {
      const { formatBreach } = await formatting();
      const { showBreach } = await import('../../app/breaches.js');
      if (opts.letter !== undefined && opts.letter !== 'fr' && opts.letter !== 'en')
        throw new RegistreError('E_USAGE', `\`letter\` ${opts.letter}: one of fr, en`, { path: ['letter'] });
      const shown = await withEngine(program, (engine, ctx) =>
        showBreach(engine, { id: numeric(id) as number }, ctx),
      );
      if (opts.json) io.out(jsonText(shown));
      else if (opts.letter === 'fr' || opts.letter === 'en') {
        const letter = shown.letters[opts.letter];
        io.out(`${letter.subject}\n\n${letter.text}`);
      } else io.out(formatBreach(shown));
      setExit(0);
    });
  breach
    .command('decide')
    .description('the decision to notify the CNIL (art. 33) or not, with its reason')
    .argument('<id>', 'the breach')
    .option('--notify', 'it was notified to the CNIL')
    .option('--no-notify', 'it is not notified (say why with --reason)')
    .option('--at <time>', 'when it was notified (ISO 8601 with its offset)')
    .option('--reference <text>', "the CNIL's reference of the notification")
    .option('--reason <text>', 'why it is not notified, or why it was notified after 72 hours')
    .option('--if-version <n>', 'the version read (breach show): refused if the breach changed since')
    .option('--json', 'print JSON')
    .action(
      async (
        id: string,
        opts: {
          notify?: boolean;
          at?: string;
          reference?: string;
          reason?: string;
          ifVersion?: string;
          json?: boolean;
        },
      ) => {
        const { formatBreachDecided } = await formatting();
        const { decideBreach } = await import('../../app/breaches.js');
        const decided = await withOptionNames({ notifiedAt: 'at', version: 'ifVersion' }, () =>
          withEngine(program, (engine, ctx) =>
            decideBreach(
              engine,
              {
                id: numeric(id) as number,
                notify: opts.notify as boolean,
                ...(opts.at !== undefined ? { notifiedAt: opts.at } : {}),
                ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
                ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
                ...(opts.ifVersion !== undefined ? { version: numeric(opts.ifVersion) as number } : {}),
              },
              ctx,
            ),
          ),
        );
        io.out(opts.json ? jsonText(decided) : formatBreachDecided(decided));
        setExit(0);
      },
    );
  breach
    .command('inform')
    .description('whether the people are told (art. 34), with the reason when not; the letter is drafted')
    .argument('<id>', 'the breach')
    .option('--inform', 'the people are told (breach show --letter fr|en prints the letter)')
    .option('--no-inform', 'they are not told (say why with --reason)')
    .option('--at <time>', 'when they were told')
    .option('--reason <text>', 'why they are not told (art. 34(3))')
    .option('--if-version <n>', 'the version read (breach show): refused if the breach changed since')
    .option('--json', 'print JSON')
    .action(
      async (
        id: string,
        opts: { inform?: boolean; at?: string; reason?: string; ifVersion?: string; json?: boolean },
      ) => {
        const { formatBreachInformed } = await formatting();
        const { informBreach } = await import('../../app/breaches.js');
        const informed = await withOptionNames({ informedAt: 'at', version: 'ifVersion' }, () =>
          withEngine(program, (engine, ctx) =>
            informBreach(
              engine,
              {
                id: numeric(id) as number,
                inform: opts.inform as boolean,
                ...(opts.at !== undefined ? { informedAt: opts.at } : {}),
                ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
                ...(opts.ifVersion !== undefined ? { version: numeric(opts.ifVersion) as number } : {}),
              },
              ctx,
            ),
          ),
        );
        io.out(opts.json ? jsonText(informed) : formatBreachInformed(informed));
        setExit(0);
      },
    );
  breach
    .command('export')
    .description("the register of breaches in the CNIL model's columns: HTML, CSV or XLSX")
    .requiredOption('--format <format>', 'html, csv or xlsx')
    .option('--lang <lang>', 'fr (default) or en')
    .option('--out <file>', 'write to a new file (required for xlsx)')
    .action(async (opts: { format: string; lang?: string; out?: string }) => {
      const { exportBreachRegister } = await import('../../app/breaches.js');
      if (opts.format === 'xlsx' && opts.out === undefined)
        throw new RegistreError('E_USAGE', '`out` is required for xlsx: a workbook is not printed', {
          path: ['out'],
        });
      const file = await withEngine(program, (engine, ctx) =>
        exportBreachRegister(
          engine,
          { format: opts.format as 'csv', ...(opts.lang !== undefined ? { lang: opts.lang as 'fr' } : {}) },
          ctx,
        ),
      );
      if (opts.out !== undefined) {
        writeNew(opts.out, file.content);
        io.out(`${opts.out} written\n`);
      } else io.out(String(file.content));
      setExit(0);
    });
}
