/** `registre demo`: generates the reference shop, its media files and a ready configuration. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { writeKeyFile } from '../adapters/files/key-file.js';
import { connect } from '../adapters/sql/connect.js';
import { createShopIndexes, createShopSchema, writeShop } from '../adapters/sql/shop-store.js';
import { generateShop } from '../core/demo/generate-shop.js';
import { DEFAULT_SHOP_URL, DEFAULT_STATE_URL, redactUrl, urlHasSecret } from '../core/store-url.js';
import type { Context, Engine } from './engine.js';
import { calendarDate, parseInput, wholeNumber } from './input.js';

export const DemoInput = z.strictObject({
  /** The folder the shop, its media and its configuration are written to. */
  out: z.string().min(1),
  /** How many customers (with their orders, visits, subscriptions…). */
  customers: wholeNumber(0, 100_000_000),
  /** The generator's seed: the same seed, the same shop. */
  seed: z.number().int({ error: (issue) => `must be a whole number (got ${String(issue.input)})` }),
  /** The day the shop's data is generated up to (default: today). */
  at: calendarDate.optional(),
  /** The shop's database URL (default: sqlite:shop.sqlite in `out`). */
  store: z.string().optional(),
  /** Drop the shop's tables first when they exist. */
  replace: z.boolean().default(false),
});
export type DemoInput = z.input<typeof DemoInput>;

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

/** Generates the reference shop, its media files, a key and a configuration ready to use. */
export async function demo(engine: Engine, input: DemoInput, context: Context): Promise<DemoReport> {
  const options = parseInput(DemoInput, input);
  const at = options.at ?? engine.today();
  const { onProgress, signal } = context;
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const storeUrl = options.store ?? DEFAULT_SHOP_URL;
  const hasSecret = urlHasSecret(storeUrl);
  const started = performance.now();
  const conn = await connect('shop', storeUrl, { baseDir: out, create: true, bulk: true });
  let files = 0;
  let rows = 0;
  try {
    await createShopSchema(conn, { replace: options.replace });
    onProgress?.({ phase: 'generate', done: 0, total: options.customers, detail: '0 rows' });
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
        onProgress?.({
          phase: 'generate',
          done: chunk.customersDone,
          total: options.customers,
          detail: `${written} rows`,
        });
        signal?.throwIfAborted();
      },
    );
    await createShopIndexes(conn);
  } finally {
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
