// Where a sweep's time goes, statement by statement (SQLite): run a sweep on a copy of a demo
// shop with every better-sqlite3 statement timed, then print the slowest statement texts.
// Usage: node bench/sweep-statements.js SHOP_DIR [AT]   (the folder `registre demo --out` made;
// the sweep changes it: give it a copy). Statements run with exec (BEGIN, COMMIT of the state
// store) are not seen.
import Database from 'better-sqlite3';

const [dir, at = new Date().toISOString().slice(0, 10)] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/sweep-statements.js SHOP_DIR [AT]');
  process.exit(2);
}
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
probe.close();
const stats = new Map();
for (const method of ['all', 'run', 'get', 'iterate']) {
  const original = proto[method];
  proto[method] = function timed(...args) {
    const start = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const key = this.source.replace(/\s+/g, ' ').slice(0, 100);
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += performance.now() - start;
      stats.set(key, s);
    }
  };
}
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
for (const [text, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15))
  console.log(`${s.ms.toFixed(0).padStart(6)} ${String(s.n).padStart(6)}  ${text}`);
