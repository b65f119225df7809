/**
 * The identity codes the tests read from the outbox, as a person reads them from the message:
 * in its English sentence ("Your verification code is 123456."), never the first six digits
 * after the word "code" (the subject's "your verification code" is followed by the Message-ID,
 * whose random hex can start with six digits).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SENTENCE = /verification code is (\d{6})\./;

/** The code of the newest code message in the outbox of `dir`, or undefined when there is none. */
export function newestCode(dir: string): string | undefined {
  const outbox = join(dir, '.registre', 'outbox');
  let names: string[];
  try {
    names = readdirSync(outbox).filter((n) => /-request-\d+-code-/.test(n));
  } catch {
    return undefined;
  }
  const newest = names.sort().pop();
  if (newest === undefined) return undefined;
  return SENTENCE.exec(readFileSync(join(outbox, newest), 'utf8'))?.[1];
}

/** The code of the newest code message in the outbox of `dir` (an error when there is none). */
export function lastCode(dir: string): string {
  const code = newestCode(dir);
  if (code === undefined) throw new Error('no code in the outbox');
  return code;
}
