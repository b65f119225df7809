import { describe, expect, it } from 'vitest';
import { hmacHex, hmacHexWith } from './audit/keys.js';
import {
  addressOf,
  asciiLower,
  IDENTITY_TRIM,
  identitySpellings,
  looksLikeAddress,
  normaliseEmail,
  personHash,
  previousHashes,
} from './identity.js';

describe('18.17 one normalisation of an address', () => {
  it('strips exactly what JavaScript trim() strips: hashes made before stay the same', () => {
    const stripped: number[] = [];
    for (let cp = 0; cp < 0x10000; cp++) if (String.fromCharCode(cp).trim() === '') stripped.push(cp);
    expect([...IDENTITY_TRIM].sort((a, b) => a - b)).toEqual(stripped);
    for (const space of IDENTITY_TRIM.map((cp) => String.fromCharCode(cp))) {
      const text = `${space}Élodie.Martin@Example.org${space}${space}`;
      expect(normaliseEmail(text)).toBe(text.trim().toLowerCase());
    }
  });

  it('lower-cases non-ASCII capitals', () => {
    expect(normaliseEmail('\u00a0ÉLODIE.MARTIN@EXAMPLE.ORG\t')).toBe('élodie.martin@example.org');
  });

  it('one keyed hash: HMAC-SHA-256 of the normalised address', () => {
    const key = Buffer.alloc(32, 7);
    expect(personHash(key, ' Jeanne@Example.ORG\t')).toBe(hmacHex(key, 'jeanne@example.org'));
  });

  it('the same hash with the key imported once; under previous keys, each mapped to the current one', () => {
    const key = Buffer.alloc(32, 7);
    const old = Buffer.alloc(32, 9);
    expect(hmacHexWith(key)('jeanne@example.org')).toBe(hmacHex(key, 'jeanne@example.org'));
    const current = personHash(key, 'Jeanne@example.org');
    expect(previousHashes([old], ' JEANNE@example.org', current)).toEqual(
      new Map([[personHash(old, 'jeanne@example.org'), current]]),
    );
  });

  it.each([
    [' Jeanne.Martin@Example.org\t', 'jeanne.martin@example.org'],
    ['élodie+news@exemple.fr', 'élodie+news@exemple.fr'],
    ['Jean <jean@example.org>', undefined],
    ['a@x.fr, b@x.fr', undefined],
    ['a@x.fr;b@x.fr', undefined],
    ['jean dupont@x.fr', undefined],
    ['"jean"@x.fr', undefined],
    ['no-at-sign', undefined],
    ['@x.fr', undefined],
    ['a@', undefined],
    ['a@b@c', undefined],
    ['', undefined],
  ])('one address as a mailing list holds it: %j', (text, address) => {
    expect(addressOf(text)).toBe(address);
    expect(looksLikeAddress(text)).toBe(address !== undefined);
    if (address) expect(address).toBe(normaliseEmail(text));
  });

  it('the spellings an ASCII-only lower() leaves cover every capital', () => {
    expect(identitySpellings('jeanne@example.org')).toEqual(['jeanne@example.org']);
    expect(new Set(identitySpellings('jérôme@x.fr'))).toEqual(
      new Set(['jérôme@x.fr', 'jÉrôme@x.fr', 'jérÔme@x.fr', 'jÉrÔme@x.fr']),
    );
    for (const stored of ['JÉRÔME@X.FR', 'Jérôme@x.fr', 'jÉrÔMe@X.fr'])
      expect(identitySpellings(normaliseEmail(stored))).toContain(asciiLower(stored));
    // İ lower-cases to two characters (i and a combining dot).
    expect(identitySpellings(normaliseEmail('İpek@x.tr'))).toContain('İpek@x.tr');
    expect(identitySpellings('иван.петров@x.ru')).toBeUndefined();
  });
});
