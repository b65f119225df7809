import { describe, expect, it } from 'vitest';
import type { Issue } from '../issues.js';
import { parseRegister } from './register-load.js';
import { validateRegister } from './validate-register.js';

/** A small valid register; each test breaks one line of it. */
const BASE = `organisation:
  name: Test SAS
  languages: [fr]
  automatedDecisions: none
dataSubjects:
  - id: customers
    name: Clients
records:
  - id: accounts
    name: Comptes
    fields:
      email: { type: string, category: identity }
      created_at: date
      closed_at: date
      plan: { type: enum, values: [free, paid] }
      months: integer
    relations:
      orders: { to: orders, many: true }
  - id: orders
    name: Commandes
    fields:
      placed_at: date
    relations:
      account: { to: accounts }
activities:
  - id: shop
    name: Boutique
    role: controller
    dataSubjects: [customers]
    dataCategories: [identity]
    security:
      - { kind: access-control, description: Comptes nominatifs }
    provision: { requirement: contractual, consequences: "Sans e-mail, pas de compte." }
    purposes:
      - id: accounts
        name: Gérer les comptes
        legalBasis: contract
retention:
  - id: accounts
    record: accounts
    purposes: [accounts]
    anchor: { latest: [created_at, { max: orders.placed_at }] }
    keep: 2 years
    until: [closed_at]
    then: delete
`;

/** BASE with data the person gives freely: no contract basis is needed behind it. */
const VOLUNTARY = BASE.replace('requirement: contractual', 'requirement: voluntary');

function checkAll(text: string, file = 'registers/test/shop.yaml'): Issue[] {
  const result = parseRegister([{ file, text }]);
  return result.register ? [...result.issues, ...validateRegister(result.register)] : [...result.issues];
}

/** The gaps left to fill (contact, DPO, recipients) are tested on their own, below. */
const GAPS = new Set(['W_NO_CONTACT', 'W_NO_DPO', 'W_NO_RECIPIENTS']);
const check = (text: string, file?: string) => checkAll(text, file).filter((i) => !GAPS.has(i.code));

function only(issues: Issue[], severity: 'error' | 'warning' = 'error') {
  return issues
    .filter((i) => i.severity === severity)
    .map((i) => `${i.file}:${i.line}:${i.column} ${i.code}`);
}

describe('a valid register', () => {
  it('has no issue', () => {
    expect(check(BASE)).toEqual([]);
  });
});

describe('bad input: each error with its code and position', () => {
  it('malformed YAML', () => {
    const issues = check(BASE.replace('    name: Clients', '    name: [Clients'));
    expect(issues[0]).toMatchObject({ code: 'E_YAML_SYNTAX', file: 'registers/test/shop.yaml', line: 8 });
    expect(issues[0]?.message).toMatch(/flow sequence/i);
  });

  it('a key written twice', () => {
    expect(only(check(BASE.replace('  name: Test SAS', '  name: Test SAS\n  name: Other')))).toEqual([
      'registers/test/shop.yaml:3:3 E_DUPLICATE_KEY',
    ]);
  });

  it('an unknown key, pointed at the key itself', () => {
    const issues = check(
      BASE.replace('    legalBasis: contract', '    legalBasis: contract\n        retension: 3 years'),
    );
    expect(only(issues)).toEqual(['registers/test/shop.yaml:38:9 E_UNKNOWN_KEY']);
    expect(issues[0]?.message).toBe('unknown key "retension" in activities.0.purposes.0');
  });

  it('a wrong type', () => {
    const issues = check(BASE.replace('    dataSubjects: [customers]', '    dataSubjects: customers'));
    expect(only(issues)).toEqual(['registers/test/shop.yaml:29:19 E_TYPE']);
    expect(issues[0]?.message).toContain('expected a list');
  });

  it('a missing required key', () => {
    const issues = check(BASE.replace('    role: controller\n', ''));
    expect(only(issues)).toEqual(['registers/test/shop.yaml:26:5 E_REQUIRED']);
    expect(issues[0]?.message).toBe('activities.0.role is required (one of "controller", "processor")');
  });

  it('an unknown legal basis, with the expected ones', () => {
    const issues = check(BASE.replace('legalBasis: contract', 'legalBasis: consentment'));
    expect(only(issues)).toEqual(['registers/test/shop.yaml:37:21 E_UNKNOWN_LEGAL_BASIS']);
    expect(issues[0]?.message).toBe(
      'purpose "accounts" has legal basis "consentment"; expected one of consent, contract, legal-obligation, vital-interests, public-task, legitimate-interest',
    );
  });

  it('a duplicate id', () => {
    const issues = check(
      BASE.replace('  - id: orders\n    name: Commandes', '  - id: accounts\n    name: Commandes'),
    );
    expect(only(issues)).toContain('registers/test/shop.yaml:19:9 E_DUPLICATE_ID');
    expect(issues.find((i) => i.code === 'E_DUPLICATE_ID')?.message).toContain(
      'first at registers/test/shop.yaml:9:9',
    );
  });

  it('an unknown reference', () => {
    const issues = check(BASE.replace('dataSubjects: [customers]', 'dataSubjects: [clients]'));
    expect(only(issues)).toEqual(['registers/test/shop.yaml:29:20 E_UNKNOWN_REFERENCE']);
    expect(issues[0]?.message).toBe('data subject "clients" is not declared (declared: customers)');
  });

  it('an unknown data category', () => {
    expect(
      only(check(BASE.replace('dataCategories: [identity]', 'dataCategories: [identity, health]'))),
    ).toEqual(['registers/test/shop.yaml:30:32 E_UNKNOWN_REFERENCE']);
  });

  it('a rule on a purpose that does not exist', () => {
    const issues = check(
      BASE.replace('    purposes: [accounts]\n    anchor', '    purposes: [accounts, marketing]\n    anchor'),
    );
    expect(only(issues)).toEqual(['registers/test/shop.yaml:41:26 E_UNKNOWN_PURPOSE']);
  });

  it('a rule on a record that does not exist', () => {
    expect(only(check(BASE.replace('    record: accounts', '    record: users')))).toEqual([
      'registers/test/shop.yaml:40:13 E_UNKNOWN_RECORD',
    ]);
  });

  it.each([
    ['-2 years', 'E_NEGATIVE_DURATION'],
    ['2', 'E_DURATION_UNIT'],
    ['2 centuries', 'E_DURATION_UNIT'],
    ['two years', 'E_DURATION_SYNTAX'],
  ])('the duration %j', (duration, code) => {
    const issues = check(BASE.replace('keep: 2 years', `keep: "${duration}"`));
    expect(only(issues)).toEqual([`registers/test/shop.yaml:43:11 ${code}`]);
  });

  it('an anchor on a field that does not exist, or that is not a date', () => {
    expect(only(check(BASE.replace('until: [closed_at]', 'until: [closing_at]')))).toEqual([
      'registers/test/shop.yaml:44:13 E_UNKNOWN_FIELD',
    ]);
    expect(only(check(BASE.replace('until: [closed_at]', 'until: [email]')))).toEqual([
      'registers/test/shop.yaml:44:13 E_FIELD_TYPE',
    ]);
  });

  it('a to-many field used without an aggregate', () => {
    expect(only(check(BASE.replace('{ max: orders.placed_at }', 'orders.placed_at')))).toEqual([
      'registers/test/shop.yaml:42:36 E_AGGREGATE_REQUIRED',
    ]);
  });

  it('an unknown relation', () => {
    expect(only(check(BASE.replace('{ max: orders.placed_at }', '{ max: purchases.placed_at }')))).toEqual([
      'registers/test/shop.yaml:42:43 E_UNKNOWN_RELATION',
    ]);
  });

  it('a duration read from a field that is not an integer', () => {
    expect(only(check(BASE.replace('keep: 2 years', 'keep: { months: email }')))).toEqual([
      'registers/test/shop.yaml:43:21 E_FIELD_TYPE',
    ]);
    expect(check(BASE.replace('keep: 2 years', 'keep: { months: months }'))).toEqual([]);
  });

  it('a condition with a value the field cannot take', () => {
    expect(
      only(check(BASE.replace('    then: delete', '    then: delete\n    where: { plan: premium }'))),
    ).toEqual(['registers/test/shop.yaml:46:20 E_UNKNOWN_VALUE']);
  });

  it('a rule that can never end', () => {
    const issues = check(BASE.replace(/ {4}anchor: .*\n {4}keep: 2 years\n {4}until: \[closed_at\]\n/, ''));
    expect(only(issues)).toEqual(['registers/test/shop.yaml:39:9 E_RULE_WITHOUT_DEADLINE']);
  });

  it('a malformed date expression names what is expected', () => {
    const issues = check(
      BASE.replace(
        'anchor: { latest: [created_at, { max: orders.placed_at }] }',
        'anchor: { newest: [created_at] }',
      ),
    );
    expect(issues.map((i) => i.code)).toContain('E_UNKNOWN_KEY');
    expect(issues[0]?.line).toBe(42);
  });

  it('a register without its organisation', () => {
    expect(only(check(BASE.replace(/^organisation:\n( {2}.*\n)+/, '')))).toEqual([
      'registers/test/shop.yaml:1:1 E_NO_ORGANISATION',
    ]);
  });

  it('issues in several files each name their own file', () => {
    const result = parseRegister([
      { file: 'a.yaml', text: BASE },
      {
        file: 'b.yaml',
        text: 'retention:\n  - id: extra\n    record: accounts\n    purposes: [nope]\n    anchor: created_at\n',
      },
    ]);
    const issues = validateRegister(result.register as NonNullable<typeof result.register>);
    expect(only(issues)).toEqual(['b.yaml:4:16 E_UNKNOWN_PURPOSE']);
  });
});

describe('doctrine warnings', () => {
  const warnings = (text: string) => only(check(text), 'warning').map((w) => w.split(' ')[1]);

  it('a purpose with no retention', () => {
    expect(
      warnings(BASE.replace('    purposes: [accounts]\n    anchor', '    purposes: [other]\n    anchor')),
    ).toContain('W_NO_RETENTION');
  });

  it('a consent purpose with no way to withdraw it', () => {
    expect(warnings(VOLUNTARY.replace('legalBasis: contract', 'legalBasis: consent'))).toEqual([
      'W_CONSENT_WITHOUT_WITHDRAWAL',
    ]);
    expect(
      warnings(
        VOLUNTARY.replace(
          'legalBasis: contract',
          'legalBasis: consent\n        withdrawal: Lien de désinscription',
        ),
      ),
    ).toEqual([]);
  });

  it('legitimate interest without the interest stated', () => {
    expect(warnings(VOLUNTARY.replace('legalBasis: contract', 'legalBasis: legitimate-interest'))).toEqual([
      'W_LEGITIMATE_INTEREST_UNSTATED',
    ]);
    // Data the person must provide for the contract, on another basis: W_PROVISION_CONTRADICTS_BASIS too.
    expect(
      warnings(
        BASE.replace(
          'legalBasis: contract',
          'legalBasis: legitimate-interest\n        legitimateInterest: Vendre',
        ),
      ),
    ).toEqual(['W_PROVISION_CONTRADICTS_BASIS']);
  });

  it('a talent pool kept under legitimate interest', () => {
    const text = VOLUNTARY.replace(
      'legalBasis: contract',
      'legalBasis: legitimate-interest\n        legitimateInterest: Recruter\n        tags: [talent-pool]',
    );
    expect(warnings(text)).toEqual(['W_TALENT_POOL_WITHOUT_CONSENT']);
  });

  it('"anonymise" that only hashes is pseudonymisation', () => {
    const text = BASE.replace(
      '    then: delete',
      '    then: { anonymise: [{ field: email, method: hash }] }',
    );
    expect(warnings(text)).toEqual(['W_ANONYMISE_IS_PSEUDONYMISATION']);
    expect(
      warnings(BASE.replace('    then: delete', '    then: { anonymise: [{ field: email, method: null }] }')),
    ).toEqual([]);
  });

  it('a processor activity whose retention is set by the processor', () => {
    const processor = BASE.replace(
      '    role: controller',
      '    role: processor\n    controllers: [client]',
    ).replace('records:', 'controllers:\n  - id: client\n    name: Client\nrecords:');
    expect(warnings(processor)).toEqual(['W_PROCESSOR_SETS_RETENTION']);
    expect(warnings(processor.replace('keep: 2 years', 'keep: { months: months }'))).toEqual([]);
    expect(
      warnings(processor.replace('    then: delete', '    then: delete\n    setBy: controller-instructions')),
    ).toEqual([]);
  });

  it('an activity without security measures', () => {
    expect(warnings(BASE.replace(/ {4}security:\n.*\n/, ''))).toEqual(['W_NO_SECURITY_MEASURES']);
  });

  it('a missing translation when the register is bilingual', () => {
    expect(warnings(BASE.replace('languages: [fr]', 'languages: [fr, en]'))).toContain(
      'W_MISSING_TRANSLATION',
    );
  });
});

describe('gaps a DPO must fill: contact, DPO, recipients (issue 23, point 10)', () => {
  /** BASE with a contact, a DPO and the activity's recipients. */
  const COMPLETE = `${BASE.replace(
    '  automatedDecisions: none\n',
    '  automatedDecisions: none\n  contact: { email: contact@test-sas.fr }\n  dpo: { name: Jeanne Martin, email: dpo@test-sas.fr }\n',
  ).replace(
    '    dataCategories: [identity]\n',
    '    dataCategories: [identity]\n    recipients: [support]\n',
  )}recipients:\n  - { id: support, kind: internal, name: Service client }\n`;
  const gaps = (text: string) =>
    checkAll(text)
      .filter((i) => GAPS.has(i.code))
      .map((i) => `${i.file}:${i.line} ${i.code} ${i.message}`);

  it('a register that names its contact, its DPO and its recipients has no gap', () => {
    expect(checkAll(COMPLETE)).toEqual([]);
  });

  it('the small register leaves all three, each named with where to fill it', () => {
    const found = gaps(BASE);
    expect(found.map((g) => g.split(' ')[1])).toEqual(['W_NO_CONTACT', 'W_NO_DPO', 'W_NO_RECIPIENTS']);
    expect(found[0]).toMatch(/^registers\/test\/shop\.yaml:2 W_NO_CONTACT .*organisation\.rights\.email/);
    expect(found[1]).toMatch(
      /^registers\/test\/shop\.yaml:2 W_NO_DPO .*organisation\.dpo .*designated: false/,
    );
    expect(found[2]).toMatch(
      /^registers\/test\/shop\.yaml:26 W_NO_RECIPIENTS activity "shop" .*"recipients:"/,
    );
  });

  it('a contact for the rights: the rights address, else the DPO, else the organisation', () => {
    const withoutContact = COMPLETE.replace('  contact: { email: contact@test-sas.fr }\n', '');
    expect(gaps(withoutContact)).toEqual([]); // the DPO's address
    const noEmail = withoutContact.replace(
      '  dpo: { name: Jeanne Martin, email: dpo@test-sas.fr }\n',
      '  dpo: { name: Jeanne Martin }\n',
    );
    expect(gaps(noEmail).map((g) => g.split(' ')[1])).toEqual(['W_NO_CONTACT']);
    expect(
      gaps(noEmail.replace('  dpo:', '  rights: { address: "1 rue de la Paix, Paris" }\n  dpo:')),
    ).toEqual([]);
  });

  it('a DPO stated as not designated is no gap, and is no contact', () => {
    const notDesignated = COMPLETE.replace(
      '  dpo: { name: Jeanne Martin, email: dpo@test-sas.fr }\n',
      '  dpo: { designated: false }\n',
    );
    expect(gaps(notDesignated)).toEqual([]);
    const onlyDpo = COMPLETE.replace('  contact: { email: contact@test-sas.fr }\n', '').replace(
      '  dpo: { name: Jeanne Martin, email: dpo@test-sas.fr }\n',
      '  dpo: { designated: false, email: dpo@test-sas.fr }\n',
    );
    expect(gaps(onlyDpo).map((g) => g.split(' ')[1])).toEqual(['W_NO_CONTACT']);
    // A DPO designated but named nowhere is a gap.
    const empty = COMPLETE.replace(
      '  dpo: { name: Jeanne Martin, email: dpo@test-sas.fr }\n',
      '  dpo: { designated: true }\n',
    );
    expect(gaps(empty).map((g) => g.split(' ')[1])).toEqual(['W_NO_DPO']);
  });

  it('an activity processed for others is not asked for recipients (its controller states them)', () => {
    const processor = COMPLETE.replace('    recipients: [support]\n', '')
      .replace('    role: controller\n', '    role: processor\n    controllers: [shops]\n')
      .concat('controllers:\n  - { id: shops, name: Boutiques }\n');
    expect(gaps(processor)).toEqual([]);
  });
});
