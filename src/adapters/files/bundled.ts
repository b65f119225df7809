/** Where the registers shipped with the package are (`bundled:negomarkets`). No other import: the command's start reads it. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function bundledPath(kind: 'register' | 'datamap', name: string): string {
  return kind === 'register'
    ? resolve(PACKAGE_ROOT, 'registers', name)
    : resolve(PACKAGE_ROOT, 'registers', `${name}.datamap.yaml`);
}

export const BUNDLED_REGISTER = bundledPath('register', 'negomarkets');
export const BUNDLED_DATAMAP = bundledPath('datamap', 'negomarkets');
