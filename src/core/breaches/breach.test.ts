import { describe, expect, it } from 'vitest';
import { BUNDLED_DATAMAP, BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadDataMap, loadRegister } from '../../adapters/files/config-files.js';
import type { DataMap } from '../datamap/columns.js';
import type { Register } from '../register/register-load.js';
import { type Breach, deadlineOf, orderBreaches, viewOf } from './breach.js';
import { breachLetter, breachRegisterCsv, breachRegisterTable } from './breach-documents.js';
import { resolveBreachScope } from './breach-scope.js';

const register = loadRegister(BUNDLED_REGISTER).register as Register;
const datamap = loadDataMap(BUNDLED_DATAMAP, register).datamap as DataMap;

function given(overrides: Partial<Breach> = {}): Breach {
  const discoveredAt = overrides.discoveredAt ?? '2026-12-05T09:30:00.000Z';
  return {
    id: 1,
    discoveredAt,
    deadline: deadlineOf(discoveredAt),
    occurredAt: null,
    kinds: ['confidentiality'],
    nature: 'backup exposed',
    scope: { activities: [], rules: [], records: ['payments'], categories: [] },
    affected: { tables: [], records: 10, people: 4, peopleUpperBound: false, countedAt: discoveredAt },
    peopleEstimate: null,
    consequences: 'fraud',
    measures: 'closed',
    notification: { decision: 'pending' },
    information: { decision: 'pending' },
    recordedAt: discoveredAt,
    recordedBy: 'test',
    updatedAt: discoveredAt,
    version: 0,
    ...overrides,
  };
}

describe('the 72 hours', () => {
  it.each([
    ['2026-12-05T09:30:00Z', '2026-12-08T09:30:00.000Z'],
    ['2026-12-05T10:30:00+01:00', '2026-12-08T09:30:00.000Z'],
    // Across the change to winter time: 72 hours, not three calendar days at 09:30 in Paris.
    ['2026-10-24T09:30:00Z', '2026-10-27T09:30:00.000Z'],
    ['2028-02-27T12:00:00Z', '2028-03-01T12:00:00.000Z'],
  ])('discovered %s: notify by %s', (discovered, deadline) => {
    expect(deadlineOf(new Date(discovered).toISOString())).toBe(deadline);
  });

  it('is overdue one minute past the deadline, not on it', () => {
    const b = given();
    expect(viewOf(b, new Date('2026-12-08T09:30:00Z'))).toMatchObject({ status: 'to-decide', hoursLeft: 0 });
    expect(viewOf(b, new Date('2026-12-08T09:31:00Z'))).toMatchObject({ status: 'overdue', hoursLeft: -1 });
  });

  it('a decided breach has no hours left; one notified after the deadline is late', () => {
    const decided = { decidedAt: '2026-12-09T00:00:00Z', decidedBy: 'dpo' };
    const late = given({
      notification: {
        decision: 'notify',
        notifiedAt: '2026-12-09T00:00:00.000Z',
        reference: null,
        delayReason: 'found late',
        ...decided,
      },
    });
    expect(viewOf(late, new Date('2026-12-10T00:00:00Z'))).toMatchObject({
      status: 'notified-late',
      hoursLeft: null,
    });
  });

  it('lists the overdue first, then those to decide by deadline, then the decided newest first', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const no = { decision: 'no-notify' as const, reason: 'no risk', decidedAt: '', decidedBy: '' };
    const breaches = [
      given({ id: 1, discoveredAt: '2026-11-01T00:00:00.000Z', notification: no }),
      given({ id: 2, discoveredAt: '2026-12-06T00:00:00.000Z' }),
      given({ id: 3, discoveredAt: '2026-12-01T00:00:00.000Z' }),
      given({ id: 4, discoveredAt: '2026-12-05T00:00:00.000Z' }),
      given({ id: 5, discoveredAt: '2026-11-20T00:00:00.000Z', notification: no }),
    ].map((b) => viewOf({ ...b, deadline: deadlineOf(b.discoveredAt) }, now));
    expect(orderBreaches(breaches).map((b) => b.id)).toEqual([3, 4, 2, 5, 1]);
  });
});

describe('what a breach touched, through the data map', () => {
  it("finds a payment's person through its order's customer, and the card columns alone", () => {
    const scope = resolveBreachScope(register, datamap, {
      activities: [],
      rules: [],
      records: ['payments'],
      categories: ['payment-card'],
    });
    expect(scope.tables).toHaveLength(1);
    expect(scope.tables[0]).toMatchObject({
      record: 'payments',
      columns: ['card_last4', 'card_token', 'card_expiry'],
      categories: ['payment-card'],
      rules: [],
      person: {
        hops: [
          { table: 'orders', local: 'order_id', remote: 'id' },
          { table: 'customers', local: 'customer_id', remote: 'id' },
        ],
        column: 'id',
        kind: 'customer-number',
        key: 'shop.customers.id',
      },
    });
  });

  it('a rule alone scopes its own records; a CNIL category matches the categories under it', () => {
    const scope = resolveBreachScope(register, datamap, {
      activities: [],
      rules: ['payments-deferred'],
      records: [],
      categories: ['economic-financial'],
    });
    expect(scope.tables.map((t) => [t.table.name, t.rules])).toEqual([['payments', ['payments-deferred']]]);
  });

  it('categories alone: every table that holds them', () => {
    const scope = resolveBreachScope(register, datamap, {
      activities: [],
      rules: [],
      records: [],
      categories: ['contact-details'],
    });
    expect(scope.tables.map((t) => t.table.name)).toEqual(
      expect.arrayContaining(['customers', 'prospects', 'orders', 'invoices']),
    );
    expect(scope.tables.find((t) => t.table.name === 'customers')?.columns).toEqual([
      'email',
      'first_name',
      'last_name',
      'phone',
    ]);
  });

  it.each([
    [{ activities: ['nope'] }, 'activities', /no processing activity of the register has this id/],
    [{ rules: ['nope'] }, 'rules', /no retention rule/],
    [{ records: ['nope'] }, 'records', /no record of the register/],
    [{ categories: ['nope'] }, 'categories', /no data category/],
    [{ records: ['payments'], categories: ['browsing'] }, 'categories', /held in none of the tables/],
    [{}, 'activities', /name at least one/],
  ])('refuses %o naming %s', (input, path, message) => {
    const full = { activities: [], rules: [], records: [], categories: [], ...input };
    expect(() => resolveBreachScope(register, datamap, full)).toThrow(message);
    try {
      resolveBreachScope(register, datamap, full);
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_BREACH_SCOPE', path: [path] });
    }
  });
});

describe('the register in the CNIL model', () => {
  it('one row per breach, in the order of their numbers, each cell in the column of its header', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const table = breachRegisterTable(
      register,
      [viewOf(given({ id: 2 }), now), viewOf(given({ id: 1, peopleEstimate: 12 }), now)],
      'en',
      '2026-12-06T12:00:00.000Z',
      'Europe/Paris',
    );
    expect(table.rows.map((r) => r[0])).toEqual(['1', '2']);
    expect(table.rows.every((r) => r.length === table.columns.length)).toBe(true);
    expect(table.rows[0]?.[6]).toBe("4; 12 (the DPO's estimate)");
    expect(table.rows[1]?.[11]).toBe('to decide (by 8 December 2026, 10:30)');
    const csv = breachRegisterCsv(table);
    expect(csv.startsWith('\uFEFFNo.;Date and time of the breach (Europe/Paris);')).toBe(true);
  });
});

describe('the letter to the people', () => {
  it("prints the DPO's texts as sentences: a capital, a full stop, one apostrophe", () => {
    const view = viewOf(
      given({
        nature: { fr: "une sauvegarde a été exposée sur un serveur d'essai", en: 'a backup was exposed' },
        consequences: { fr: 'tentatives de fraude à la carte', en: 'card fraud attempts' },
        measures: { fr: 'serveur fermé', en: 'server closed' },
      } as never),
      new Date('2026-12-06T12:00:00Z'),
    );
    const fr = breachLetter(register, view, 'fr', 'Europe/Paris').text;
    expect(fr).toContain('Une sauvegarde a été exposée sur un serveur d’essai.');
    expect(fr).toContain('Tentatives de fraude à la carte.');
    expect(fr).toContain('Serveur fermé.');
    const en = breachLetter(register, view, 'en', 'Europe/Paris').text;
    expect(en).toContain('A backup was exposed.');
    expect(en).toContain('Card fraud attempts.');
  });
});

describe('the DPO as the register and the letter name them', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const withDpo = (dpo: Register['organisation']['dpo']): Register => ({
    ...register,
    organisation: { ...register.organisation, dpo },
  });

  it('a DPO whose name is only the role is named once: by the role, then the address', () => {
    const view = viewOf(given(), now);
    const fr = breachLetter(register, view, 'fr', 'Europe/Paris').text;
    expect(fr).toContain(
      'Notre délégué à la protection des données répond à vos questions : dpo@negomarkets.example.',
    );
    expect(fr).not.toMatch(/Délégué à la protection des données, dpo@/);
    expect(breachLetter(register, view, 'en', 'Europe/Paris').text).toContain(
      'Our data protection officer answers your questions: dpo@negomarkets.example.',
    );
    const heading = breachRegisterTable(register, [view], 'fr', now.toISOString(), 'Europe/Paris').heading;
    expect(heading).toContainEqual(['Délégué à la protection des données', 'dpo@negomarkets.example']);
  });

  it('a DPO stated as not designated is never printed nor written to: the letter gives the contact', () => {
    const none = withDpo({ designated: false, email: 'old-dpo@negomarkets.example' } as never);
    const view = viewOf(given(), now);
    const fr = breachLetter(none, view, 'fr', 'Europe/Paris').text;
    expect(fr).not.toContain('old-dpo@');
    expect(fr).not.toContain('délégué à la protection des données');
    expect(fr).toContain('Nous répondons à vos questions : contact@negomarkets.example.');
    expect(breachLetter(none, view, 'en', 'Europe/Paris').text).toContain(
      'We answer your questions: contact@negomarkets.example.',
    );
    const heading = breachRegisterTable(none, [view], 'fr', now.toISOString(), 'Europe/Paris').heading;
    expect(JSON.stringify(heading)).not.toContain('old-dpo@');
  });
});
