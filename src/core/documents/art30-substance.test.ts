/**
 * Issue 23, points 3 and 7, on the bundled register's generated records in both languages: a
 * rule that follows another record reads as a sentence, the processor record has one section per
 * controller, an "anonymisation" that leaves the person linked is called pseudonymisation, and a
 * notice's "you must provide this data" agrees with the legal basis.
 */
import { describe, expect, it } from 'vitest';
import { BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadRegister } from '../../adapters/files/config-files.js';
import { RegistreError } from '../errors.js';
import type { Issue } from '../issues.js';
import { checkRegisterText } from '../register/check-text.js';
import { parseRegister, type Register } from '../register/register-load.js';
import { controllerMembers } from '../register/register-model.js';
import { validateRegister } from '../register/validate-register.js';
import type { Language } from '../text.js';
import { buildArt30, renderArt30Csv, renderArt30Html } from './art30.js';
import { buildDpv } from './dpv.js';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from './notice.js';

const loaded = loadRegister(BUNDLED_REGISTER);
const register = loaded.register as Register;
const LANGS = ['fr', 'en'] as const;

/** Every document of the register in one language, as text. */
function documents(reg: Register, lang: Language): string {
  const records = (['controller', 'processor'] as const).map((k) => buildArt30(reg, k, lang));
  const notice = buildNotice(reg, lang);
  return [
    ...records.flatMap((r) => [renderArt30Html(r), renderArt30Csv(r)]),
    renderNoticeMarkdown(notice),
    renderNoticeHtml(notice),
  ].join('\n');
}

/** The gaps left to fill (contact, DPO, recipients) have tests of their own. */
const GAPS = new Set(['W_NO_CONTACT', 'W_NO_DPO', 'W_NO_RECIPIENTS']);
const issuesOf = (text: string): Issue[] =>
  checkRegisterText(text, 'reg/test.yaml').filter((i) => !GAPS.has(i.code));
const codes = (issues: readonly Issue[], code: string) =>
  issues.filter((i) => i.code === code).map((i) => `${i.file}:${i.line}`);

describe.each(LANGS)('3. the art. 30(2) record, in %s', (lang) => {
  const text = documents(register, lang);
  const processor = buildArt30(register, 'processor', lang);

  it('a rule that follows another record reads as a sentence, never "Suit"/"Follows"', () => {
    expect(text).not.toMatch(/Suit |Follows /);
    const disputes = processor.sections[0]?.sheets[0]?.categories.map((c) => c.retention).join('\n');
    expect(disputes).toContain(
      lang === 'fr'
        ? 'Litiges fournisseurs : aussi longtemps que l’enregistrement de « commandes des clients des distributeurs » auquel il est lié est conservé ; puis suppression en même temps que lui.'
        : 'Supplier disputes: As long as the “orders of the distributors’ customers” record it is linked to is kept; then deleted with it.',
    );
  });

  it('has one section per member controller, with its name, address and contact, none for the group', () => {
    const members =
      lang === 'fr'
        ? ['[Distributeur 1 — à compléter]', '[Distributeur 2 — à compléter]']
        : ['[Distributor 1 — to complete]', '[Distributor 2 — to complete]'];
    expect(processor.sections.map((s) => s.title)).toEqual(members);
    const group = lang === 'fr' ? 'Les distributeurs de NEGOMARKETS' : 'NEGOMARKETS’s distributors';
    expect(processor.sections.map((s) => s.title)).not.toContain(group);
    for (const [i, section] of processor.sections.entries()) {
      const details = Object.fromEntries(section.details);
      const labels =
        lang === 'fr'
          ? ['Adresse', 'Contact', 'Groupe de responsables']
          : ['Address', 'Contact', 'Group of controllers'];
      expect(details[labels[0] as string]).toContain(
        lang === 'fr' ? `adresse du distributeur ${i + 1}` : `address of distributor ${i + 1}`,
      );
      expect(details[labels[1] as string]).toBe(`dpo@distributeur-${i + 1}.example`);
      expect(details[labels[2] as string]).toBe(group);
      expect(section.sheets.map((s) => s.ref)).toEqual(['ST-01']);
      // The activity's sheet names the controller of its section, not the whole group.
      expect(Object.fromEntries(section.sheets[0]?.actors ?? [])).toMatchObject({
        [lang === 'fr'
          ? 'Responsable pour le compte duquel le sous-traitant agit'
          : 'Controller on whose behalf the processor acts']: members[i],
      });
    }
    // The members are placeholders: the record is a draft until they are named.
    expect(processor.draft).toBe(true);
  });

  it('the notice names the controllers acted for, not "distributors" written in the code', () => {
    const notice = buildNotice(register, lang);
    expect(notice.processorTitle).toBe(
      lang === 'fr'
        ? 'Traitements réalisés pour le compte des distributeurs de NEGOMARKETS'
        : 'Processing carried out on behalf of NEGOMARKETS’s distributors',
    );
    const renamed: Register = {
      ...register,
      controllers: register.controllers.map((c) =>
        c.id === 'distributors' ? { ...c, name: { fr: 'Les franchisés', en: 'The franchisees' } } : c,
      ),
    };
    const other = buildNotice(renamed, lang);
    expect(other.processorTitle).toBe(
      lang === 'fr'
        ? 'Traitements réalisés pour le compte des franchisés'
        : 'Processing carried out on behalf of The franchisees',
    );
    expect(`${other.processorTitle} ${other.processorIntro} ${other.exercise.join(' ')}`).not.toMatch(
      /distribut/i,
    );
  });
});

describe('3. groups of controllers', () => {
  const GROUPS = `organisation: { name: Test SAS, languages: [fr, en], automatedDecisions: none }
dataSubjects: [{ id: buyers, name: { fr: Acheteurs, en: Buyers } }]
controllers:
  - { id: shops, name: { fr: Les boutiques, en: The shops } }
  - { id: shop-a, memberOf: shops, name: { fr: Boutique A, en: Shop A }, contact: { email: a@shop.test, address: 1 rue A } }
  - { id: shop-b, memberOf: shops, name: { fr: Boutique B, en: Shop B } }
records:
  - { id: sales, name: { fr: Ventes, en: Sales }, fields: { buyer: { type: string, category: identity }, sold_at: date, months: integer } }
activities:
  - id: sales
    name: { fr: Ventes pour les boutiques, en: Sales for the shops }
    role: processor
    controllers: [shops]
    dataSubjects: [buyers]
    dataCategories: [identity]
    records: [sales]
    security: [{ kind: access-control, description: { fr: Accès nominatifs, en: Named access } }]
    purposes: [{ id: sales, name: { fr: Vendre, en: Sell }, legalBasis: contract }]
retention:
  - { id: sales, record: sales, purposes: [sales], anchor: sold_at, keep: { months: months }, setBy: controller-instructions }
`;

  it('a group in a group is refused with its place; validation and the documents agree', () => {
    const nested = GROUPS.replace(
      '  - { id: shops, name:',
      '  - { id: all, name: { fr: Tous, en: All } }\n  - { id: shops, memberOf: all, name:',
    );
    const issues = issuesOf(nested);
    expect(codes(issues, 'E_CONTROLLER_GROUP_NESTED')).toEqual(['reg/test.yaml:5']);
    expect(issues.find((i) => i.code === 'E_CONTROLLER_GROUP_NESTED')?.message).toContain(
      'a group holds controllers, not groups',
    );
    const parsed = parseRegister([{ file: 'reg/test.yaml', text: nested }]).register as Register;
    expect(() => controllerMembers(parsed, 'all')).toThrow(RegistreError);
    expect(
      codes(
        issuesOf(
          GROUPS.replace(
            'memberOf: shops, name: { fr: Boutique B',
            'memberOf: shop-b, name: { fr: Boutique B',
          ),
        ),
        'E_CONTROLLER_GROUP_NESTED',
      ),
    ).toEqual(['reg/test.yaml:6']);
    expect(
      codes(
        issuesOf(
          GROUPS.replace(
            'memberOf: shops, name: { fr: Boutique B',
            'memberOf: nobody, name: { fr: Boutique B',
          ),
        ),
        'E_UNKNOWN_REFERENCE',
      ),
    ).toEqual(['reg/test.yaml:6']);
  });

  it('an activity for a group is processed for each member: one section each, the DPV names the members', () => {
    const reg = parseRegister([{ file: 'reg/test.yaml', text: GROUPS }]).register as Register;
    expect(codes(issuesOf(GROUPS), 'E_CONTROLLER_GROUP_NESTED')).toEqual([]);
    const record = buildArt30(reg, 'processor', 'en');
    expect(record.sections.map((s) => s.title)).toEqual(['Shop A', 'Shop B']);
    expect(Object.fromEntries(record.sections[0]?.details ?? [])).toMatchObject({
      Address: '1 rue A',
      Contact: 'a@shop.test',
      'Group of controllers': 'The shops',
    });
    expect(Object.fromEntries(record.sections[1]?.details ?? [])).toMatchObject({
      Address: '—',
      Contact: '—',
    });
    const dpv = JSON.stringify(buildDpv(reg));
    expect(dpv).toContain('controller/shop-a');
    expect(dpv).toContain('controller/shop-b');
    expect(dpv).not.toContain('controller/shops"');
  });
});

describe.each(LANGS)('7. substance, in %s', (lang) => {
  const controller = buildArt30(register, 'controller', lang);
  const text = documents(register, lang);
  const retention = controller.sections
    .flatMap((s) => s.sheets)
    .flatMap((s) => s.categories.map((c) => c.retention))
    .join('\n');

  it('orders and payments kept linked to a person are "pseudonymised", never "anonymised"', () => {
    expect(text).not.toMatch(/puis anonymisation|then anonymisation/);
    expect(retention).toContain(
      lang === 'fr'
        ? 'Commandes : 5 ans à compter de la plus tardive des dates suivantes : la commande, la livraison ; puis pseudonymisation (retrait de : nom, prénom, adresse e-mail, téléphone ; adresse postale ; l’enregistrement reste lié à : « comptes clients », « factures », « retours, réclamations et litiges »).'
        : 'Orders: 5 years from the latest of: the order, delivery; then pseudonymised (removed: name, e-mail address, phone number; postal address; the record stays linked to: "customer accounts", "invoices", "returns, complaints and disputes").',
    );
    expect(retention).toContain(
      lang === 'fr' ? 'l’enregistrement reste lié à : « commandes »' : 'the record stays linked to: "orders"',
    );
  });

  it('W_ANONYMISE_IS_PSEUDONYMISATION fires for orders and payments, at their "anonymise"', () => {
    const fired = loaded.issues.filter((i) => i.code === 'W_ANONYMISE_IS_PSEUDONYMISATION');
    expect(fired.map((i) => i.message.split(' ')[1]).sort()).toEqual([
      '"orders"',
      '"payments"',
      '"payments-deferred"',
    ]);
    for (const i of fired) {
      expect(i.file).toMatch(/customer-relationship\.yaml$/);
      expect(i.message).toMatch(/pseudonymisation/);
    }
    expect(fired.find((i) => i.message.includes('"orders"'))?.message).toContain(
      '"customers" (relation "customer")',
    );
    expect(fired.find((i) => i.message.includes('"orders"'))?.message).toContain(
      '"invoices" (relation "invoices")',
    );
  });

  it('the recruitment record rests application handling on pre-contractual steps, as its notice says', () => {
    const sheet = controller.sections[0]?.sheets.find((s) => s.ref === 'T-05');
    const contract = lang === 'fr' ? 'Exécution d’un contrat' : 'Performance of a contract';
    expect(sheet?.purposes.filter((p) => p.basis === contract)).toHaveLength(2);
    expect(loaded.issues.filter((i) => i.code === 'W_PROVISION_CONTRADICTS_BASIS')).toEqual([]);
  });
});

describe('7. a stated requirement against the legal basis', () => {
  const SMALL = `organisation: { name: Test SAS, languages: [fr, en], automatedDecisions: none }
dataSubjects: [{ id: candidates, name: { fr: Candidats, en: Candidates } }]
records:
  - { id: cvs, name: { fr: CV, en: CVs }, fields: { email: { type: string, category: identity }, sent_at: date } }
activities:
  - id: hiring
    name: { fr: Recrutement, en: Hiring }
    role: controller
    dataSubjects: [candidates]
    dataCategories: [identity]
    records: [cvs]
    security: [{ kind: access-control, description: { fr: RH seulement, en: HR only } }]
    provision: { requirement: pre-contractual, consequences: { fr: Sans CV pas de candidature., en: No CV no application. } }
    purposes:
      - { id: hiring, name: { fr: Recruter, en: Hire }, legalBasis: contract }
retention:
  - { id: cvs, record: cvs, purposes: [hiring], anchor: sent_at, keep: 3 months }
`;

  it('fires where "necessary to enter into the contract" rests on legitimate interest or consent, not where it rests on the contract', () => {
    expect(issuesOf(SMALL)).toEqual([]);
    const interest = issuesOf(
      SMALL.replace(
        'legalBasis: contract',
        'legalBasis: legitimate-interest, legitimateInterest: { fr: Recruter, en: Hiring }',
      ),
    );
    expect(codes(interest, 'W_PROVISION_CONTRADICTS_BASIS')).toEqual(['reg/test.yaml:13']);
    expect(interest.find((i) => i.code === 'W_PROVISION_CONTRADICTS_BASIS')?.message).toContain(
      'pre-contractual',
    );
    const consent = issuesOf(
      SMALL.replace('legalBasis: contract', 'legalBasis: consent, withdrawal: { fr: Écrire, en: Write }'),
    );
    expect(codes(consent, 'W_PROVISION_CONTRADICTS_BASIS')).toEqual(['reg/test.yaml:13']);
    // A legal obligation stated as such needs a legal-obligation purpose.
    expect(
      codes(
        issuesOf(SMALL.replace('requirement: pre-contractual', 'requirement: statutory')),
        'W_PROVISION_CONTRADICTS_BASIS',
      ),
    ).toEqual(['reg/test.yaml:13']);
    // Voluntary data contradicts no basis.
    expect(issuesOf(SMALL.replace('requirement: pre-contractual', 'requirement: voluntary'))).toEqual([]);
  });

  it('the bundled recruitment, as it was (legitimate interest), would fire', () => {
    const before: Register = {
      ...register,
      activities: register.activities.map((a) =>
        a.id !== 'recruitment'
          ? a
          : {
              ...a,
              purposes: a.purposes.map((p) =>
                p.legalBasis === 'contract'
                  ? { ...p, legalBasis: 'legitimate-interest' as const, legitimateInterest: 'x' }
                  : p,
              ),
            },
      ),
    };
    expect(validateRegister(before).filter((i) => i.code === 'W_PROVISION_CONTRADICTS_BASIS')).toHaveLength(
      1,
    );
  });
});
