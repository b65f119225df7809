import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { readHmacKey, readKeyRef } from '../adapters/files/config-paths.js';
import { writeKeyFile } from '../adapters/files/key-file.js';
import type { Connection } from '../adapters/sql/connect.js';
import { suppressionSummary } from '../adapters/sql/suppression.js';
import { StateStore } from '../adapters/state/state-store.js';
import { keyIdOf } from '../core/audit/keys.js';
import { RegistreError } from '../core/errors.js';
import { DEFAULT_STATE_URL } from '../core/store-url.js';
import { verifyAudit } from './audit.js';
import type { Context, Engine } from './engine.js';
import { field, parseInput } from './input.js';

export interface KeyGenerated {
  readonly path: string;
  readonly keyId: string;
  /** What to write as hmacKey: the path relative to the configuration's folder (its paths are). */
  readonly reference: string;
  /** The configuration file the reference is for; null when none was found (then: the current folder). */
  readonly config: string | null;
}

/**
 * Writes a new key to `out` and says how the configuration names it. The configuration is the
 * one given, else the nearest registre.yaml from the key's folder up to the current folder, else
 * ./registre.yaml when it exists.
 */
export const KeyGenerateInput = z.strictObject({
  /** Where the key is written (refused if a file is there). */
  out: z.string().min(1),
  /** The folder `out` is relative to (default: the process's working folder). */
  cwd: z.string().optional(),
});
export type KeyGenerateInput = z.input<typeof KeyGenerateInput>;

export function generateKey(engine: Engine, input: KeyGenerateInput, _ctx: Context): KeyGenerated {
  const { out, cwd = process.cwd() } = parseInput(KeyGenerateInput, input);
  const written = writeKeyFile(resolve(cwd, out));
  const config =
    engine.configFile !== undefined ? resolve(cwd, engine.configFile) : nearestConfig(written.path, cwd);
  const base = config === null ? cwd : dirname(config);
  const path = relative(base, written.path).split(sep).join('/');
  return { ...written, reference: `file:${path}`, config };
}

function nearestConfig(keyPath: string, cwd: string): string | null {
  const inside = (dir: string) => dir === cwd || dir.startsWith(`${cwd}${sep}`);
  for (let dir = dirname(keyPath); inside(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'registre.yaml');
    if (existsSync(candidate)) return candidate;
    if (dir === cwd) break;
  }
  const here = join(cwd, 'registre.yaml');
  return existsSync(here) ? here : null;
}

/**
 * Moves the audit log to a new key: the log is checked whole with the key in force, then an entry
 * sealed with the new key records the old key's id and head, signed with the old key (the link);
 * the configuration then names the new key, and keeps the old one in previousKeys.
 */
export const KeyRotateInput = z.strictObject({
  /** The new key, as the configuration names a key (`file:…`, `env:…`). */
  to: z.string().min(1),
});
export type KeyRotateInput = z.input<typeof KeyRotateInput>;

/** A suppression list at a rotation: every entry was made with a key now in previousKeys. */
export interface ListAtRotation {
  readonly store: string;
  /** How many entries it holds; null when the store could not be read (the rotation is done all the same). */
  readonly entries: number | null;
  /** The day of the newest entry: the old key stays needed until that one has expired. */
  readonly newest: string | null;
}

export interface KeyRotated {
  readonly from: string;
  readonly to: string;
  /** Entries of the audit log moved to the new key. */
  readonly entries: number;
  /** The suppression lists of the data map, whose hashes stay those of the old key. */
  readonly suppressionLists: readonly ListAtRotation[];
}

export async function rotateKey(
  engine: Engine,
  input: KeyRotateInput,
  context: Context,
): Promise<KeyRotated> {
  const { to } = parseInput(KeyRotateInput, input);
  const { actor } = context;
  const project = await engine.project();
  if (!project.loaded.file)
    throw new RegistreError('E_NO_CONFIG', 'key rotate needs a configuration file to update');
  const oldKey = readHmacKey(project.loaded);
  if (!oldKey) throw new RegistreError('E_NO_HMAC_KEY', 'there is no key in force (hmacKey) to rotate from');
  const newKey = readKeyRef(project.loaded, to, field('to'));
  if (keyIdOf(newKey).startsWith(keyIdOf(oldKey)))
    throw new RegistreError('E_USAGE', `${field('to')} names the key already in force`, { path: ['to'] });
  const verification = await verifyAudit(engine, {}, context);
  if (verification.problems.length)
    throw new RegistreError(
      'E_AUDIT_BROKEN',
      `the audit log does not verify with the key in force (${verification.problems.length} problem(s)); it is not rotated: run registre audit verify`,
    );
  // The engine's state store is keyed with the old key: closed, and opened again after.
  await engine.reopenState();
  const archive = (await engine.archive()) as Connection;
  const url = project.loaded.config.state?.url ?? DEFAULT_STATE_URL;
  const before = await StateStore.open(url, project.loaded.dir, { key: oldKey, checkpoint: archive });
  const entries = await before.auditEntries();
  const head = entries[entries.length - 1];
  const link = {
    from: keyIdOf(oldKey),
    to: keyIdOf(newKey),
    head: head ? { seq: head.seq, hash: head.hash } : null,
    actor,
  };
  const signature = before.hash(`registre key rotation\u0000${JSON.stringify(link)}`);
  await before.close();
  const after = await StateStore.open(url, project.loaded.dir, {
    key: newKey,
    previous: [oldKey],
    checkpoint: archive,
  });
  try {
    await after.audit('key.rotate', { ...link, signature });
  } finally {
    await after.close();
  }
  // The configuration now names the new key and keeps the old one (comments and layout kept).
  const file = project.loaded.file;
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const previous = (doc.get('previousKeys') as { toJSON?: () => unknown } | undefined)?.toJSON?.() as
    | string[]
    | undefined;
  doc.set('previousKeys', [...(previous ?? []), project.loaded.config.hmacKey as string]);
  doc.set('hmacKey', to);
  writeFileSync(file, doc.toString());
  // The suppression lists keep the old key's hashes (registre has no address to hash again):
  // said with their size, so that the DPO knows how long the old key stays needed.
  const suppressionLists: ListAtRotation[] = [];
  for (const store of project.datamap.stores) {
    if (!store.suppressionList) continue;
    const summary = await engine
      .store(store)
      .then((conn) => suppressionSummary(conn, store))
      .catch(() => null);
    suppressionLists.push({
      store: store.id,
      entries: summary?.entries ?? null,
      newest: summary?.newest ?? null,
    });
  }
  return { from: link.from, to: link.to, entries: entries.length, suppressionLists };
}
