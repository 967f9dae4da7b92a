import { describe, expect, it } from 'vitest';
import { parseIdentifier, searchPath } from './identifier.js';

describe('parseIdentifier', () => {
  it.each([
    ['example.com', 'example.com', false],
    ['Example.COM.', 'example.com', false],
    ['*.example.com', 'example.com', true],
    ['bücher.example', 'xn--bcher-kva.example', false],
    ['*.例え.テスト', 'xn--r8jz45g.xn--zckzah', true],
    ['MÜNCHEN.de', 'xn--mnchen-3ya.de', false],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', false],
    ['_acme-challenge.example.com', '_acme-challenge.example.com', false],
  ])('%s → %s (wildcard %s)', (raw, lookupName, wildcard) => {
    expect(parseIdentifier(raw)).toEqual({ ok: true, lookupName, wildcard });
  });

  it.each([
    '',
    '*.',
    'a.*.example.com',
    '*example.com',
    '192.0.2.1',
    '2001:db8::1',
    'com',
    `${'a'.repeat(64)}.com`,
    'a..b',
    'ex ample.com',
  ])('rejects %j', (raw) => {
    expect(parseIdentifier(raw).ok).toBe(false);
  });
});

describe('searchPath (RFC 8659 §3)', () => {
  it('climbs to the TLD, never the root', () => {
    expect(searchPath('a.b.example.com')).toEqual(['a.b.example.com', 'b.example.com', 'example.com', 'com']);
  });
});
