import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, normaliseSearchName, parseCertQuery } from './cert-query.js';

describe('normaliseSearchName', () => {
  it.each([
    ['example.com', 'example.com'],
    ['%.example.com', 'example.com'],
    ['*.example.com', 'example.com'],
    ['.example.com', 'example.com'],
    ['%example.com', 'example.com'],
    ['  WWW.Example.COM. ', 'www.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['_acme-challenge.example.com', '_acme-challenge.example.com'],
    ['', null],
    ['%', null],
    ['exa mple.com', null],
    ['a..b', null],
    ['-bad.example', null],
    ['<script>.example', null],
    [`${'a'.repeat(64)}.example`, null],
    ['x'.repeat(300), null],
  ])('%j -> %j', (input, expected) => {
    expect(normaliseSearchName(input)).toBe(expected);
  });
});

describe('parseCertQuery', () => {
  it('defaults', () => {
    expect(parseCertQuery({})).toEqual({
      filter: { name: null, known: 'all', severity: 'any', issuer: '', from: null, to: null, limit: 50 },
      errors: [],
    });
  });

  it.each([
    [{ known: 'unknown' }, { known: 'unknown' }],
    [{ known: 'bogus' }, { known: 'all' }],
    [{ severity: 'critical' }, { severity: 'critical' }],
    [{ severity: '<b>' }, { severity: 'any' }],
    [{ limit: '200' }, { limit: 200 }],
    [{ limit: '201' }, { limit: 50 }],
    [{ limit: '0' }, { limit: 50 }],
    [{ limit: '1e3' }, { limit: 50 }],
    [
      { from: '2025-01-02', to: '2025-02-03' },
      { from: '2025-01-02', to: '2025-02-03' },
    ],
    [{ issuer: `  ${'i'.repeat(300)} ` }, { issuer: 'i'.repeat(200) }],
  ])('%j', (query, expected) => {
    expect(parseCertQuery(query).filter).toMatchObject(expected);
  });

  it.each([
    [{ q: 'exa mple' }, 'the search must be a DNS name'],
    [{ from: '2025-13-45' }, 'from must be a date'],
    [{ to: 'yesterday' }, 'to must be a date'],
  ])('%j is reported, not thrown', (query, message) => {
    expect(parseCertQuery(query).errors.join(' ')).toContain(message);
  });
});

describe('keyset cursors', () => {
  const p = { firstSeen: '2026-12-07T12:00:00.000Z', tbsSha256: 'a'.repeat(64) };
  it('round-trip', () => {
    expect(decodeCursor(encodeCursor(p))).toEqual(p);
  });
  it.each([
    undefined,
    '',
    'not base64!',
    Buffer.from(`${p.firstSeen}|${'g'.repeat(64)}`).toString('base64url'),
    Buffer.from(`yesterday|${p.tbsSha256}`).toString('base64url'),
    Buffer.from(`${p.firstSeen}|${p.tbsSha256}|x`).toString('base64url'),
    'A'.repeat(201),
  ])('refuses %j', (s) => {
    expect(decodeCursor(s)).toBeNull();
  });
});
