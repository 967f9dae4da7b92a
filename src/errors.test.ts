import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ZoneParseError } from './caa/zonefile.js';
import { CertvigilError, hasErrorCode, isCertvigilError } from './errors.js';
import { DeliveryError } from './iodef/reporter/delivery-error.js';
import { WatchListError } from './monitor/watchlist.js';
import { X509Error } from './x509/errors.js';

async function enoent(): Promise<unknown> {
  return readFile('/nonexistent/certvigil-errors-test').catch((err: unknown) => err);
}

/** What a second copy of errors.ts (the CLI bundle's chunk beside the library) would construct. */
function fromAnotherCopy(): Error {
  const err = new Error('from the other copy');
  Object.assign(err, { code: 'USAGE', name: 'CertvigilError' });
  Object.defineProperty(err, Symbol.for('certvigil.error'), { value: true });
  return err;
}

describe('isCertvigilError checks the brand, not the shape', () => {
  it('a Node ENOENT (string code + message) is not a CertvigilError, though it has an error code', async () => {
    const err = await enoent();
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(isCertvigilError(err)).toBe(false);
    expect(hasErrorCode(err)).toBe(true);
  });

  it.each([
    ['a plain object with code and message', { code: 'USAGE', message: 'x', name: 'CertvigilError' }],
    ['an Error with a string code', Object.assign(new Error('x'), { code: 'USAGE' })],
    ['a plain Error', new Error('x')],
    ['a string', 'USAGE'],
    ['null', null],
  ])('%s is not one', (_name, value) => {
    expect(isCertvigilError(value)).toBe(false);
  });

  it.each([
    ['CertvigilError', new CertvigilError('USAGE', 'x'), 'USAGE'],
    ['X509Error', new X509Error('X509_BAD_PEM', 'x'), 'X509_BAD_PEM'],
    ['WatchListError', new WatchListError('x'), 'WATCHLIST_INVALID'],
    ['ZoneParseError', new ZoneParseError('bad', 3), 'ZONE_MALFORMED'],
    ['DeliveryError', new DeliveryError('refused', true), 'IODEF_DELIVERY_FAILED'],
    ['an error of another copy of the module (Symbol.for brand)', fromAnotherCopy(), 'USAGE'],
  ])('%s is one, with its code', (_name, err, code) => {
    expect(isCertvigilError(err)).toBe(true);
    expect(hasErrorCode(err)).toBe(true);
    expect((err as CertvigilError).code).toBe(code);
  });

  it('the brand stays out of JSON and enumeration', () => {
    const err = new CertvigilError('USAGE', 'x');
    expect(Object.getOwnPropertyDescriptor(err, Symbol.for('certvigil.error'))?.enumerable).toBe(false);
    expect(Object.getOwnPropertySymbols({ ...err })).toEqual([]);
    expect(JSON.stringify(err)).toBe('{"code":"USAGE","name":"CertvigilError"}');
  });
});

describe('the error classes that now extend CertvigilError keep their name and fields', () => {
  it.each([
    [new ZoneParseError('unbalanced ")"', 7), 'ZoneParseError', 'line 7: unbalanced ")"', { line: 7 }],
    [new DeliveryError('HTTP 500', false), 'DeliveryError', 'HTTP 500', { permanent: false }],
    [new WatchListError('a.test: bad'), 'WatchListError', 'a.test: bad', {}],
  ] as const)('%s', (err, name, message, fields) => {
    expect(err).toBeInstanceOf(CertvigilError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.message).toBe(message);
    expect(err).toMatchObject(fields);
  });
});
