/** `registre demo`: generates the reference shop, its media files and a ready configuration. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { writeKeyFile } from '../adapters/files/key-file.js';
import { connect } from '../adapters/sql/connect.js';
import { createShopIndexes, createShopSchema, writeShop } from '../adapters/sql/shop-store.js';
import { generateShop } from '../core/demo/generate-shop.js';
import { RegistreError } from '../core/errors.js';
import { requireDateInput } from '../core/retention/calendar.js';
import { DEFAULT_SHOP_URL, DEFAULT_STATE_URL, redactUrl, urlHasSecret } from '../core/store-url.js';

export interface DemoOptions {
  readonly out: string;
  readonly customers: number;
  readonly seed: number;
  readonly at: string;
  readonly store?: string;
  readonly replace?: boolean;
  /** Show a progress bar (on a terminal). */
  readonly progress?: boolean;
}

export interface DemoReport {
  readonly rows: number;
  readonly files: number;
  readonly seconds: number;
  readonly config: string;
  readonly store: string;
  /** The environment variable the configuration reads the store's URL from (it holds a password). */
  readonly env?: string;
}

function configText(storeUrl: string): string {
  return `# registre configuration, written by \`registre demo\`.
# The register and data map are the ones bundled with registre; point them at your own files.
register: bundled:negomarkets
datamap: bundled:negomarkets
stores:
  shop:
    url: ${JSON.stringify(storeUrl)}
files:
  media: media
state:
  url: ${DEFAULT_STATE_URL}
# The key of the suppression list's hashes and of the audit log, in a file only its owner reads.
hmacKey: file:.registre/hmac.key
`;
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  if (!Number.isInteger(options.customers) || options.customers < 0)
    throw new RegistreError(
      'E_USAGE',
      `--customers must be a whole number, 0 or more (got ${options.customers})`,
    );
  if (!Number.isInteger(options.seed))
    throw new RegistreError('E_USAGE', `--seed must be a whole number (got ${options.seed})`);
  const at = requireDateInput('--at', options.at);
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const storeUrl = options.store ?? DEFAULT_SHOP_URL;
  const hasSecret = urlHasSecret(storeUrl);
  const started = performance.now();
  const conn = await connect('shop', storeUrl, { baseDir: out, create: true, bulk: true });
  let files = 0;
  let rows = 0;
  const bar =
    options.progress && options.customers > 0
      ? new cliProgress.SingleBar(
          {
            format:
              'shop {bar} {percentage}% | {value}/{total} customers | {rows} rows | {eta_formatted} left',
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  try {
    await createShopSchema(conn, { replace: options.replace === true });
    bar?.start(options.customers, 0, { rows: 0 });
    rows = await writeShop(
      conn,
      generateShop({ customers: options.customers, seed: options.seed, at }),
      (chunk, written) => {
        for (const file of chunk.files) {
          const path = join(out, 'media', file.path);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, file.content);
          files++;
        }
        bar?.update(chunk.customersDone, { rows: written });
      },
    );
    await createShopIndexes(conn);
  } finally {
    bar?.stop();
    await conn.close();
  }
  // A URL with a password is a secret: the configuration names an environment variable instead.
  const configUrl = hasSecret ? 'env:SHOP_DATABASE_URL' : storeUrl;
  const config = join(out, 'registre.yaml');
  const keyFile = join(out, '.registre', 'hmac.key');
  if (!existsSync(keyFile)) writeKeyFile(keyFile);
  writeFileSync(config, configText(configUrl));
  return {
    rows,
    files,
    seconds: (performance.now() - started) / 1000,
    config,
    store: redactUrl(storeUrl),
    ...(hasSecret ? { env: 'SHOP_DATABASE_URL' } : {}),
  };
}
