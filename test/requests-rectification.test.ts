/**
 * Rectification (art. 16) you can trust (issue 18, items 2 and 3), on every dialect: only fields
 * holding a data category of the person are corrected (never a key, a relation, a `none` column, a
 * secret, a file, a keyed hash, or a field a rule reads); held, restricted and anonymised records,
 * and a third person's data, are reported unchanged; a hold added while a correction runs is
 * honoured when it commits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rectifyRows } from '../src/adapters/sql/person.js';
import { retentionContext } from '../src/adapters/sql/retention-sql.js';
import { openProject } from '../src/app/project.js';
import { flagOf } from '../src/cli/shared.js';
import type { DataMap } from '../src/core/datamap/columns.js';
import { fieldsAs, RegistreError } from '../src/core/errors.js';
import {
  checkRectification as checkRectificationOf,
  rectifiableFields,
  rectificationDecision,
} from '../src/core/requests/rectification.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { ROOT, withShop } from './shop-helpers.js';
import {
  liftRestriction,
  openRequest,
  openState,
  runDemo,
  runHoldAdd,
  runRequest,
  verifyRequest,
} from './use-cases.js';

/** The core's check, its messages as the command line writes them (`--set`), as these tests read them. */
const checkRectification = (...args: Parameters<typeof checkRectificationOf>) => {
  try {
    return checkRectificationOf(...args);
  } catch (error) {
    if (error instanceof RegistreError) error.message = fieldsAs(error.message, flagOf);
    throw error;
  }
};

const AT = '2026-11-27';
const KEY = 'rectification-key-0123456789-abcdefghijklm';
const ts = (d: string) => `${d} 10:00:00`;

/** Paul (an open dispute), Claire (a gift order), Rita (to be restricted), Léna (everywhere), Marc. */
async function fill(config: string): Promise<void> {
  await withShop(config, async (conn) => {
    const insert = (table: string, rows: Record<string, unknown>[]) =>
      conn.db.insertInto(table).values(rows).execute();
    const customer = (id: number, email: string) => ({
      id,
      email,
      first_name: 'F',
      last_name: `L${id}`,
      phone: `+3360000000${id}`,
      address_line: `${id} rue A`,
      created_at: ts('2025-01-01'),
    });
    await insert('customers', [
      customer(2, 'paul@example.org'),
      customer(3, 'claire@example.org'),
      customer(5, 'rita@example.org'),
      customer(6, 'lena@example.org'),
      customer(7, 'marc@example.org'),
    ]);
    const order = (id: number, customer_id: number, placed: string, name: string, address: string) => ({
      id,
      customer_id,
      channel: 'shop',
      placed_at: ts(placed),
      status: 'delivered',
      total_cents: 1000,
      shipping_name: name,
      shipping_address: address,
    });
    await insert('orders', [
      order(3, 2, '2026-03-01', 'N2', '2 rue A'),
      order(4, 2, '2026-05-01', 'N2', '2 rue A'),
      // Claire's gift: shipped to someone else.
      order(5, 3, '2026-01-01', 'Gift Recipient', '7 rue du Cadeau'),
      order(7, 7, '2026-02-01', 'N7', '7 rue A'),
    ]);
    await insert('invoices', [
      {
        id: 3,
        number: 'F-3',
        order_id: 3,
        customer_id: 2,
        issued_at: ts('2026-03-01'),
        billing_name: 'B3',
        total_cents: 1000,
      },
      {
        id: 5,
        number: 'F-5',
        order_id: 5,
        customer_id: 3,
        issued_at: ts('2026-01-01'),
        billing_name: 'B5',
        total_cents: 1000,
      },
    ]);
    await insert('claims', [
      { id: 2, order_id: 3, kind: 'dispute', opened_at: ts('2026-04-01'), resolved_at: null },
    ]);
    await insert('support_tickets', [
      { id: 3, customer_id: 3, email: 'claire@example.org', channel: 'form', created_at: ts('2026-02-01') },
      { id: 6, customer_id: 6, email: 'lena@example.org', channel: 'form', created_at: ts('2026-02-01') },
    ]);
    await insert('newsletter_subscribers', [
      {
        id: 6,
        email: 'lena@example.org',
        first_name: 'F',
        source: 'footer',
        subscribed_at: ts('2026-03-04'),
        consent_text_version: 'v3',
      },
    ]);
    await insert('prospects', [
      { id: 6, email: 'lena@example.org', first_name: 'F', collected_at: ts('2026-06-01') },
    ]);
    await insert('candidates', [
      {
        id: 6,
        email: 'lena@example.org',
        first_name: 'F',
        last_name: 'Martin',
        job_ref: 'J1',
        status: 'applied',
        applied_at: ts('2026-10-01'),
        last_contact_at: ts('2026-10-01'),
        talent_pool_consent: 0,
      },
    ]);
    const ambassador = (id: number, email: string) => ({
      id,
      email,
      first_name: 'F',
      status: 'active',
      applied_at: ts('2025-01-01'),
      contract_started_at: ts('2025-02-01'),
      shipping_address: `${id} rue Ambassade`,
    });
    await insert('ambassadors', [ambassador(3, 'claire@example.org'), ambassador(6, 'lena@example.org')]);
  });
}

async function row(config: string, table: string, id: number): Promise<Record<string, unknown>> {
  return withShop(
    config,
    async (conn) =>
      (await conn.db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as Record<
        string,
        unknown
      >,
  );
}

async function refusal(promise: Promise<unknown>): Promise<RegistreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RegistreError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('18.2 which fields a rectification may correct (pure)', () => {
  let register: Awaited<ReturnType<typeof openProject>>['register'];
  let datamap: DataMap;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'registre-rectify-pure-'));
    const { config } = await runDemo({ out: dir, customers: 0, seed: 1, at: AT });
    const project = await openProject(config);
    register = project.register;
    datamap = project.datamap;
  });

  it('18.2 names, contact details and addresses are rectifiable; keys, dates, secrets and files are not', () => {
    const fields = rectifiableFields(register, datamap);
    for (const f of ['last_name', 'first_name', 'email', 'phone', 'address_line', 'city', 'shipping_address'])
      expect(fields).toContain(f);
    for (const f of [
      'id',
      'customer_id',
      'placed_at',
      'delivered_at',
      'status',
      'password_hash',
      'card_token',
      'email_hmac',
      'cv_path',
      'video_path',
      'shipping_name',
    ])
      expect(fields).not.toContain(f);
  });

  it('18.2 a field a retention rule, a hold rule or a duration reads is refused even with a category', () => {
    // The same data map, with categories put on the columns the rules read.
    const marked: DataMap = {
      locate: datamap.locate,
      stores: datamap.stores.map((s) => ({
        ...s,
        tables: s.tables.map((t) => ({
          ...t,
          columns: Object.fromEntries(
            Object.entries(t.columns).map(([c, spec]) =>
              (t.name === 'orders' && c === 'placed_at') ||
              (t.name === 'claims' && c === 'kind') ||
              (t.name === 'distributors' && c === 'retention_months') ||
              (t.name === 'newsletter_subscribers' && c === 'unsubscribed_at')
                ? [c, { category: 'contact-details' }]
                : [c, spec],
            ),
          ),
        })),
      })),
    };
    const cases: [string, RegExp][] = [
      ['placed_at', /--set placed_at: .*orders\.placed_at: the dates of retention rule "orders" reads it/],
      ['kind', /--set kind: .*claims\.kind: hold rule "open-dispute" reads it/],
      ['retention_months', /--set retention_months: .*the duration of retention rule "distributor-orders"/],
      ['unsubscribed_at', /--set unsubscribed_at: .*retention rule "newsletter-subscribers" reads it/],
    ];
    for (const [field, message] of cases)
      expect(() => checkRectification({ [field]: '2015-01-01' }, register, marked)).toThrow(message);
  });

  it('18.2 values are checked: an empty value, an e-mail that is not one; an address is normalised', () => {
    expect(() => checkRectification({ last_name: '  ' }, register, datamap)).toThrow(
      /--set last_name: an empty value/,
    );
    expect(() => checkRectification({ email: 'nowhere' }, register, datamap)).toThrow(
      /--set email: the value is not an e-mail address/,
    );
    expect(() => checkRectification({ shoe_size: '42' }, register, datamap)).toThrow(
      /--set shoe_size: no table .*; rectifiable: .*last_name/,
    );
    expect(checkRectification({ email: ' Lena.New@Example.ORG ' }, register, datamap)).toEqual({
      email: 'lena.new@example.org',
    });
  });

  it('18.3 the decision: held, restricted, anonymised and third-person fields are unchanged, with why', () => {
    const base = {
      fields: {
        last_name: { column: 'last_name', value: 'X', thirdParty: false },
        shipping_address: { column: 'shipping_address', value: 'Y', thirdParty: true },
      },
      holdsCategory: true,
      archived: false,
      processor: false,
      restricted: false,
      held: [] as string[],
      anonymised: false,
      legalObligation: false,
    };
    expect(rectificationDecision(base)).toEqual({
      kind: 'write',
      columns: { last_name: 'X' },
      fields: ['last_name'],
      skipped: { fields: ['shipping_address'], basis: expect.stringMatching(/^third person/) },
    });
    expect(rectificationDecision({ ...base, restricted: true })).toMatchObject({
      kind: 'unchanged',
      basis: expect.stringMatching(/^restricted \(art\. 18\)/),
    });
    expect(rectificationDecision({ ...base, held: ['open-dispute'] })).toMatchObject({
      kind: 'unchanged',
      basis: expect.stringMatching(/^held .*open-dispute/),
    });
    expect(rectificationDecision({ ...base, anonymised: true })).toMatchObject({
      kind: 'unchanged',
      basis: expect.stringMatching(/^anonymised/),
    });
    expect(rectificationDecision({ ...base, fields: {} })).toEqual({ kind: 'none' });
    expect(
      rectificationDecision({ ...base, fields: { shipping_address: base.fields.shipping_address } }),
    ).toMatchObject({ kind: 'unchanged', basis: expect.stringMatching(/^third person/) });
  });
});

describe.each(DIALECTS)('rectification you can trust on $name', (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  const verified = async (type: string, email: string, extra: Record<string, unknown> = {}) => {
    const opened = await openRequest(config, { type, email, today: AT, ...extra });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    return opened.id;
  };
  const run = (id: number) => runRequest(config, id, { at: AT, today: AT });

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    dir = mkdtempSync(join(tmpdir(), `registre-rectify-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_RECTIFY_HMAC_KEY = KEY;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_RECTIFY_HMAC_KEY'),
    );
    await fill(config);
  });
  afterAll(() => drop());

  it('18.2 request open refuses a key, a relation, a date a rule reads, a secret, a hash, a file, naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['customer_id=1', /--set customer_id: not rectifiable: orders\.customer_id: it is a key/],
      ['id=1', /--set id: not rectifiable: .*it is the key of the record/],
      [
        'placed_at=2015-01-01',
        /--set placed_at: not rectifiable: orders\.placed_at: the dates of retention rule "orders" reads it/,
      ],
      ['channel=x', /--set channel: not rectifiable: .*mapped none/],
      ['delivered_at=2015-01-01', /--set delivered_at: not rectifiable/],
      ['status=cancelled', /--set status: not rectifiable/],
      ['password_hash=x', /--set password_hash: not rectifiable: customers\.password_hash: it is a secret/],
      ['card_token=x', /--set card_token: not rectifiable: payments\.card_token: it is a secret/],
      ['email_hmac=x', /--set email_hmac: not rectifiable: .*keyed hash/],
      ['cv_path=x', /--set cv_path: not rectifiable: .*path of a file/],
      [
        'shipping_name=x',
        /--set shipping_name: not rectifiable by the person: orders\.shipping_name may describe someone else/,
      ],
      ['last_name=', /--set last_name: an empty value/],
      ['email=nowhere', /--set email: the value is not an e-mail address/],
      ['shoe_size=42', /--set shoe_size: no table/],
    ];
    for (const [set, message] of cases) {
      const error = await refusal(
        openRequest(config, { type: 'rectification', email: 'claire@example.org', set: [set], today: AT }),
      );
      expect(error.code).toBe('E_USAGE');
      expect(error.message).toMatch(message);
    }
  });

  it('18.2 the CLI names the refused field and why', () => {
    const cli = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'registre.js'),
        'request',
        'open',
        '--config',
        config,
        '--type',
        'rectification',
        '--email',
        'claire@example.org',
        '--set',
        'customer_id=1',
        '--set',
        'placed_at=2015-01-01',
      ],
      { encoding: 'utf8', env: { ...process.env } },
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/customer_id: not rectifiable: orders\.customer_id: it is a key/);
    expect(cli.stderr).toMatch(/placed_at: not rectifiable/);
  });

  it('18.2 a request row edited by hand to set a key is refused at run; no order moves', async () => {
    const id = await verified('rectification', 'marc@example.org', { set: ['first_name=Marc'] });
    const project = await openProject(config);
    const state = await openState(project, 'write');
    try {
      await state.updateRequest(id, { details: { set: { customer_id: '1', placed_at: '2015-01-01' } } });
    } finally {
      await state.close();
    }
    const error = await refusal(run(id));
    expect(['E_NOT_RECTIFIABLE', 'E_STATE_TAMPERED']).toContain(error.code);
    expect((await row(config, 'orders', 7)).customer_id).toBe(7);
    expect(String((await row(config, 'orders', 7)).placed_at)).toMatch(/2026/);
    expect((await row(config, 'customers', 7)).first_name).toBe('F');
  });

  it('18.3 a customer held by an open dispute and its held order are reported unchanged', async () => {
    const id = await verified('rectification', 'paul@example.org', {
      set: ['last_name=Martin', 'address_line=9 rue B'],
    });
    const result = await run(id);
    expect(result.rectified).toEqual([]);
    expect(result.unchanged).toContainEqual({
      table: 'customers',
      id: '2',
      basis: expect.stringMatching(/^held .*open-dispute/),
      fields: ['last_name', 'address_line'],
    });
    const customer = await row(config, 'customers', 2);
    expect([customer.last_name, customer.address_line]).toEqual(['L2', '2 rue A']);
  });

  it('18.3 a restricted customer keeps its name and phone; once lifted, they are corrected', async () => {
    const restriction = await verified('restriction', 'rita@example.org');
    await run(restriction);
    const id = await verified('rectification', 'rita@example.org', {
      set: ['last_name=Durand', 'phone=+33611111111'],
    });
    const result = await run(id);
    expect(result.rectified).toEqual([]);
    expect(result.unchanged).toContainEqual({
      table: 'customers',
      id: '5',
      basis: expect.stringMatching(/^restricted \(art\. 18\)/),
      fields: ['last_name', 'phone'],
    });
    expect((await row(config, 'customers', 5)).last_name).toBe('L5');
    expect((await row(config, 'customers', 5)).phone).toBe('+33600000005');
    await liftRestriction(config, restriction);
    const again = await verified('rectification', 'rita@example.org', {
      set: ['last_name=Durand', 'phone=+33611111111'],
    });
    expect((await run(again)).rectified).toEqual([
      { table: 'customers', id: '5', fields: ['last_name', 'phone'] },
    ]);
    expect((await row(config, 'customers', 5)).last_name).toBe('Durand');
  });

  it("18.3 a gift order's recipient is not rewritten by the buyer's request; her own address is", async () => {
    const id = await verified('rectification', 'claire@example.org', {
      set: ['shipping_address=12 rue Neuve'],
    });
    const result = await run(id);
    expect(result.rectified).toEqual([{ table: 'ambassadors', id: '3', fields: ['shipping_address'] }]);
    expect(result.unchanged).toContainEqual({
      table: 'orders',
      id: '5',
      basis: expect.stringMatching(/^third person/),
      fields: ['shipping_address'],
    });
    expect((await row(config, 'orders', 5)).shipping_address).toBe('7 rue du Cadeau');
    expect((await row(config, 'ambassadors', 3)).shipping_address).toBe('12 rue Neuve');
  });

  it('18.3 orders anonymised by an earlier erasure stay anonymised', async () => {
    const erasure = await verified('erasure', 'paul@example.org');
    const erased = await run(erasure);
    expect(erased.erased).toContainEqual({ table: 'orders', id: '4', action: 'anonymise' });
    expect((await row(config, 'orders', 4)).shipping_address).toBeNull();
    // Paul, still known by his held account, becomes an ambassador and asks to correct his address.
    await withShop(config, (conn) =>
      conn.db
        .insertInto('ambassadors')
        .values({
          id: 2,
          email: 'paul@example.org',
          status: 'active',
          applied_at: ts('2026-06-01'),
          contract_started_at: ts('2026-06-02'),
          shipping_address: 'old',
        })
        .execute(),
    );
    const id = await verified('rectification', 'paul@example.org', { set: ['shipping_address=5 rue C'] });
    const result = await run(id);
    expect(result.rectified).toEqual([{ table: 'ambassadors', id: '2', fields: ['shipping_address'] }]);
    expect(result.unchanged).toContainEqual({
      table: 'orders',
      id: '4',
      basis: expect.stringMatching(/^anonymised/),
      fields: ['shipping_address'],
    });
    expect(result.unchanged).toContainEqual(
      expect.objectContaining({ table: 'orders', id: '3', basis: expect.stringMatching(/^held/) }),
    );
    expect((await row(config, 'orders', 4)).shipping_address).toBeNull();
    expect((await row(config, 'orders', 3)).shipping_address).toBe('2 rue A');
  });

  it('18.2 a legitimate rectification writes every live record holding the field', async () => {
    const id = await verified('rectification', 'lena@example.org', {
      set: ['email=Lena.Nouvelle@Example.ORG', 'first_name=Léna'],
    });
    const result = await run(id);
    expect(result.rectified?.map((r) => `${r.table}:${r.id}:${r.fields.join('+')}`).sort()).toEqual(
      [
        'ambassadors:6:email+first_name',
        'candidates:6:email+first_name',
        'customers:6:email+first_name',
        'newsletter_subscribers:6:email+first_name',
        'prospects:6:email+first_name',
        'support_tickets:6:email',
      ].sort(),
    );
    expect(result.unchanged).toEqual([]);
    for (const table of [
      'customers',
      'support_tickets',
      'prospects',
      'newsletter_subscribers',
      'candidates',
      'ambassadors',
    ]) {
      const r = await row(config, table, 6);
      expect(r.email, table).toBe('lena.nouvelle@example.org');
      if (table !== 'support_tickets') expect(r.first_name, table).toBe('Léna');
    }
  });

  it('18.3 a hold or a dispute that comes after the decision is honoured when the correction commits', async () => {
    // The decision was made (Léna's candidate and Claire's customer row were to be written); then
    // a hold is added by hand on the candidate, and a dispute opened on Claire's order.
    await runHoldAdd(config, { table: 'candidates', id: '6', reason: 'a court order', today: AT });
    await withShop(config, (conn) =>
      conn.db
        .insertInto('claims')
        .values({ id: 9, order_id: 5, kind: 'dispute', opened_at: ts('2026-11-01'), resolved_at: null })
        .execute(),
    );
    const project = await openProject(config);
    const state = await openState(project, 'write');
    try {
      const store = project.datamap.stores[0];
      const table = (name: string) => store?.tables.find((t) => t.name === name) as never;
      const skipped = await withShop(config, async (conn) =>
        rectifyRows(
          conn,
          [
            { table: table('candidates'), keys: ['6'], set: { last_name: 'Held' } },
            { table: table('customers'), keys: ['3', '6'], set: { last_name: 'Written' } },
          ],
          {
            ctx: await retentionContext(conn, project.register, project.datamap),
            at: AT,
            heldKeys: async (tables) => (await state.heldKeys('shop', tables, AT)).byTable,
          },
        ),
      );
      expect(skipped).toEqual([
        { table: 'candidates', key: '6' },
        { table: 'customers', key: '3' },
      ]);
    } finally {
      await state.close();
    }
    expect((await row(config, 'candidates', 6)).last_name).toBe('Martin');
    expect((await row(config, 'customers', 3)).last_name).toBe('L3');
    expect((await row(config, 'customers', 6)).last_name).toBe('Written');
  });

  it('18.3 hold add waits for a correction that has not read it yet (a change: lock)', async () => {
    const project = await openProject(config);
    const state = await openState(project, 'write');
    try {
      const lock = await state.lock('change:request:999', 60_000, 'change of request 999');
      const max = await state.maxHoldId();
      await expect(state.waitForSweeps(max, { timeoutMs: 200 })).rejects.toThrow(/has not confirmed it/);
      await lock.beat(max);
      await state.waitForSweeps(max, { timeoutMs: 200 });
      await lock.release();
    } finally {
      await state.close();
    }
  });
});
