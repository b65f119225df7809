/**
 * What a person receives from an access request (art. 15), and where it is written (issue 18,
 * items 20 and 22), on every dialect: a package folder nobody else's, every field of every record
 * in the person's language, secrets described, a third person masked, files copied, rights and
 * sources stated, web visits reached by a visitor id, anonymised records shown as such.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RegistreError } from '../src/core/errors.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { ROOT, withShop } from './shop-helpers.js';
import {
  openRequest,
  runDemo,
  runExplain,
  runPlanList,
  runRequest,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const AT = '2026-11-27';
const KEY = 'access-key-0123456789-abcdefghijklmnopqrstu';
const BIN = join(ROOT, 'bin', 'registre.js');
const ts = (d: string) => `${d} 10:00:00`;

interface Field {
  column: string;
  title: { fr: string; en: string };
  value?: unknown;
  secret?: boolean;
  masked?: boolean;
  file?: string | null;
}
interface PkgRecord {
  table: string;
  id: string;
  status: string;
  fields: Field[];
  data: Record<string, unknown>;
  source?: { fr: string; en: string };
}

/** Jeanne: an account with a password, an order to herself, a gift, a payment done and anonymised, a CV, a video that is a planted link, web visits. */
async function fill(config: string, dir: string): Promise<void> {
  mkdirSync(join(dir, 'media', 'cv'), { recursive: true });
  mkdirSync(join(dir, 'media', 'video'), { recursive: true });
  writeFileSync(join(dir, 'media', 'cv', 'jeanne.pdf'), 'CV-OF-JEANNE');
  writeFileSync(join(dir, 'outside.txt'), 'OUTSIDE-SECRET');
  symlinkSync(join(dir, 'outside.txt'), join(dir, 'media', 'video', 'jeanne.mp4'));
  await withShop(config, async (conn) => {
    const insert = (table: string, rows: Record<string, unknown>[]) =>
      conn.db.insertInto(table).values(rows).execute();
    await insert('customers', [
      {
        id: 1,
        email: 'jeanne@example.org',
        password_hash: '$2b$12$SECRETHASHSECRETHASH',
        first_name: 'Jeanne',
        last_name: 'Martin',
        address_line: '1 rue des Lilas',
        city: 'Lyon',
        created_at: ts('2025-01-01'),
      },
      {
        id: 2,
        email: 'paul@example.org',
        first_name: 'Paul',
        last_name: 'Durand',
        created_at: ts('2025-01-01'),
      },
    ]);
    const order = (id: number, customer_id: number, placed: string, ship: Record<string, unknown>) => ({
      id,
      customer_id,
      channel: 'shop',
      placed_at: ts(placed),
      status: 'delivered',
      total_cents: 4200 + id,
      ...ship,
    });
    await insert('orders', [
      order(1, 1, '2026-06-01', {
        shipping_name: 'Jeanne Martin',
        shipping_address: '1 rue des Lilas',
        shipping_city: 'Lyon',
      }),
      order(2, 1, '2026-07-01', {
        shipping_name: 'Bernard Cadeau',
        shipping_address: '9 avenue du Cadeau',
        shipping_city: 'Lyon',
        shipping_phone: '0611223344',
      }),
      order(3, 1, '2024-01-10', { shipping_name: 'Jeanne Martin' }),
      order(4, 2, '2026-06-01', { shipping_name: 'Paul Durand' }),
    ]);
    await insert('payments', [
      {
        id: 1,
        order_id: 1,
        card_last4: '4242',
        card_token: 'tok_SECRET_CARD_1',
        card_expiry: '12/29',
        deferred_debit: 0,
        debited_at: ts('2026-06-01'),
      },
      // Debited more than 13 months ago and already anonymised: done, not due.
      {
        id: 3,
        order_id: 3,
        card_last4: null,
        card_token: null,
        card_expiry: null,
        deferred_debit: 0,
        debited_at: ts('2024-01-10'),
      },
    ]);
    await insert('candidates', [
      {
        id: 1,
        email: 'jeanne@example.org',
        last_name: 'Martin',
        cv_path: 'cv/jeanne.pdf',
        job_ref: 'J1',
        status: 'applied',
        applied_at: ts('2026-10-01'),
        last_contact_at: ts('2026-10-01'),
        talent_pool_consent: 0,
      },
    ]);
    await insert('ambassadors', [
      {
        id: 1,
        email: 'jeanne@example.org',
        status: 'active',
        applied_at: ts('2025-01-01'),
        contract_started_at: ts('2025-02-01'),
        video_path: 'video/jeanne.mp4',
      },
    ]);
    await insert('distributors', [
      {
        id: 101,
        name: 'Distrib A',
        contract_started_at: ts('2020-01-01'),
        retention_months: 60,
        end_of_contract: 'delete',
      },
    ]);
    await insert('distributor_orders', [
      {
        id: 1,
        distributor_id: 101,
        end_customer_email: 'jeanne@example.org',
        placed_at: ts('2026-06-01'),
        status: 'delivered',
      },
    ]);
    await insert('web_visits', [
      {
        id: 1,
        visitor_id: 'v-jeanne-7f3a',
        ip_address: '192.0.2.10',
        page_url: '/jeanne-page',
        occurred_at: ts('2026-11-01'),
      },
      {
        id: 2,
        visitor_id: 'v-other-0000',
        ip_address: '192.0.2.99',
        page_url: '/other-page',
        occurred_at: ts('2026-11-01'),
      },
    ]);
  });
}

async function refused(p: Promise<unknown>): Promise<RegistreError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof RegistreError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe.each(DIALECTS)('the access package on $name', (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  let pkg: { records: PkgRecord[]; rights: unknown; processor: { source?: unknown }[] } = {
    records: [],
    rights: {},
    processor: [],
  };
  let html = '';
  let out = '';
  let accessId = 0;
  const verified = async (type: string, email: string, extra: Record<string, unknown> = {}) => {
    const opened = await openRequest(config, { type, email, today: AT, ...extra });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    return opened.id;
  };
  const record = (table: string, id: string) =>
    pkg.records.find((r) => r.table === table && r.id === id) as PkgRecord;
  const field = (r: PkgRecord, column: string) => r.fields.find((f) => f.column === column) as Field;

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    dir = mkdtempSync(join(tmpdir(), `registre-access-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_ACCESS_HMAC_KEY = KEY;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_ACCESS_HMAC_KEY'),
    );
    await fill(config, dir);
    const id = await verified('access', 'jeanne@example.org', { visitor: 'v-jeanne-7f3a' });
    accessId = id;
    out = join(dir, 'packages', 'jeanne');
    await runRequest(config, id, { at: AT, out, today: AT });
    pkg = JSON.parse(readFileSync(join(out, 'access.json'), 'utf8'));
    html = readFileSync(join(out, 'access.html'), 'utf8');
  });
  afterAll(() => drop());

  it('18.20 run --out writes a new folder of the owner only, each file 0600', () => {
    expect(statSync(out).mode & 0o777).toBe(0o700);
    for (const name of ['access.json', 'access.html'])
      expect(statSync(join(out, name)).mode & 0o777).toBe(0o600);
  });

  it("18.20 run --out refuses a folder holding files (another person's), a planted symlink, a folder others can write to, and names the path", async () => {
    const id = await verified('portability', 'jeanne@example.org');
    // A previous person's package is still there: nothing is mixed with it.
    const used = join(dir, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'customers.csv'), 'id,email\n9,someone@example.org\n');
    const full = await refused(runRequest(config, id, { at: AT, out: used, today: AT }));
    expect(full.code).toBe('E_OUT_NOT_EMPTY');
    expect(full.message).toContain(used);
    expect(readFileSync(join(used, 'customers.csv'), 'utf8')).toContain('someone@');
    // A link planted where the package goes, to a file outside: never followed, never written.
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'KEEP', { mode: 0o666 });
    chmodSync(victim, 0o666);
    const link = join(dir, 'planted');
    symlinkSync(victim, link);
    expect((await refused(runRequest(config, id, { at: AT, out: link, today: AT }))).code).toBe('E_OUT_LINK');
    const folderLink = join(dir, 'planted-folder');
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere'), folderLink);
    expect((await refused(runRequest(config, id, { at: AT, out: folderLink, today: AT }))).code).toBe(
      'E_OUT_LINK',
    );
    expect(readFileSync(victim, 'utf8')).toBe('KEEP');
    expect(statSync(victim).mode & 0o777).toBe(0o666);
    // An empty folder anybody can write to: refused.
    const open = join(dir, 'world');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect((await refused(runRequest(config, id, { at: AT, out: open, today: AT }))).code).toBe(
      'E_OUT_UNSAFE',
    );
    // A file: said so, with its path.
    const file = join(dir, 'a-file.txt');
    writeFileSync(file, 'x');
    const isFile = await refused(runRequest(config, id, { at: AT, out: file, today: AT }));
    expect(isFile.code).toBe('E_OUT_FILE');
    expect(isFile.message).toBe(`--out ${file} is a file: give a folder that does not exist yet`);
    // Refused before anything was done: the request is still verified, and runs into a new folder.
    expect((await showRequest(config, id, AT)).status).toBe('verified');
    const fresh = join(dir, 'portability-new');
    const done = await runRequest(config, id, { at: AT, out: fresh, today: AT });
    expect(done.files?.length).toBeGreaterThan(1);
    for (const f of readdirSync(fresh)) expect(lstatSync(join(fresh, f)).mode & 0o777).toBe(0o600);
    const written = readdirSync(fresh).map((f) => readFileSync(join(fresh, f), 'utf8'));
    expect(written.join('\n')).not.toContain('someone@example.org');
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
  });

  it('18.20 run --out /proc/1/x fails at once, releases the request, which runs afterwards', async () => {
    const id = await verified('access', 'paul@example.org');
    const started = Date.now();
    const run = spawnSync(
      process.execPath,
      [BIN, 'request', 'run', '--config', config, String(id), '--at', AT, '--out', '/proc/1/x'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env } },
    );
    expect(run.signal).toBeNull();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("--out /proc/1/x: the package's folder cannot be made there (ENOENT)");
    expect((await showRequest(config, id, AT)).status).toBe('verified');
    const ok = await runRequest(config, id, { at: AT, out: join(dir, 'paul'), today: AT });
    expect(ok.files?.length).toBe(2);
  });

  it('18.22 an anonymised record shows as anonymised in explain, in the package and the run, as plan says', async () => {
    const listed = await runPlanList(config, { at: AT, rule: 'payments', status: 'anonymised' });
    expect(listed.records.map((r) => String(r.key))).toEqual(['3']);
    const explained = await runExplain(config, { table: 'payments', id: '3', at: AT });
    expect(explained[0]?.status).toBe('anonymised');
    const byEmail = await runExplain(config, { email: 'jeanne@example.org', at: AT });
    expect(byEmail.find((e) => e.table === 'payments' && e.id === '3')?.status).toBe('anonymised');
    expect(record('payments', '3').status).toBe('anonymised');
    expect(record('payments', '1').status).toBe('active');
    expect(html).toContain('anonymisé');
  });

  it('18.22 secrets are described, never copied: the password hash, the card token', async () => {
    const text = readFileSync(join(out, 'access.json'), 'utf8') + html;
    expect(text).not.toContain('SECRETHASH');
    expect(text).not.toContain('tok_SECRET_CARD_1');
    expect(field(record('customers', '1'), 'password_hash')).toMatchObject({ secret: true, stored: true });
    expect(field(record('payments', '1'), 'card_token')).toMatchObject({ secret: true });
    expect(html).toContain('Mot de passe (empreinte)</dt><dd>enregistré sous une forme protégée');
    expect(html).toContain('Password (hash)</dt><dd>stored in a protected form; not copied here (a secret)');
    // Portability carries no secret either.
    const port = join(dir, 'portability-new');
    const all = readdirSync(port)
      .map((f) => readFileSync(join(port, f), 'utf8'))
      .join('\n');
    expect(all).not.toContain('SECRETHASH');
    expect(all).not.toContain('tok_SECRET_CARD_1');
  });

  it('18.22 every label of the French half is French, from the register: field names, recipients, statuses', () => {
    const fr = html.slice(html.indexOf('<section lang="fr">'), html.indexOf('<section lang="en">'));
    const en = html.slice(html.indexOf('<section lang="en">'));
    expect(fr).toContain('<dt>Date de la commande</dt>');
    expect(fr).toContain('<dt>Statut de la commande</dt>');
    expect(fr).toContain('Commandes 1');
    expect(fr).toContain('en cours d’utilisation');
    expect(en).toContain('<dt>Order date</dt>');
    expect(en).toContain('in use');
    // No raw column name, no status word left in English in the French half.
    for (const raw of [
      'placed_at',
      'total_cents',
      'password_hash',
      'shipping_name',
      'occurred_at',
      'end_customer_email',
      'web_visits',
      'distributor_orders',
      '<td>active</td>',
      '<td>anonymised</td>',
    ])
      expect(fr).not.toContain(raw);
    const declared = readdirSync(join(ROOT, 'registers', 'negomarkets'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap(
        (f) =>
          (
            parse(readFileSync(join(ROOT, 'registers', 'negomarkets', f), 'utf8')) as {
              recipients?: { id: string; name: { fr: string; en: string } }[];
            }
          ).recipients ?? [],
      );
    const listed = (record('orders', '1') as unknown as { recipients: { id: string }[] }).recipients;
    expect(listed.length).toBeGreaterThan(0);
    let differ = 0;
    for (const r of listed) {
      const name = declared.find((x) => x.id === r.id)?.name;
      expect(name).toBeDefined();
      expect(fr).toContain(name?.fr);
      expect(en).toContain(name?.en);
      if (name && name.fr !== name.en) {
        differ++;
        expect(fr).not.toContain(name.en);
      }
    }
    expect(differ).toBeGreaterThan(0);
  });

  it("18.22 a gift's recipient is masked with a note citing art. 15(4); an order sent to the person shows her address", () => {
    const gift = record('orders', '2');
    for (const c of ['shipping_name', 'shipping_address', 'shipping_city', 'shipping_phone'])
      expect(field(gift, c)).toMatchObject({ masked: true });
    const text = JSON.stringify(pkg) + html;
    for (const leak of ['Bernard', 'Cadeau', '0611223344']) expect(text).not.toContain(leak);
    expect(html).toContain('RGPD art. 15(4)');
    expect(html).toContain('GDPR art. 15(4)');
    const own = record('orders', '1');
    expect(field(own, 'shipping_address').value).toBe('1 rue des Lilas');
    expect(field(own, 'shipping_name').value).toBe('Jeanne Martin');
  });

  it("18.22 every field of the person's records is listed: an order's date, amount and status", () => {
    const order = record('orders', '1');
    expect(order.data).toMatchObject({ status: 'delivered', total_cents: 4201, channel: 'shop' });
    expect(String(order.data.placed_at)).toContain('2026-06-01');
    // Keys are not the person's data: no customer_id.
    expect(order.fields.map((f) => f.column)).not.toContain('customer_id');
    // Nothing of anybody else.
    expect(JSON.stringify(pkg)).not.toContain('paul@example.org');
    expect(JSON.stringify(pkg)).not.toContain('Durand');
  });

  it('18.22 the package states the rights, the right to complain to the CNIL with its address, and the sources', () => {
    expect(pkg.rights).toMatchObject({
      contact: { email: 'dpo@negomarkets.example' },
      authority: { address: '3 Place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France' },
    });
    for (const words of [
      'faire rectifier',
      'effacement',
      'limitation du traitement',
      'vous opposer',
      'portabilité',
      'have inaccurate or incomplete data rectified',
      'erased',
      'restricted',
      'object to processing',
      'réclamation auprès de la Commission nationale',
      '3 Place de Fontenoy, TSA 80715, 75334 Paris Cedex 07',
      'www.cnil.fr',
    ])
      expect(html).toContain(words);
    expect(record('payments', '1').source?.en).toContain('payment provider');
    expect(record('ambassadors', '1').source?.fr).toContain('réseaux sociaux');
    expect(pkg.processor[0]?.source).toMatchObject({ en: expect.stringContaining('distributor') });
    expect(html).toContain('Provenance : ');
  });

  it('18.22 files are copied into the package, read inside their folder only: a planted link is not followed', () => {
    const cv = field(record('candidates', '1'), 'cv_path');
    expect(cv.file).toMatch(/^files\//);
    expect(readFileSync(join(out, cv.file as string), 'utf8')).toBe('CV-OF-JEANNE');
    expect(statSync(join(out, cv.file as string)).mode & 0o777).toBe(0o600);
    expect(html).toContain(`href="${cv.file}"`);
    const video = field(record('ambassadors', '1'), 'video_path');
    expect(video.file).toBeNull();
    const everything = readdirSync(join(out, 'files'))
      .map((f) => readFileSync(join(out, 'files', f), 'utf8'))
      .join('');
    expect(everything).not.toContain('OUTSIDE-SECRET');
    expect(existsSync(join(out, 'files', 'ambassadors-1-video_path-jeanne.mp4'))).toBe(false);
    // The completion letter attaches the copy too, from the package's files/.
    const outbox = join(dir, '.registre', 'outbox');
    const letters = readdirSync(outbox).filter((f) => f.includes(`-request-${accessId}-letter-`));
    const letter = letters.map((f) => readFileSync(join(outbox, f), 'utf8')).join('\n');
    expect(letter).toContain('filename=candidates-1-cv_path-jeanne.pdf');
    expect(letter.replace(/\s/g, '')).toContain(Buffer.from('CV-OF-JEANNE').toString('base64'));
  });

  it("18.22 a request naming a visitor id reaches the web visits of that visitor, nobody else's", async () => {
    expect(pkg.records.filter((r) => r.table === 'web_visits').map((r) => r.id)).toEqual(['1']);
    expect(JSON.stringify(pkg)).not.toContain('/other-page');
    expect(field(record('web_visits', '1'), 'page_url').value).toBe('/jeanne-page');
    // Without it, none; a bad visitor id is refused with the reason.
    const plain = await verified('access', 'jeanne@example.org');
    const plainOut = join(dir, 'plain');
    await runRequest(config, plain, { at: AT, out: plainOut, today: AT });
    const without = JSON.parse(readFileSync(join(plainOut, 'access.json'), 'utf8')) as {
      records: PkgRecord[];
    };
    expect(without.records.some((r) => r.table === 'web_visits')).toBe(false);
    const bad = await refused(
      openRequest(config, { type: 'access', email: 'x@example.org', visitor: 'two words', today: AT }),
    );
    expect(bad.code).toBe('E_USAGE');
  });
});

describe('the register of the package', () => {
  it('18.22 every field of the bundled register has a title in French and in English', () => {
    const doc = parse(readFileSync(join(ROOT, 'registers', 'negomarkets', 'records.yaml'), 'utf8')) as {
      records: { id: string; fields: Record<string, { title?: { fr?: string; en?: string } }> }[];
    };
    const missing = doc.records.flatMap((r) =>
      Object.entries(r.fields)
        .filter(([, f]) => !(typeof f === 'object' && f.title?.fr && f.title?.en))
        .map(([name]) => `${r.id}.${name}`),
    );
    expect(missing).toEqual([]);
    expect(doc.records.length).toBeGreaterThan(15);
  });
});
