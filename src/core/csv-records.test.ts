import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CsvRecord, CsvScanner, headerDelimiter } from './csv-records.js';

interface Seen {
  readonly bytes: string;
  readonly fields: (string | undefined)[];
  readonly wellFormed: boolean[];
  readonly unterminated: boolean;
  readonly blank: boolean;
}

function scan(text: string | Buffer, chunkSizes: readonly number[] = [], delimiter = 0x2c): Seen[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const scanner = new CsvScanner(delimiter);
  const seen: Seen[] = [];
  const take = (r: CsvRecord) =>
    seen.push({
      bytes: r.bytes.toString('utf8'),
      fields: Array.from({ length: r.fieldCount }, (_, i) => r.field(i)),
      wellFormed: Array.from({ length: r.fieldCount }, (_, i) => r.wellFormed(i)),
      unterminated: r.unterminated,
      blank: r.blank,
    });
  let at = 0;
  for (const size of chunkSizes) {
    if (at >= bytes.length) break;
    scanner.push(bytes.subarray(at, at + size), take);
    at += size;
  }
  if (at < bytes.length) scanner.push(bytes.subarray(at), take);
  scanner.end(take);
  return seen;
}

describe('CsvScanner', () => {
  it('gives each record byte for byte, its fields unquoted', () => {
    const text =
      'email,name\r\n"a@x.fr","Dupont, Jean"\r\nb@x.fr,"two\nlines"\n"c""q""@x.fr",x,extra\nd@x.fr';
    const seen = scan(text);
    expect(seen.map((s) => s.bytes)).toEqual([
      'email,name\r\n',
      '"a@x.fr","Dupont, Jean"\r\n',
      'b@x.fr,"two\nlines"\n',
      '"c""q""@x.fr",x,extra\n',
      'd@x.fr',
    ]);
    expect(seen.map((s) => s.fields)).toEqual([
      ['email', 'name'],
      ['a@x.fr', 'Dupont, Jean'],
      ['b@x.fr', 'two\nlines'],
      ['c"q"@x.fr', 'x', 'extra'],
      ['d@x.fr'],
    ]);
    expect(seen.map((s) => s.bytes).join('')).toBe(text);
  });

  it('marks stray quotes, text after a closing quote, an open quote at the end and blank lines', () => {
    const seen = scan('a"b@x.fr,1\n"c@x.fr"z,2\n\n\r\n,\n"open@x.fr,3\n');
    expect(seen.map((s) => s.wellFormed[0])).toEqual([false, false, true, true, true, true]);
    expect(seen.map((s) => s.blank)).toEqual([false, false, true, true, false, false]);
    expect(seen.at(-1)).toMatchObject({ unterminated: true, bytes: '"open@x.fr,3\n' });
    expect(seen[4]?.fields).toEqual(['', '']);
  });

  it('splits the same way whatever the chunks (5,000 random files)', () => {
    const field = fc.oneof(
      fc.stringMatching(/^[a-z@.]{0,6}$/),
      fc
        .string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', 'é', ' '), maxLength: 8 })
        .map((s) => `"${s.replaceAll('"', '""')}"`),
    );
    const record = fc.tuple(fc.array(field, { minLength: 1, maxLength: 4 }), fc.constantFrom('\n', '\r\n'));
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 40 }),
        (records, lastEnding, chunks) => {
          const lines = records.map(
            ([fields, end], i) => fields.join(',') + (i < records.length - 1 || lastEnding ? end : ''),
          );
          const text = lines.join('');
          const whole = scan(text);
          const chunked = scan(text, chunks);
          expect(chunked).toEqual(whole);
          expect(whole.map((s) => s.bytes).join('')).toBe(text);
          // Each record as written (a last record "" with no line ending is no record).
          const expected = lines.filter((l) => l !== '');
          expect(whole.map((s) => s.bytes)).toEqual(expected);
          whole.forEach((s, i) => {
            const fields = (records[i] as (typeof records)[number])[0].map((f) =>
              f.startsWith('"') ? f.slice(1, -1).replaceAll('""', '"') : f,
            );
            expect(s.fields).toEqual(fields);
          });
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('refuses a record longer than it holds (a quote left open)', () => {
    const scanner = new CsvScanner(0x2c, 100);
    expect(() => scanner.push(Buffer.from(`a,"${'x'.repeat(200)}`), () => {})).toThrow(
      expect.objectContaining({ code: 'E_CSV_RECORD' }),
    );
  });

  it('reads the delimiter from the header', () => {
    expect(headerDelimiter(Buffer.from('email;name;"a,b"\n'))).toBe(0x3b);
    expect(headerDelimiter(Buffer.from('email,name\n1;2;3;4\n'))).toBe(0x2c);
    expect(headerDelimiter(Buffer.from('email\tname\n'))).toBe(0x09);
    expect(headerDelimiter(Buffer.from('email\n'))).toBe(0x2c);
    expect(scan('a;"b;c"\n', [], 0x3b)[0]?.fields).toEqual(['a', 'b;c']);
  });
});
