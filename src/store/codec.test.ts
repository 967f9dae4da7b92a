import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { toNumber } from './codec.js';

describe('toNumber', () => {
  it.each([
    [42, 42],
    ['42', 42],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    [0, 0],
  ])('reads %j as %d', (value, expected) => {
    expect(toNumber(value)).toBe(expected);
  });

  // Issue 15: it threw a plain Error, reported by the CLI as `internal error:` (a bug).
  it.each([['9007199254740993'], ['1.5'], ['abc'], [undefined], [Number.NaN]])(
    'refuses %j with STORE_INVALID_ARGUMENT',
    (value) => {
      let caught: unknown;
      try {
        toNumber(value);
      } catch (err) {
        caught = err;
      }
      expect(isCertvigilError(caught)).toBe(true);
      expect((caught as { code?: unknown }).code).toBe('STORE_INVALID_ARGUMENT');
      expect((caught as Error).message).toContain('stored integer out of range');
    },
  );
});
