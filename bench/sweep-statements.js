// Where a sweep's time goes, statement by statement (SQLite through better-sqlite3, PostgreSQL
// through pg): run a sweep on a copy of a demo shop with every statement timed, then print the
// slowest statement texts.
// Usage: node bench/sweep-statements.js SHOP_DIR [AT]   (the folder `registre demo --out` made;
// the sweep changes it: give it a copy). SQLite statements run with exec (BEGIN, COMMIT of the
// state store) are not seen. BENCH_STATEMENTS_FULL=1 prints each of the slowest texts whole, with
// the parameters of its slowest run (to EXPLAIN it).
import Database from 'better-sqlite3';
import pg from 'pg';

const [dir, at = new Date().toISOString().slice(0, 10)] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/sweep-statements.js SHOP_DIR [AT]');
  process.exit(2);
}
const full = process.env.BENCH_STATEMENTS_FULL === '1';
const stats = new Map();
const note = (text, ms, params) => {
  const key = full ? text : text.replace(/\s+/g, ' ').slice(0, 100);
  const s = stats.get(key) ?? { n: 0, ms: 0, worst: 0, params: undefined };
  s.n++;
  s.ms += ms;
  if (ms >= s.worst) Object.assign(s, { worst: ms, params });
  stats.set(key, s);
};
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
probe.close();
for (const method of ['all', 'run', 'get', 'iterate']) {
  const original = proto[method];
  proto[method] = function timed(...args) {
    const start = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      note(this.source, performance.now() - start, args);
    }
  };
}
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function timed(config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  const params = Array.isArray(values) ? values : config?.values;
  const start = performance.now();
  const result = query.call(this, config, values, callback);
  if (text && result && typeof result.then === 'function')
    result.then(
      () => note(text, performance.now() - start, params),
      () => {},
    );
  return result;
};
const { sweep } = await import('../dist/app/sweep.js');
const { withEngine } = await import('../dist/app/engine.js');
const start = performance.now();
const report = await withEngine(
  `${dir}/registre.yaml`,
  (engine) => sweep(engine, { at }, { actor: 'bench:sweep-statements' }),
  { clock: { now: () => new Date(), today: () => at } },
);
const total = performance.now() - start;
const timed = [...stats.values()].reduce((n, s) => n + s.ms, 0);
console.log(
  `sweep ${(total / 1000).toFixed(2)} s, ${report.total} records; ${(timed / 1000).toFixed(2)} s in statements`,
);
console.log('    ms  count  statement');
for (const [text, s] of [...stats]
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, Number(process.env.BENCH_STATEMENTS ?? 15))) {
  console.log(`${s.ms.toFixed(0).padStart(6)} ${String(s.n).padStart(6)}  ${text}`);
  if (full && s.params?.length)
    console.log(
      `               slowest ${s.worst.toFixed(0)} ms with ${JSON.stringify(s.params).slice(0, 400)}`,
    );
}
