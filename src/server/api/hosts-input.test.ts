import { describe, expect, it } from 'vitest';
import { canonicalHost, isPushableName, MAX_HOST_ITEMS, nameConcerns, parsePushBody } from './hosts-input.js';

const H = (c: string): string => c.repeat(64);
const item = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  certSha256: H('a'),
  tbsSha256: H('b'),
  spkiSha256: H('c'),
  dnsNames: ['www.example.test'],
  notAfter: '2027-01-01T00:00:00.000Z',
  ...over,
});

describe('canonicalHost', () => {
  it.each([
    ['web1', 'web1'],
    ['Web1.Example.NET', 'web1.example.net'],
    ['a_b-c.d', 'a_b-c.d'],
    ['x'.repeat(253), 'x'.repeat(253)],
    ['', null],
    ['.', null],
    ['..', null],
    ['-web', null],
    ['web/1', null],
    ['web 1', null],
    ['wéb', null],
    ['x'.repeat(254), null],
    ['web1\n', null],
  ])('%j → %j', (raw, want) => {
    expect(canonicalHost(raw)).toBe(want);
  });
});

describe('isPushableName', () => {
  it.each([
    ['www.example.test', true],
    ['*.example.test', true],
    ['_dmarc.example.test', true],
    ['localhost', true],
    ['WWW.example.test', false],
    ['www..example.test', false],
    ['*.*.example.test', false],
    ['www.*.example.test', false],
    ['-www.example.test', false],
    ['www.example.test.', false],
    ['<script>.example.test', false],
    ['\u202eevil.example.test', false],
    [`${'a'.repeat(64)}.example.test`, false],
    [`${'a.'.repeat(127)}a`, false],
  ])('%j → %s', (name, want) => {
    expect(isPushableName(name)).toBe(want);
  });
});

describe('parsePushBody', () => {
  it('accepts a well-formed body and removes repeated names of an item', () => {
    const r = parsePushBody({ host: 'WEB1', items: [item({ dnsNames: ['a.test', 'a.test'] })] }, 'web1');
    expect(r).toEqual({ ok: true, items: [{ ...item(), dnsNames: ['a.test'] }] });
  });
  it('accepts an empty inventory (it clears the host)', () => {
    expect(parsePushBody({ items: [] }, 'web1')).toEqual({ ok: true, items: [] });
  });
  it.each([
    ['not an object', 'nope', /invalid inventory/],
    ['no items', {}, /items/],
    ['unknown top-level key', { items: [], extra: 1 }, /extra|unrecognized/i],
    ['unknown item key', { items: [item({ key: 'PRIVATE' })] }, /items\.0/],
    ['upper-case hash', { items: [item({ tbsSha256: H('B') })] }, /items\.0\.tbsSha256/],
    ['short hash', { items: [item({ certSha256: 'ab' })] }, /items\.0\.certSha256/],
    ['no names', { items: [item({ dnsNames: [] })] }, /items\.0\.dnsNames/],
    ['HTML in a name', { items: [item({ dnsNames: ['<b>.test'] })] }, /items\.0\.dnsNames\.0/],
    [
      'too many names',
      { items: [item({ dnsNames: Array.from({ length: 1001 }, (_, i) => `n${i}.test`) })] },
      /dnsNames/,
    ],
    ['local time', { items: [item({ notAfter: '2027-01-01T00:00:00' })] }, /notAfter/],
    ['impossible date', { items: [item({ notAfter: '2027-13-45T00:00:00Z' })] }, /notAfter/],
    ['another host in the body', { host: 'web2', items: [] }, /differs/],
    [
      'a certificate twice',
      { items: [item(), item({ tbsSha256: H('d') })] },
      /items\.1: certificate listed twice/,
    ],
  ])('refuses %s', (_, body, message) => {
    const r = parsePushBody(body, 'web1');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
  it(`refuses more than ${MAX_HOST_ITEMS} items`, () => {
    const items = Array.from({ length: MAX_HOST_ITEMS + 1 }, () => item());
    const r = parsePushBody({ items }, 'web1');
    expect(r.ok).toBe(false);
  });
});

describe('nameConcerns (certificate name, managed name)', () => {
  it.each([
    ['www.example.test', 'www.example.test', true],
    ['*.example.test', 'www.example.test', true],
    ['*.example.test', 'a.www.example.test', false],
    ['*.example.test', 'example.test', false],
    ['a.www.example.test', 'www.example.test', false],
    ['example.test', 'www.example.test', false],
    ['www.example.test', '*.example.test', true],
    ['*.example.test', '*.example.test', true],
    ['a.b.example.test', '*.example.test', false],
    ['example.test', '*.example.test', false],
    ['www.other.test', 'www.example.test', false],
  ])('%s for %s → %s', (cert, managed, want) => {
    expect(nameConcerns(cert, managed)).toBe(want);
  });
});
