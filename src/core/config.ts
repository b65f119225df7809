/** The configuration file (`registre.yaml`): which register, data map and stores; never a secret. */
import { z } from 'zod';

export const ConfigFile = z.strictObject({
  $schema: z.string().optional(),
  register: z.string().optional().describe('a register file or folder, or "bundled:negomarkets"'),
  datamap: z.string().optional().describe('a data map file or folder, or "bundled:negomarkets"'),
  stores: z
    .record(
      z.string(),
      z.strictObject({
        url: z.string().describe('sqlite:FILE, postgres://…, mysql://…, pglite:DIR, or env:VARIABLE'),
      }),
    )
    .optional(),
  files: z.record(z.string(), z.string()).optional().describe('folders that file columns are relative to'),
  state: z.strictObject({ url: z.string() }).optional().describe("the engine's own state store"),
  archive: z
    .strictObject({ url: z.string() })
    .optional()
    .describe('the intermediate archive: a separate SQLite file, or a PostgreSQL URL with its own schema'),
  archiveFiles: z
    .string()
    .optional()
    .describe('the folder where the files of archived records are moved (default .registre/archive-files)'),
  returns: z.string().optional().describe('the folder where processor data is returned to its controllers'),
  hmacKey: z.string().optional().describe('env:VARIABLE or file:PATH; never the key itself'),
  mail: z
    .strictObject({
      from: z.string().optional().describe('the sender of the messages to people (default the DPO contact)'),
      smtp: z
        .string()
        .optional()
        .describe('smtp://host:port or smtps://user@host:port (env:VARIABLE for one with a password)'),
      outbox: z
        .string()
        .optional()
        .describe(
          'without smtp: the folder where each message is written as an .eml file (default .registre/outbox)',
        ),
    })
    .optional()
    .describe('how identity codes reach people: SMTP when configured, else a file outbox'),
  service: z
    .strictObject({
      origins: z
        .array(
          z
            .string()
            .regex(/^https?:\/\/[^/\s]+$/, { error: 'must be an origin: https://host[:port], no path' }),
        )
        .optional()
        .describe("the web origins (the site's) allowed to call the public endpoints from a browser"),
      trustProxy: z
        .boolean()
        .optional()
        .describe(
          "behind a reverse proxy: a client is told by X-Forwarded-For's last address (default false)",
        ),
      limits: z
        .strictObject({
          perClient: z
            .number()
            .int()
            .min(1)
            .optional()
            .describe('public calls per minute from one client (default 120)'),
          perAddress: z
            .number()
            .int()
            .min(1)
            .optional()
            .describe('requests opened or verified per hour for one address (default 5)'),
          bodyBytes: z
            .number()
            .int()
            .min(1024)
            .optional()
            .describe('the largest body read, in bytes (default 65536)'),
        })
        .optional(),
    })
    .optional()
    .describe('registre serve: the HTTP API and the request page'),
  previousKeys: z
    .array(z.string())
    .optional()
    .describe(
      'keys in use before a rotation (env:VARIABLE or file:PATH): the audit entries they sealed stay checkable',
    ),
});
export type ConfigFile = z.infer<typeof ConfigFile>;
