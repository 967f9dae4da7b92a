import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration, positiveInt } from './flags.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 's', 500],
    ['15s', 'ms', 15_000],
    ['5m', 's', 300_000],
    ['2h', 's', 7_200_000],
    ['1d', 's', 86_400_000],
    ['300', 's', 300_000],
    ['3000', 'ms', 3000],
    ['1.5s', 'ms', 1500],
    [' 10S ', 'ms', 10_000],
  ] as const)('%s (bare unit %s) = %d ms', (text, unit, ms) => {
    expect(parseDuration(text, '--x', { unit })).toBe(ms);
  });

  it.each(['', 'abc', '-5', '5 minutes', '1e3', '0x10', '5y', 'Infinity', '99999999999999999999999'])(
    'rejects %j as a usage error',
    (text) => {
      expect(() => parseDuration(text, '--x', { unit: 's' })).toThrow(
        expect.objectContaining({ code: 'USAGE' }),
      );
    },
  );

  it('bounds every value below the timer overflow', () => {
    expect(parseDuration(`${MAX_DURATION_MS}`, '--x', { unit: 'ms' })).toBe(MAX_DURATION_MS);
    expect(() => parseDuration(`${MAX_DURATION_MS + 1}`, '--x', { unit: 'ms' })).toThrow(/between/);
    expect(() => parseDuration('2147484', '--interval', { unit: 's' })).toThrow(/--interval must be between/);
    expect(() => parseDuration('0', '--x', { unit: 's' })).toThrow(/between 1ms/);
    expect(() => parseDuration('1s', '--x', { unit: 's', minMs: 5000 })).toThrow(/between 5s/);
  });

  it('lets a value that never reaches a timer exceed the timer ceiling, bounded by maxMs', () => {
    const bounds = { unit: 'd', maxMs: 10 * 365 * 86_400_000, notATimer: true } as const;
    expect(parseDuration('90d', '--expires', bounds)).toBe(90 * 86_400_000);
    expect(parseDuration('90', '--expires', bounds)).toBe(90 * 86_400_000);
    expect(() => parseDuration('3651d', '--expires', bounds)).toThrow(/--expires must be between/);
    // Without notATimer the ceiling stays, whatever maxMs says.
    expect(() => parseDuration('90d', '--x', { unit: 'd', maxMs: 365 * 86_400_000 })).toThrow(/between/);
  });

  it('formats durations shortly', () => {
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(86_400_000)).toBe('1d');
  });
});

describe('positiveInt', () => {
  it.each(['1', '42', ' 7 '])('accepts %j', (v) => expect(positiveInt(v, '--n')).toBe(Number(v)));
  it.each(['0', '-1', '1.5', '1e3', 'abc', '', '99999999999999999999', '0x10'])('rejects %j', (v) => {
    expect(() => positiveInt(v, '--n')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
  it('enforces a maximum', () => {
    expect(() => positiveInt('1001', '--n', 1000)).toThrow(/at most 1000/);
  });
});
