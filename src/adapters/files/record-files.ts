/**
 * The files a record names (a CV, a photo): found inside their configured folder only, removed
 * or moved with the record. A path that leaves its folder, by `..` or through a symbolic link, is
 * refused: the sweep never touches a file outside the folders it was given.
 */
import { copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RegistreError } from '../../core/errors.js';

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The nearest existing folder of `path`, with its symbolic links resolved. */
function realParent(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) return dir;
    dir = up;
  }
  return realpathSync(dir);
}

/**
 * The absolute path of `relativePath` inside `root`, checked after resolving symbolic links;
 * E_FILE_PATH when it leaves the folder (the value itself is never put in the message).
 */
export function fileInside(root: string, relativePath: string, folderName: string): string {
  const realRoot = existsSync(root) ? realpathSync(root) : resolve(root);
  const full = resolve(realRoot, relativePath);
  if (!inside(realRoot, full))
    throw new RegistreError('E_FILE_PATH', `a file path leaves its folder "${folderName}"`);
  // No folder, no file in it: nothing to remove, and no link to follow.
  if (!existsSync(realRoot)) return full;
  const parent = realParent(full);
  if (parent !== realRoot && !inside(realRoot, parent))
    throw new RegistreError(
      'E_FILE_PATH',
      `a file path leads out of its folder "${folderName}" through a symbolic link`,
    );
  return existsSync(dirname(full)) ? join(parent, basename(full)) : full;
}

/** Removes a file; one already gone is fine. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Moves a file, creating the target's folders (owner only); a source already gone is fine. */
export function moveFile(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, to);
    unlinkSync(from);
  }
}
