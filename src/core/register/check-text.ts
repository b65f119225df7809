/** A register written in one text, parsed and validated as `registre validate` would (for tests and tools). */
import type { Issue } from '../issues.js';
import { parseRegister } from './register-load.js';
import { validateRegister } from './validate-register.js';

/** Every issue of a register held in one text, as if read from `file`. */
export function checkRegisterText(text: string, file = 'reg/shop.yaml'): Issue[] {
  const result = parseRegister([{ file, text }]);
  return result.register ? [...result.issues, ...validateRegister(result.register)] : [...result.issues];
}

/** Issues as `file:line CODE`, the shape tests compare. */
export const issueCodes = (issues: readonly Issue[]) => issues.map((i) => `${i.file}:${i.line} ${i.code}`);
