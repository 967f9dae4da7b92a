import { describe, expect, it } from 'vitest';
import {
  ApiInputError,
  dateParam,
  decodeCursor,
  domainParam,
  encodeCursor,
  hashParam,
  limitParam,
  noteOfBody,
  param,
} from './params.js';

const TBS = 'a'.repeat(64);

describe('query parameters', () => {
  it.each([
    ['example.com', 'example.com'],
    ['WWW.Example.COM.', 'www.example.com'],
    ['%.example.com', 'example.com'],
    ['*.example.com', 'example.com'],
    ['.example.com', 'example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
  ])('domainParam(%j) = %j', (raw, want) => {
    expect(domainParam(raw, 'name')).toBe(want);
  });

  it.each([
    ['a b.com'],
    ['http://x.com/'],
    ['10.0.0.1'],
    ['\u202eevil.com'],
    ['x'.repeat(300)],
    ['a..b'],
    ['*'],
  ])('domainParam(%j) is a 400', (raw) => {
    expect(() => domainParam(raw, 'name')).toThrow(ApiInputError);
  });

  it.each([
    [undefined, 100],
    ['1', 1],
    ['1000', 1000],
  ])('limitParam(%j) = %d', (raw, want) => {
    expect(limitParam(raw, 100)).toBe(want);
  });

  it.each([['0'], ['1001'], ['-1'], ['1e3'], ['10.5'], [' 5']])('limitParam(%j) is a 400', (raw) => {
    expect(() => limitParam(raw, 100)).toThrow(ApiInputError);
  });

  it('refuses long values before looking at them', () => {
    expect(() => param('x'.repeat(513), 'q')).toThrow(/longer than 512/);
    expect(param('', 'q')).toBeUndefined();
  });

  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T10:00:00+02:00', '2026-01-31T08:00:00.000Z'],
    ['2026-01-31T10:00Z', '2026-01-31T10:00:00.000Z'],
  ])('dateParam(%j) = %j', (raw, want) => {
    expect(dateParam(raw, 'since')).toBe(want);
  });

  it.each([['yesterday'], ['2026-13-01'], ['2026-01-31T10:00:00'], ['1700000000']])(
    'dateParam(%j) is a 400',
    (raw) => {
      expect(() => dateParam(raw, 'since')).toThrow(ApiInputError);
    },
  );

  it('hashParam: 8 to 64 hex digits, lower-cased', () => {
    expect(hashParam('ABCDEF01')).toBe('abcdef01');
    for (const bad of ['abc', 'g'.repeat(8), 'a'.repeat(65)])
      expect(() => hashParam(bad)).toThrow(ApiInputError);
  });
});

describe('cursor', () => {
  it('round-trips a position and is URL-safe', () => {
    const p = { firstSeen: '2026-12-07T10:00:00.123Z', tbsSha256: TBS };
    const c = encodeCursor(p);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, 'after')).toEqual(p);
  });

  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  it.each([
    ['not base64url', '!!!'],
    ['not JSON', Buffer.from('{').toString('base64url')],
    ['an object', enc({ firstSeen: '2026-01-01T00:00:00Z', tbsSha256: TBS })],
    ['a bad hash', enc(['2026-01-01T00:00:00Z', 'A'.repeat(64)])],
    ['a bad time', enc(["' OR 1=1 --", TBS])],
    ['three items', enc(['2026-01-01T00:00:00Z', TBS, 1])],
  ])('refuses %s', (_what, value) => {
    expect(() => decodeCursor(value, 'after')).toThrow(ApiInputError);
  });
});

describe('authorize body', () => {
  it.each([
    [null, null],
    [{}, null],
    [{ note: 'ours' }, 'ours'],
  ])('noteOfBody(%j) = %j', (body, want) => {
    expect(noteOfBody(body)).toBe(want);
  });

  it.each([
    [[]],
    ['text'],
    [{ note: '' }],
    [{ note: 5 }],
    [{ note: 'x'.repeat(1001) }],
    [{ note: 'x', extra: 1 }],
  ])('noteOfBody(%j) is a 400', (body) => {
    expect(() => noteOfBody(body)).toThrow(ApiInputError);
  });
});
