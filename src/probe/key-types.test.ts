import { describe, expect, it } from 'vitest';
import { keyTypeAddress, keyTypeMatches, keyTypeOffer, parseKeyTypes } from './key-types.js';
import type { ServerKeyType } from './key-types.js';

describe('parseKeyTypes', () => {
  it.each([
    [['rsa,ecdsa'], ['rsa', 'ecdsa']],
    [
      ['ecdsa', 'rsa'],
      ['ecdsa', 'rsa'],
    ],
    [[' RSA , ecdsa,rsa'], ['rsa', 'ecdsa']],
    [['ed25519'], ['ed25519']],
  ])('%j → %j', (input, expected) => {
    expect(parseKeyTypes(input)).toEqual(expected);
  });

  it.each([[['dsa']], [['rsa,']], [['']], [[]]])('%j is a usage error', (input) => {
    expect(() => parseKeyTypes(input)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('keyTypeMatches', () => {
  it.each<[ServerKeyType, string, boolean]>([
    ['rsa', 'rsa-2048', true],
    ['rsa', 'rsa-pss-3072', true],
    ['rsa', 'ecdsa-p256', false],
    ['ecdsa', 'ecdsa-p384', true],
    ['ecdsa', 'ed25519', false],
    ['ed25519', 'ed25519', true],
    ['ed25519', 'ed448', false],
  ])('%s vs %s → %s', (want, keyType, expected) => {
    expect(keyTypeMatches(want, keyType)).toBe(expected);
  });
});

describe('offers', () => {
  it('RSA and ECDSA offers share no TLS 1.2 suite and no signature scheme', () => {
    const rsa = keyTypeOffer('rsa');
    const ec = keyTypeOffer('ecdsa');
    expect(rsa.helloSuites.filter((s) => ec.helloSuites.includes(s))).toEqual([]);
    expect(rsa.sigalgs.split(':').filter((s) => ec.sigalgs.split(':').includes(s))).toEqual([]);
  });

  it('labels addresses per key type', () => {
    expect(keyTypeAddress('127.0.0.1', 'ecdsa')).toBe('127.0.0.1 [ecdsa]');
    expect(keyTypeAddress('::1', undefined)).toBe('::1');
  });
});
