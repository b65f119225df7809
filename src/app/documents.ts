/**
 * The register and its documents for the service: the register as the configuration names it,
 * with its validation issues, and each document (notice, art. 30 records, DPV) made on demand, by
 * the file name `registre docs` gives it.
 */
import { z } from 'zod';
import { RegistreError } from '../core/errors.js';
import type { Issue } from '../core/issues.js';
import type { Register } from '../core/register/register-load.js';
import type { Context, Engine } from './engine.js';
import { NoInput, parseInput } from './input.js';
import { registerPath, validateRegister } from './register.js';

export const DocumentInput = z.strictObject({ name: z.string().min(1).max(64) });
export type DocumentInput = z.input<typeof DocumentInput>;

async function loaded(engine: Engine): Promise<{ register: Register | null; issues: readonly Issue[] }> {
  return validateRegister(await registerPath(undefined, engine.configFile));
}

/** The register the configuration names, with its issues (errors and warnings). */
export async function showRegister(
  engine: Engine,
  input: Record<string, never>,
  _ctx: Context,
): Promise<{ register: Register | null; issues: readonly Issue[] }> {
  parseInput(NoInput, input);
  return loaded(engine);
}

async function makers(engine: Engine) {
  const { register, issues } = await loaded(engine);
  if (!register || issues.some((i) => i.severity === 'error'))
    throw new RegistreError(
      'E_REGISTER_INVALID',
      `the register has ${issues.filter((i) => i.severity === 'error').length} error(s): no document is made from it (GET /api/register shows them)`,
    );
  const { plannedDocuments } = await import('../adapters/files/documents.js');
  return new Map(plannedDocuments(register).map((doc) => [doc.name, doc]));
}

/** The documents made from the register, by name; `drafts`: those still holding a placeholder. */
export async function listDocuments(
  engine: Engine,
  input: Record<string, never>,
  _ctx: Context,
): Promise<{ names: string[]; drafts: string[] }> {
  parseInput(NoInput, input);
  const docs = [...(await makers(engine)).values()];
  return { names: docs.map((d) => d.name), drafts: docs.filter((d) => d.draft).map((d) => d.name) };
}

/** One document, made now from the register. */
export async function makeDocument(
  engine: Engine,
  input: DocumentInput,
  _ctx: Context,
): Promise<{ name: string; content: string | Buffer }> {
  const { name } = parseInput(DocumentInput, input);
  const doc = (await makers(engine)).get(name);
  if (!doc)
    throw new RegistreError('E_NO_DOCUMENT', `no document is named ${name} (GET /api/documents lists them)`);
  return { name, content: await doc.make() };
}
