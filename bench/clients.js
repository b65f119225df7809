// The hand-written baselines' connections: plain drivers, no Kysely, no registre code. One small
// interface over SQLite (better-sqlite3), PostgreSQL (pg) and MySQL/MariaDB (mysql2):
// begin, commit, exec, run (→ rows changed), all (→ rows), insert (multi-row, bound values).
import Database from 'better-sqlite3';

/** `url`: sqlite:PATH (relative to `dir`), postgres://…, mysql://… */
export async function openClient(url, dir = '.') {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const db = new Database(path.startsWith('/') ? path : `${dir}/${path}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // The page cache registre's sweep uses too: the same connection settings on both sides.
    db.pragma('cache_size = -65536');
    return {
      kind: 'sqlite',
      raw: db,
      begin: async () => db.exec('BEGIN'),
      commit: async () => db.exec('COMMIT'),
      exec: async (text) => db.exec(text),
      run: async (text) => db.prepare(text).run().changes,
      all: async (text, params = []) => db.prepare(text).all(...params),
      insert: async (table, columns, rows) => {
        const per = Math.max(1, Math.floor(30_000 / columns.length));
        for (let i = 0; i < rows.length; i += per) {
          const part = rows.slice(i, i + per);
          const tuple = `(${columns.map(() => '?').join(', ')})`;
          db.prepare(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => tuple).join(', ')}`,
          ).run(...part.flat());
        }
      },
      close: async () => db.close(),
    };
  }
  if (url.startsWith('postgres')) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("SET TIME ZONE 'UTC'");
    await client.query('SET jit = off'); // as registre's sessions: the same settings on both sides
    return {
      kind: 'postgres',
      raw: client,
      begin: async () => client.query('BEGIN'),
      commit: async () => client.query('COMMIT'),
      exec: async (text) => client.query(text),
      run: async (text) => (await client.query(text)).rowCount ?? 0,
      all: async (text, params = []) => (await client.query(text, params)).rows,
      insert: async (table, columns, rows) => {
        const per = Math.max(1, Math.floor(30_000 / columns.length));
        for (let i = 0; i < rows.length; i += per) {
          const part = rows.slice(i, i + per);
          let n = 0;
          const tuples = part.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`);
          await client.query(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`,
            part.flat(),
          );
        }
      },
      close: async () => client.end(),
    };
  }
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: url, timezone: 'Z', dateStrings: true });
  await conn.query("SET time_zone = '+00:00'");
  return {
    kind: 'mysql',
    raw: conn,
    begin: async () => conn.query('BEGIN'),
    commit: async () => conn.query('COMMIT'),
    exec: async (text) => conn.query(text),
    run: async (text) => (await conn.query(text))[0].affectedRows ?? 0,
    all: async (text, params = []) => (await conn.query(text, params))[0],
    insert: async (table, columns, rows) => {
      const per = Math.max(1, Math.floor(30_000 / columns.length));
      for (let i = 0; i < rows.length; i += per) {
        const part = rows.slice(i, i + per);
        const tuple = `(${columns.map(() => '?').join(', ')})`;
        await conn.query(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => tuple).join(', ')}`,
          part.flat(),
        );
      }
    },
    close: async () => conn.end(),
  };
}
