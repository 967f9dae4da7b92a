import { describe, expect, it } from 'vitest';
import { isSafeText, sanitizeDeep, sanitizeText } from './sanitize.js';

describe('sanitizeText', () => {
  it.each([
    ['plain www.example.test', 'plain www.example.test'],
    ['ESC \u001b[2J clear', 'ESC \\x1B[2J clear'],
    ['CR \r overwrite', 'CR \\x0D overwrite'],
    ['NUL \u0000', 'NUL \\x00'],
    ['DEL \u007f', 'DEL \\x7F'],
    ['C1 CSI \u009b', 'C1 CSI \\x9B'],
    ['RLO \u202eevil', 'RLO \\u202Eevil'],
    ['isolates \u2066\u2067\u2068\u2069', 'isolates \\u2066\\u2067\\u2068\\u2069'],
    ['zero width \u200b', 'zero width \\u200B'],
    ['BOM \ufeff', 'BOM \\uFEFF'],
    ['LS \u2028 PS \u2029', 'LS \\u2028 PS \\u2029'],
    ['new\nline\ttab', 'new\\x0Aline\\x09tab'],
    ['lone \ud800 surrogate', 'lone \\uD800 surrogate'],
    ['ünïcödé 例え.テスト 😀', 'ünïcödé 例え.テスト 😀'],
  ])('%j', (input, expected) => {
    expect(sanitizeText(input)).toBe(expected);
    expect(isSafeText(sanitizeText(input))).toBe(true);
  });

  it('keeps newlines and tabs only when asked', () => {
    expect(sanitizeText('a\nb\tc\rd', { keepNewlines: true })).toBe('a\nb\tc\\x0Dd');
  });

  it('cuts at maxLength without splitting a surrogate pair', () => {
    expect(sanitizeText('abcdef', { maxLength: 3 })).toBe('abc…');
    expect(sanitizeText('a😀b', { maxLength: 2 })).toBe('a…');
  });
});

describe('sanitizeDeep', () => {
  it('sanitises strings and keys in nested plain objects, passes Buffers through', () => {
    const buf = Buffer.from('x');
    const out = sanitizeDeep({ 'k\u001b': ['v\u202e', { n: 1, s: '\r' }], buf });
    expect(out).toEqual({ 'k\\x1B': ['v\\u202E', { n: 1, s: '\\x0D' }], buf });
    expect(out.buf).toBe(buf);
  });

  it('sanitises an object shared by two paths at both places (not a cycle)', () => {
    const shared = { s: 'x\u001b' };
    expect(sanitizeDeep({ a: shared, b: [shared] })).toEqual({ a: { s: 'x\\x1B' }, b: [{ s: 'x\\x1B' }] });
  });

  it('cuts cycles', () => {
    const a: Record<string, unknown> = { x: 'y' };
    a.self = a;
    expect(sanitizeDeep(a)).toEqual({ x: 'y', self: '[circular]' });
  });
});
