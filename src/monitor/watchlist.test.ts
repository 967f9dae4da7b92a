import { describe, expect, it } from 'vitest';
import { parseWatchList } from './watchlist.js';

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

  it('rejects garbage entries', () => {
    expect(() => parseWatchList('*.example.com')).toThrow(/invalid/);
  });
});
