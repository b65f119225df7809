import { describe, expect, it } from 'vitest';
import { BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadRegister } from '../../adapters/files/config-files.js';
import { parseRegister, type Register } from '../register/register-load.js';
import { collectHolds, evaluateRecord, viewOf } from './retention.js';

const AT = '2026-11-27';
const loaded = loadRegister(BUNDLED_REGISTER);
const register = loaded.register as Register;

function verdict(type: string, data: Record<string, unknown>, at = AT) {
  return evaluateRecord(register, viewOf(register, type, { id: 1, ...data }), at);
}

describe('the bundled register', () => {
  it('loads without errors; its only warnings are what NOTES.md leaves to the DPO', () => {
    expect(loaded.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect([...new Set(loaded.issues.map((i) => i.code))].sort()).toEqual([
      'W_ANONYMISE_IS_PSEUDONYMISATION',
      'W_CATEGORY_NOT_HELD',
      'W_PLACEHOLDER',
    ]);
  });
});

describe('the examples of negomarkets-policy.md, at 2026-11-27', () => {
  it('a web visit at 2025-10-27 08:00:00 is due on 2026-11-27', () => {
    expect(verdict('web_visits', { occurred_at: '2025-10-27 08:00:00' })).toMatchObject({
      status: 'due',
      deadline: '2026-11-27',
      action: 'delete',
    });
  });

  it('a web visit at 2025-10-28 00:00:00 is active until 2026-11-28', () => {
    expect(verdict('web_visits', { occurred_at: '2025-10-28 00:00:00' })).toMatchObject({
      status: 'active',
      deadline: '2026-11-28',
    });
  });

  it('a prospect collected 2022-05-02, last contact 2023-11-28, is active until 2026-11-28', () => {
    expect(verdict('prospects', { collected_at: '2022-05-02', last_contact_at: '2023-11-28' })).toMatchObject(
      {
        status: 'active',
        deadline: '2026-11-28',
      },
    );
  });

  it('an invoice issued 2016-03-01 is active until 2026-12-31 (financial-year end + 10 years)', () => {
    expect(verdict('invoices', { issued_at: '2016-03-01T10:00:00Z' })).toMatchObject({
      status: 'active',
      deadline: '2026-12-31',
    });
  });

  it('a subscriber who unsubscribed on 2026-11-20 is due', () => {
    expect(
      verdict('newsletter_subscribers', {
        subscribed_at: '2025-01-04',
        unsubscribed_at: '2026-11-20 09:12:00',
      }),
    ).toMatchObject({ status: 'due', deadline: '2026-11-20', action: 'delete' });
  });

  const customer = {
    created_at: '2020-01-10',
    last_login_at: null,
    closed_at: null,
    orders: [
      { id: 10, placed_at: '2019-05-01' },
      { id: 11, placed_at: '2021-11-26 15:00:00', payments: [{ id: 20 }], invoices: [{ id: 30 }] },
    ],
    support_tickets: [{ id: 40, created_at: '2021-03-02' }],
  };

  it('a customer whose latest activity is an order of 2021-11-26 is archived since 2023-11-26 and due on 2026-11-26', () => {
    const archived = verdict('customers', customer, '2025-06-01');
    expect(archived).toMatchObject({ status: 'archive', archiveFrom: '2023-11-26', deadline: '2026-11-26' });
    expect(archived.archiveFields).toContain('email');
    expect(verdict('customers', customer, '2023-11-25').status).toBe('active');
    expect(verdict('customers', customer)).toMatchObject({
      status: 'due',
      deadline: '2026-11-26',
      action: 'delete',
    });
  });

  it('with an unresolved dispute on that order, the customer, the order, its payments and invoices are held', () => {
    const claim = viewOf(register, 'claims', {
      id: 50,
      kind: 'dispute',
      resolved_at: null,
      order: {
        id: 11,
        placed_at: '2021-11-26',
        customer: { id: 1, ...customer },
        payments: [{ id: 20 }],
        invoices: [{ id: 30 }],
      },
    });
    const holds = collectHolds(register, [claim]);
    expect([...holds.keys()].sort()).toEqual([
      'claims:50',
      'customers:1',
      'invoices:30',
      'orders:11',
      'payments:20',
    ]);
    const held = evaluateRecord(register, viewOf(register, 'customers', { id: 1, ...customer }), AT, {
      holdsOf: (key) => holds.get(key) ?? [],
    });
    expect(held.status).toBe('held');
    expect(held.holds[0]?.hold).toBe('open-dispute');
    expect(held.deadline).toBe('2026-11-26');
  });

  it('a resolved dispute or a complaint holds nothing', () => {
    const resolved = viewOf(register, 'claims', {
      id: 51,
      kind: 'dispute',
      resolved_at: '2024-01-01',
      order: { id: 11 },
    });
    const complaint = viewOf(register, 'claims', {
      id: 52,
      kind: 'complaint',
      resolved_at: null,
      order: { id: 12 },
    });
    expect(collectHolds(register, [resolved, complaint]).size).toBe(0);
  });
});

describe('rule constructs', () => {
  it('a closed account leaves the active phase at its closure', () => {
    const closed = { created_at: '2024-01-01', closed_at: '2025-03-15', orders: [] };
    expect(verdict('customers', closed)).toMatchObject({
      status: 'archive',
      archiveFrom: '2025-03-15',
      deadline: '2030-03-15',
    });
  });

  it.each([
    [false, '2025-08-31', '2026-09-30'],
    [true, '2025-08-31', '2026-11-30'],
    [0, '2025-01-31', '2026-02-28'],
    [1, '2024-11-30', '2026-02-28'],
  ])('payments: deferred %s debited %s end %s, with month-end clamping', (deferred, debited, deadline) => {
    expect(verdict('payments', { deferred_debit: deferred, debited_at: debited })).toMatchObject({
      deadline,
      action: 'anonymise',
      anonymise: ['card_last4', 'card_token', 'card_expiry'],
    });
  });

  it('orders are anonymised 5 years after the latest of order and delivery', () => {
    const v = verdict('orders', { placed_at: '2021-11-20', delivered_at: '2021-11-28' });
    expect(v).toMatchObject({ status: 'active', deadline: '2026-11-28', action: 'anonymise' });
    expect(v.anonymise).toContain('shipping_name');
  });

  it('a null anchor never makes a record due: an unresolved claim stays', () => {
    expect(
      verdict('claims', { kind: 'complaint', opened_at: '2010-01-01', resolved_at: null }),
    ).toMatchObject({
      status: 'active',
      deadline: null,
    });
  });

  it.each([
    ['subscribed, never clicked', { subscribed_at: '2023-11-27' }, '2026-11-27', 'due'],
    [
      'a click renews the 3 years',
      { subscribed_at: '2020-01-01', last_click_at: '2024-06-01' },
      '2027-06-01',
      'active',
    ],
    [
      'unsubscription comes first',
      { subscribed_at: '2026-01-01', unsubscribed_at: '2026-02-01' },
      '2026-02-01',
      'due',
    ],
    [
      '3 years without a click come first',
      { subscribed_at: '2020-01-01', unsubscribed_at: '2025-02-01' },
      '2023-01-01',
      'due',
    ],
  ])('newsletter, earliest end wins: %s', (_name, data, deadline, status) => {
    expect(verdict('newsletter_subscribers', data)).toMatchObject({ deadline, status });
  });

  it.each([
    ['rejected', { status: 'rejected', applied_at: '2026-01-01', decided_at: '2026-08-27' }, '2026-11-27'],
    ['never decided', { status: 'applicant', applied_at: '2025-11-27' }, '2026-11-27'],
    [
      'contract ended',
      { status: 'ended', applied_at: '2019-01-01', contract_ended_at: '2021-11-28' },
      '2026-11-28',
    ],
    ['contract running', { status: 'active', applied_at: '2019-01-01', contract_ended_at: null }, null],
  ])('ambassadors by status: %s', (_name, data, deadline) => {
    expect(verdict('ambassadors', data).deadline).toBe(deadline);
  });

  it.each([
    [
      'rejected, no pool',
      {
        status: 'rejected',
        process_ended_at: '2026-08-31',
        talent_pool_consent: 0,
        last_contact_at: '2026-08-31',
      },
      '2026-11-30',
    ],
    [
      'rejected, in the pool',
      {
        status: 'rejected',
        process_ended_at: '2026-08-31',
        talent_pool_consent: 1,
        last_contact_at: '2026-08-31',
      },
      '2028-08-31',
    ],
    [
      'in progress',
      { status: 'interviewing', talent_pool_consent: false, last_contact_at: '2025-02-28' },
      '2027-02-28',
    ],
  ])('candidates: %s', (_name, data, deadline) => {
    expect(verdict('candidates', data).deadline).toBe(deadline);
  });

  it.each([
    ['the distributor instruction', { retention_months: 24, contract_ended_at: null }, '2026-01-15'],
    [
      'the end of contract + 30 days comes first',
      { retention_months: 24, contract_ended_at: '2025-03-10' },
      '2025-04-09',
    ],
    ['no instruction and no end: kept', { retention_months: null, contract_ended_at: null }, null],
    [
      'no instruction, contract ended',
      { retention_months: null, contract_ended_at: '2026-10-31' },
      '2026-11-30',
    ],
  ])('distributor orders: %s', (_name, distributor, deadline) => {
    expect(
      verdict('distributor_orders', { placed_at: '2024-01-15', distributor: { id: 7, ...distributor } })
        .deadline,
    ).toBe(deadline);
  });

  it('a supplier dispute ends with its order, and an open one holds both', () => {
    const order = { id: 5, placed_at: '2024-01-15', distributor: { id: 7, retention_months: 12 } };
    const closed = viewOf(register, 'supplier_disputes', {
      id: 9,
      resolved_at: '2024-03-01',
      distributor_order: order,
    });
    expect(evaluateRecord(register, closed, AT)).toMatchObject({ status: 'due', deadline: '2025-01-15' });
    const open = viewOf(register, 'supplier_disputes', {
      id: 9,
      resolved_at: null,
      distributor_order: order,
    });
    const holds = collectHolds(register, [open]);
    const options = { holdsOf: (key: string) => holds.get(key) ?? [] };
    expect(evaluateRecord(register, viewOf(register, 'distributor_orders', order), AT, options).status).toBe(
      'held',
    );
    expect(evaluateRecord(register, open, AT, options).status).toBe('held');
  });

  it('a manual hold beats the deadline until its own end date', () => {
    const hold = { hold: 'h1', reason: 'legal request', until: '2026-12-31' };
    const visit = viewOf(register, 'web_visits', { id: 3, occurred_at: '2020-01-01' });
    expect(evaluateRecord(register, visit, AT, { holds: [hold] }).status).toBe('held');
    expect(evaluateRecord(register, visit, '2027-01-01', { holds: [hold] }).status).toBe('due');
  });
});

describe('several purposes on one record: the latest wins', () => {
  const yaml = `
organisation: { name: Test }
dataSubjects: [{ id: people, name: People }]
records:
  - id: things
    name: Things
    fields: { made_at: date, seen_at: date, kind: { type: enum, values: [a, b] }, label: string }
activities:
  - id: act
    name: Activity
    role: controller
    dataSubjects: [people]
    dataCategories: [identity]
    purposes:
      - { id: p1, name: One, legalBasis: contract }
      - { id: p2, name: Two, legalBasis: legitimate-interest }
retention:
  - { id: short, record: things, purposes: [p1], anchor: made_at, keep: 1 year, then: delete }
  - { id: long, record: things, purposes: [p2], anchor: seen_at, keep: 3 years, then: { anonymise: [label] }, where: { kind: b } }
  - { id: tie, record: things, purposes: [p2], anchor: made_at, keep: 12 months, then: { anonymise: [label] }, where: { kind: a } }
`;
  const reg = parseRegister([{ file: 'test.yaml', text: yaml }]).register as Register;

  it('keeps the record until the last purpose ends, with that purpose action', () => {
    const v = evaluateRecord(
      reg,
      viewOf(reg, 'things', { id: 1, kind: 'b', made_at: '2020-01-01', seen_at: '2022-02-01' }),
      AT,
    );
    expect(v).toMatchObject({ deadline: '2025-02-01', rule: 'long', action: 'anonymise', status: 'due' });
    expect(v.rules.map((r) => r.deadline)).toEqual(['2021-01-01', '2025-02-01']);
  });

  it('a rule whose condition fails does not apply', () => {
    const v = evaluateRecord(
      reg,
      viewOf(reg, 'things', { id: 2, kind: null, made_at: '2020-01-01', seen_at: '2026-01-01' }),
      AT,
    );
    expect(v).toMatchObject({ deadline: '2021-01-01', rule: 'short', action: 'delete' });
  });

  it('on a tie, anonymising (which keeps the row) beats deleting', () => {
    const v = evaluateRecord(reg, viewOf(reg, 'things', { id: 3, kind: 'a', made_at: '2020-01-31' }), AT);
    expect(v).toMatchObject({ deadline: '2021-01-31', rule: 'tie', action: 'anonymise' });
  });

  it('with no rule that applies, a record has no deadline', () => {
    const none = parseRegister([
      { file: 't.yaml', text: yaml.replace(/retention:[\s\S]*$/, 'retention: []') },
    ]).register as Register;
    expect(evaluateRecord(none, viewOf(none, 'things', { id: 4 }), AT)).toMatchObject({
      status: 'active',
      deadline: null,
      rule: null,
    });
  });
});
