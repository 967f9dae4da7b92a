import { describe, expect, it } from 'vitest';
import { buildWatchList, parseWatchList, WatchListError } from './watchlist.js';

const list = parseWatchList(
  [
    '# our names',
    'example.com',
    '.corp.example',
    'bücher.example  # IDN',
    '',
    '.deep.sub.test',
    'host.wild.test',
  ].join('\n'),
);

describe('watch list (certspotter syntax)', () => {
  it.each([
    ['example.com', true],
    ['EXAMPLE.COM', true],
    ['www.example.com', false],
    ['corp.example', true],
    ['a.b.corp.example', true],
    ['notcorp.example', false],
    ['xn--bcher-kva.example', true],
    ['*.example.com', false],
    ['*.corp.example', true],
    ['*.wild.test', true],
    ['*.sub.test', true],
    ['*.other.test', false],
    ['x.deep.sub.test', true],
    ['sub.test', false],
  ])('%s → %s', (name, expected) => {
    expect(list.matches(name)).toBe(expected);
  });

  it('says which entries matched', () => {
    expect(list.matchingEntries('a.corp.example')).toEqual(['.corp.example']);
    expect(list.matchingEntries('*.wild.test')).toEqual(['host.wild.test']);
  });
});

// Every form certspotter 0.24's monitor/watchlist.go (ReadWatchList, ParseWatchItem) accepts, and
// what it makes of it.
describe('accepts what certspotter accepts', () => {
  it.each([
    ['. alone watches every name', '.', ['anything.test', 'x.y.z.invalid', '*.wild.test'], []],
    [
      'valid_at fields are ignored',
      'example.test valid_at:2023-01-01',
      ['example.test'],
      ['www.example.test'],
    ],
    [
      'several valid_at fields, tab separated',
      '.example.test\tvalid_at:1\tvalid_at:2',
      ['www.example.test'],
      ['other.test'],
    ],
    ['a trailing dot is dropped', 'example.test.', ['example.test'], ['www.example.test']],
    ['a suffix with a trailing dot', '.example.test.', ['a.example.test', 'example.test'], ['test']],
    ['upper case', 'WWW.Example.TEST', ['www.example.test'], []],
    ['a CRLF line ending', 'example.test\r', ['example.test'], []],
    ['leading whitespace', '   example.test', ['example.test'], []],
    ['Unicode names become A-labels', 'bücher.example', ['xn--bcher-kva.example'], []],
    ['an underscore label', '_dmarc.example.test', ['_dmarc.example.test'], []],
  ])('%s: %s', (_what, line, matching, notMatching) => {
    const l = parseWatchList(`# comment\n\n${line}\n`);
    for (const n of matching) expect(l.matches(n), n).toBe(true);
    for (const n of notMatching) expect(l.matches(n), n).toBe(false);
  });

  it('skips # comments, blank and whitespace-only lines', () => {
    expect(parseWatchList('# a\n\n   \n\t\n  # indented comment\nexample.test # trailing\n').entries).toEqual(
      ['example.test'],
    );
  });
});

describe('rejects what can never match, with FILE:LINE and a hint', () => {
  it.each([
    ['example..test', /^wl:2: "example\.\.test" has an empty label/],
    ['https://x.test/', /^wl:2: "https:\/\/x\.test\/" is a URL, not a name: write x\.test$/],
    ['http://user@x.test:8443/p', /is a URL, not a name: write x\.test$/],
    ['exa mple.test', /^wl:2: unexpected "mple\.test" after "exa"/],
    ['example.test valid_until:2025', /unexpected "valid_until:2025"/],
    ['*.foo.test', /^wl:2: a wildcard is not a watch-list entry: write \.foo\.test/],
    ['.*.foo.test', /write \.foo\.test/],
    ['w*w.foo.test', /"\*"/],
    [`${'a'.repeat(64)}.test`, /label of 64 characters; at most 63/],
    [`${'abcdefghi.'.repeat(25)}test`, /is 254 characters long; a DNS name has at most 253/],
    ['x.test/path', /is not a DNS name/],
    ['user@x.test', /is not a DNS name/],
    ['..', /names nothing: write \. to watch every name/],
    ['ex!ample.test', /has a label no certificate name can hold/],
    ['ex\u001b[31mample.test', /control or invisible character in "ex\\x1B\[31mample\.test"/],
    ['evil\u202Etset.test', /control or invisible character in "evil\\u202Etset\.test"/],
    ['a\u00ADb.test', /control or invisible character/],
  ])('%j', (line, message) => {
    let err: unknown;
    try {
      parseWatchList(`example.test\n${line}\n`, 'wl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WatchListError);
    expect((err as WatchListError).code).toBe('WATCHLIST_INVALID');
    expect((err as Error).message).toMatch(message);
    // Never a raw control byte in the message.
    // eslint-disable-next-line no-control-regex -- finding raw control characters is the point
    expect((err as Error).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u00ad]/);
  });

  it.each([
    ['NUL bytes', Uint8Array.from([0x65, 0x78, 0x00, 0x0a]), /^wl: binary content/],
    ['invalid UTF-8', Uint8Array.from([0x65, 0xff, 0xfe, 0x0a]), /^wl: not UTF-8 text/],
  ])('refuses binary content as a whole: %s', (_what, bytes, message) => {
    expect(() => parseWatchList(bytes, 'wl')).toThrow(message);
  });

  it('names the config item for names:', () => {
    expect(() => buildWatchList(['ok.test', '*.x.test'], (i) => `cfg.yaml: names[${i}]`)).toThrow(
      /^cfg\.yaml: names\[1\]: a wildcard is not a watch-list entry: write \.x\.test/,
    );
  });

  it('escapes control bytes in the file name too', () => {
    expect(() => parseWatchList('a..b\n', 'evil\u001b]0;x\u0007')).toThrow(/^evil\\x1B\]0;x\\x07:1: /);
  });
});
