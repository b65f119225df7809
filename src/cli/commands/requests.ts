/** People's requests (request …) and past erasures (erasure replay). */
import { Option } from 'commander';
import { type Cli, collect, jsonText, numeric, withEngine } from '../shared.js';

const formatting = () => import('../format/requests.js');

const requests = () => import('../../app/requests/index.js');

export function registerRequestCommands({ program, io, setExit }: Cli): void {
  const request = program
    .command('request')
    .description("people's requests (GDPR art. 15 to 21): open, verify, run, on time and with proof");
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
        const { formatOpened, openedJson } = await formatting();
        const { openRequest } = await requests();
        const { json: _json, set, ...input } = opts;
        const { parseSettings } = await import('../../core/requests/requests.js');
        const corrections = set === undefined ? {} : { set: parseSettings(set) };
        const opened = await withEngine(program, (engine, ctx) =>
          openRequest(engine, { ...input, ...corrections } as never, ctx),
        );
        io.out(opts.json ? openedJson(opened) : formatOpened(opened));
        setExit(opened.code?.via === 'failed' ? 1 : 0);
      },
    );
  request
    .command('send-code')
    .description('send a new identity code (the last one expired)')
    .argument('<id>', 'the request')
    .action(async (id: string) => {
      const { formatCodeResent } = await formatting();
      const { parseRequestId, resendCode } = await requests();
      const sent = await withEngine(program, (engine, ctx) =>
        resendCode(engine, { id: parseRequestId(id) }, ctx),
      );
      io.out(formatCodeResent(id, sent));
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
      const verified = await withEngine(program, (engine, ctx) =>
        verifyRequest(engine, { id: parseRequestId(id), ...opts }, ctx),
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
        const { formatRun } = await formatting();
        const { parseRequestId, runRequest } = await requests();
        const { json: _json, ...input } = opts;
        const result = await withEngine(program, (engine, ctx) =>
          runRequest(engine, { id: parseRequestId(id), ...(input as { delivery?: 'mail' }) }, ctx),
        );
        io.out(opts.json ? jsonText(result) : formatRun(result));
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
      const { formatRequests } = await formatting();
      const { listRequests } = await requests();
      const list = await withEngine(program, (engine, ctx) =>
        listRequests(engine, { overdue: opts.overdue === true }, ctx),
      );
      io.out(opts.json ? jsonText(list) : formatRequests(list));
      setExit(0);
    });
  request
    .command('show')
    .description('one request: its dates, status and outcome')
    .argument('<id>', 'the request')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { formatRequestDetail } = await formatting();
      const { parseRequestId, showRequest } = await requests();
      const shown = await withEngine(program, (engine, ctx) =>
        showRequest(engine, { id: parseRequestId(id) }, ctx),
      );
      io.out(opts.json ? jsonText(shown) : formatRequestDetail(shown));
      setExit(0);
    });
  request
    .command('extend')
    .description('extend the deadline by one or two months, with the reason the person is told (art. 12(3))')
    .argument('<id>', 'the request')
    .requiredOption('--months <n>', '1 or 2')
    .requiredOption('--reason <text>', 'why (the person is told)')
    .action(async (id: string, opts: { months: string; reason: string }) => {
      const { formatExtended } = await formatting();
      const { extendRequest, parseRequestId } = await requests();
      const extended = await withEngine(program, (engine, ctx) =>
        extendRequest(
          engine,
          { id: parseRequestId(id), months: numeric(opts.months) as number, reason: opts.reason },
          ctx,
        ),
      );
      io.out(formatExtended(extended));
      setExit(extended.letterError === undefined ? 0 : 1);
    });
  request
    .command('refuse')
    .description('refuse the request, with its reason (art. 12(4))')
    .argument('<id>', 'the request')
    .requiredOption('--reason <text>', 'why (the person is told)')
    .action(async (id: string, opts: { reason: string }) => {
      const { formatRefused } = await formatting();
      const { parseRequestId, refuseRequest } = await requests();
      const refused = await withEngine(program, (engine, ctx) =>
        refuseRequest(engine, { id: parseRequestId(id), reason: opts.reason }, ctx),
      );
      io.out(formatRefused(refused));
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
      const { formatLetterSent } = await formatting();
      const { parseRequestId, sendLetters } = await requests();
      const sent = await withEngine(program, (engine, ctx) =>
        sendLetters(engine, { id: parseRequestId(id), ...opts }, ctx),
      );
      for (const letter of sent.letters) io.out(formatLetterSent(sent.request.id, letter));
      setExit(sent.letters.some((l) => l.via === 'failed') ? 1 : 0);
    });
  const restriction = request.command('restriction').description('restrictions of processing (art. 18)');
  restriction
    .command('lift')
    .description("end a restriction: the person's records are open to their rules again")
    .argument('<id>', 'the restriction request')
    .action(async (id: string) => {
      const { formatRestrictionLifted } = await formatting();
      const { liftRestriction, parseRequestId } = await requests();
      const lifted = await withEngine(program, (engine, ctx) =>
        liftRestriction(engine, { id: parseRequestId(id) }, ctx),
      );
      io.out(formatRestrictionLifted(lifted));
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
      const { formatReplay } = await formatting();
      const { replayErasures } = await requests();
      const replay = await withEngine(
        program,
        (engine, ctx) => replayErasures(engine, { dryRun: opts.dryRun === true }, ctx),
        { progress: !opts.json },
      );
      io.out(opts.json ? jsonText(replay) : formatReplay(replay, opts.dryRun === true));
      setExit(0);
    });
}
