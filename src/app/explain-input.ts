/** The input of explain (apart from explain.ts: the command's warm path does not load zod). */
import { z } from 'zod';
import { field, retentionDate } from './input.js';

export const ExplainInput = z
  .strictObject({
    at: retentionDate,
    /** A table of the data map (`orders`, or `shop.orders`)… */
    table: z.string().optional(),
    /** …and a record's key in it, */
    id: z.string().optional(),
    /** or a person's e-mail address: every record of theirs. */
    email: z.string().optional(),
  })
  .refine((i) => (i.email === undefined) !== (i.table === undefined || i.id === undefined), {
    error: `give either ${field('table')} and ${field('id')}, or ${field('email')}`,
  });
export type ExplainInput = z.input<typeof ExplainInput>;
