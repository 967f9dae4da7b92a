import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tlsPolicyFromFlags, tlsPolicyOf, tlsPolicySpecShape } from './check-tls-policy.js';
import type { TlsPolicyFlags, TlsPolicySpec } from './check-tls-policy.js';

const schema = z.object(tlsPolicySpecShape).strict();

describe('tlsPolicyFromFlags', () => {
  it.each<[TlsPolicyFlags, TlsPolicySpec]>([
    [{}, {}],
    [
      { requireNoTls1: true, requireNoTls1_1: true },
      { requireNoTls1: true, requireNoTls1_1: true },
    ],
    [{ minTls: '1.2' }, { minTls: '1.2' }],
    [{ minTls: 'TLSv1.3' }, { minTls: '1.3' }],
    [{ minTls: ' 1.0 ' }, { minTls: '1.0' }],
    [{ weakCiphers: 'Critical' }, { weakCiphers: 'critical' }],
    [{ weakCiphers: 'off' }, { weakCiphers: 'off' }],
  ])('%j → %j', (flags, spec) => {
    expect(tlsPolicyFromFlags(flags)).toEqual(spec);
  });

  it.each<[TlsPolicyFlags, RegExp]>([
    [{ minTls: '1.4' }, /--min-tls must be one of 1\.0, 1\.1, 1\.2, 1\.3 \(got "1\.4"\)/],
    [{ minTls: '' }, /--min-tls/],
    [{ minTls: 'ssl3' }, /--min-tls/],
    [{ weakCiphers: 'yes' }, /--weak-ciphers must be warning, critical, off/],
    [{ minTls: '1.2\u001b[2J' }, /\\x1B/],
  ])('%j is a USAGE error', (flags, message) => {
    expect(() => tlsPolicyFromFlags(flags)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => tlsPolicyFromFlags(flags)).toThrow(message);
  });
});

describe('YAML keys', () => {
  it.each<[unknown, TlsPolicySpec]>([
    [{ minTls: 1.2 }, { minTls: '1.2' }],
    [{ minTls: 1 }, { minTls: '1.0' }],
    [{ minTls: '1.3' }, { minTls: '1.3' }],
    [{ weakCiphers: true }, { weakCiphers: 'warning' }],
    [{ weakCiphers: false }, { weakCiphers: 'off' }],
    [{ requireNoTls1: true }, { requireNoTls1: true }],
  ])('%j → %j', (input, spec) => {
    expect(schema.parse(input)).toEqual(spec);
  });

  it.each([{ minTls: 1.4 }, { minTls: 'TLSv1.2' }, { weakCiphers: 'loud' }, { requireNoTls1: 'yes' }])(
    '%j is refused',
    (input) => {
      expect(schema.safeParse(input).success).toBe(false);
    },
  );
});

describe('tlsPolicyOf: no settings, no probes', () => {
  it.each<[TlsPolicySpec, unknown]>([
    [{}, {}],
    [{ weakCiphers: 'off' }, {}],
    [{ minTls: '1.2', weakCiphers: 'warning' }, { tlsPolicy: { minTls: '1.2', weakCiphers: 'warning' } }],
    [{ requireNoTls1: false, requireNoTls1_1: true }, { tlsPolicy: { requireNoTls1_1: true } }],
  ])('%j → %j', (spec, expected) => {
    expect(tlsPolicyOf(spec)).toEqual(expected);
  });
});
