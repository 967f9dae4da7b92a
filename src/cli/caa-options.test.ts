import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import {
  KNOWN_VALIDATION_METHODS,
  parseAccountUri,
  parseDomain,
  parseIodefUrl,
  parseIssuerDomains,
  parseNames,
  parseValidationMethod,
  parseValidationMethods,
} from './caa-options.js';

/** Runs `fn` and returns the USAGE message it threw (fails when it did not throw one). */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isCertvigilError(err) && err.code).toBe('USAGE');
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  return expect.unreachable('no usage error');
}

describe('parseIssuerDomains (--ca)', () => {
  it('splits, trims, lower-cases, drops a trailing dot and duplicates', () => {
    expect(parseIssuerDomains(['LetsEncrypt.org.', 'pki.goog, letsencrypt.org'])).toEqual([
      'letsencrypt.org',
      'pki.goog',
    ]);
  });
  it.each([[[]], [['']], [['letsencrypt.org,']], [['https://letsencrypt.org']], [['a b']], [['192.0.2.1']]])(
    'rejects %j',
    (values) => {
      expect(usage(() => parseIssuerDomains(values))).toMatch(/--ca/);
    },
  );
});

describe('parseValidationMethod (--method)', () => {
  it.each([...KNOWN_VALIDATION_METHODS, 'ca-ov', 'ca-email-2'])('accepts %s', (m) => {
    expect(parseValidationMethod(m)).toBe(m);
  });
  it.each([
    'http',
    'HTTP-01',
    'tls-sni-01',
    'tls-sni-02',
    'ca-',
    'ca--x',
    'dns-01,http-01',
    '',
    'x'.repeat(100),
  ])('rejects %j and lists the known methods', (m) => {
    expect(usage(() => parseValidationMethod(m))).toMatch(
      /http-01, dns-01, tls-alpn-01, email-reply-00, tkauth-01/,
    );
  });
  it('splits repeatable lists', () => {
    expect(parseValidationMethods(['dns-01,http-01', 'dns-01'])).toEqual(['dns-01', 'http-01']);
  });
});

describe('parseAccountUri (--account-uri)', () => {
  it('returns the URL exactly as given (RFC 8657 §3 compares without normalising)', () => {
    const u = 'https://ACME-v02.api.letsencrypt.org:443/acme/acct/1';
    expect(parseAccountUri(u)).toBe(u);
  });
  it.each([
    'http://acme.example/acct/1',
    'acct/1',
    'https://acme.example/acct/1;x',
    'https://acme.example/acct 1',
    'https://user:pw@acme.example/acct/1',
    'https://acme.example/\u202e1',
    '',
  ])('rejects %j', (u) => {
    expect(usage(() => parseAccountUri(u))).toMatch(/--account-uri must be the https URL/);
  });
});

describe('parseNames / parseDomain', () => {
  it('accepts wildcards only where asked', () => {
    expect(parseNames(['*.example.com', 'example.com'], { allowWildcard: true })).toHaveLength(2);
    expect(usage(() => parseNames(['*.example.com']))).toMatch(/wildcard/);
    expect(parseDomain('Bücher.Example.')).toBe('xn--bcher-kva.example');
  });
  it('escapes control bytes in the message', () => {
    expect(usage(() => parseDomain('a\u001b]0;pwned\u0007.example'))).toContain('\\x1B]0;pwned\\x07');
  });
});

describe('parseIodefUrl (--iodef) uses the audit check', () => {
  it.each([
    ['http://iodef.example.com/', /clear text/],
    ['mailto:nobody', /not an e-mail address/],
  ])('%s', (v, message) => {
    expect(usage(() => parseIodefUrl(v))).toMatch(message);
  });
});
