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

describe('parseIdentifier error messages (issue 12: one clear line, control bytes escaped)', () => {
  it.each([
    ['a..example.com', /^empty label .* in "a\.\.example\.com"$/],
    ['.example.com', /^empty label/],
    [`${'a'.repeat(64)}.example`, /^label of 64 characters \(at most 63\)/],
    [`${'a.'.repeat(127)}example`, /^domain name of 261 characters \(at most 253\)/],
    ['a\x1b[31m.example', /^control character or space in domain name "a\\x1B\[31m\.example"$/],
    ['evil\u202e.example', /^control character .*"evil\\u202E\.example"$/],
    ['a\u0000.example', /\\x00/],
    ['ex ample.com', /^control character or space/],
    ['https://example.com/', /not a URL/],
    ['user@example.com', /not a URL or address/],
    ['[::1]', /not a URL or address/],
  ])('%j', (raw, message) => {
    const id = parseIdentifier(raw);
    expect(id.ok).toBe(false);
    if (!id.ok) {
      expect(id.error).toMatch(message);
      // eslint-disable-next-line no-control-regex
      expect(id.error).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    }
  });
});

describe('searchPath (RFC 8659 §3)', () => {
  it('climbs to the TLD, never the root', () => {
    expect(searchPath('a.b.example.com')).toEqual(['a.b.example.com', 'b.example.com', 'example.com', 'com']);
  });
});
