import { describe, expect, it } from 'vitest';
import type { Organisation } from '../register/register-schema.js';
import {
  codeLetter,
  completionLetter,
  extensionLetter,
  type LetterContext,
  lettersOwed,
  longDate,
  refusalLetter,
} from './letters.js';

const ORG: Organisation = {
  name: 'NEGOMARKETS',
  dpo: { name: { fr: 'Délégué à la protection des données', en: 'Data protection officer' } },
  rights: { email: 'dpo@negomarkets.example' },
  supervisoryAuthority: 'CNIL',
};
const ctx = (languages: LetterContext['languages'], type: LetterContext['request']['type'] = 'access') => ({
  organisation: ORG,
  languages,
  request: { id: 7, type, received: '2026-12-01' },
  names: new Map([
    ['orders', { fr: 'Commandes', en: 'Orders' }],
    ['invoices', { fr: 'Factures', en: 'Invoices' }],
  ]),
});

describe('letters to the person (issue 18 item 23)', () => {
  it('18.23 the code message says which request it is for, what to do with the code, and what if you did not ask', () => {
    const fr = codeLetter(ctx(['fr'], 'erasure'), '123456', 15);
    expect(fr.subject).toBe("Demande d'effacement n° 7 : votre code de vérification");
    expect(fr.text).toContain("demande d'effacement de vos données personnelles (RGPD, art. 17) (n° 7)");
    expect(fr.text).toContain('le 1er décembre 2026');
    expect(fr.text).toContain('Votre code de vérification est 123456.');
    expect(fr.text).toContain('Il est valable 15 minutes.');
    expect(fr.text).toContain("Si vous n'avez rien demandé, ignorez ce message");
    expect(fr.text).toContain('dpo@negomarkets.example');
    expect(fr.text).not.toMatch(/verification code/);
    const en = codeLetter(ctx(['en'], 'access'), '123456', 15);
    expect(en.text).toContain('On 1 December 2026 we received a request for access to your personal data');
    expect(en.text).toContain('If you did not ask for anything, ignore this message');
    expect(en.text).not.toMatch(/Bonjour/);
    // Language unknown: both, the register's first one first.
    const both = codeLetter(ctx(['fr', 'en']), '654321', 15);
    expect(both.text.indexOf('Votre code')).toBeLessThan(
      both.text.indexOf('Your verification code is 654321.'),
    );
    expect(both.subject).toContain(' / ');
  });

  it('18.23 the refusal letter gives the reason, the right to complain to the CNIL (its address) and to a court', () => {
    for (const lang of ['fr', 'en'] as const) {
      const letter = refusalLetter(ctx([lang]), 'manifestly excessive: the same request every day');
      expect(letter.text).toContain('manifestly excessive: the same request every day');
      expect(letter.text).toContain('3 Place de Fontenoy, TSA 80715, 75334 Paris Cedex 07');
      expect(letter.text).toContain('www.cnil.fr');
      expect(letter.text).toMatch(lang === 'fr' ? /recours juridictionnel/ : /judicial remedy/);
      expect(letter.text).toMatch(/12\(4\)/);
    }
    // Another authority is named, not given the CNIL's address.
    const other = refusalLetter(
      { ...ctx(['en']), organisation: { ...ORG, supervisoryAuthority: 'APD' } },
      'x',
    );
    expect(other.text).toContain('the supervisory authority (APD)');
    expect(other.text).not.toContain('Fontenoy');
  });

  it('18.23 the extension letter gives the reason, the new deadline and art. 12(3)', () => {
    const fr = extensionLetter(ctx(['fr']), 'plusieurs magasins et l’archive', 2, '2027-02-28');
    expect(fr.text).toContain('de 2 mois');
    expect(fr.text).toContain('plusieurs magasins et l’archive');
    expect(fr.text).toContain('au plus tard le 28 février 2027');
    expect(fr.text).toContain('12(3)');
    expect(fr.text).toContain('deux mois au plus');
    const en = extensionLetter(ctx(['en']), 'many records', 1, '2027-01-31');
    expect(en.text).toContain('by 31 January 2027 at the latest');
    expect(en.text).toContain('up to two further months');
    expect(en.text).toContain('within the first month');
  });

  it('18.23 the completion letter of an erasure: what was erased, what was kept, why and until when', () => {
    const facts = {
      found: 5,
      erased: [
        { table: 'customers', action: 'delete' as const },
        { table: 'orders', action: 'anonymise' as const },
        { table: 'orders', action: 'anonymise' as const },
      ],
      kept: [
        { table: 'invoices', basis: '17(3)(b)', until: '2036-12-31' },
        { table: 'invoices', basis: '17(3)(b)', until: '2036-12-31' },
        { table: 'orders', basis: '17(3)(e)', until: null, afterHold: 'anonymise' as const },
      ],
      forwarded: [{ controller: 'Distributeur Nord', table: 'distributor_orders' }],
      suppressed: true,
      delivery: 'mail' as const,
    };
    const fr = completionLetter(ctx(['fr'], 'erasure'), facts).text;
    expect(fr).toContain('  - customers (1) : effacé(s)');
    expect(fr).toContain('  - Commandes (2) : anonymisé(s)');
    expect(fr).toMatch(
      / {2}- Factures \(2\) : conservé\(s\) pour respecter une obligation légale \(RGPD, art\. 17\(3\)\(b\)/,
    );
    expect(fr).toContain("jusqu'au 31 décembre 2036");
    expect(fr).toContain('un litige étant en cours (RGPD, art. 17(3)(e)) ; effacé(s) dès qu’il prend fin');
    expect(fr).toContain('Distributeur Nord');
    expect(fr).toContain('liste d’opposition');
    const en = completionLetter(ctx(['en'], 'erasure'), facts).text;
    expect(en).toContain('  - Invoices (2): kept to comply with a legal obligation (GDPR art. 17(3)(b)');
    expect(en).toContain('until 31 December 2036, then erased');
    expect(en).toContain('Fontenoy');
  });

  it('18.23 the completion letter of an access: the package attached, or handed over apart; nothing held said so', () => {
    const files = ['access.json', 'access.html'];
    const attached = completionLetter(ctx(['en']), { found: 3, files, delivery: 'mail' }).text;
    expect(attached).toContain('  - access.html');
    expect(attached).toContain('These files are attached to this message.');
    const apart = completionLetter(ctx(['fr']), { found: 3, files, delivery: 'letter' }).text;
    expect(apart).toContain('vous sont remis à part');
    const none = completionLetter(ctx(['en'], 'erasure'), { found: 0, delivery: 'mail' }).text;
    expect(none).toContain('We hold no data about you.');
  });

  it('18.23 the letters owed: each once, until delivered; an extension not after the request is closed', () => {
    const base = { status: 'verified', extendedMonths: 0, details: {}, outcome: null };
    expect(lettersOwed(base)).toEqual([]);
    expect(lettersOwed({ ...base, extendedMonths: 2 })).toEqual(['extension']);
    expect(
      lettersOwed({
        ...base,
        extendedMonths: 2,
        details: { letters: [{ kind: 'extension', via: 'failed', at: 'x' }] },
      }),
    ).toEqual(['extension']);
    expect(
      lettersOwed({
        ...base,
        extendedMonths: 2,
        details: { letters: [{ kind: 'extension', via: 'outbox', at: 'x' }] },
      }),
    ).toEqual([]);
    expect(lettersOwed({ ...base, status: 'refused', extendedMonths: 1 })).toEqual(['refusal']);
    expect(lettersOwed({ ...base, status: 'done', outcome: { found: 1, delivery: 'mail' } })).toEqual([
      'completion',
    ]);
    expect(lettersOwed({ ...base, status: 'done', outcome: { found: 1, delivery: 'none' } })).toEqual([]);
  });

  it('dates as a person reads them', () => {
    expect(longDate('2027-02-28', 'fr')).toBe('28 février 2027');
    expect(longDate('2027-03-01', 'fr')).toBe('1er mars 2027');
    expect(longDate('2027-03-01', 'en')).toBe('1 March 2027');
  });
});

describe('a DPO stated as not designated (issue 23)', () => {
  it('is neither the contact nor the signature of a letter; the organisation is', () => {
    const organisation: Organisation = {
      name: 'Petite SARL',
      contact: { email: 'contact@petite-sarl.fr' },
      dpo: { designated: false, name: 'Ancien délégué', email: 'ancien@petite-sarl.fr' },
    };
    for (const lang of ['fr', 'en'] as const) {
      const letter = refusalLetter(
        { organisation, languages: [lang], request: { id: 3, type: 'access', received: '2026-12-01' } },
        'manifestly unfounded',
      );
      expect(letter.text).toContain('contact@petite-sarl.fr');
      expect(letter.text).not.toMatch(/ancien/i);
      expect(letter.text.trim().split('\n').at(-1)).toBe('Petite SARL');
    }
  });
});
