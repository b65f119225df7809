import { describe, expect, it } from 'vitest';
import { daysLeft, dueDate, erasureDecision, extensionDue, parseSettings, requireEmail } from './requests.js';

describe('deadlines (art. 12(3))', () => {
  it('one month after receipt, clamped to the month end', () => {
    expect(dueDate('2027-01-31')).toBe('2027-02-28');
    expect(dueDate('2028-01-31')).toBe('2028-02-29');
    expect(dueDate('2026-11-27')).toBe('2026-12-27');
    expect(dueDate('2026-12-31')).toBe('2027-01-31');
    expect(dueDate('2027-01-31', 2)).toBe('2027-04-30');
  });

  it('an extension: 1 or 2 months, with a reason, once, within the first month', () => {
    const request = { received: '2027-01-31', extendedMonths: 0, status: 'verified' as const };
    expect(extensionDue(request, 1, 'volume', '2027-02-28')).toBe('2027-03-31');
    expect(() => extensionDue(request, 1, 'volume', '2027-03-01')).toThrow(/ran out on 2027-02-28/);
    expect(() => extensionDue(request, 3, 'volume', '2027-02-01')).toThrow(/1 or 2/);
    expect(() => extensionDue(request, 1, '  ', '2027-02-01')).toThrow(/reason/);
    expect(() => extensionDue({ ...request, extendedMonths: 1 }, 1, 'again', '2027-02-01')).toThrow(
      /already/,
    );
    expect(() => extensionDue({ ...request, status: 'done' }, 1, 'x', '2027-02-01')).toThrow(/done/);
  });

  it('days left, negative when late', () => {
    expect(daysLeft('2026-12-27', '2026-11-27')).toBe(30);
    expect(daysLeft('2026-10-01', '2026-11-27')).toBe(-57);
  });
});

describe('erasure decisions', () => {
  const base = {
    processor: false,
    restricted: false,
    held: false,
    legalObligation: false,
    due: false,
    deadline: '2036-12-31',
    action: 'delete' as const,
  };
  it('follows the policy, the strongest reason first', () => {
    expect(erasureDecision(base)).toEqual({ kind: 'delete' });
    expect(erasureDecision({ ...base, action: 'anonymise' })).toEqual({ kind: 'anonymise' });
    expect(erasureDecision({ ...base, legalObligation: true })).toEqual({
      kind: 'keep',
      basis: '17(3)(b)',
      until: '2036-12-31',
    });
    // A legal obligation whose time has run out no longer keeps the record.
    expect(erasureDecision({ ...base, legalObligation: true, due: true })).toEqual({ kind: 'delete' });
    expect(erasureDecision({ ...base, legalObligation: true, held: true })).toMatchObject({
      basis: '17(3)(e)',
    });
    expect(erasureDecision({ ...base, held: true, restricted: true })).toMatchObject({ basis: '18' });
    expect(erasureDecision({ ...base, processor: true, held: true })).toEqual({ kind: 'forward' });
  });
});

describe('input', () => {
  it('an address is normalised or refused', () => {
    expect(requireEmail('  Jeanne@Example.ORG ')).toBe('jeanne@example.org');
    for (const bad of ['jeanne.example.org', 'a@b', 'a b@c.org', '', '"a"@b.org'])
      expect(() => requireEmail(bad)).toThrow(/is not an e-mail address/);
  });
  it('field=value pairs', () => {
    expect(parseSettings(['last_name=Durand', 'city=Saint-Malo=Nord'])).toEqual({
      last_name: 'Durand',
      city: 'Saint-Malo=Nord',
    });
    expect(() => parseSettings(['=x'])).toThrow(/field=value/);
    expect(() => parseSettings(['last_name'])).toThrow(/field=value/);
  });
});
