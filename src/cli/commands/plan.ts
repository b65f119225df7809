/** What retention has in store: plan, forecast, explain. */
import { RECORD_STATUSES } from '../../core/retention/statuses.js';
import { type Cli, jsonText, numeric, today, withEngine } from '../shared.js';

const formatting = () => import('../format/plan.js');

const planCommands = () => import('../../app/plan.js');

export function registerPlanCommands({ program, io, setExit }: Cli): void {
  program
    .command('plan')
    .description('count, per rule and table, the records active, in archive, due and held on a date')
    .option('--at <date>', 'the date (YYYY-MM-DD)', today())
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
        const { formatPlan, formatPlanList } = await formatting();
        const { plan: planOf, planList } = await planCommands();
        if (opts.list !== undefined) {
          const rule = opts.list;
          const list = await withEngine(program, (engine, ctx) =>
            planList(
              engine,
              {
                at: opts.at,
                rule,
                status: opts.status.split(',').map((s) => s.trim()) as never,
                limit: numeric(opts.limit) as number,
                ...(opts.after !== undefined ? { after: opts.after } : {}),
              },
              ctx,
            ),
          );
          const config: string | undefined = program.opts().config;
          io.out(opts.json ? jsonText(list) : formatPlanList(list, config !== undefined ? { config } : {}));
          return setExit(0);
        }
        const plan = await withEngine(program, (engine, ctx) => planOf(engine, { at: opts.at }, ctx));
        io.out(opts.json ? jsonText(plan) : formatPlan(plan));
        setExit(0);
      },
    );

  program
    .command('forecast')
    .description('how many records reach their deadline in each coming month, per rule')
    .option('--from <date>', 'the first day (YYYY-MM-DD)', today())
    .option('--months <n>', 'how many months', '12')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action(async (opts: { from: string; months: string; json?: boolean; csv?: boolean }) => {
      const { forecastCsv, formatForecast } = await formatting();
      const { forecast: forecastOf } = await planCommands();
      const forecast = await withEngine(program, (engine, ctx) =>
        forecastOf(engine, { from: opts.from, months: numeric(opts.months) as number }, ctx),
      );
      io.out(opts.json ? jsonText(forecast) : opts.csv ? forecastCsv(forecast) : formatForecast(forecast));
      setExit(0);
    });

  program
    .command('explain')
    .description('why a record is still here, or why it is due: one record, or every record of one person')
    .option('--table <table>', 'the table (or store.table)')
    .option('--id <id>', 'the primary key of the record')
    .option('--email <address>', 'every record of the person with this e-mail address')
    .option('--at <date>', 'the date (YYYY-MM-DD)', today())
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; id?: string; email?: string; at: string; json?: boolean }) => {
      const { formatExplanation } = await formatting();
      const { explainAll, goneText } = await import('../../app/explain.js');
      const { records, gone } = await withEngine(program, (engine, ctx) =>
        explainAll(
          engine,
          {
            at: opts.at,
            ...(opts.table !== undefined ? { table: opts.table } : {}),
            ...(opts.id !== undefined ? { id: opts.id } : {}),
            ...(opts.email !== undefined ? { email: opts.email } : {}),
          },
          ctx,
        ),
      );
      if (opts.json)
        io.out(
          jsonText(
            opts.email !== undefined ? { at: opts.at, records, gone } : (records[0] ?? { gone: gone[0] }),
          ),
        );
      else io.out(records.map(formatExplanation).join('') + gone.map((g) => `${goneText(g)}\n`).join(''));
      setExit(0);
    });
}
