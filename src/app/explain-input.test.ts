import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainExplainInput } from './explain.js';
import { ExplainInput } from './explain-input.js';

describe("explain's plain input", () => {
  it('is never accepted without zod when the schema refuses it, and is what the schema reads', () => {
    const date = fc.oneof(
      fc.constantFrom('2026-11-27', '2024-02-29', '2023-02-29', '9999-12-30', '9999-12-31', '27/11/2026', ''),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
      fc.string(),
    );
    const value = fc.oneof(fc.string(), fc.integer(), fc.constant(undefined), fc.constant(null));
    const input = fc.record(
      { at: fc.oneof(date, value), table: value, id: value, email: value, other: value },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(input, (i) => {
        const defined = Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined));
        if (plainExplainInput(defined)) expect(ExplainInput.parse(defined)).toEqual(defined);
      }),
      { numRuns: 5000 },
    );
    expect(plainExplainInput({ at: '2026-11-27', table: 'customers', id: '5' })).toBe(true);
    expect(plainExplainInput({ at: '2026-11-27', email: 'a@example.org' })).toBe(true);
  });
});
