import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLED_DATAMAP, BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadRegister } from '../../adapters/files/config-files.js';
import type { Register } from '../register/register-load.js';
import { parseDataMap, validateDataMap } from './datamap-load.js';

const register = loadRegister(BUNDLED_REGISTER).register as Register;
const MAP = readFileSync(BUNDLED_DATAMAP, 'utf8');

function check(text: string) {
  const parsed = parseDataMap([{ file: 'map.yaml', text }]);
  if (!parsed.datamap) return parsed.issues.map((i) => `${i.line}:${i.column} ${i.code} ${i.message}`);
  return validateDataMap(register, parsed.datamap).map((i) => `${i.line}:${i.column} ${i.code} ${i.message}`);
}

function edit(from: string, to: string): string {
  expect(MAP).toContain(from);
  return MAP.replace(from, to);
}

describe('the data map against its register', () => {
  it('the bundled data map binds every record, field and relation of the bundled register', () => {
    expect(check(MAP)).toEqual([]);
  });

  it('a relation joined on a column the related table does not have', () => {
    expect(
      check(edit('orders: { local: id, remote: customer_id }', 'orders: { local: id, remote: client_id }')),
    ).toEqual([
      '56:40 E_UNKNOWN_COLUMN table "shop.customers": relation "orders" joins on orders.client_id, which that table does not have',
    ]);
  });

  it('a relation joined on a column this table does not have', () => {
    expect(
      check(
        edit(
          'customer: { local: customer_id, remote: id }\n          payments',
          'customer: { local: client_id, remote: id }\n          payments',
        ),
      )[0],
    ).toMatch(
      /^\d+:\d+ E_UNKNOWN_COLUMN table "shop.orders": relation "customer" joins on column "client_id", which the table does not have$/,
    );
  });

  it('a register relation with no join, and a join the register does not know', () => {
    const issues = check(
      edit(
        '          satisfaction_calls: { local: id, remote: customer_id }\n',
        '          calls: { local: id, remote: customer_id }\n',
      ),
    );
    expect(issues.map((i) => i.split(' ')[1])).toEqual(['E_UNBOUND_RELATION', 'E_UNKNOWN_RELATION']);
  });

  it('a table bound to a record the register does not declare', () => {
    expect(check(edit('record: web_visits', 'record: visits'))).toEqual([
      '11:17 E_UNKNOWN_RECORD table "shop.web_visits" binds record "visits", which the register does not declare',
      expect.stringMatching(/^5:9 W_RECORD_NOT_BOUND record "web_visits"/),
    ]);
  });

  it('a register field with no column', () => {
    expect(check(edit('          occurred_at: none\n', ''))).toEqual([
      expect.stringMatching(
        /E_UNMAPPED_FIELD table "shop.web_visits": field "occurred_at" of record "web_visits" has no column/,
      ),
    ]);
  });

  it('an identity column without its data category, and an unknown category', () => {
    expect(
      check(
        edit(
          'email: { category: contact-details, identity: email, normalise: email }\n          first_name: { category: contact-details }\n          last_name: { category: contact-details }\n          company',
          'email: { identity: email, normalise: email }\n          first_name: { category: contact }\n          last_name: { category: contact-details }\n          company',
        ),
      ),
    ).toEqual([
      '29:18 E_IDENTITY_WITHOUT_CATEGORY column "shop.prospects.email" identifies a person; give it its data category',
      '30:35 E_UNKNOWN_REFERENCE column "shop.prospects.first_name": data category "contact" is not declared in the register',
    ]);
  });

  it('malformed: an unknown key, a wrong shorthand', () => {
    expect(
      check(
        edit(
          'primaryKey: id\n        columns:\n          id: key\n          visitor_id',
          'primaryKey: id\n        colums: {}\n        columns:\n          id: yes\n          visitor_id',
        ),
      ),
    ).toEqual([
      '15:15 E_INVALID_VALUE stores.0.tables.0.columns.id is "yes"; expected "none", "key", a mapping',
      '13:9 E_UNKNOWN_KEY unknown key "colums" in stores.0.tables.0',
    ]);
  });
});
