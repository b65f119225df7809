/**
 * The data map: an engineer's binding of the register's abstract records to real tables, in
 * stores (databases). For every column: the data category it holds, or that it holds none.
 */
import { z } from 'zod';

const Name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a table or column name is letters, digits and "_"');
const Id = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'an id is lower-case letters, digits, "-" or "_"');

export const IDENTITY_KINDS = ['email', 'phone', 'customer-number', 'visitor-id'] as const;

export const Anonymisation = z.union([
  z.null().describe('set the column to NULL'),
  z.strictObject({ fixed: z.union([z.string(), z.number(), z.boolean()]) }),
  z
    .strictObject({ generalise: z.enum(['year', 'month']) })
    .describe('keep only the year (or month) of a date'),
  z
    .strictObject({ generalise: z.literal('prefix'), keep: z.number().int().min(0) })
    .describe('keep the first characters'),
]);
export type Anonymisation = z.infer<typeof Anonymisation>;

export const ColumnSpec = z.union([
  z.literal('none').describe('holds no personal data'),
  z.literal('key').describe('a primary or foreign key: no personal data by itself'),
  z.strictObject({
    field: z.string().optional().describe('the register field it holds, when the names differ'),
    category: Id.optional(),
    none: z.literal(true).optional(),
    identity: z.enum(IDENTITY_KINDS).optional(),
    normalise: z.enum(['email', 'phone', 'none']).optional(),
    hashed: z.literal('hmac-sha256').optional().describe('the column holds a keyed hash of the identity'),
    anonymise: Anonymisation.optional(),
    file: z
      .string()
      .optional()
      .describe('the column holds a file path, relative to this folder of the configuration'),
    secret: z
      .literal(true)
      .optional()
      .describe(
        'a secret (a password hash, a payment token): an access package says it is stored, never copies it; never rectified',
      ),
    thirdParty: z
      .literal(true)
      .optional()
      .describe(
        "may describe someone other than the record's person (a gift order's recipient): another person's request never rewrites it, and an access package flags it (art. 15(4))",
      ),
  }),
]);
export type ColumnSpec = z.infer<typeof ColumnSpec>;

export const RelationBinding = z.strictObject({
  local: Name.describe('the column of this table'),
  remote: Name.describe('the column of the related table it equals'),
});

/**
 * Binds a table's records to the consent ledger: the column that names the consent's subject (a
 * visitor id, or an address), and what a withdrawal or refusal changes in the row (the effects the
 * policy lists: `unsubscribed_at` set, `talent_pool_consent` cleared). A record whose rules' purposes
 * are all consent-based is due at once when its subject's consent is refused, withdrawn or expired.
 */
export const ConsentBinding = z
  .strictObject({
    subject: Name.describe('the column naming the consent subject: a visitor id or an e-mail address'),
    withdrawn: z
      .record(Name, z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .optional()
      .describe(
        'columns set when the subject withdraws or refuses consent for a purpose of the rules on this table; the value `$date` is the day of the choice',
      ),
  })
  .describe("the consent ledger's subject of this table's records, and the effects of a withdrawal");
export type ConsentBinding = z.infer<typeof ConsentBinding>;

export const TableMap = z.strictObject({
  name: Name,
  record: Id.optional().describe(
    'the register record this table holds; none for a table without personal data',
  ),
  primaryKey: Name,
  columns: z.record(Name, ColumnSpec),
  relations: z.record(z.string(), RelationBinding).optional(),
  consent: ConsentBinding.optional(),
});
export type TableMap = z.infer<typeof TableMap>;

export const SuppressionList = z
  .strictObject({
    table: Name,
    column: Name.describe('the column holding the keyed hash (HMAC-SHA-256) of the normalised e-mail'),
    timestamp: Name.optional().describe('set to the time of the addition'),
    reason: Name.optional().describe(
      'the column that says why: unsubscribe (the sweep, when the person ended it), objection or erasure (requests)',
    ),
    values: z
      .record(Name, z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('other columns to fill'),
  })
  .describe('where a deleted address is remembered, as a keyed hash, so the person is not contacted again');

export const StoreMap = z.strictObject({
  id: Id,
  description: z.string().optional(),
  suppressionList: SuppressionList.optional(),
  tables: z.array(TableMap).min(1),
});
export type StoreMap = z.infer<typeof StoreMap>;

export const DataMapFile = z.strictObject({
  $schema: z.string().optional(),
  stores: z.array(StoreMap).min(1),
});
export type DataMapFile = z.infer<typeof DataMapFile>;
