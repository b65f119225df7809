/** Store URLs: their kinds, and how to show one without its secret. No schema here: commands that only connect load it cheaply. */
import { RegistreError } from './errors.js';

export type StoreUrl =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'pglite'; readonly path: string | null }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'mysql'; readonly url: string };

/** The engine's own stores when the configuration names none (SQLite files beside the configuration). */
export const DEFAULT_STATE_URL = 'sqlite:.registre/state.sqlite';
export const DEFAULT_ARCHIVE_URL = 'sqlite:.registre/archive.sqlite';
/** The reference shop `registre demo` writes without `--store`. */
export const DEFAULT_SHOP_URL = 'sqlite:shop.sqlite';

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

/**
 * The user-information part of a URL (`user:password@` after `//`): up to the last `@` before the
 * path, so that an unencoded `@` in a password stays inside it.
 */
function splitAuthority(url: string): { before: string; userinfo: string | null; after: string } {
  const start = url.indexOf('//');
  if (start < 0) return { before: url, userinfo: null, after: '' };
  const rest = url.slice(start + 2);
  const pathAt = rest.search(/[/?#]/);
  const authority = pathAt < 0 ? rest : rest.slice(0, pathAt);
  const at = authority.lastIndexOf('@');
  if (at < 0) return { before: url, userinfo: null, after: '' };
  return {
    before: url.slice(0, start + 2),
    userinfo: authority.slice(0, at),
    after: rest.slice(at),
  };
}

const SECRET_PARAMETER = /([?&;](?:password|passwd|pwd|sslpassword|sslkey)=)[^&;#]*/gi;

/** A URL fit for a message: any password (in the user part or a query parameter) replaced. */
export function redactUrl(url: string): string {
  const { before, userinfo, after } = splitAuthority(url);
  const colon = userinfo?.indexOf(':') ?? -1;
  const redacted = userinfo !== null && colon >= 0 ? `${before}${userinfo.slice(0, colon)}:***${after}` : url;
  return redacted.replace(SECRET_PARAMETER, '$1***');
}

/** Whether a URL carries a password, which must then stay out of any file the engine writes. */
export function urlHasSecret(url: string): boolean {
  return redactUrl(url) !== url;
}

/**
 * A server URL as messages name it: scheme://host:port/database, nothing else (no user, no
 * password, no parameter). The port is the scheme's default when the URL gives none.
 */
export function serverLabel(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase() ?? '';
  const { before, userinfo, after } = splitAuthority(url);
  const bare = userinfo === null ? before : `${before}${after.slice(1)}`;
  const rest = bare.slice(bare.indexOf('//') + 2);
  const end = rest.search(/[?#]/);
  const path = end < 0 ? rest : rest.slice(0, end);
  const slash = path.indexOf('/');
  const host = slash < 0 ? path : path.slice(0, slash);
  const database = slash < 0 ? '' : path.slice(slash + 1).split('/')[0];
  const hostPort = /:\d+$/.test(host) ? host : `${host}:${scheme.startsWith('postgres') ? 5432 : 3306}`;
  const shown = scheme === 'postgresql' ? 'postgres' : scheme === 'mariadb' ? 'mysql' : scheme;
  return `${shown}://${hostPort}/${database ?? ''}`;
}
