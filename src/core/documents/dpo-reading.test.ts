/**
 * The documents as a DPO reads them (issue 10, items 9 to 14): no placeholder or French left in
 * English, sentences that read, no column names, what the notice announces is what is held,
 * art. 13(2)(e) and (f), Markdown that renders, CSV that French Excel opens.
 */
import { describe, expect, it } from 'vitest';
import { BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadRegister } from '../../adapters/files/config-files.js';
import { checkRegisterText, issueCodes } from '../register/check-text.js';
import { parseRegister, type Register } from '../register/register-load.js';
import type { Language } from '../text.js';
import { buildArt30, renderArt30Csv, renderArt30Html } from './art30.js';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from './notice.js';
import { missingTexts } from './translations.js';

const register = loadRegister(BUNDLED_REGISTER).register as Register;

const art30Html = (lang: Language) =>
  (['controller', 'processor'] as const)
    .map((k) => renderArt30Html(buildArt30(register, k, lang)))
    .join('\n');
const noticeText = (lang: Language) => {
  const notice = buildNotice(register, lang);
  return `${renderNoticeMarkdown(notice)}\n${renderNoticeHtml(notice)}`;
};

/** A small register; each test changes it. */
const SMALL = `organisation:
  name: Test SAS
  languages: [fr, en]
  automatedDecisions: none
dataSubjects:
  - { id: customers, name: { fr: Clients, en: Customers } }
dataCategories:
  - { id: contact, parent: identity, name: { fr: Coordonnées, en: Contact details } }
  - { id: card, parent: economic-financial, name: { fr: Données de carte, en: Card data } }
records:
  - id: accounts
    name: { fr: Comptes, en: Accounts }
    fields:
      email: { type: string, category: contact }
      card: { type: string, category: card }
      created_at: date
activities:
  - id: shop
    name: { fr: Boutique, en: Shop }
    role: controller
    dataSubjects: [customers]
    dataCategories: [identity, contact, economic-financial, card]
    records: [accounts]
    security: [{ kind: access-control, description: { fr: Comptes nominatifs, en: Named accounts } }]
    provision: { requirement: contractual, consequences: { fr: "Sans e-mail, pas de compte.", en: "No e-mail, no account." } }
    purposes:
      - id: accounts
        name: { fr: Gérer les comptes, en: Manage accounts }
        legalBasis: contract
retention:
  - id: accounts
    record: accounts
    purposes: [accounts]
    anchor: created_at
    keep: 2 years
    then: delete
`;

/** The small register leaves the contact, the DPO and the recipients out (their own tests: validate-register.test.ts). */
const GAPS = new Set(['W_NO_CONTACT', 'W_NO_DPO', 'W_NO_RECIPIENTS']);
const check = (text: string) => checkRegisterText(text).filter((i) => !GAPS.has(i.code));
const codes = issueCodes;

describe('9. placeholders and languages', () => {
  it('the small register has no warning', () => {
    expect(check(SMALL)).toEqual([]);
  });

  it('a placeholder or a TODO in any text is a warning at its file and line', () => {
    const issues = check(
      SMALL.replace('  name: Test SAS\n', '  name: Test SAS\n  address: "[adresse à compléter]"\n').replace(
        'Gérer les comptes',
        'Gérer les comptes TODO',
      ),
    );
    expect(codes(issues)).toEqual(['reg/shop.yaml:3 W_PLACEHOLDER', 'reg/shop.yaml:29 W_PLACEHOLDER']);
    expect(issues[0]?.message).toBe(
      '"[adresse à compléter]" is a placeholder: replace it before the documents are published',
    );
    expect(codes(check(SMALL.replace('Sans e-mail', 'Écrire à dpo@test.example. Sans e-mail')))).toEqual([
      'reg/shop.yaml:25 W_PLACEHOLDER',
    ]);
  });

  it('the bundled register names its placeholders, and its English documents print none in French', () => {
    const placeholders = loadRegister(BUNDLED_REGISTER).issues.filter((i) => i.code === 'W_PLACEHOLDER');
    expect(placeholders.map((i) => i.file)).toContain('registers/negomarkets/organisation.yaml');
    expect(placeholders.length).toBeGreaterThanOrEqual(4);
    for (const text of [art30Html('en'), noticeText('en')])
      expect(text).not.toMatch(/compléter|Délégué|à l['’]attention/);
    expect(art30Html('en')).toContain('[registered office address to complete]');
    expect(noticeText('en')).toContain('NEGOMARKETS, for the attention of the DPO, [address to complete]');
    // The DPO's row gives the address, without repeating the row's own label as a name.
    expect(art30Html('en')).toContain('<dt>Data protection officer</dt><dd>dpo@negomarkets.example</dd>');
    expect(art30Html('fr')).toContain(
      '<dt>Délégué à la protection des données</dt><dd>dpo@negomarkets.example</dd>',
    );
  });

  it('a text without English is found, with its place, for docs to say so', () => {
    const loaded = parseRegister([
      {
        file: 'reg/shop.yaml',
        text: SMALL.replace('{ fr: Gérer les comptes, en: Manage accounts }', '{ fr: Gérer les comptes }'),
      },
    ]);
    const missing = missingTexts(loaded.register as Register, 'en');
    expect(missing).toEqual([
      { file: 'reg/shop.yaml', line: 28, column: 15, path: 'activities.0.purposes.0.name' },
    ]);
    expect(missingTexts(loaded.register as Register, 'fr')).toEqual([]);
    expect(missingTexts(register, 'en')).toEqual([]);
    expect(missingTexts(register, 'fr')).toEqual([]);
  });
});

describe('10. generated sentences read as sentences', () => {
  it('the latest of related records: "the last order", "la dernière commande"', () => {
    expect(art30Html('en')).toContain('the last order, the last request');
    expect(art30Html('en')).not.toContain('the latest the');
    expect(art30Html('fr')).toContain('la dernière commande, la dernière demande');
    expect(art30Html('fr')).not.toMatch(/dernière date de|à compter de le |de le /);
  });

  it('anonymisation is told with the data categories, never the column names', () => {
    for (const lang of ['fr', 'en'] as const) {
      const html = art30Html(lang);
      expect(html).not.toMatch(/shipping_|card_last4|card_token|card_expiry/);
    }
    // Orders stay linked to their customer and invoices: pseudonymised, not anonymised (issue 23).
    expect(art30Html('en')).toContain(
      'then pseudonymised (removed: name, e-mail address, phone number; postal address; the record stays linked to:',
    );
    expect(art30Html('fr')).toContain(
      'puis pseudonymisation (retrait de : nom, prénom, adresse e-mail, téléphone ; adresse postale ; l’enregistrement reste lié à :',
    );
    // A row that keeps nothing of the person and no link to one is anonymised.
    const anonymised = parseRegister([
      {
        file: 'reg/shop.yaml',
        text: SMALL.replace('    then: delete', '    then: { anonymise: [email, card] }'),
      },
    ]).register as Register;
    expect(renderArt30Html(buildArt30(anonymised, 'controller', 'fr'))).toContain(
      'puis anonymisation : coordonnées ; données de carte.',
    );
    expect(renderArt30Html(buildArt30(anonymised, 'controller', 'en'))).toContain(
      'then anonymisation of: contact details; card data.',
    );
  });

  it('the notice says a retention sentence once, not again inside a longer one', () => {
    for (const lang of ['fr', 'en'] as const)
      for (const section of buildNotice(register, lang).controller)
        for (const row of section.rows)
          for (const a of row.retention)
            for (const b of row.retention)
              if (a !== b) expect(b.startsWith(a.replace(/[.\s]+$/, '')), `${a} / ${b}`).toBe(false);
    expect(noticeText('en')).not.toContain(
      'the time of the business relationship and 5 years after it ends.</li>',
    );
  });

  it('the art. 30 record speaks of the company, not to "you"', () => {
    expect(art30Html('fr')).not.toMatch(/\b(vous|vos|votre)\b/i);
    expect(art30Html('en')).not.toMatch(/\b(you|your)\b/i);
    expect(art30Html('en')).toContain('Send the newsletter to the subscribers who asked for it');
    // The notice still speaks to people.
    expect(noticeText('en')).toContain('Send you our newsletter (if you asked for it)');
  });

  it('a purpose that speaks to "you" without a record wording is a warning', () => {
    const issues = check(SMALL.replace('en: Manage accounts', 'en: Manage your accounts'));
    expect(codes(issues)).toEqual(['reg/shop.yaml:28 W_SECOND_PERSON_IN_RECORD']);
    expect(
      check(
        SMALL.replace(
          'en: Manage accounts }',
          'en: Manage your accounts }\n        recordName: { fr: Gérer les comptes, en: Manage the accounts }',
        ),
      ),
    ).toEqual([]);
  });
});

describe('11. what the notice announces is what the records hold', () => {
  it('a category announced and held by no record is a warning, and the reverse', () => {
    const notHeld = check(
      SMALL.replace(
        '[identity, contact, economic-financial, card]',
        '[identity, contact, economic-financial, card, personal-life]',
      ),
    );
    expect(codes(notHeld)).toEqual(['reg/shop.yaml:22 W_CATEGORY_NOT_HELD']);
    expect(notHeld[0]?.message).toContain(
      'announces the category "personal-life", but none of its records (accounts) holds it',
    );
    const notAnnounced = check(
      SMALL.replace('[identity, contact, economic-financial, card]', '[identity, contact]'),
    );
    expect(codes(notAnnounced)).toEqual(['reg/shop.yaml:15 W_CATEGORY_NOT_ANNOUNCED']);
    expect(notAnnounced[0]?.message).toContain('holds the category "card" in field "card"');
  });

  it('the bundled register announces every category its records hold', () => {
    expect(
      loadRegister(BUNDLED_REGISTER).issues.filter((i) => i.code === 'W_CATEGORY_NOT_ANNOUNCED'),
    ).toEqual([]);
  });
});

describe('12. art. 13(2)(e) and (f)', () => {
  it('the notice says whether the data must be provided, and that no decision is automated', () => {
    const en = noticeText('en');
    expect(en).toContain(
      '**Must you provide this data?** Providing it is necessary to perform the contract. Without your name',
    );
    expect(en).toContain('## Automated decisions');
    expect(en).toContain('is taken by automated means alone, profiling included.');
    const fr = noticeText('fr');
    expect(fr).toContain('**Devez-vous fournir ces données ?** Leur fourniture est facultative.');
    expect(fr).toContain('## Décisions automatisées');
  });

  it('an activity that does not say them is a warning', () => {
    expect(codes(check(SMALL.replace(/ {4}provision: .*\n/, '')))).toEqual([
      'reg/shop.yaml:18 W_PROVISION_UNSTATED',
    ]);
    expect(codes(check(SMALL.replace('  automatedDecisions: none\n', '')))).toEqual([
      'reg/shop.yaml:17 W_AUTOMATED_DECISIONS_UNSTATED',
    ]);
  });

  it("an activity's own automated decisions are printed in its section", () => {
    const text = SMALL.replace(
      '    provision:',
      '    automatedDecisions: { logic: { fr: Un score de fraude., en: A fraud score. }, consequences: { fr: Commande bloquée., en: The order is held. } }\n    provision:',
    );
    const notice = buildNotice(parseRegister([{ file: 'x.yaml', text }]).register as Register, 'en');
    expect(notice.controller[0]?.automated).toBe(
      'Logic involved: A fraud score. Consequences for you: The order is held.',
    );
    expect(renderNoticeMarkdown(notice)).toContain('**Automated decisions**: Logic involved: A fraud score.');
  });
});

describe('13. the Markdown notice renders', () => {
  it.each(['fr', 'en'] as const)(
    'in %s, the complaint sentence is a paragraph of its own, after the list',
    (lang) => {
      const md = renderNoticeMarkdown(buildNotice(register, lang));
      const lines = md.split('\n');
      const complaint = lines.findIndex((l) => /CNIL \(www\.cnil\.fr\)/.test(l));
      expect(complaint).toBeGreaterThan(0);
      expect(lines[complaint - 1]).toBe('');
      expect(lines[complaint - 2]).toMatch(/^- /);
    },
  );
});

describe('14. CSV as French Excel opens it', () => {
  it.each(['fr', 'en'] as const)(
    'in %s: a UTF-8 byte order mark, ";" between cells, accents intact',
    (lang) => {
      const csv = renderArt30Csv(buildArt30(register, 'controller', lang));
      expect(csv.charCodeAt(0)).toBe(0xfeff);
      // The bundled register is a draft: its banner is the first line, the header the second.
      const header = csv.slice(1).split('\r\n')[1] as string;
      expect(header.split(';').length).toBe(11);
      expect(header).not.toContain(',');
      if (lang === 'fr') expect(csv).toContain('Activité');
    },
  );
});
