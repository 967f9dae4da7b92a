import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { strictUtf8 } from './http-body.js';

const fatal = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(b);

describe('strictUtf8', () => {
  it.each<[string, Uint8Array, string]>([
    ['ASCII JSON', Buffer.from('{"entries":[]}'), '{"entries":[]}'],
    ['empty', new Uint8Array(0), ''],
    ['UTF-8 beyond ASCII', Buffer.from('{"d":"Å – 日本"}'), '{"d":"Å – 日本"}'],
    ['a leading BOM is dropped, as TextDecoder does', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), '{}'],
  ])('%s', (_name, body, want) => {
    expect(strictUtf8(body)).toBe(want);
  });

  it('reads only its view of a larger buffer', () => {
    const whole = Buffer.from('xx{"a":1}yy');
    expect(strictUtf8(whole.subarray(2, 9))).toBe('{"a":1}');
  });

  it.each([
    ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
    ['Latin-1 é', [0x22, 0xe9, 0x22]],
    ['a truncated sequence', [0x22, 0xe6, 0x97]],
    ['an overlong NUL', [0xc0, 0x80]],
  ])('throws on %s (never U+FFFD)', (_name, bytes) => {
    expect(() => strictUtf8(new Uint8Array(bytes))).toThrow();
  });

  it('property: the same text as the fatal decoder, or the same refusal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        let want: string | 'throws';
        try {
          want = fatal(b);
        } catch {
          want = 'throws';
        }
        let got: string | 'throws';
        try {
          got = strictUtf8(b);
        } catch {
          got = 'throws';
        }
        expect(got).toBe(want);
      }),
      { numRuns: 5000 },
    );
  });
});
