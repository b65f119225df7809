/** The words documents use, in French and English. */
import type { Language } from '../text.js';

type Labels = Record<string, Record<Language, string>>;

export const LEGAL_BASIS_LABELS: Labels = {
  consent: { fr: 'Consentement', en: 'Consent' },
  contract: { fr: "Exécution d'un contrat", en: 'Performance of a contract' },
  'legal-obligation': { fr: 'Obligation légale', en: 'Legal obligation' },
  'vital-interests': { fr: 'Sauvegarde des intérêts vitaux', en: 'Vital interests' },
  'public-task': { fr: "Mission d'intérêt public", en: 'Public task' },
  'legitimate-interest': { fr: 'Intérêt légitime', en: 'Legitimate interest' },
};

/** GDPR art. 6(1) points, for the DPV export (`eu-gdpr:A6-1-a` …). */
export const LEGAL_BASIS_ARTICLE: Record<string, string> = {
  consent: 'A6-1-a',
  contract: 'A6-1-b',
  'legal-obligation': 'A6-1-c',
  'vital-interests': 'A6-1-d',
  'public-task': 'A6-1-e',
  'legitimate-interest': 'A6-1-f',
};

export const CNIL_CATEGORY_LABELS: Labels = {
  identity: { fr: 'Identité', en: 'Identity' },
  'personal-life': { fr: 'Vie personnelle', en: 'Personal life' },
  'professional-life': { fr: 'Vie professionnelle', en: 'Professional life' },
  'economic-financial': { fr: 'Informations économiques', en: 'Economic and financial information' },
  connection: { fr: 'Données de connexion', en: 'Connection data' },
  location: { fr: 'Localisation', en: 'Location' },
  internet: { fr: 'Internet', en: 'Internet' },
};

/** DPV personal-data concepts for the CNIL categories. */
export const CNIL_CATEGORY_DPV: Record<string, string> = {
  identity: 'pd:Identifying',
  'personal-life': 'pd:PersonalLife',
  'professional-life': 'pd:Professional',
  'economic-financial': 'pd:Financial',
  connection: 'pd:CommunicationsMetadata',
  location: 'pd:Location',
  internet: 'pd:BrowsingBehavior',
};

export const RECIPIENT_KIND_LABELS: Labels = {
  internal: { fr: 'Destinataires internes', en: 'Internal recipients' },
  processor: { fr: 'Sous-traitants', en: 'Processors' },
  'third-party': { fr: 'Organismes externes', en: 'External bodies' },
  authority: { fr: 'Autorités', en: 'Authorities' },
};

export const SECURITY_LABELS: Labels = {
  'access-control': { fr: "Contrôle d'accès des utilisateurs", en: 'User access control' },
  traceability: { fr: 'Mesures de traçabilité', en: 'Traceability' },
  'software-protection': { fr: 'Mesures de protection des logiciels', en: 'Software protection' },
  backup: { fr: 'Sauvegarde des données', en: 'Data backup' },
  encryption: { fr: 'Chiffrement des données', en: 'Encryption' },
  'processor-oversight': { fr: 'Contrôle des sous-traitants', en: 'Processor oversight' },
  other: { fr: 'Autres mesures', en: 'Other measures' },
};

export const SAFEGUARD_LABELS: Labels = {
  'adequacy-decision': { fr: "Décision d'adéquation", en: 'Adequacy decision' },
  'standard-contractual-clauses': { fr: 'Clauses contractuelles types', en: 'Standard contractual clauses' },
  'binding-corporate-rules': { fr: "Règles d'entreprise contraignantes", en: 'Binding corporate rules' },
  'code-of-conduct': { fr: 'Code de conduite', en: 'Code of conduct' },
  certification: { fr: 'Certification', en: 'Certification' },
  'art-49-derogation': { fr: 'Dérogation (art. 49)', en: 'Derogation (art. 49)' },
};

export const UNIT_LABELS: Record<Language, Record<string, [string, string]>> = {
  fr: { days: ['jour', 'jours'], months: ['mois', 'mois'], years: ['an', 'ans'] },
  en: { days: ['day', 'days'], months: ['month', 'months'], years: ['year', 'years'] },
};

export function label(labels: Labels, key: string, lang: Language): string {
  return labels[key]?.[lang] ?? key;
}
