/**
 * Issue 21, several processes on one database server: two engines (as two `registre serve`
 * processes behind a balancer would hold) over the same PostgreSQL (and MariaDB) state store
 * share the rate limits' windows, the tokens and today's figures; nothing is kept in a process.
 * Only with REGISTRE_TEST_POSTGRES_URL / REGISTRE_TEST_MYSQL_URL (real servers).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/app/engine.js';
import { createToken } from '../src/app/tokens.js';
import { buildApi } from '../src/http/app.js';
import { ALL_DIALECTS } from './dialects.js';
import { editConfig, shopIn, stateInShopServer } from './shop-helpers.js';

const SERVERS = ALL_DIALECTS.filter((d) => d.name === 'postgres' || d.name === 'mysql');
const drops: (() => Promise<void>)[] = [];
const engines: Engine[] = [];
afterAll(async () => {
  for (const e of engines) await e.close();
  for (const drop of drops) await drop();
});

describe.skipIf(SERVERS.length === 0)('two processes on one state store', () => {
  for (const database of SERVERS)
    it(`share the rate limits, the tokens and today's figures (${database.name})`, async () => {
      const made = await shopIn(database, 20, 3, drops);
      expect(stateInShopServer(made.config)).toBe(true);
      editConfig(made.config, (text) => `${text}service:\n  limits: { perClient: 5 }\n`);
      const [a, b] = [createEngine({ config: made.config }), createEngine({ config: made.config })] as [
        Engine,
        Engine,
      ];
      engines.push(a, b);
      const client = () => '198.51.100.7';
      const apps = [
        await buildApi(a, { clientOf: client }),
        await buildApi(b, { clientOf: client }),
      ] as const;
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const app = apps[i % 2] ?? apps[0];
        const res = await app.request('/api/public/consents/check?visitor=v-1&purpose=audience-statistics');
        statuses.push(res.status);
      }
      // Five calls in the window between both processes, then refused by either.
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

      const { token } = await createToken(a, { name: 'shared', scope: 'read' }, { actor: 'test' });
      const first = await apps[1].request('/api/plan', { headers: { authorization: `Bearer ${token}` } });
      expect(first.status).toBe(200);
      const counted = (await first.json()) as { figures: { cached: boolean; computedAt: string } };
      const second = await apps[0].request('/api/plan', { headers: { authorization: `Bearer ${token}` } });
      expect(((await second.json()) as typeof counted).figures).toEqual({
        cached: true,
        computedAt: counted.figures.computedAt,
      });
    }, 120_000);
});
