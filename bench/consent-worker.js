// One import of consent events through the application API, in its own process.
// Usage: node bench/consent-worker.js DIR FILE.jsonl — prints { seconds, events, rows }.
import { join } from 'node:path';
import { createEngine, importConsents } from '../dist/index.js';

const [dir, file] = process.argv.slice(2);
const engine = createEngine({ config: join(dir, 'registre.yaml') });
try {
  const start = performance.now();
  const done = await importConsents(engine, { file }, { actor: 'bench:consent' });
  const seconds = (performance.now() - start) / 1000;
  if (done.refused.length) throw new Error(`refused lines: ${JSON.stringify(done.refused.slice(0, 3))}`);
  console.log(JSON.stringify({ seconds, events: done.events, rows: done.rows }));
} finally {
  await engine.close();
}
