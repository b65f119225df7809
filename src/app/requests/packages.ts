/**
 * Where the service writes a request's access or portability package (a caller of the API never
 * names a server path): a new folder for each run under the project's `.registre/packages`, only
 * its owner's (0700), and how the package is read back: its files listed, one downloaded by name.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { RegistreError } from '../../core/errors.js';
import type { Context, Engine } from '../engine.js';
import { field, parseInput, positiveId } from '../input.js';

async function packagesDir(engine: Engine): Promise<string> {
  const project = await engine.project({ cached: true });
  return resolve(project.loaded.dir, '.registre', 'packages');
}

/** A folder that does not exist yet for request `id`'s package (its parent made, 0700). */
export async function newPackageFolder(engine: Engine, id: number): Promise<string> {
  const dir = await packagesDir(engine);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = engine.clock.now().toISOString().replace(/[-:.]/g, '').slice(0, 17);
  return join(dir, `request-${id}-${stamp}`);
}

/** The last package folder written for request `id`. */
async function lastFolder(engine: Engine, id: number): Promise<string> {
  const dir = await packagesDir(engine);
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(`request-${id}-`));
  } catch {
    names = [];
  }
  const last = names.sort().at(-1);
  if (!last)
    throw new RegistreError(
      'E_NO_PACKAGE',
      `request ${id} has no package: run it (an access or a portability request) first`,
    );
  return join(dir, last);
}

export const PackageInput = z.strictObject({ id: positiveId });
export type PackageInput = z.input<typeof PackageInput>;

export const PackageFileInput = z.strictObject({ id: positiveId, name: z.string().min(1).max(255) });
export type PackageFileInput = z.input<typeof PackageFileInput>;

/** The files of request `id`'s last package, with their sizes. */
export async function listPackage(
  engine: Engine,
  input: PackageInput,
  _ctx: Context,
): Promise<{ id: number; files: { name: string; bytes: number }[] }> {
  const { id } = parseInput(PackageInput, input);
  const folder = await lastFolder(engine, id);
  const files: { name: string; bytes: number }[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const stats = lstatSync(join(dir, name));
      if (stats.isDirectory()) walk(join(dir, name), `${prefix}${name}/`);
      else if (stats.isFile()) files.push({ name: `${prefix}${name}`, bytes: stats.size });
    }
  };
  walk(folder, '');
  return { id, files };
}

/** One file of request `id`'s last package, by the name listPackage gives (never a link, never out of the folder). */
export async function readPackageFile(
  engine: Engine,
  input: PackageFileInput,
  _ctx: Context,
): Promise<{ name: string; content: Buffer }> {
  const { id, name } = parseInput(PackageFileInput, input);
  const parts = name.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p !== basename(p)))
    throw new RegistreError('E_USAGE', `${field('name')}: a file of the package, as its list names it`, {
      path: ['name'],
    });
  const folder = await lastFolder(engine, id);
  const path = join(folder, ...parts);
  const missing = () => new RegistreError('E_NO_PACKAGE', `request ${id}'s package has no file ${name}`);
  // lstat looks at the last name only: a link planted as a folder on the way (`up/registre.yaml`)
  // would be followed. The file's real path must lie in the real folder of the packages.
  let real: string;
  try {
    if (!lstatSync(path).isFile()) throw missing();
    real = realpathSync(path);
    if (
      !real.startsWith(realpathSync(folder) + sep) ||
      !real.startsWith(realpathSync(await packagesDir(engine)) + sep)
    )
      throw missing();
  } catch {
    throw missing();
  }
  return { name, content: readFileSync(real) };
}
