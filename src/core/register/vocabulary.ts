/** The register's closed vocabularies (legal bases, CNIL categories…), without the schema that checks them. */

export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal-obligation',
  'vital-interests',
  'public-task',
  'legitimate-interest',
] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** The categories of the CNIL register template; finer categories declare one as their parent. */
export const CNIL_CATEGORIES = [
  'identity',
  'personal-life',
  'professional-life',
  'economic-financial',
  'connection',
  'location',
  'internet',
] as const;
export type CnilCategory = (typeof CNIL_CATEGORIES)[number];

export const SPECIAL_CATEGORIES = [
  'racial-ethnic-origin',
  'political-opinions',
  'religious-beliefs',
  'trade-union',
  'genetic',
  'biometric',
  'health',
  'sex-life',
  'criminal-offences',
  'national-id-number',
] as const;

export const SECURITY_KINDS = [
  'access-control',
  'traceability',
  'software-protection',
  'backup',
  'encryption',
  'processor-oversight',
  'other',
] as const;

export const SAFEGUARDS = [
  'adequacy-decision',
  'standard-contractual-clauses',
  'binding-corporate-rules',
  'code-of-conduct',
  'certification',
  'art-49-derogation',
] as const;

/** The sections of a register file that list items, in the order the files' items are merged. */
export const SECTIONS = [
  'dataCategories',
  'dataSubjects',
  'recipients',
  'controllers',
  'records',
  'activities',
  'retention',
  'holds',
] as const;
