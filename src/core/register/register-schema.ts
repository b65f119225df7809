/**
 * The register's file format, as zod schemas. A register is one YAML file or a folder of them;
 * every file has the same shape and every top-level key is optional, so a DPO can split the
 * register by activity. The JSON Schema published in `schema/` is generated from these.
 */
import { z } from 'zod';

import {
  CNIL_CATEGORIES,
  LEGAL_BASES,
  SAFEGUARDS,
  SECURITY_KINDS,
  SPECIAL_CATEGORIES,
} from './vocabulary.js';

const ID = /^[a-z][a-z0-9_-]*$/;
const idMessage = 'an id is lower-case letters, digits, "-" or "_", starting with a letter';
export const Id = z.string().regex(ID, idMessage);
const FieldPath = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/, 'a field is "column" or "relation.column"');

/** A text in French and English; a plain string is taken as the register's first language. */
export const LocalText = z.union([
  z.string().min(1),
  z.strictObject({ fr: z.string().min(1).optional(), en: z.string().min(1).optional() }),
]);
export type LocalText = z.infer<typeof LocalText>;

/** `13 months`, `3 years`, `30 days`, `2 weeks`, or ISO 8601 `P13M`. Checked by the validator. */
export const DurationText = z
  .string()
  .describe('a duration: "13 months", "3 years", "30 days", "2 weeks", or ISO 8601 "P13M"');

/** A duration read from a column of the record or of a related record (a controller's instruction). */
export const FieldDuration = z.union([
  z.strictObject({ months: FieldPath }),
  z.strictObject({ years: FieldPath }),
  z.strictObject({ days: FieldPath }),
]);
export const Keep = z.union([DurationText, FieldDuration]);
export type Keep = z.infer<typeof Keep>;

export type DateExpr =
  | string
  | { readonly latest: readonly DateExpr[] }
  | { readonly earliest: readonly DateExpr[] }
  | { readonly max: string }
  | { readonly min: string }
  | { readonly financialYearEnd: DateExpr }
  | { readonly from: DateExpr; readonly add: Keep };

/**
 * A date: a field (`placed_at`, or `distributor.contract_ended_at` through a to-one relation),
 * the latest or earliest of several, the max or min over a to-many relation (`orders.placed_at`),
 * the end of the financial year containing a date, or a date plus a duration.
 */
export const DateExpr: z.ZodType<DateExpr> = z.lazy(() =>
  z.union([
    FieldPath,
    z.strictObject({ latest: z.array(DateExpr).min(1) }),
    z.strictObject({ earliest: z.array(DateExpr).min(1) }),
    z.strictObject({ max: FieldPath }),
    z.strictObject({ min: FieldPath }),
    z.strictObject({ financialYearEnd: DateExpr }),
    z.strictObject({ from: DateExpr, add: Keep }),
  ]),
);

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** `field: value` (equals; `null` is "is null"), `field: [a, b]` (one of), `field: {not: …}`. */
export const Matcher = z.union([
  Scalar,
  z.array(Scalar).min(1),
  z.strictObject({ not: z.union([Scalar, z.array(Scalar).min(1)]) }),
]);
export const Condition = z.record(FieldPath, Matcher);
export type Condition = z.infer<typeof Condition>;

export const FIELD_TYPES = ['date', 'boolean', 'string', 'integer', 'enum', 'text'] as const;
export const FieldSpec = z.union([
  z.enum(FIELD_TYPES),
  z.strictObject({
    type: z.enum(FIELD_TYPES),
    values: z.array(z.string()).optional(),
    label: LocalText.optional(),
    title: LocalText.optional().describe(
      'the field\'s name as the person reads it (an access package\'s heading): "Date de la commande"',
    ),
    category: Id.optional(),
  }),
]);
export const RelationSpec = z.strictObject({
  to: Id,
  many: z.boolean().optional(),
  label: LocalText.optional(),
});

export const RecordType = z.strictObject({
  id: Id,
  name: LocalText,
  categories: z.array(Id).optional(),
  subjects: z.array(Id).optional(),
  fields: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), FieldSpec),
  relations: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), RelationSpec).optional(),
  source: LocalText.optional().describe(
    'where the data comes from when it is not collected from the person (art. 14(2)(f), 15(1)(g))',
  ),
});
export type RecordType = z.infer<typeof RecordType>;

export const AnonymiseField = z.union([
  z.string(),
  z.strictObject({
    field: z.string(),
    method: z.enum(['null', 'fixed', 'generalise', 'hash', 'hmac', 'pseudonym', 'random']),
  }),
]);

export const FinalAction = z.union([
  z.literal('delete'),
  z.strictObject({ anonymise: z.array(AnonymiseField).min(1) }),
]);
export type FinalAction = z.infer<typeof FinalAction>;

export const RetentionRule = z.strictObject({
  id: Id,
  record: Id,
  purposes: z.array(Id).min(1),
  where: Condition.optional(),
  anchor: DateExpr.optional(),
  keep: Keep.optional(),
  until: z.array(DateExpr).min(1).optional(),
  follows: z.string().optional().describe('a to-one relation: the record ends with the related record'),
  archive: z
    .strictObject({
      keep: DurationText.describe('measured from the anchor'),
      fields: z.array(z.string()).min(1),
      purpose: LocalText.optional(),
    })
    .optional(),
  then: FinalAction.optional(),
  returnTo: z
    .strictObject({
      relation: z.string(),
      when: Condition.optional(),
      formats: z.array(z.enum(['json', 'csv'])).optional(),
    })
    .optional()
    .describe('processor data: export it for its controller before deleting it'),
  suppress: z
    .union([
      z
        .string()
        .describe(
          'an identity field whose keyed hash goes on the suppression list whenever the record is deleted',
        ),
      z.strictObject({
        field: z.string().describe('the identity field whose keyed hash goes on the suppression list'),
        when: z
          .array(z.string())
          .min(1)
          .describe(
            'the date fields that mean the person asked (unsubscribed, objected): only a record ended by one of them is put on the list, not one whose time ran out',
          ),
      }),
    ])
    .optional(),
  setBy: z.enum(['controller', 'controller-instructions', 'law']).optional(),
  scope: LocalText.optional().describe(
    'whom or what the rule applies to, in words a reader understands ("applications not selected"): its `where` condition as the documents print it',
  ),
  text: LocalText.optional(),
  note: LocalText.optional(),
  todo: z.string().optional().describe('an imported phrase not yet turned into a rule'),
});
export type RetentionRule = z.infer<typeof RetentionRule>;

export const HoldRule = z.strictObject({
  id: Id,
  record: Id,
  when: Condition,
  holds: z
    .array(z.string())
    .min(1)
    .describe('relation paths from the record: "order", "order.payments", "self"'),
  reason: LocalText,
});
export type HoldRule = z.infer<typeof HoldRule>;

export const Purpose = z.strictObject({
  id: Id,
  name: LocalText.describe(
    'the purpose as the privacy notice tells it to people ("send you our newsletter")',
  ),
  recordName: LocalText.optional().describe(
    'the purpose as the art. 30 record states it, in the third person ("send the newsletter to subscribers"); default: name',
  ),
  legalBasis: z.enum(LEGAL_BASES),
  legitimateInterest: LocalText.optional(),
  withdrawal: LocalText.optional().describe('how a person withdraws consent'),
  consent: z
    .strictObject({
      expires: z
        .string()
        .describe(
          'how long a consent for this purpose counts before it must be asked again ("6 months", "13 months", or "never"); default: 13 months for audience statistics (tag statistics), 6 months for a choice made on a banner, never for one made on a form or imported',
        ),
    })
    .optional()
    .describe('the consent ledger: how long a given consent counts (only for a purpose based on consent)'),
  dataCategories: z.array(Id).optional(),
  tags: z
    .array(z.enum(['talent-pool', 'direct-marketing', 'suppression-list', 'security', 'statistics']))
    .optional(),
  note: LocalText.optional(),
});
export type Purpose = z.infer<typeof Purpose>;

export const Transfer = z.strictObject({
  recipient: Id,
  country: z.string().min(2),
  safeguard: z.enum(SAFEGUARDS),
  documentation: z.string().optional(),
});

/** Art. 13(2)(e): whether people must provide the data, and what happens if they do not. */
export const Provision = z.strictObject({
  requirement: z
    .enum(['statutory', 'contractual', 'pre-contractual', 'voluntary'])
    .describe('a legal obligation, the contract, entering into the contract, or nothing: the person chooses'),
  consequences: LocalText.describe('what happens if the person does not provide the data'),
});
export type Provision = z.infer<typeof Provision>;

/** Art. 13(2)(f): `none`, or the logic involved and its consequences for the person. */
export const AutomatedDecisions = z.union([
  z.literal('none'),
  z.strictObject({ logic: LocalText, consequences: LocalText }),
]);
export type AutomatedDecisions = z.infer<typeof AutomatedDecisions>;

export const SecurityMeasure = z.strictObject({ kind: z.enum(SECURITY_KINDS), description: LocalText });

export const Activity = z.strictObject({
  id: Id,
  ref: z.string().optional(),
  name: LocalText,
  role: z.enum(['controller', 'processor']),
  controllers: z.array(Id).optional(),
  jointControllers: z.array(z.string()).optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  description: LocalText.optional(),
  dataSubjects: z.array(Id).min(1),
  dataCategories: z.array(Id).min(1),
  specialCategories: z.array(z.enum(SPECIAL_CATEGORIES)).optional(),
  records: z.array(Id).optional(),
  purposes: z.array(Purpose).min(1),
  recipients: z.array(Id).optional(),
  transfers: z.array(Transfer).optional(),
  security: z.array(SecurityMeasure).optional(),
  provision: Provision.optional(),
  automatedDecisions: AutomatedDecisions.optional().describe("overrides the organisation's"),
  note: LocalText.optional(),
});
export type Activity = z.infer<typeof Activity>;

const Contact = z.strictObject({
  name: LocalText.optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  address: LocalText.optional(),
  url: z.string().optional(),
});
export type Contact = z.infer<typeof Contact>;

export const Organisation = z.strictObject({
  name: z.string().min(1),
  legalForm: z.string().optional(),
  registration: LocalText.optional(),
  address: LocalText.optional(),
  contact: Contact.optional(),
  dpo: Contact.extend({
    designated: z
      .boolean()
      .optional()
      .describe(
        'false when no DPO is designated (art. 37): documents then name none, and validate does not ask for one',
      ),
  }).optional(),
  representative: Contact.optional(),
  rights: Contact.optional().describe('where people exercise their rights'),
  supervisoryAuthority: z.string().optional(),
  automatedDecisions: AutomatedDecisions.optional().describe(
    'art. 22 decisions of every activity, unless an activity says otherwise',
  ),
  languages: z
    .array(z.enum(['fr', 'en']))
    .min(1)
    .optional(),
  financialYearEnd: z
    .string()
    .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a financial year end is MM-DD, e.g. 12-31')
    .optional(),
  updatedAt: z.string().optional(),
});
export type Organisation = z.infer<typeof Organisation>;

export const Declared = z.strictObject({
  id: Id,
  name: LocalText,
  description: LocalText.optional(),
});
export const DataCategory = Declared.extend({ parent: z.enum(CNIL_CATEGORIES), dpv: z.string().optional() });
export const Recipient = Declared.extend({
  kind: z.enum(['internal', 'processor', 'third-party', 'authority']),
  country: z.string().optional(),
});
export const Controller = Declared.extend({
  contact: Contact.optional(),
  instructions: LocalText.optional(),
  memberOf: Id.optional().describe(
    'the group of controllers this one belongs to (one level, no group within a group): an activity that names the group is processed for each member, and the art. 30(2) record has one section per member',
  ),
});

export const RegisterFile = z.strictObject({
  $schema: z.string().optional(),
  organisation: Organisation.optional(),
  dataCategories: z.array(DataCategory).optional(),
  dataSubjects: z.array(Declared).optional(),
  recipients: z.array(Recipient).optional(),
  controllers: z.array(Controller).optional(),
  records: z.array(RecordType).optional(),
  activities: z.array(Activity).optional(),
  retention: z.array(RetentionRule).optional(),
  holds: z.array(HoldRule).optional(),
});
export type RegisterFile = z.infer<typeof RegisterFile>;

export type DataCategory = z.infer<typeof DataCategory>;
export type Declared = z.infer<typeof Declared>;
export type Recipient = z.infer<typeof Recipient>;
export type Controller = z.infer<typeof Controller>;

/** A JSON Schema from a zod schema, for editors (`# yaml-language-server: $schema=…`). */
export function jsonSchemaOf(schema: z.ZodType, name: string, description: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...json,
    $id: `https://registre.dev/schema/${name}.schema.json`,
    title: `registre ${name} file`,
    description,
  };
}

/** The JSON Schema of a register file. */
export function registerJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(
    RegisterFile,
    'register',
    'A GDPR register as code: organisation, processing activities, purposes and legal bases, records and retention rules.',
  );
}
