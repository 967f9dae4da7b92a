import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { X509Error, guarded, malformed } from './errors.js';

describe('X509Error', () => {
  it('malformed() names the element and the offset', () => {
    expect(() => malformed('issuer', 42, 'expected tag 0x30, found 0x04')).toThrow(
      expect.objectContaining({
        code: 'X509_MALFORMED',
        offset: 42,
        message: 'issuer: expected tag 0x30, found 0x04 at offset 42',
      }),
    );
  });

  it('guarded() passes X509Error through and wraps anything else as X509_INTERNAL with its cause', () => {
    const typed = new X509Error('X509_MALFORMED', 'x', 1);
    expect(() =>
      guarded('t', () => {
        throw typed;
      }),
    ).toThrow(typed);
    const bug = new RangeError('offset out of bounds');
    let caught: unknown;
    try {
      guarded('certificate', () => {
        throw bug;
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(X509Error);
    expect(caught).toMatchObject({ code: 'X509_INTERNAL', cause: bug });
    expect(guarded('t', () => 7)).toBe(7);
  });

  it('is recognised by the shared isCertvigilError shape check', () => {
    expect(isCertvigilError(new X509Error('X509_BAD_PEM', 'no END line'))).toBe(true);
  });
});
