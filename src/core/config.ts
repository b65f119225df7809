/** The configuration file (`registre.yaml`): which register, data map and stores; never a secret. */
import { z } from 'zod';
import { RegistreError } from './errors.js';

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
  returns: z.string().optional().describe('the folder where processor data is returned to its controllers'),
  hmacKey: z.string().optional().describe('env:VARIABLE or file:PATH; never the key itself'),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

export type StoreUrl =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'pglite'; readonly path: string | null }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'mysql'; readonly url: string };

export const STORE_SCHEMES = [
  'sqlite:',
  'pglite:',
  'postgres://',
  'postgresql://',
  'mysql://',
  'mariadb://',
] as const;

/** Parses a store URL (already resolved from env:). Relative SQLite paths stay relative. */
export function parseStoreUrl(store: string, url: string): StoreUrl {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path)
      throw new RegistreError(
        'E_STORE_URL',
        `store "${store}": "sqlite:" needs a file path (sqlite:shop.sqlite)`,
      );
    return { kind: 'sqlite', path };
  }
  if (url.startsWith('pglite:')) {
    const path = url.slice('pglite:'.length);
    return { kind: 'pglite', path: path === '' || path === 'memory' ? null : path };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { kind: 'postgres', url };
  if (url.startsWith('mysql://') || url.startsWith('mariadb://'))
    return { kind: 'mysql', url: url.replace(/^mariadb:/, 'mysql:') };
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? url;
  throw new RegistreError(
    'E_STORE_URL',
    `store "${store}": unknown database type "${scheme}"; expected one of ${STORE_SCHEMES.join(', ')}`,
  );
}

/** A URL fit for a message: the password replaced. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
