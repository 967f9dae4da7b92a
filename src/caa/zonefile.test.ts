/**
 * The zone-file parser and the in-memory resolver, and the offline engine against the shared
 * conformance vectors (test/vectors/caa-cases.json `cases`): the same expectations the online
 * engine must meet with real Knot/NSD/Unbound (test/caa-dns.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateCaa } from './evaluate.js';
import { ZoneParseError, ZoneResolver, parseZone } from './zonefile.js';

interface Vectors {
  origin: string;
  records: string[];
  cases: {
    name: string;
    wildcard: boolean;
    issuer: string;
    accountUri: string | null;
    method: string | null;
    expect: string;
    why: string;
  }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/caa-cases.json', import.meta.url), 'utf8'),
) as Vectors;

describe('parseZone', () => {
  it('handles $ORIGIN, $TTL, @, blank owners, class/TTL order, comments, parentheses, escapes', () => {
    const zone = [
      '$ORIGIN example.com.',
      '$TTL 1h',
      '@ IN SOA ns1 hostmaster ( 1 ; serial',
      '  7200 3600 1209600 300 )',
      '  IN NS ns1.example.net.',
      '@ 300 IN CAA 0 issue "letsencrypt.org; accounturi=https://a.example/acct/1" ; comment',
      '  IN 60 CAA 128 tbs "a\\"b\\\\c\\059d"',
      'www CNAME @',
      'Gen CAA \\# 17 00 05 6973737565 6361 2e 6578616d706c65',
      'd DNAME other.example.',
      '$ORIGIN sub',
      'x CAA ( 0 iodef',
      '  "mailto:x@example.com" )',
    ].join('\n');
    const rr = parseZone(zone);
    const caa = rr.filter((r) => r.type === 'CAA');
    expect(caa.map((r) => [r.name, r.ttl, r.caa])).toEqual([
      [
        'example.com',
        300,
        { flags: 0, tag: 'issue', value: 'letsencrypt.org; accounturi=https://a.example/acct/1' },
      ],
      ['example.com', 60, { flags: 128, tag: 'tbs', value: 'a"b\\c;d' }],
      ['gen.example.com', 3600, { flags: 0, tag: 'issue', value: 'ca.example' }],
      ['x.sub.example.com', 3600, { flags: 0, tag: 'iodef', value: 'mailto:x@example.com' }],
    ]);
    expect(rr.find((r) => r.type === 'CNAME')).toMatchObject({
      name: 'www.example.com',
      target: 'example.com',
    });
    expect(rr.find((r) => r.type === 'DNAME')).toMatchObject({
      name: 'd.example.com',
      target: 'other.example',
    });
  });

  it('rejects malformed input with a line number', () => {
    expect(() => parseZone('a CAA 0 issue "x', { origin: 'e.' })).toThrow(ZoneParseError);
    expect(() => parseZone('a CAA \\# 3 0005', { origin: 'e.' })).toThrow(/line 1/);
    expect(() => parseZone('a CAA 0 issue', { origin: 'e.' })).toThrow(/flags tag/);
    expect(() => parseZone('a CAA 0 issue "x"')).toThrow(/without \$ORIGIN/);
  });
});

describe('ZoneResolver', () => {
  const resolver = new ZoneResolver(
    parseZone('a CAA 0 issue "ca.example"\nb CNAME a\nc CNAME b\nx.y A 192.0.2.1\nl1 CNAME l2\nl2 CNAME l1', {
      origin: 'z.test.',
    }),
  );
  it('chases CNAME chains and tells NXDOMAIN from NODATA', async () => {
    const r = await resolver.query('c.z.test', 'CAA', { dnssecOk: true });
    expect(r.answers.map((a) => a.type)).toEqual(['CNAME', 'CNAME', 'CAA']);
    expect((await resolver.query('y.z.test', 'CAA', { dnssecOk: true })).rcode).toBe('NOERROR');
    expect((await resolver.query('nope.z.test', 'CAA', { dnssecOk: true })).rcode).toBe('NXDOMAIN');
    expect((await resolver.query('l1.z.test', 'CAA', { dnssecOk: true })).answers).toHaveLength(2);
  });
});

describe('offline engine over the shared vectors (caa-cases.json as a zone)', () => {
  const resolver = new ZoneResolver(parseZone(vectors.records.join('\n'), { origin: vectors.origin }));
  it.each(vectors.cases.map((c) => [`${c.name} → ${c.expect}: ${c.why}`, c] as const))(
    '%s',
    async (_label, c) => {
      const result = await evaluateCaa(
        {
          name: c.name,
          issuerDomains: [c.issuer],
          accountUri: c.accountUri,
          validationMethod: c.method,
        },
        resolver,
      );
      expect(result.decision).toBe(c.expect);
    },
  );
});
