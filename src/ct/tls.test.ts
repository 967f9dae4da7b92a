import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, TlsDecodeError, TlsReader, writeU64 } from './tls.js';
import type { TlsDecodeErrorCode } from './errors.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

function codeOf(fn: () => unknown): TlsDecodeErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof TlsDecodeError) return err.code;
    throw err;
  }
}

describe('TlsReader integers', () => {
  it.each<[string, Uint8Array, (r: TlsReader) => number, number]>([
    ['u8', bytes(0xfe), (r) => r.u8(), 0xfe],
    ['u16', bytes(0xfe, 0x01), (r) => r.u16(), 0xfe01],
    ['u24', bytes(0xff, 0x00, 0x01), (r) => r.u24(), 0xff0001],
    ['u32 with the top bit set stays positive', bytes(0xff, 0xff, 0xff, 0xfe), (r) => r.u32(), 0xfffffffe],
    ['u40 (static-ct-api leaf_index)', bytes(0x01, 0x00, 0x00, 0x00, 0x02), (r) => r.u40(), 2 ** 32 + 2],
    ['u64 timestamp', bytes(0, 0, 0x01, 0x96, 0x9a, 0x1c, 0x2b, 0xfd), (r) => r.u64(), 0x01969a1c2bfd],
    [
      'u64 = 2^53 - 1',
      bytes(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      (r) => r.u64(),
      Number.MAX_SAFE_INTEGER,
    ],
  ])('%s', (_name, input, read, want) => {
    const r = new TlsReader(input);
    expect(read(r)).toBe(want);
    r.end();
  });

  it.each<[string, Uint8Array, (r: TlsReader) => unknown, TlsDecodeErrorCode]>([
    ['u8 of nothing', bytes(), (r) => r.u8(), 'TLS_TRUNCATED'],
    ['u16 of one byte', bytes(1), (r) => r.u16(), 'TLS_TRUNCATED'],
    ['u24 of two bytes', bytes(1, 2), (r) => r.u24(), 'TLS_TRUNCATED'],
    ['u32 of three bytes', bytes(1, 2, 3), (r) => r.u32(), 'TLS_TRUNCATED'],
    ['u64 of seven bytes', bytes(0, 0, 0, 0, 0, 0, 0), (r) => r.u64(), 'TLS_TRUNCATED'],
    ['u64 = 2^53', bytes(0, 0x20, 0, 0, 0, 0, 0, 0), (r) => r.u64(), 'TLS_INTEGER_TOO_LARGE'],
    [
      'u64 = 2^64 - 1',
      bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      (r) => r.u64(),
      'TLS_INTEGER_TOO_LARGE',
    ],
    ['trailing byte', bytes(1, 2), (r) => (r.u8(), r.end()), 'TLS_TRAILING_DATA'],
  ])('%s → %s', (_name, input, read, code) => {
    expect(codeOf(() => read(new TlsReader(input)))).toBe(code);
  });
});

describe('TlsReader opaque and vectors', () => {
  it('returns views into the input, not copies', () => {
    const input = bytes(0, 2, 0xaa, 0xbb, 0xcc);
    const r = new TlsReader(input);
    const v = r.opaque(2);
    expect([...v]).toEqual([0xaa, 0xbb]);
    expect(v.buffer).toBe(input.buffer);
    expect(v.byteOffset).toBe(2);
    expect(r.offset).toBe(4);
    expect(r.remaining).toBe(1);
  });

  it.each<[string, Uint8Array, (r: TlsReader) => unknown, TlsDecodeErrorCode | 'ok']>([
    ['opaque<0..2^8-1> empty', bytes(0), (r) => r.opaque(1), 'ok'],
    ['opaque<0..2^24-1>', bytes(0, 0, 1, 9), (r) => r.opaque(3), 'ok'],
    ['length beyond input', bytes(0, 3, 1, 2), (r) => r.opaque(2), 'TLS_TRUNCATED'],
    ['missing length byte', bytes(0), (r) => r.opaque(2), 'TLS_TRUNCATED'],
    ['ASN.1Cert<1..2^24-1> empty', bytes(0, 0, 0), (r) => r.opaque(3, 'cert', 1), 'TLS_LENGTH_OUT_OF_RANGE'],
    ['above a tighter ceiling', bytes(3, 1, 2, 3), (r) => r.opaque(1, 'x', 0, 2), 'TLS_LENGTH_OUT_OF_RANGE'],
    ['fixed[3] of two bytes', bytes(1, 2), (r) => r.fixed(3), 'TLS_TRUNCATED'],
    [
      'element reading past its vector',
      bytes(0, 2, 0, 5, 1, 2, 3, 4, 5),
      (r) => r.vector(2).opaque(2),
      'TLS_TRUNCATED',
    ],
    [
      'outer end() passes once the vector is consumed as a whole',
      bytes(0, 2, 7, 8),
      (r) => {
        r.vector(2).u8();
        r.end();
      },
      'ok',
    ],
    [
      'leftover inside a vector, end() called',
      bytes(0, 2, 7, 8),
      (r) => {
        const v = r.vector(2);
        v.u8();
        v.end();
      },
      'TLS_TRAILING_DATA',
    ],
    ['fail()', bytes(), (r) => r.fail('bad enum'), 'TLS_BAD_VALUE'],
  ])('%s → %s', (_name, input, read, code) => {
    expect(codeOf(() => read(new TlsReader(input)))).toBe(code);
  });

  it('names the structure and the offset in errors', () => {
    try {
      new TlsReader(bytes(0, 9), 'DigitallySigned').opaque(2, 'signature');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TlsDecodeError);
      expect((err as TlsDecodeError).offset).toBe(2);
      expect((err as Error).message).toMatch(/DigitallySigned: signature/);
    }
  });

  it('property: any read sequence over any bytes fails only with TlsDecodeError', () => {
    const op = fc.constantFrom<(r: TlsReader) => unknown>(
      (r) => r.u8(),
      (r) => r.u16(),
      (r) => r.u24(),
      (r) => r.u32(),
      (r) => r.u40(),
      (r) => r.u64(),
      (r) => r.opaque(1),
      (r) => r.opaque(2),
      (r) => r.opaque(3, 'x', 1),
      (r) => r.vector(2).u16(),
      (r) => r.fixed(32),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(op, { maxLength: 12 }), (input, ops) => {
        const r = new TlsReader(input);
        try {
          for (const f of ops) f(r);
          r.end();
        } catch (err) {
          expect(err).toBeInstanceOf(TlsDecodeError);
        }
        expect(r.offset).toBeLessThanOrEqual(input.length);
      }),
    );
  });
});

describe('writeU64', () => {
  it.each([0, 1, 2 ** 32 - 1, 2 ** 32, 1767139200000, Number.MAX_SAFE_INTEGER])('round-trips %d', (n) => {
    const out = new Uint8Array(8);
    writeU64(out, 0, n);
    expect(new TlsReader(out).u64()).toBe(n);
    expect(Buffer.from(out).readBigUInt64BE(0)).toBe(BigInt(n));
  });

  it.each([-1, 0.5, 2 ** 53])('refuses %d', (n) => {
    expect(() => writeU64(new Uint8Array(8), 0, n)).toThrow(RangeError);
  });
});

describe('decodeBase64 (strict RFC 4648 §4)', () => {
  it.each<[string, string, string | undefined]>([
    ['empty', '', ''],
    ['padded ==', 'Z29vZA==', '676f6f64'],
    ['padded =', 'Z29vZDE=', '676f6f6431'],
    ['no padding needed', 'Z29v', '676f6f'],
    ['JSON-unescaped slash', 'l/8=', '97ff'],
    ['"bogus" (error_responses.json)', 'bogus', undefined],
    ['missing padding', 'Z29vZA', undefined],
    ['extra padding', 'Z29v====', undefined],
    ['padding inside', 'Z2==vZA=', undefined],
    ['whitespace', 'Z29v ZA==', undefined],
    ['newline', 'Z29v\nZA==', undefined],
    ['URL alphabet', 'l_8=', undefined],
    ['URL alphabet -', 'l-8=', undefined],
    ['a character above U+00FF (Node would read U+0141 as A)', 'Z29\u0141', undefined],
    ['a Latin-1 letter', 'Z29\u00e9', undefined],
    ['NUL', 'Z29\u0000', undefined],
    ['padding only', '====', undefined],
    ['three pad characters', 'Z===', undefined],
    // DEVIATION kept on purpose: Go's StdEncoding accepts non-zero pad bits, and so do we.
    ['non-zero pad bits', 'bbb=', '6db6'],
  ])('%s', (_name, input, want) => {
    const out = decodeBase64(input);
    expect(out === undefined ? undefined : Buffer.from(out).toString('hex')).toBe(want);
  });

  // The grammar of RFC 4648 §4 with mandatory padding, as the reference for the fast decoder.
  const GRAMMAR = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

  it('property: accepts exactly the strings of the RFC 4648 §4 grammar, with the same bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const odd = ['=', '-', '_', ' ', '\n', '\t', '.', '\u00e9', '\u0141', '\u0000', '%', '\u{1F600}'];
    const char = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...alphabet) },
      { weight: 1, arbitrary: fc.constantFrom(...odd) },
    );
    const text = fc.oneof(
      fc.array(char, { maxLength: 24 }).map((c) => c.join('')),
      // Mostly valid: an encoding with one character replaced.
      fc.tuple(fc.uint8Array({ maxLength: 30 }), fc.nat(), char).map(([x, at, c]) => {
        const e = Buffer.from(x).toString('base64');
        const i = e.length === 0 ? 0 : at % e.length;
        return e.slice(0, i) + c + e.slice(i + 1);
      }),
    );
    fc.assert(
      fc.property(text, (s) => {
        const out = decodeBase64(s);
        expect(out !== undefined).toBe(GRAMMAR.test(s));
        if (out !== undefined) expect(Buffer.from(out).equals(Buffer.from(s, 'base64'))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('property: decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (x) => {
        expect([...(decodeBase64(encodeBase64(x)) ?? [])]).toEqual([...x]);
      }),
    );
  });
});
