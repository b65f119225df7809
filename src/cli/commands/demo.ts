/** The reference shop: demo. */
import { type Cli, numeric, today, withEngine } from '../shared.js';

const formatting = () => import('../format/demo.js');

export function registerDemoCommand({ program, io, setExit }: Cli): void {
  program
    .command('demo')
    .description('generate the reference shop (deterministic) with a ready configuration')
    .requiredOption('--out <dir>', 'folder for registre.yaml, shop.sqlite and media/')
    .option('--customers <n>', 'number of customers (about 22 rows each)', '1000')
    .option('--seed <n>', 'random seed: the same seed gives the same data', '1')
    .option('--at <date>', 'the shop is seen from this date (YYYY-MM-DD)', today())
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
        const { printDemo } = await formatting();
        const { demo } = await import('../../app/demo.js');
        const report = await withEngine(
          program,
          (engine, ctx) =>
            demo(
              engine,
              {
                out: opts.out,
                customers: numeric(opts.customers) as number,
                seed: (/^-?\d{1,15}$/.test(opts.seed) ? Number(opts.seed) : opts.seed) as number,
                at: opts.at,
                ...(opts.store ? { store: opts.store } : {}),
                ...(opts.replace ? { replace: true } : {}),
              },
              ctx,
            ),
          { progress: true },
        );
        printDemo(io, report);
        setExit(0);
      },
    );
}
