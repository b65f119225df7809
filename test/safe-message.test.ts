/**
 * Secrets and personal data stay out of messages (src/core/safe-message.ts, src/core/store-url.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeMessage } from '../src/core/safe-message.js';
import { redactUrl, urlHasSecret } from '../src/core/store-url.js';
import { DIALECTS } from './dialects.js';
import { AT } from './shop-helpers.js';

describe('19-21. secrets and personal data stay out of messages', () => {
  it('URLs lose their password wherever it is; database messages lose their quoted values', () => {
    expect(redactUrl('postgres://h/db?user=root&password=secretpw')).toBe(
      'postgres://h/db?user=root&password=***',
    );
    expect(redactUrl('postgres://root:p@ss@word@h:5432/db')).toBe('postgres://root:***@h:5432/db');
    expect(redactUrl('mysql://root@h/db')).toBe('mysql://root@h/db');
    expect(urlHasSecret('postgres://h/db?sslmode=require&password=x')).toBe(true);
    expect(urlHasSecret('postgres://root@h/db')).toBe(false);
    expect(
      safeMessage(new Error('invalid input syntax for type timestamp: "jean.dupont@example.fr"')),
    ).not.toContain('jean');
  });

  it.runIf(process.env.REGISTRE_TEST_POSTGRES_URL)(
    'demo --store with a password writes env:, never the password',
    async () => {
      const database = DIALECTS.find((d) => d.name === 'postgres');
      if (!database) throw new Error('REGISTRE_TEST_POSTGRES_URL is set, DIALECTS should have postgres');
      const created = await database.create();
      try {
        const out = mkdtempSync(join(tmpdir(), 'registre-secret-'));
        const { runDemo } = await import('./use-cases.js');
        const report = await runDemo({
          out,
          customers: 1,
          seed: 1,
          at: AT,
          store: `${created.url}&password=secretpw`,
        });
        const text = readFileSync(report.config, 'utf8');
        expect(text).not.toContain('secretpw');
        expect(text).toContain('env:SHOP_DATABASE_URL');
        expect(report.env).toBe('SHOP_DATABASE_URL');
        expect(report.store).not.toContain('secretpw');
      } finally {
        await created.drop();
      }
    },
  );
});
