import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isCritical,
  isUnderstoodTag,
  issuerDomainProblem,
  parseIssueValue,
  presentRecord,
} from './property.js';

describe('parseIssueValue (RFC 8659 §4.2 grammar)', () => {
  it.each([
    ['letsencrypt.org', 'letsencrypt.org', []],
    ['LetsEncrypt.ORG', 'letsencrypt.org', []],
    [';', null, []],
    ['', null, []],
    ['   ', null, []],
    ['ca.example;', 'ca.example', []],
    ['ca.example ;', 'ca.example', []],
    [
      '  letsencrypt.org ;  validationmethods=http-01  ',
      'letsencrypt.org',
      [{ tag: 'validationmethods', value: 'http-01' }],
    ],
    ['ca.example; foo=bar', 'ca.example', [{ tag: 'foo', value: 'bar' }]],
    [
      'ca.example; foo = bar ; baz=',
      'ca.example',
      [
        { tag: 'foo', value: 'bar' },
        { tag: 'baz', value: '' },
      ],
    ],
    ['ca.example;a=b=c', 'ca.example', [{ tag: 'a', value: 'b=c' }]],
    ['; foo=bar', null, [{ tag: 'foo', value: 'bar' }]],
    ['x-1.ca-2.example', 'x-1.ca-2.example', []],
    ['\tca.example\t', 'ca.example', []],
  ])('accepts %j', (value, issuer, parameters) => {
    const parsed = parseIssueValue(value);
    expect(parsed).toMatchObject({ ok: true, issuerDomain: issuer, parameters });
  });

  it.each([
    ['<script>alert(1)</script>', 'markup is not a domain name (caa-cases xss)'],
    ['letsencrypt.org; accounturi', 'parameter without "=" (caa-cases malformed-sibling)'],
    ['letsencrypt.org; a=b;', 'trailing ";" after a parameter is outside the ABNF'],
    ['letsencrypt.org.', 'trailing dot: label *("." label)'],
    ['-ca.example', 'label may not start with "-"'],
    ['ca-.example', 'label may not end with "-"'],
    ['ca..example', 'empty label'],
    ['ca_example.org', 'underscore is not in the label rule'],
    ['ca.example; a=b c', 'space inside a value'],
    ['ca.example a=b', 'parameters need ";"'],
    ['ca.example; =b', 'empty parameter tag'],
    ['ca.example; a=ü', 'non-ASCII value'],
    ['cä.example', 'non-ASCII issuer'],
    ['ca.example; accounturi=', 'RFC 8657 §3: empty accounturi'],
    ['ca.example; accounturi=a; accounturi=b', 'repeated accounturi (choice: fail closed)'],
    ['ca.example; validationmethods=dns-01,,http-01', 'empty method in list'],
    ['ca.example; validationmethods=dns_01', 'underscore in method name'],
    ['ca.example; validationmethods=', 'RFC 8657 §4: empty list'],
  ])('rejects %j: %s', (value) => {
    expect(parseIssueValue(value).ok).toBe(false);
  });

  it('extracts RFC 8657 accounturi and validationmethods, tag case-insensitively', () => {
    const parsed = parseIssueValue(
      'ca.example; AccountURI=https://ca.example/acct/1; validationMethods=dns-01,tls-alpn-01',
    );
    expect(parsed).toMatchObject({
      ok: true,
      accountUri: 'https://ca.example/acct/1',
      validationMethods: ['dns-01', 'tls-alpn-01'],
    });
  });

  it('never throws and is deterministic on arbitrary strings (property test)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const a = parseIssueValue(s);
        expect(parseIssueValue(s)).toEqual(a);
        if (a.ok && a.issuerDomain !== null) expect(a.issuerDomain).toMatch(/^[a-z0-9.-]+$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts every value generated from the grammar (property test)', () => {
    const alnum = fc.constantFrom(
      ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''),
    );
    const label = fc
      .tuple(alnum, fc.array(fc.constantFrom(...'abc-9'.split('')), { maxLength: 8 }), alnum)
      .map(([a, mid, b]) => `${a}${mid.join('')}${b}`);
    const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
    const wsp = fc.constantFrom('', ' ', '\t', '  ');
    const valueChars = fc.array(
      fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x3b),
      { maxLength: 20 },
    );
    const unknownTag = label.filter((t) => !['accounturi', 'validationmethods'].includes(t.toLowerCase()));
    const param = fc
      .tuple(unknownTag, wsp, wsp, valueChars)
      .map(([t, w1, w2, v]) => `${t}${w1}=${w2}${String.fromCharCode(...v)}`);
    const value = fc
      .tuple(wsp, fc.option(domain), wsp, fc.option(fc.array(param, { maxLength: 4 })), wsp)
      .map(([w1, d, w2, params, w3]) => {
        let s = `${w1}${d ?? ''}${d ? w2 : ''}`;
        if (params !== null) s += `;${w2}${params.join(`${w3};${w1}`)}${params.length ? w3 : ''}`;
        return s;
      });
    fc.assert(
      fc.property(value, (s) => {
        expect(parseIssueValue(s).ok, s).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('record flags and tags (RFC 8659 §4.1)', () => {
  it.each([
    [0, false],
    [128, true],
    [130, true],
    [1, false],
    [255, true],
  ])('flags %i → critical %s', (flags, critical) => {
    expect(isCritical({ flags, tag: 'issue', value: '' })).toBe(critical);
  });

  it.each([
    ['issue', true],
    ['ISSUE', true],
    ['IsSuEwIlD', true],
    ['iodef', true],
    ['contactemail', true],
    ['unknownprop', false],
    ['issue-', false],
    ['iss ue', false],
    ['', false],
  ])('tag %j understood: %s', (tag, understood) => {
    expect(isUnderstoodTag({ flags: 0, tag, value: '' })).toBe(understood);
  });

  it('presents records in zone-file syntax with escapes', () => {
    expect(presentRecord({ flags: 0, tag: 'issue', value: 'a"b\\c' })).toBe('0 issue "a\\"b\\\\c"');
    expect(presentRecord({ flags: 128, tag: 'x', value: '\u0001é' })).toBe('128 x "\\001\\195\\169"');
  });
});

describe('issuerDomainProblem (RFC 8659 §4.2 issuer-domain-name)', () => {
  it.each(['letsencrypt.org', 'pki.goog', 'sectigo.com', 'ca-1.example', 'a', 'x1.y2'])('accepts %s', (v) => {
    expect(issuerDomainProblem(v)).toBeNull();
  });
  it.each<[string, RegExp]>([
    ['', /empty/],
    ['https://letsencrypt.org', /not a URL/],
    ['lets encrypt.org', /spaces/],
    ['letsencrypt..org', /empty label/],
    ['.letsencrypt.org', /empty label/],
    ['letsencrypt.org.', /empty label/],
    ['-ca.example', /inner hyphens/],
    ['ca_1.example', /inner hyphens/],
    ['192.0.2.1', /IP address/],
    [`${'a'.repeat(64)}.org`, /at most 63/],
    [`${'a.'.repeat(130)}org`, /at most 253/],
    ['bücher.example', /non-ASCII/],
  ])('rejects %j', (v, message) => {
    expect(issuerDomainProblem(v)).toMatch(message);
  });
});
