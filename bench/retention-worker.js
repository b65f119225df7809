// One measurement of the retention benchmark, in its own process (its own peak RSS).
// Usage: node bench/retention-worker.js MODE DIR AT   (MODE: plan | raw-plan | sweep | raw-sweep | explain)
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { explainRecord, findPerson } from '../dist/adapters/sql/explain.js';
import { runPlan } from '../dist/app/plan.js';
import { connectStore, openProject } from '../dist/app/project.js';
import { runSweep } from '../dist/app/sweep.js';
import { rawCountStatements, rawRules, rawSweepStatements } from './retention-raw.js';

const [mode, dir, at] = process.argv.slice(2);
const config = join(dir, 'registre.yaml');
const result = { mode };
const time = async (f) => {
  const start = performance.now();
  const value = await f();
  return [(performance.now() - start) / 1000, value];
};

if (mode === 'plan') {
  const [seconds, plan] = await time(() => runPlan(config, at));
  Object.assign(result, { seconds, due: plan.totals.due, archive: plan.totals.archive });
} else if (mode === 'raw-plan') {
  const db = new Database(join(dir, 'shop.sqlite'), { readonly: true });
  const [seconds, counts] = await time(() => rawCountStatements(at).map((s) => db.prepare(s).get().n));
  const rules = rawRules(at);
  result.seconds = seconds;
  result.due = counts.reduce((n, c, i) => n + (rules[i].action === 'archive' ? 0 : c), 0);
  result.archive = counts.reduce((n, c, i) => n + (rules[i].action === 'archive' ? c : 0), 0);
  db.close();
} else if (mode === 'sweep') {
  const [seconds, report] = await time(() => runSweep(config, { at, today: at }));
  Object.assign(result, { seconds, total: report.total });
} else if (mode === 'raw-sweep') {
  const db = new Database(join(dir, 'shop.sqlite'));
  db.exec(`ATTACH DATABASE '${join(dir, '.registre', 'archive-raw.sqlite')}' AS arch`);
  const [seconds, total] = await time(() => {
    let n = 0;
    db.exec('BEGIN');
    for (const s of rawSweepStatements(at)) {
      if (s.startsWith('DELETE') || s.startsWith('UPDATE')) n += db.prepare(s).run().changes;
      else db.exec(s);
    }
    db.exec('COMMIT');
    return n;
  });
  Object.assign(result, { seconds, total });
  db.close();
} else if (mode === 'explain') {
  const project = openProject(config);
  const store = project.datamap.stores[0];
  const conn = await connectStore(project, store);
  const ctx = { register: project.register, datamap: project.datamap, dialect: conn.dialect };
  const { n } = (await conn.db
    .selectFrom('customers')
    .select(conn.db.fn.countAll().as('n'))
    .executeTakeFirst()) ?? { n: 0 };
  const step = Math.max(1, Math.floor(Number(n) / 100));
  const emails = (
    await conn.db
      .selectFrom('customers')
      .select('email')
      .where((eb) => eb(eb.fn('mod', ['id', eb.lit(step)]), '=', 0))
      .limit(100)
      .execute()
  ).map((r) => r.email);
  const times = [];
  let records = 0;
  for (const email of emails) {
    const [seconds, found] = await time(async () => {
      const people = await findPerson(conn, ctx, store, email);
      for (const p of people) if (p.table.record) await explainRecord(conn, ctx, store, p.table, p.id, at);
      return people.length;
    });
    times.push(seconds * 1000);
    records += found;
  }
  await conn.close();
  times.sort((a, b) => a - b);
  Object.assign(result, {
    people: emails.length,
    records,
    medianMs: times[Math.floor(times.length / 2)],
    p90Ms: times[Math.floor(times.length * 0.9)],
  });
}
result.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify(result)}\n`);
