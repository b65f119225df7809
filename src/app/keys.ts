import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { readHmacKey, readKeyRef } from '../adapters/files/config-paths.js';
import { writeKeyFile } from '../adapters/files/key-file.js';
import { currentActor, StateStore } from '../adapters/state/state-store.js';
import { keyIdOf } from '../core/audit/keys.js';
import { RegistreError } from '../core/errors.js';
import { DEFAULT_STATE_URL } from '../core/store-url.js';
import { runAuditVerify } from './audit.js';
import { openProject } from './project.js';
import { openArchive } from './stores.js';
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
export function runKeyGenerate(out: string, options: { config?: string; cwd?: string } = {}): KeyGenerated {
  const cwd = options.cwd ?? process.cwd();
  const written = writeKeyFile(resolve(cwd, out));
  const config =
    options.config !== undefined ? resolve(cwd, options.config) : nearestConfig(written.path, cwd);
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
export async function runKeyRotate(
  configFile: string | undefined,
  to: string,
  actor = currentActor(),
): Promise<{ from: string; to: string; entries: number }> {
  const project = await openProject(configFile);
  if (!project.loaded.file)
    throw new RegistreError('E_CONFIG', 'key rotate needs a configuration file to update');
  const oldKey = readHmacKey(project.loaded);
  if (!oldKey) throw new RegistreError('E_NO_HMAC_KEY', 'there is no key in force (hmacKey) to rotate from');
  const newKey = readKeyRef(project.loaded, to, '--to');
  if (keyIdOf(newKey).startsWith(keyIdOf(oldKey)))
    throw new RegistreError('E_USAGE', '--to names the key already in force');
  const verification = await runAuditVerify(configFile);
  if (verification.problems.length)
    throw new RegistreError(
      'E_AUDIT_BROKEN',
      `the audit log does not verify with the key in force (${verification.problems.length} problem(s)); it is not rotated: run registre audit verify`,
    );
  const archive = await openArchive(project);
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
    ownsCheckpoint: true,
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
  return { from: link.from, to: link.to, entries: entries.length };
}
