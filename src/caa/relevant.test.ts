/**
 * The Relevant RRset search against an in-memory resolver port: the order in which answers and
 * errors are read (RFC 8659 §3, boulder's selectCAA), alias following and DNSSEC aggregation.
 * The same behaviour against a real Knot + Unbound stack is in test/caa-dns.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { findRelevantRrset, followAliases } from './relevant.js';
import type { CaaResolverPort, PortRecord, PortResponse } from './types.js';

type Canned = Partial<PortResponse> | Error;

function port(answers: Record<string, Canned>): CaaResolverPort & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    query(name) {
      asked.push(name);
      const canned = answers[name] ?? { rcode: 'NXDOMAIN' };
      if (canned instanceof Error) return Promise.reject(canned);
      return Promise.resolve({
        rcode: 'NOERROR',
        flags: { authenticData: canned.validation === 'authenticated' },
        validation: 'unauthenticated',
        answers: [],
        authorities: [],
        extendedErrors: [],
        ...canned,
      });
    },
  };
}

const caa = (name: string, value: string, ttl = 300): PortRecord => ({
  name,
  type: 'CAA',
  ttl,
  data: { type: 'CAA', flags: 0, tag: 'issue', value },
});
const cname = (name: string, target: string): PortRecord => ({
  name,
  type: 'CNAME',
  ttl: 60,
  data: { type: 'CNAME', target },
});
const dname = (name: string, target: string): PortRecord => ({
  name,
  type: 'DNAME',
  ttl: 60,
  data: { type: 'DNAME', target },
});

function timeout(): Error {
  return Object.assign(new Error('no answer'), { code: 'DNS_TIMEOUT' });
}

describe('findRelevantRrset', () => {
  const path = ['a.b.example.com', 'b.example.com', 'example.com', 'com'];

  it('stops at the first non-empty RRset', async () => {
    const r = await findRelevantRrset(
      port({ 'b.example.com': { answers: [caa('b.example.com', 'ca.example')] } }),
      path,
    );
    expect(r).toMatchObject({ ok: true, foundAt: 'b.example.com', ttl: 300 });
    if (r.ok) expect(r.lookups.map((l) => l.name)).toEqual(['a.b.example.com', 'b.example.com']);
  });

  it('is empty when no level has CAA', async () => {
    const r = await findRelevantRrset(port({}), path);
    expect(r).toMatchObject({ ok: true, records: [], foundAt: null });
  });

  it('fails closed on an error met before any RRset', async () => {
    const r = await findRelevantRrset(
      port({
        'b.example.com': { rcode: 'SERVFAIL' },
        'example.com': { answers: [caa('example.com', 'ca.example')] },
      }),
      path,
    );
    expect(r).toMatchObject({ ok: false, reason: 'dns-servfail', failedAt: 'b.example.com' });
  });

  it('ignores an error above the level where the RRset was found', async () => {
    const r = await findRelevantRrset(
      port({ 'a.b.example.com': { answers: [caa('a.b.example.com', 'ca.example')] }, com: timeout() }),
      path,
    );
    expect(r).toMatchObject({ ok: true, foundAt: 'a.b.example.com' });
  });

  it.each([
    [{ rcode: 'REFUSED' }, 'dns-refused'],
    [{ rcode: 'FORMERR' }, 'dns-rcode'],
    [{ rcode: 'SERVFAIL', validation: 'failed' as const }, 'dnssec-bogus'],
    [timeout(), 'dns-timeout'],
    [Object.assign(new Error('garbage'), { code: 'DNS_MALFORMED_RESPONSE' }), 'dns-malformed-response'],
    [new Error('boom'), 'dns-network'],
  ])('classifies %j as %s', async (canned, reason) => {
    const r = await findRelevantRrset(port({ 'example.com': canned as Canned }), ['example.com', 'com']);
    expect(r).toMatchObject({ ok: false, reason });
  });

  it('uses the CAA RRset at the end of a CNAME chain, but climbs from the original name', async () => {
    const p = port({
      'www.example.com': { answers: [cname('www.example.com', 'cdn.other.net')], rcode: 'NXDOMAIN' },
      'example.com': { answers: [caa('example.com', 'parent.example')] },
    });
    const r = await findRelevantRrset(p, ['www.example.com', 'example.com', 'com']);
    // The alias target does not exist: its parents (other.net) are NOT searched.
    expect(r).toMatchObject({ ok: true, foundAt: 'example.com' });
    expect(p.asked).not.toContain('other.net');
  });

  it('reports the alias target when the chain ends in CAA', async () => {
    const r = await findRelevantRrset(
      port({
        'www.example.com': { answers: [cname('www.example.com', 'x.net'), caa('x.net', 'ca.example', 120)] },
      }),
      ['www.example.com'],
    );
    expect(r).toMatchObject({ ok: true, foundAt: 'www.example.com', aliasTarget: 'x.net', ttl: 60 });
  });

  it('reports insecure when any consulted level is unsigned, secure when all are', async () => {
    const signed = { validation: 'authenticated' as const };
    const secure = await findRelevantRrset(
      port({
        'a.example.com': signed,
        'example.com': { ...signed, answers: [caa('example.com', 'ca.example')] },
      }),
      ['a.example.com', 'example.com', 'com'],
    );
    expect(secure).toMatchObject({ ok: true, dnssec: 'secure' });
    const mixed = await findRelevantRrset(port({ 'example.com': signed }), ['a.example.com', 'example.com']);
    expect(mixed).toMatchObject({ ok: true, dnssec: 'insecure' });
  });

  it('uses the negative TTL of the SOA for an empty result (RFC 2308 §5)', async () => {
    const soa: PortRecord = {
      name: 'example.com',
      type: 'SOA',
      ttl: 3600,
      data: { type: 'SOA', minimum: 900 },
    };
    const r = await findRelevantRrset(port({ 'example.com': { authorities: [soa] } }), ['example.com']);
    expect(r).toMatchObject({ ok: true, ttl: 900 });
  });
});

describe('followAliases', () => {
  it('follows DNAME for names below the owner only (RFC 6672 §2.3)', () => {
    expect(followAliases('x.old.example', [dname('old.example', 'new.example')])).toMatchObject({
      target: 'x.new.example',
    });
    expect(followAliases('old.example', [dname('old.example', 'new.example')])).toMatchObject({
      target: 'old.example',
    });
  });

  it('detects loops', () => {
    expect(
      followAliases('a.example', [cname('a.example', 'b.example'), cname('b.example', 'a.example')]),
    ).toBeNull();
  });
});
