/**
 * The flag checks of `certvigil backfill` (issue 18): a usage error is decided before anything is
 * opened, so it must be decided by these pure functions.
 */
import { describe, expect, it } from 'vitest';
import { checkDomain, checkSince } from './backfill.js';

describe('checkDomain', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM.', 'example.com'],
    ['_dmarc.example.com', '_dmarc.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ])('%j → %j', (value, want) => {
    expect(checkDomain(value)).toBe(want);
  });

  it.each([
    [undefined],
    [''],
    ['com'],
    ['*.example.com'],
    ['exa mple.com'],
    ['-a.example.com'],
    ['a..example.com'],
    [`${'a'.repeat(64)}.example.com`],
    [`${'a.'.repeat(127)}com`],
    ['example.com/x'],
    ['evil\u202e.example.com'],
  ])('refuses %j (USAGE)', (value) => {
    expect(() => checkDomain(value)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('checkSince', () => {
  it.each([
    ['2025-01-01', '2025-01-01T00:00:00.000Z'],
    ['2025-01-01T12:30', '2025-01-01T12:30:00.000Z'],
    ['2025-01-01T12:30:00+02:00', '2025-01-01T10:30:00.000Z'],
    ['2025-01-01T12:30:00Z', '2025-01-01T12:30:00.000Z'],
  ])('%j → %s', (value, want) => {
    expect(checkSince(value)?.toISOString()).toBe(want);
  });

  it('no flag: no bound', () => {
    expect(checkSince(undefined)).toBeNull();
  });

  it.each([['yesterday'], ['2025-13-01'], ['2025-01-01T25:00'], ['1735689600'], ['']])(
    'refuses %j',
    (value) => {
      expect(() => checkSince(value)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    },
  );
});
