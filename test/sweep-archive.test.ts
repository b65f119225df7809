/**
 * The archive a sweep fills: no copy of a live record, no one lost, the previous layout rebuilt,
 * archived records keep their files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { AT, customRegister, exists, shop, verdicts, withShop } from './shop-helpers.js';
import { runArchiveRead, runSweep } from './use-cases.js';

describe('8, 11. the archive holds no copy of a live record, and loses no one', () => {
  it('a record whose delete fails leaves no copy in the archive; the others go on', async () => {
    const { config } = await shop(300, 15);
    const archiving = (await verdicts(config)).filter(
      (v) => v.table === 'customers' && v.status === 'archive',
    );
    expect(archiving.length).toBeGreaterThan(3);
    const refused = archiving[1]?.id as string;
    await withShop(config, (conn) =>
      sql
        .raw(
          `CREATE TRIGGER refuse BEFORE DELETE ON customers WHEN OLD.id = ${Number(refused)} BEGIN SELECT RAISE(ABORT, 'refused'); END`,
        )
        .execute(conn.db),
    );
    const report = await runSweep(config, { at: AT, today: AT });
    expect(report.skipped.map((s) => s.key)).toEqual([refused]);
    expect(await exists(config, 'customers', refused)).toBe(true);
    const rows = await runArchiveRead(config, 'customers', undefined, 'test');
    expect(rows.map((r) => String(r.record_key))).not.toContain(refused);
    expect(rows).toHaveLength(archiving.length - 1);
  });

  it('a key reused by a new person after the old one was archived keeps both', async () => {
    const { config } = await shop(300, 15);
    await runSweep(config, { at: AT, today: AT });
    const [first] = await runArchiveRead(config, 'customers', undefined, 'test');
    const key = String(first?.record_key);
    await withShop(config, (conn) =>
      conn.db
        .insertInto('customers')
        .values({
          id: Number(key),
          email: 'new.person@example.org',
          first_name: 'New',
          last_name: 'Person',
          created_at: '2015-01-10 10:00:00',
          closed_at: '2023-06-01 10:00:00',
        })
        .execute(),
    );
    const again = await runSweep(config, { at: AT, today: AT });
    expect(again.lines.find((l) => l.table === 'customers' && l.action === 'archive')?.count).toBe(1);
    const versions = await runArchiveRead(config, 'customers', key, 'test');
    expect(versions.map((v) => v.email).sort()).toEqual([first?.email, 'new.person@example.org'].sort());
  });
});

describe('11. an archive of the previous layout', () => {
  it('keyed by record_key alone, is rebuilt in the new shape with every row kept', async () => {
    const { out, config } = await shop(300, 18);
    const db = new Database(join(out, '.registre', 'archive.sqlite'));
    db.exec(
      'CREATE TABLE shop__customers (record_key varchar(128) PRIMARY KEY, rule varchar(128) NOT NULL, archived_at varchar(32) NOT NULL, deadline varchar(10) NOT NULL, email text)',
    );
    db.prepare('INSERT INTO shop__customers VALUES (?, ?, ?, ?, ?)').run(
      '999001',
      'customer-accounts',
      '2025-01-01T00:00:00Z',
      '2029-01-01',
      'old@example.org',
    );
    db.close();
    await runSweep(config, { at: AT, today: AT });
    const rows = await runArchiveRead(config, 'customers', '999001', 'test');
    expect(rows).toMatchObject([{ record_key: '999001', email: 'old@example.org' }]);
    expect(String(rows[0]?.row_hash)).toMatch(/^[0-9a-f]{64}$/);
    expect((await runArchiveRead(config, 'customers', undefined, 'test')).length).toBeGreaterThan(1);
  });
});

describe('10. archived records keep their files, in the archive', () => {
  it('a file column among the archive fields moves its file to the archive folder; otherwise it goes', async () => {
    for (const fields of ['[email, cv_path]', '[email]']) {
      const { out, config } = await shop(400, 16);
      customRegister(config, 'recruitment.yaml', (t) =>
        t.replace(
          '    anchor: process_ended_at\n    keep: 3 months\n',
          `    anchor: process_ended_at\n    keep: 3 months\n    archive:\n      keep: 3 years\n      fields: ${fields}\n      purpose: { fr: Preuve en cas de contestation, en: Proof in case of a dispute }\n`,
        ),
      );
      const archiving = (await verdicts(config)).filter(
        (v) => v.table === 'candidates' && v.status === 'archive',
      );
      const cvs = await withShop(config, async (conn) =>
        (
          await conn.db
            .selectFrom('candidates')
            .select('cv_path')
            .where(
              'id',
              'in',
              archiving.map((a) => Number(a.id)),
            )
            .where('cv_path', 'is not', null)
            .execute()
        ).map((r) => String(r.cv_path)),
      );
      expect(cvs.length).toBeGreaterThan(0);
      for (const cv of cvs) expect(existsSync(join(out, 'media', cv))).toBe(true);
      await runSweep(config, { at: AT, today: AT });
      for (const cv of cvs) {
        expect(existsSync(join(out, 'media', cv))).toBe(false);
        expect(existsSync(join(out, '.registre', 'archive-files', 'shop', 'media', cv))).toBe(
          fields.includes('cv_path'),
        );
      }
    }
  });
});
