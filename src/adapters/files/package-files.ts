/**
 * The folder a person's package (access, portability) is written to: a new folder of the owner's
 * only (0700), or an empty one of theirs; each file created there, never opened if it exists,
 * never through a symbolic link, readable by the owner only (0600). A package never lands beside
 * another person's files, nor in a file an attacker planted.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { RegistreError } from '../../core/errors.js';
import { fileInside } from './record-files.js';

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw outError(path, error);
  }
}

function outError(path: string, error: unknown): RegistreError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new RegistreError(
    'E_OUT_CREATE',
    `--out ${path}: the package's folder cannot be made there (${code}); give a folder that does not exist yet in a folder you can write to`,
  );
}

/** Whether a folder lets others than its owner write into it (none of theirs for the package). */
function writableByOthers(stats: Stats): boolean {
  return (stats.mode & 0o022) !== 0;
}

/**
 * Checks `out` for a package and, unless `dryRun`, makes it: a missing folder is created (its
 * missing parents too, each 0700, one at a time: Node's recursive mkdir spins forever on some
 * paths such as `/proc/1/x`); an existing one must be an empty folder of this user that nobody
 * else can write to. Returns the absolute path.
 */
export function preparePackageFolder(out: string, dryRun = false): string {
  const path = resolve(out);
  const stats = lstatOrUndefined(path);
  if (stats?.isSymbolicLink())
    throw new RegistreError(
      'E_OUT_LINK',
      `--out ${path} is a symbolic link: give a folder that does not exist yet (a package is never written through a link)`,
    );
  if (stats && !stats.isDirectory())
    throw new RegistreError('E_OUT_FILE', `--out ${path} is a file: give a folder that does not exist yet`);
  if (stats) {
    const entries = readdirSync(path);
    if (entries.length > 0)
      throw new RegistreError(
        'E_OUT_NOT_EMPTY',
        `--out ${path} already holds ${entries.length} file(s): give a folder that does not exist yet (a package never lands beside other files, another person's maybe)`,
      );
    if (typeof process.getuid === 'function' && stats.uid !== process.getuid())
      throw new RegistreError(
        'E_OUT_UNSAFE',
        `--out ${path} belongs to another user: give a folder that does not exist yet`,
      );
    if (writableByOthers(stats))
      throw new RegistreError(
        'E_OUT_UNSAFE',
        `--out ${path} can be written by other users (mode ${(stats.mode & 0o777).toString(8)}): give a folder that does not exist yet`,
      );
    if (!dryRun) chmodSync(path, 0o700);
    return path;
  }
  if (dryRun) return path;
  const missing: string[] = [];
  for (let dir = path; ; ) {
    const found = lstatOrUndefined(dir);
    if (found) {
      if (!found.isDirectory() && !found.isSymbolicLink())
        throw new RegistreError(
          'E_OUT_FILE',
          `--out ${path}: ${dir} is a file: give a folder that does not exist yet`,
        );
      break;
    }
    missing.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      throw outError(path, error);
    }
  }
  return path;
}

/**
 * Writes a new file of the package (0600): refused if anything is already there under that
 * name, a symbolic link included (O_EXCL, O_NOFOLLOW).
 */
export function writePackageFile(folder: string, name: string, content: string | Uint8Array): string {
  if (name !== basename(name) || name === '.' || name === '..' || name === '')
    throw new RegistreError('E_OUT_NAME', `a package file name is one name, not a path: ${name}`);
  const path = resolve(folder, name);
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
      0o600,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'EEXIST' || code === 'ELOOP'
      ? new RegistreError(
          'E_OUT_EXISTS',
          `${path} already exists: a package file is never written over an existing file or link`,
        )
      : new RegistreError('E_OUT_CREATE', `${path} cannot be created (${code ?? 'error'})`);
  }
  try {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * Reads a file a record names, inside its configured folder only: the path is checked after
 * resolving its folders' links (`fileInside`), the file itself is opened without following a
 * link, and must be a regular file. Undefined when it is not there.
 */
export function readFileInside(root: string, relativePath: string, folderName: string): Buffer | undefined {
  const path = fileInside(root, relativePath, folderName);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new RegistreError(
        'E_FILE_PATH',
        `a file of the folder "${folderName}" is a symbolic link: it is not followed`,
      );
    throw new RegistreError('E_FILE_READ', `a file of the folder "${folderName}" cannot be read (${code})`);
  }
  try {
    if (!fstatSync(fd).isFile())
      throw new RegistreError('E_FILE_PATH', `a file of the folder "${folderName}" is not a regular file`);
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(1 << 16);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof RegistreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new RegistreError('E_FILE_READ', `a file of the folder "${folderName}" cannot be read (${code})`);
  } finally {
    closeSync(fd);
  }
}
