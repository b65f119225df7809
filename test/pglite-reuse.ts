/** The PGlite class the test workers see: see pglite-setup.ts. */
import { chmodSync, cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PGliteOptions, PGlite as RealPGlite } from '@electric-sql/pglite';

/** Where global-setup put an initialised data folder (absent when it could not make one). */
export const TEMPLATE_ENV = 'REGISTRE_TEST_PGLITE_TEMPLATE';

/** Idle instances kept per worker (each holds some 50 MB): the tests reopen the last one or two. */
const KEEP = 2;

/** Every file of a data folder with its size and modification time: equal means untouched. */
function fingerprint(dir: string): string {
  const parts: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const s = statSync(path, { bigint: true });
        parts.push(`${path}\t${s.size}\t${s.mtimeNs}\t${s.ino}`);
      }
    }
  };
  try {
    walk(dir);
  } catch {
    return `gone ${Math.random()}`;
  }
  return parts.join('\n');
}

/** A plain folder PGlite would run initdb in (no scheme such as memory:// or idb://). */
function localFolder(dataDir: string | undefined): string | null {
  if (!dataDir) return null;
  if (dataDir.startsWith('file://')) return dataDir.slice(7) || null;
  return /^[a-z0-9+-]+:\/\//i.test(dataDir) ? null : dataDir;
}

/** Fills an empty or missing data folder from the template (the folder's own mode kept). */
function fromTemplate(folder: string): void {
  const template = process.env[TEMPLATE_ENV];
  if (!template || !existsSync(join(template, 'PG_VERSION'))) return;
  const existed = existsSync(folder);
  if (existed && readdirSync(folder).length > 0) return;
  const mode = existed ? statSync(folder).mode & 0o7777 : null;
  cpSync(template, folder, { recursive: true });
  if (mode !== null) chmodSync(folder, mode);
}

/** `new PGlite(dataDir, options)` or `new PGlite(options)`, as one options object. */
function optionsOf(args: unknown[]): PGliteOptions {
  const [first, second] = args as [string | PGliteOptions | undefined, PGliteOptions | undefined];
  return typeof first === 'string' ? { ...second, dataDir: first } : { ...first, ...second };
}

export function testPGlite(Real: typeof RealPGlite): typeof RealPGlite {
  const parked = new Map<string, { instance: RealPGlite; print: string }>();
  const folderOf = new WeakMap<RealPGlite, string>();

  class TestPGlite extends Real {
    constructor(...args: unknown[]) {
      const options = optionsOf(args);
      super({
        ...options,
        startParams: options.startParams ?? [...Real.defaultStartParams, '-c', 'shared_buffers=16MB'],
      });
    }

    override async close(): Promise<void> {
      const folder = folderOf.get(this);
      if (!folder || parked.has(folder) || !this.ready || this.isInTransaction()) return super.close();
      try {
        // On disk as after a clean close, and a fresh session for the next user.
        await this.exec('CHECKPOINT');
        await this.exec('DISCARD ALL');
      } catch {
        return super.close();
      }
      parked.set(folder, { instance: this, print: fingerprint(folder) });
      for (const [name, idle] of parked) {
        if (parked.size <= KEEP) break;
        parked.delete(name);
        if (idle.print === fingerprint(name)) await Real.prototype.close.call(idle.instance);
      }
    }
  }

  return new Proxy(TestPGlite, {
    construct(target, args, newTarget) {
      const options = optionsOf(args);
      const folder = options.loadDataDir || options.fs ? null : localFolder(options.dataDir);
      if (!folder) return Reflect.construct(target, args, newTarget);
      const idle = parked.get(folder);
      if (idle) {
        parked.delete(folder);
        // Changed meanwhile (another process opened it, a backup was copied over it): the idle
        // instance is stale. It is dropped unclosed: a shutdown would write its old state back.
        if (idle.print === fingerprint(folder)) return idle.instance;
      }
      fromTemplate(folder);
      const instance = Reflect.construct(target, args, newTarget) as RealPGlite;
      folderOf.set(instance, folder);
      return instance;
    },
  });
}
