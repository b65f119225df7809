/**
 * Documents a DPO signs (issue 23, points 1, 2, 4, 5 and 6): the bundled register's notice and
 * art. 30 records read, in both languages, as a DPO would publish them: purposes as actions, a
 * withdrawal sentence that says how, one typography, dates in words, no sentence twice, each
 * conditional period saying to whom it applies, the controller's identity, a DRAFT banner while a
 * placeholder is left.
 */
import { describe, expect, it } from 'vitest';
import { BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadRegister } from '../../adapters/files/config-files.js';
import { checkRegisterText, issueCodes } from '../register/check-text.js';
import { parseRegister, type Register } from '../register/register-load.js';
import { CNIL_CATEGORIES } from '../register/vocabulary.js';
import { type Language, localise } from '../text.js';
import { buildArt30, renderArt30Csv, renderArt30Html } from './art30.js';
import { CNIL_CATEGORY_LABELS, label } from './labels.js';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from './notice.js';
import { formatDate, sentence, typeset } from './typography.js';

const LANGS = ['fr', 'en'] as const;
const bundled = loadRegister(BUNDLED_REGISTER).register as Register;

const notice = (register: Register, lang: Language) => {
  const n = buildNotice(register, lang);
  return { model: n, md: renderNoticeMarkdown(n), html: renderNoticeHtml(n) };
};
const art30 = (register: Register, lang: Language) =>
  (['controller', 'processor'] as const).map((kind) => buildArt30(register, kind, lang));
/** Every text of the documents of one language, as a reader sees it (tags out, entities decoded). */
const documents = (register: Register, lang: Language) => {
  const n = notice(register, lang);
  const records = art30(register, lang);
  return [n.md, n.html, ...records.flatMap((r) => [renderArt30Html(r), renderArt30Csv(r)])]
    .join('\n')
    .replace(/<\/?(?:strong|em|b|i|a|span|code)\b[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
};

/** A small register without placeholder; each test changes it. */
const SHOP = `organisation:
  name: Boutique Test
  legalForm: SARL
  address: { fr: "12 rue des Lilas, 69001 Lyon", en: "12 rue des Lilas, 69001 Lyon, France" }
  registration: { fr: "RCS Lyon 123 456 789", en: "Lyon trade register 123 456 789" }
  contact: { email: contact@boutique-test.fr }
  dpo: { name: { fr: Marie Martin, en: Marie Martin }, email: dpo@boutique-test.fr }
  languages: [fr, en]
  automatedDecisions: none
  updatedAt: "2026-03-01"
dataSubjects:
  - { id: customers, name: { fr: Clients, en: Customers } }
dataCategories:
  - { id: contact, parent: identity, name: { fr: Coordonnées, en: Contact details } }
recipients:
  - { id: support, kind: internal, name: { fr: Service client, en: Customer service } }
records:
  - id: accounts
    name: { fr: Comptes, en: Accounts }
    fields:
      email: { type: string, category: contact }
      created_at: date
      pro: boolean
activities:
  - id: shop
    name: { fr: Boutique, en: Shop }
    role: controller
    dataSubjects: [customers]
    dataCategories: [identity, contact]
    records: [accounts]
    recipients: [support]
    security: [{ kind: access-control, description: { fr: Comptes nominatifs, en: Named accounts } }]
    provision: { requirement: contractual, consequences: { fr: "Sans e-mail, pas de compte.", en: "No e-mail, no account." } }
    purposes:
      - id: accounts
        name: { fr: Gérer les comptes, en: Manage accounts }
        legalBasis: contract
      - id: news
        name: { fr: Vous adresser nos nouveautés, en: Send you our news }
        recordName: { fr: Adresser les nouveautés aux clients inscrits, en: Send the news to the customers who subscribed }
        legalBasis: consent
        withdrawal: { fr: par le lien présent dans chaque e-mail, en: through the link in every e-mail }
retention:
  - id: accounts
    record: accounts
    purposes: [accounts, news]
    where: { pro: false }
    scope: { fr: comptes de particuliers, en: personal accounts }
    anchor: created_at
    keep: 2 years
    then: delete
  - id: pro-accounts
    record: accounts
    purposes: [accounts]
    where: { pro: true }
    scope: { fr: comptes professionnels, en: business accounts }
    anchor: created_at
    keep: 3 years
    then: delete
`;

function parse(text: string): Register {
  const result = parseRegister([{ file: 'reg/shop.yaml', text }]);
  if (!result.register) throw new Error(result.issues.map((i) => i.message).join('\n'));
  return result.register;
}
const check = (text: string) => checkRegisterText(text);
const codes = issueCodes;

describe('1. purposes are actions the sentence can take', () => {
  it('the bundled notice lists what is done, not names of processing', () => {
    for (const lang of LANGS)
      for (const section of notice(bundled, lang).model.controller)
        for (const row of section.rows)
          for (const purpose of row.purposes)
            expect(purpose, `${lang}: ${purpose}`).not.toMatch(
              /^(?:Gestion|Suivi|Envoi|Inscription|Management)\b/,
            );
    expect(notice(bundled, 'fr').md).toContain('- Gérer les candidatures');
    expect(notice(bundled, 'en').md).toContain('- Handle applications');
  });

  it('validate warns of a purpose written as a noun, in either language, and not of a verb', () => {
    expect(codes(check(SHOP))).toEqual([]);
    const nouns = check(
      SHOP.replace(
        'fr: Gérer les comptes, en: Manage accounts',
        'fr: Gestion des comptes, en: Account management',
      ),
    );
    expect(codes(nouns)).toEqual(['reg/shop.yaml:36 W_PURPOSE_NOT_A_VERB']);
    expect(nouns[0]?.message).toContain('"gestion" (fr)');
    expect(codes(check(SHOP.replace('en: Manage accounts', 'en: Processing of accounts')))).toEqual([
      'reg/shop.yaml:36 W_PURPOSE_NOT_A_VERB',
    ]);
    expect(codes(check(SHOP.replace('fr: Gérer les comptes', 'fr: Suivi des comptes')))).toEqual([
      'reg/shop.yaml:36 W_PURPOSE_NOT_A_VERB',
    ]);
    // A pronoun before the infinitive, an elision: still a verb.
    expect(codes(check(SHOP.replace('fr: Gérer les comptes', "fr: L'informer de son compte")))).toEqual([]);
  });
});

describe('2. the withdrawal sentence says how to withdraw', () => {
  it('each consent names its purpose and how it is withdrawn, in both languages', () => {
    const fr = notice(parse(SHOP), 'fr').md;
    expect(fr).toContain(
      'Vous pouvez retirer votre consentement à tout moment, aussi simplement que vous l’avez donné :',
    );
    expect(fr).toContain(
      '- Consentement donné pour vous adresser nos nouveautés : par le lien présent dans chaque e-mail.',
    );
    const en = notice(parse(SHOP), 'en').md;
    expect(en).toContain('- Consent for us to send you our news: through the link in every e-mail.');
    for (const lang of LANGS) {
      const text = notice(bundled, lang).md;
      expect(text).not.toMatch(/To withdraw your consent:\s*\n- /);
      expect(text).not.toMatch(/Pour retirer votre consentement :\s*\n- /);
      expect(text).not.toMatch(/ — (?:By writing|En écrivant)/);
    }
  });
});

describe('2. a consent that says nowhere how to withdraw it', () => {
  it('is a line to complete under the withdrawal paragraph, and the notice a draft', () => {
    const silent = parse(
      SHOP.replace(
        '        withdrawal: { fr: par le lien présent dans chaque e-mail, en: through the link in every e-mail }\n',
        '',
      ),
    );
    const fr = notice(silent, 'fr');
    expect(fr.md).toContain(
      '- Consentement donné pour vous adresser nos nouveautés : [à compléter : comment retirer ce consentement].',
    );
    const en = notice(silent, 'en');
    expect(en.md).toContain(
      '- Consent for us to send you our news: [to complete: how to withdraw this consent].',
    );
    for (const n of [fr, en]) expect(n.model.draft).toBe(true);
  });
});

describe('4. typography, labels and dates', () => {
  it('the typographic pass', () => {
    expect(typeset("Gérer l'envoi : Les commandes, etc...", 'fr')).toBe(
      'Gérer l’envoi : les commandes, etc.',
    );
    expect(typeset('Le DPO : NEGOMARKETS', 'fr')).toBe('Le DPO : NEGOMARKETS');
    expect(typeset("Customers' orders ; invoices : kept", 'en')).toBe('Customers’ orders; invoices: kept');
    expect(sentence('conservées 10 ans', 'fr')).toBe('Conservées 10 ans.');
    expect(formatDate('2026-11-27', 'fr')).toBe('27 novembre 2026');
    expect(formatDate('2026-03-01', 'fr')).toBe('1er mars 2026');
    expect(formatDate('2026-11-27', 'en')).toBe('27 November 2026');
  });

  it('the bundled documents hold none of the sentences the issue lists', () => {
    for (const lang of LANGS) {
      const text = documents(bundled, lang);
      expect(text, lang).not.toMatch(
        /Délégué à la protection des données\s*\|?\s*Délégué à la protection des données/,
      );
      expect(text, lang).not.toMatch(/Data protection officer\s*\|?\s*Data protection officer/);
      expect(text, lang).not.toContain('Authorities: Authorities');
      expect(text, lang).not.toContain('Autorités : Autorités');
      expect(text, lang).not.toContain("de l'exercice de l'émission");
      expect(text, lang).not.toContain('de l’exercice de l’émission');
      expect(text, lang).not.toContain('etc...');
      // Points 3 and 7 (art30-substance.test.ts has them in full): a rule that follows another
      // record is a sentence; an "anonymised" order that keeps its customer is pseudonymised.
      expect(text, lang).not.toMatch(/: (?:Suit|Follows) /);
      expect(text, lang).not.toMatch(/(?:Commandes|Orders)[^\n|]*(?:puis anonymisation|then anonymised)/);
      expect(text, lang).not.toContain('the time of the business relationship');
      expect(text, lang).not.toMatch(/\b2026-11-27\b/);
      // One apostrophe: the typographic one (a straight one is left only in code and markup).
      expect(text.replace(/<[^>]*>|```[\s\S]*?```/g, ''), lang).not.toMatch(/\p{L}'\p{L}/u);
    }
    const fr = documents(bundled, 'fr');
    expect(fr).toContain('27 novembre 2026');
    expect(fr).toContain('la clôture de l’exercice comptable au cours duquel intervient');
    // A capital after a colon only for a name: an acronym, a controller acted for.
    const names = bundled.controllers.map((c) => localise(c.name, 'fr').replace(/[[\]().*+?]/g, '\\$&'));
    const capitalAfterColon = new RegExp(
      ` : (?!NEGOMARKETS|CNIL|DPO|RGPD|T-\\d|${names.join('|')})\\p{Lu}\\p{Ll}`,
      'u',
    );
    expect(fr).not.toMatch(capitalAfterColon);
    const en = documents(bundled, 'en');
    expect(en).toContain('for as long as you are a customer');
    expect(en).toContain('27 November 2026');
    expect(en).not.toMatch(/\S ;/);
    expect(en).not.toMatch(/\S :(?:\s|$)/m);
  });

  it('reads as French and English written by hand (attack on the bundled documents)', () => {
    const fr = documents(bundled, 'fr');
    // "la plus tardive de : la commande, la livraison" is not a French phrase.
    expect(fr).not.toContain('la plus tardive de :');
    expect(fr).toContain('à compter de la plus tardive des dates suivantes : la commande, la livraison');
    expect(fr).not.toContain('enregistrement lié de');
    expect(fr).toContain(
      'aussi longtemps que l’enregistrement de « commandes des clients des distributeurs » auquel il est lié est conservé',
    );
    expect(fr).toContain('Dans le cadre de nos missions, NEGOMARKETS agit');
    // A list inside a French sentence or cell: no capital after its commas (but for a name).
    expect(fr).not.toMatch(/\p{Ll}, (?!NEGOMARKETS|CNIL|RGPD|DPO)\p{Lu}\p{Ll}/u);
    expect(fr).not.toContain('Internet/applications');
    const en = documents(bundled, 'en');
    expect(en).not.toContain('the linked record of');
    expect(en).toContain(
      'long as the “orders of the distributors’ customers” record it is linked to is kept',
    );
    // English quotes are curly, as its apostrophes are (the CSV's own quoting aside).
    for (const lang of LANGS) {
      const n = notice(bundled, lang);
      for (const text of [n.md, n.html.replace(/<style[\s\S]*?<\/style>|<[^>]*>/g, '')])
        expect(text.replace(/```[\s\S]*?```/g, ''), lang).not.toMatch(/"/);
    }
    // After "Data collected:", a list of common nouns: no capitals, as in French.
    expect(notice(bundled, 'en').md).toContain('**Data collected**: identity, personal life');
  });

  it('retention sentences and details end with a full stop; purposes and details read as one sentence', () => {
    for (const lang of LANGS)
      for (const section of notice(bundled, lang).model.controller)
        for (const row of section.rows)
          for (const line of row.retention) expect(line, `${lang}: ${line}`).toMatch(/[.…]$/);
  });
});

describe('5. no retention sentence twice; which period applies to whom', () => {
  it('no line is printed twice in one list of the notice, nor the same sentence with another prefix', () => {
    for (const lang of LANGS)
      for (const section of notice(bundled, lang).model.controller)
        for (const row of section.rows) {
          expect(new Set(row.retention).size).toBe(row.retention.length);
          const bodies = row.retention.map((l) => l.slice(l.indexOf(lang === 'fr' ? ' : ' : ': ') + 2));
          expect(new Set(bodies).size, row.retention.join('\n')).toBe(bodies.length);
        }
  });

  it('the art. 30 record sends a general category to its finer ones instead of repeating their periods', () => {
    for (const lang of LANGS) {
      const general = new Set(CNIL_CATEGORIES.map((c) => label(CNIL_CATEGORY_LABELS, c, lang)));
      for (const record of art30(bundled, lang))
        for (const sheet of record.sections.flatMap((s) => s.sheets)) {
          for (const row of sheet.categories.filter((c) => general.has(c.category))) {
            // Its finer categories are the ones its description names.
            const finerLines = sheet.categories
              .filter(
                (c) =>
                  !general.has(c.category) &&
                  row.description.toLowerCase().includes(c.category.toLowerCase()),
              )
              .flatMap((c) => c.retention.split('\n'));
            for (const line of row.retention.split('\n'))
              expect(finerLines, `${lang} ${sheet.ref} ${row.category}: ${line}`).not.toContain(line);
          }
        }
    }
    const recruitment = art30(bundled, 'fr')[0]
      ?.sections.flatMap((s) => s.sheets)
      .find((s) => s.ref === 'T-05');
    const identity = recruitment?.categories.find((c) => c.category === 'Identité');
    expect(identity?.retention).toBe('Voir les catégories détaillées ci-dessous');
  });

  it('the card periods and the ambassador periods say to whom they apply', () => {
    const fr = documents(bundled, 'fr');
    expect(fr).toContain('Paiements par carte (carte à débit immédiat) : 13 mois');
    expect(fr).toContain('Paiements par carte (carte à débit différé) : 15 mois');
    expect(fr).toContain('Candidatures non retenues et leurs vidéos : 3 mois après la décision.');
    const en = documents(bundled, 'en');
    expect(en).toContain('(deferred-debit card): 15 months');
    expect(en).toContain('Applications never decided on: 1 year after the application.');
    for (const [lang, business, personal] of [
      ['fr', 'Comptes professionnels : 3 ans', 'Comptes de particuliers : 2 ans'],
      ['en', 'Business accounts: 3 years', 'Personal accounts: 2 years'],
    ] as const) {
      const lines = notice(parse(SHOP), lang).model.controller.flatMap((s) =>
        s.rows.flatMap((r) => r.retention),
      );
      expect(
        lines.some((l) => l.startsWith(business)),
        lines.join('\n'),
      ).toBe(true);
      expect(
        lines.some((l) => l.startsWith(personal)),
        lines.join('\n'),
      ).toBe(true);
    }
  });

  it('validate warns of a conditional rule whose documents cannot say to whom it applies', () => {
    const unscoped = check(
      SHOP.replace('    scope: { fr: comptes professionnels, en: business accounts }\n', ''),
    );
    expect(codes(unscoped)).toEqual(['reg/shop.yaml:55 W_RULE_SCOPE_UNSTATED']);
    expect(unscoped[0]?.message).toContain('rule "pro-accounts"');
  });
});

describe('6. the controller is named, and a draft says it is one', () => {
  it('the notice gives the legal form, the address and the registration, and prints no banner when complete', () => {
    const fr = notice(parse(SHOP), 'fr');
    expect(fr.md).toContain(
      'Boutique Test, SARL dont le siège est situé 12 rue des Lilas, 69001 Lyon (immatriculation : RCS Lyon 123 456 789), est responsable de ces traitements.',
    );
    const en = notice(parse(SHOP), 'en');
    expect(en.md).toContain('Boutique Test, SARL, registered office 12 rue des Lilas, 69001 Lyon, France');
    for (const n of [fr, en]) {
      expect(n.model.draft).toBe(false);
      expect(n.md).not.toMatch(/BROUILLON|DRAFT/);
      expect(n.html).not.toMatch(/BROUILLON|DRAFT/);
    }
    expect(fr.md).toContain('*Dernière mise à jour : 1er mars 2026*');
    for (const record of art30(parse(SHOP), 'fr')) expect(record.draft).toBe(false);
  });

  it('a DPO stated as not designated is printed nowhere: the art. 30 records say none, as the notice does', () => {
    const none = parse(
      SHOP.replace(
        '  dpo: { name: { fr: Marie Martin, en: Marie Martin }, email: dpo@boutique-test.fr }',
        '  dpo: { designated: false, name: { fr: Marie Martin, en: Marie Martin }, email: dpo@boutique-test.fr }',
      ),
    );
    for (const lang of LANGS) {
      const text = documents(none, lang);
      expect(text, lang).not.toContain('dpo@boutique-test.fr');
      expect(text, lang).not.toContain('Marie Martin');
    }
  });

  it('a controller named alone reads as a sentence; a purpose without a period is a gap the banner shows', () => {
    const bare = parse(
      SHOP.replace(/ {2}legalForm: .*\n {2}address: .*\n {2}registration: .*\n/, '')
        .replace('    purposes: [accounts, news]\n', '    purposes: [accounts]\n')
        .replace('      - id: news\n', '      - id: news\n'),
    );
    const fr = notice(bare, 'fr');
    expect(fr.md).toContain('Boutique Test est responsable de ces traitements.');
    expect(fr.md).not.toContain('Boutique Test, est');
    const en = notice(bare, 'en');
    expect(en.md).toContain('Boutique Test is the controller of this processing.');
    // The consent purpose has no rule now: its period is to complete, not "—", and the document is a draft.
    expect(fr.md).toContain('- [À compléter : durée de conservation]');
    expect(en.md).toContain('- [To complete: retention period]');
    expect(en.md).not.toMatch(/\S :/);
    for (const n of [fr, en]) {
      expect(n.md).not.toContain(' : —');
      expect(n.model.draft).toBe(true);
    }
    // "etc" is an abbreviation: it takes its full stop.
    expect(typeset('Gérer les règlements, facturations, etc', 'fr')).toBe(
      'Gérer les règlements, facturations, etc.',
    );
    expect(typeset('etc. and etc, so', 'en')).toBe('etc. and etc., so');
  });

  it('a placeholder anywhere in a document puts a DRAFT banner on it, in each format and language', () => {
    const placeholder = parse(SHOP.replace('RCS Lyon 123 456 789', '[RCS à compléter]'));
    const fr = notice(placeholder, 'fr');
    expect(fr.md).toContain('> **BROUILLON : ce document contient encore des éléments à compléter');
    expect(fr.html).toMatch(/class="draft"[^>]*>BROUILLON/);
    const [controller] = art30(placeholder, 'fr');
    expect(controller?.draft).toBe(true);
    expect(renderArt30Csv(controller as never).split('\r\n')[0]).toContain('BROUILLON');
    // A placeholder only in the English text marks the English documents, not the French ones.
    const enOnly = parse(SHOP.replace('en: "Lyon trade register 123 456 789"', 'en: "[to complete]"'));
    expect(notice(enOnly, 'en').md).toContain('> **DRAFT: this document still holds placeholders');
    expect(notice(enOnly, 'fr').model.draft).toBe(false);
    // The bundled register still holds the seed's gaps: all its documents are drafts.
    for (const lang of LANGS) {
      expect(notice(bundled, lang).model.draft).toBe(true);
      for (const record of art30(bundled, lang)) expect(record.draft).toBe(true);
    }
  });
});
