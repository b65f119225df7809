/** The configuration file (`registre.yaml`): which register, data map and stores; never a secret. */
import { z } from 'zod';

/** A cron pattern as croner reads it: five fields (minute to weekday), or six with the seconds first. */
const cron = z.string().refine((p) => /^\S+(\s+\S+){4,5}$/.test(p.trim()), {
  error: (issue) =>
    `${String(issue.input)}: a cron pattern of 5 fields (minute hour day month weekday) or 6 (seconds first)`,
});

/** Whether the runtime knows `zone` as an IANA time zone (Europe/Paris, UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/** When the service runs its daily jobs (`registre serve`); every field has a default. */
export const ScheduleConfig = z.strictObject({
  enabled: z.boolean().default(true).describe('false: the service runs no scheduled job'),
  sweep: cron.default('0 3 * * *').describe('when the daily sweep runs (cron, in timeZone)'),
  check: cron
    .default('30 3 * * *')
    .describe('when the daily check runs: the stores against the data map, and the audit log verified'),
  reminders: cron
    .default('0 8 * * *')
    .describe('when the DPO is sent the requests due within 7 days and the overdue ones'),
  timeZone: z
    .string()
    .refine(isTimeZone, {
      error: (issue) => `${String(issue.input)}: not an IANA time zone (Europe/Paris, UTC)`,
    })
    .default('Europe/Paris')
    .describe('the IANA time zone of the patterns, and of the day a run is for'),
  alertsTo: z
    .string()
    .optional()
    .describe("where alerts and reminders are sent (default the register's DPO contact)"),
  takeoverSeconds: z
    .number()
    .int()
    .min(2)
    .max(86_400)
    .optional()
    .describe(
      "how soon another process takes over a run whose process died (its claim's lease; on PostgreSQL, the queue job's expiry too). Default: a minute's lease, pg-boss's expiry 15 minutes. Keep it above the longest sweep on PostgreSQL, or pg-boss retries a sweep still running (found busy, logged)",
    ),
});
export type ScheduleConfig = z.infer<typeof ScheduleConfig>;

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
  schedule: ScheduleConfig.optional().describe(
    'the daily sweep, check and reminders of the service (registre serve)',
  ),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

/** The schedule in force: the configuration's, every field it leaves out at its default. */
export function scheduleOf(config: ConfigFile): ScheduleConfig {
  return config.schedule ?? ScheduleConfig.parse({});
}
